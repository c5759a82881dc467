"""The baselines and the remaining image objectives on glyphs, under glyph_methods.py's
protocol: configs/glyphs_simclr.yaml (cnn2d, kornia views, batch 256, AdamW lr 0.004,
cosine, 100 epochs), every method with its defaults, raw pixels as the floor. SIE also
records the probe of each half and the transformation R^2 of each half, MIM and cMIM the
probes of the posterior mean and of the informative embedding (``method_*``).

    python benchmarks/glyph_baselines.py [--seeds 0 1 2] [--epochs 100] [--smoke]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark

VARIANTS = {
    "byol": {"name": "byol"},
    "simsiam": {"name": "simsiam"},
    "vicreg": {"name": "vicreg"},
    "barlow_twins": {"name": "barlow_twins"},
    "moco_v2": {"name": "moco", "version": "v2"},
    "moco_v3": {"name": "moco", "version": "v3"},
    "mae": {"name": "mae"},
    "msm": {"name": "msm"},
    "transitive": {"name": "transitive"},
    "sie": {"name": "sie"},
    # augmentation-free: trained on the glyphs themselves, not on the kornia views
    "mim": {"name": "cmim", "contrastive_weight": 0.0},
    "cmim": {"name": "cmim"},
}

if __name__ == "__main__":
    glyph_benchmark("glyph_baselines", VARIANTS, __doc__)
