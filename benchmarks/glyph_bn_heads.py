"""The glyph table's methods again, with BatchNorm in their projection heads.

On glyphs at 20 epochs a BatchNorm between the projector's two layers was worth 23 kNN
points to SimCLR (benchmarks/results/lightly_side_by_side.json), more than views or
temperature. This reruns the glyph protocol of glyph_methods.py (same config, epochs, seeds
and probes) for the methods whose head is an MLP we build, with ``head_norm: batch``:
SimCLR, SwAV, DINO (its three-layer MLP), GroCo and GEDI (its cluster head). OBoW and
G-SimCLR are left out (OBoW's heads are its own; G-SimCLR is SimCLR with other batches).

    python benchmarks/glyph_bn_heads.py [--seeds 0 1] [--epochs 100] [--resume] [--smoke]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark

VARIANTS = {
    name: {"name": name, "head_norm": "batch"}
    for name in ("simclr", "swav", "dino", "groco", "gedi")
}
VARIANTS["simclr"]["temperature"] = 0.2  # as in glyph_methods.py

if __name__ == "__main__":
    glyph_benchmark("glyph_bn_heads", VARIANTS, __doc__)
