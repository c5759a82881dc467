"""SwAV and DINO against SimCLR on MNIST-1D: same encoder, views, epochs, optimiser and seeds.

SwAV: 100 prototypes, Sinkhorn (epsilon 0.05, 3 iterations), temperature 0.1, two views.
DINO: 1024 outputs, teacher temperature 0.04, student 0.1, centre momentum 0.9, teacher
momentum 0.996 -> 1 (cosine), two views. Both with their defaults, untuned for MNIST-1D.

    python benchmarks/clustering_methods.py [--seeds 0 1 2] [--epochs 60] [--smoke]
"""

from __future__ import annotations

from common import compare_methods

VARIANTS = {
    "simclr": {"name": "simclr"},
    "swav": {"name": "swav"},
    "dino": {"name": "dino"},
}

if __name__ == "__main__":
    compare_methods("clustering_methods", VARIANTS, __doc__)
