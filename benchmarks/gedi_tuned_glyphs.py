"""GEDI on the test font families at the settings chosen on validation families.

glyph_tuning.py tried GEDI's clustering objective alone (``gen_weight: 0``) with 512
clusters, cosine logits, a BatchNorm head, lr 0.001 and the paper's invariance weight beta
0.1; beta 0.1 at lr 0.001 came out best on the validation splits. This runs it on the glyph
protocol of glyph_methods.py (same config, epochs, seeds, splits and probes), and the full
method (with its energy term, ``gen_weight: 1``) at the same beta and lr, which was not
tuned on its own. Compare with results/gedi_energy_glyphs.json (``gedi_no_energy``) and the
``gedi`` rows of results/glyph_methods.json: the same runs at beta 1 and lr 0.004.

    python benchmarks/gedi_tuned_glyphs.py [--seeds 0 1 2] [--epochs 100] [--resume]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark
from glyph_tuning import TRAIN as TUNED
from glyph_tuning import VARIANTS as TRIED

CHOSEN = "gedi, no energy, beta 0.1, lr 0.001"  # best mean linear probe on validation
VARIANTS = {CHOSEN: TRIED[CHOSEN], "gedi, beta 0.1, lr 0.001": {**TRIED[CHOSEN], "gen_weight": 1.0}}
TRAIN = {name: TUNED[CHOSEN] for name in VARIANTS}

if __name__ == "__main__":
    glyph_benchmark("gedi_tuned_glyphs", VARIANTS, __doc__, train=TRAIN)
