"""SIE's equivariance table on glyphs: what each half of the embedding knows.

glyph_methods.py's protocol (configs/glyphs_simclr.yaml: cnn2d, 128-d, batch 256, AdamW lr
0.004, cosine, 100 epochs, test split = unseen font families). SIE at its defaults
(equivariance weight 0.45), and the same objective without the equivariance term (weight
0: the equivariant half gets only the variance and covariance terms) as the control. For each
half: the linear probe of the characters, and the R^2 of the relative transformation between
two views (rotation angle as cos/sin, log scale ratio, brightness shift), regressed by an MLP
from the pair of halves -- overall and per transformation.

    python benchmarks/sie_equivariance.py [--seeds 0 1 2] [--epochs 100] [--smoke]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark

from discotok.report import _align

VARIANTS = {
    "sie": {"name": "sie"},
    "sie_no_equivariance": {"name": "sie", "equivariance_weight": 0.0},
}
COLUMNS = ("linear_acc", "transform_r2", "r2_angle", "r2_scale", "r2_brightness")


def table(summary: dict) -> str:
    """One row per variant and half: probe and R^2 columns, mean +- std over seeds."""
    rows = []
    for variant, s in summary.items():
        for half in ("invariant", "equivariant"):
            cells = []
            for column in COLUMNS:
                stat = s.get(f"method_{half}_{column}")
                cells.append("-" if stat is None else f"{stat['mean']:.3f} ± {stat['std']:.3f}")
            rows.append([variant, half, *cells])
    return _align(["variant", "half", *COLUMNS], rows)


if __name__ == "__main__":
    print(table(glyph_benchmark("sie_equivariance", VARIANTS, __doc__)))
