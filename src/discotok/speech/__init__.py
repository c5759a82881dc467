"""Speech: a synthesised spoken-word corpus, audio loading, features, units and their metrics."""
