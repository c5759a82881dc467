"""The glyph table's methods again, with BatchNorm in their projection heads.

On glyphs at 20 epochs a BatchNorm between the projector's two layers was worth 23 kNN
points to SimCLR (benchmarks/results/lightly_side_by_side.json), more than views or
temperature. This reruns the glyph protocol of glyph_methods.py (same config, epochs, seeds
and probes) for the methods whose head is an MLP we build, with ``head_norm: batch``:
SimCLR, G-SimCLR (SimCLR's head, batches of distinct pseudo-classes; added after the other
five, on the same seeds), SwAV, DINO (its three-layer MLP), GroCo and GEDI (its cluster
head). OBoW is left out: its heads are its own (a weight generator and a linear layer).
``swav, temperature 0.2``: SwAV at the temperature chosen on validation font families
(glyph_tuning.py; added after the others, on the same seeds). ``groco, 40 negatives``: GroCo
with the number of hardest negatives chosen there (added later still, same seeds). Added on
2026-11-27, same seeds, each with its own training settings (everything else shared): DINO
at the paper's AdamW lr 0.0005 and weight decay 0.04 (the protocol's lr 0.004 is eight
times the paper's step size), and GroCo with 40 negatives at lr 0.001 (chosen on validation
families, glyph_tuning.py).

    python benchmarks/glyph_bn_heads.py [--seeds 0 1] [--epochs 100] [--resume] [--smoke]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark
from glyph_tuning import TRAIN as TUNED  # the settings tried on validation families

VARIANTS = {
    name: {"name": name, "head_norm": "batch"}
    for name in ("simclr", "gsimclr", "swav", "dino", "groco", "gedi")
}
VARIANTS["simclr"]["temperature"] = VARIANTS["gsimclr"]["temperature"] = 0.2  # glyph_methods.py
VARIANTS["swav, temperature 0.2"] = {**VARIANTS["swav"], "temperature": 0.2}  # glyph_tuning.py
VARIANTS["groco, 40 negatives"] = {**VARIANTS["groco"], "negatives": 40}  # glyph_tuning.py
VARIANTS["dino, the paper's lr and weight decay"] = VARIANTS["dino"]
VARIANTS["groco, 40 negatives, lr 0.001"] = VARIANTS["groco, 40 negatives"]
TRAIN = {name: train for name, train in TUNED.items() if name in VARIANTS}  # same names

if __name__ == "__main__":
    glyph_benchmark("glyph_bn_heads", VARIANTS, __doc__, train=TRAIN)
