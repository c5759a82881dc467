"""MIM, cMIM and InfoNCE across batch sizes 16 to 512 on MNIST-1D (cMIM's comparison).

Same encoder, data, seeds and 30 epochs for every run (so a smaller batch takes more steps);
the learning rate scales with the square root of the batch size from the default's 4e-3 at
256 (AdamW). MIM is `cmim` with `contrastive_weight` 0, cMIM is `cmim` at its defaults (both
augmentation-free), InfoNCE is SimCLR's NT-Xent over two augmented views. Linear and kNN
probes on the encoder's embedding (the table); cMIM and MIM also report the probes on the
posterior mean mu and on the "informative" decoder hidden layer (``method_*`` in the file).

    python benchmarks/cmim_batch_sizes.py [--seeds 0 1 2] [--epochs 30] [--smoke] [--resume]
"""

from __future__ import annotations

import math

from common import compare_methods

from discotok.config import RunConfig
from discotok.report import _align

BATCH_SIZES = (16, 64, 256, 512)
METHODS = {
    "mim": {"name": "cmim", "contrastive_weight": 0.0},
    "cmim": {"name": "cmim"},
    "infonce": {"name": "simclr"},
}
VARIANTS = {f"{m}-b{b}": cfg for b in BATCH_SIZES for m, cfg in METHODS.items()}
TRAIN = {
    f"{m}-b{b}": {"batch_size": b, "lr": round(4e-3 * math.sqrt(b / 256), 6)}
    for b in BATCH_SIZES
    for m in METHODS
}


def base_config() -> dict:
    cfg = RunConfig().to_dict()
    cfg["train"]["epochs"] = 30
    cfg["evaluate"]["map"] = "pca"  # the map is not part of the comparison; t-SNE is slow
    return cfg


COLUMNS = {  # column -> (method, metric of the summary)
    **{f"{m} linear": (m, "linear_acc") for m in METHODS},
    **{f"{m} kNN": (m, "knn_acc") for m in METHODS},
    "mim informative kNN": ("mim", "method_informative_knn_acc"),
    "cmim informative kNN": ("cmim", "method_informative_knn_acc"),
}


def table(summary: dict) -> str:
    """One row per batch size: each method's probes, mean +- std over seeds."""
    rows = []
    for b in BATCH_SIZES:
        cells = []
        for method, metric in COLUMNS.values():
            stat = summary.get(f"{method}-b{b}", {}).get(metric)
            cells.append("-" if stat is None else f"{stat['mean']:.3f} ± {stat['std']:.3f}")
        rows.append([str(b), *cells])
    return _align(["batch", *COLUMNS], rows)


if __name__ == "__main__":
    summary = compare_methods(
        "cmim_batch_sizes", VARIANTS, __doc__, base=base_config(), train=TRAIN
    )
    print(table(summary))
