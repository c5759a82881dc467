"""Seven self-supervised objectives on rendered glyphs: same encoder, views, epochs, seeds.

Data: 62 characters rendered from this machine's fonts; the test split holds font families
never seen in training. configs/glyphs_simclr.yaml: encoder cnn2d (width 32, depth 3,
128-d), kornia image views, batch 256, AdamW lr 0.004, cosine schedule, 100 epochs; every
method with its defaults, untuned for glyphs. Probes on the test families: linear, kNN
(k=20), k-means NMI/ACC; raw pixels under the same probes as the floor. GEDI also reports
the OOD AUROC of its energy (noise and pixel-shuffled glyphs as OOD) and writes samples.
OBoW's three runs were redone after its defaults became the authors' head (BatchNorm weight
generator, unnormalised embedding, border 1; 2026-11-27), with ``--resume`` on the others.

    python benchmarks/glyph_methods.py [--seeds 0 1 2] [--epochs 100] [--smoke]
"""

from __future__ import annotations

from pathlib import Path

import yaml
from common import compare_methods

CONFIG = Path(__file__).parents[1] / "configs" / "glyphs_simclr.yaml"

VARIANTS = {
    "simclr": {"name": "simclr", "temperature": 0.2},
    "gsimclr": {"name": "gsimclr", "temperature": 0.2},
    "swav": {"name": "swav"},
    "dino": {"name": "dino"},
    "obow": {"name": "obow"},
    "groco": {"name": "groco"},
    "gedi": {"name": "gedi"},
}

# the small ResNet of glyph_resnet.py and glyph_resnet_tuning.py (the tables above use cnn2d)
RESNET = {"name": "resnet", "width": 16, "depth": 3, "blocks": 1, "embed_dim": 128}


def glyph_config() -> dict:
    """The glyph protocol's config (PCA maps: the report's figure, not a metric)."""
    base = yaml.safe_load(CONFIG.read_text())
    base["evaluate"] = {"map": "pca"}
    return base


def glyph_benchmark(
    name: str, variants: dict, doc: str, train: dict | None = None, encoder: dict | None = None
) -> dict:
    """compare_methods on the glyph config; `train`: per-variant training settings;
    `encoder`: another encoder section than the config's."""
    base = glyph_config()
    if encoder is not None:
        base["encoder"] = encoder
    return compare_methods(
        name,
        variants,
        doc,
        base=base,
        smoke_data={"name": "glyphs", "charset": "digits"},
        train=train,
    )


if __name__ == "__main__":
    glyph_benchmark("glyph_methods", VARIANTS, __doc__)
