"""Two-dimensional toy sets from scikit-learn's generators: two moons and two circles.

Small, exact and instant: where a clustering objective is first shown to separate
non-convex clusters (GEDI's first experiment) before it meets images.
"""

from __future__ import annotations

import numpy as np

from discotok.data.base import Dataset, split_train_test
from discotok.errors import check_range
from discotok.registry import DATASETS


def _toy(name: str, num_samples: int, noise: float, test_fraction: float, seed: int) -> Dataset:
    from sklearn import datasets

    check_range("data.num_samples", num_samples, 10)
    check_range("data.noise", noise, 0.0)
    check_range(
        "data.test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    if name == "moons":
        x, y = datasets.make_moons(num_samples, noise=noise, random_state=seed)
    else:
        x, y = datasets.make_circles(num_samples, noise=noise, factor=0.5, random_state=seed)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    x_train, x_test, y_train, y_test = split_train_test(x, y.astype(np.int64), test_fraction, seed)
    return Dataset(name, "vector", x_train, x_test, y_train, y_test)


@DATASETS.register("moons")
def load_moons(
    num_samples: int = 2000, noise: float = 0.05, test_fraction: float = 0.25, seed: int = 0
) -> Dataset:
    """Two interleaved half circles in 2-D (standardised); label = which moon."""
    return _toy("moons", num_samples, noise, test_fraction, seed)


@DATASETS.register("circles")
def load_circles(
    num_samples: int = 2000, noise: float = 0.05, test_fraction: float = 0.25, seed: int = 0
) -> Dataset:
    """Two concentric circles (radius ratio 0.5) in 2-D (standardised); label = which circle."""
    return _toy("circles", num_samples, noise, test_fraction, seed)
