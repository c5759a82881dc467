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


if __name__ == "__main__":
    compare_methods("cmim_batch_sizes", VARIANTS, __doc__, base=base_config(), train=TRAIN)
