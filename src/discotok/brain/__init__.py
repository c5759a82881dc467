"""EEG and MEG: sensors and recordings, an MNE-based simulator, and BrainOmni's
sensor-aware tokenizer with masked-token pretraining."""
