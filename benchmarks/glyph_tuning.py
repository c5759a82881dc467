"""Tuning on validation font families: a setting is chosen here, never on the test families.

The glyph protocol of glyph_bn_heads.py (configs/glyphs_simclr.yaml, BatchNorm projection
heads, 3 seeds) with ``data.validation: true``: each seed's test families are dropped and a
quarter of its training families (2 of 6 here) stand in as the test split. The winner on
these validation splits is then run on the real test splits in glyph_bn_heads.py.

Candidates: SwAV's softmax temperature, 0.1 (the paper's and our default) against 0.2 (the
value SimCLR uses on glyphs; glyph_methods.py). DINO's teacher momentum, 0.996 (the paper's,
for runs of ~100k steps) against 0.99: these runs are 500 steps, and at 0.996 the teacher
averages over the last ~250 of them (added after the SwAV pair, on the same seeds).

    python benchmarks/glyph_tuning.py [--seeds 0 1 2] [--epochs 100] [--smoke]
"""

from __future__ import annotations

import yaml
from common import compare_methods
from glyph_methods import CONFIG

VARIANTS = {
    "swav, temperature 0.1": {"name": "swav", "head_norm": "batch", "temperature": 0.1},
    "swav, temperature 0.2": {"name": "swav", "head_norm": "batch", "temperature": 0.2},
    "dino, momentum 0.996": {"name": "dino", "head_norm": "batch", "momentum": 0.996},
    "dino, momentum 0.99": {"name": "dino", "head_norm": "batch", "momentum": 0.99},
}

if __name__ == "__main__":
    base = yaml.safe_load(CONFIG.read_text())
    base["data"]["validation"] = True
    base["evaluate"] = {"map": "pca"}
    smoke = {"name": "glyphs", "charset": "digits", "validation": True}
    compare_methods("glyph_tuning", VARIANTS, __doc__, base=base, smoke_data=smoke)
