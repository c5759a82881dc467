"""G-SimCLR against SimCLR on MNIST-1D: same encoder, budget, views and seeds.

Three variants: SimCLR; G-SimCLR with the paper's pseudo-labels (denoising autoencoder +
k-means, K = batch size); G-SimCLR with k-means on the current features, refreshed each epoch.

    python benchmarks/gsimclr_vs_simclr.py [--seeds 0 1 2] [--epochs 60] [--smoke]
"""

from __future__ import annotations

from common import compare_methods

VARIANTS = {
    "simclr": {"name": "simclr"},
    "gsimclr-autoencoder": {"name": "gsimclr", "pseudo_labels_from": "autoencoder"},
    "gsimclr-features": {"name": "gsimclr", "pseudo_labels_from": "features"},
}

if __name__ == "__main__":
    compare_methods("gsimclr_vs_simclr", VARIANTS, __doc__)
