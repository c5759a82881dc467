"""scikit-learn's bundled handwritten digits as 1x8x8 images."""

from __future__ import annotations

import numpy as np

from discotok.data.base import Dataset, split_train_test
from discotok.errors import check_range
from discotok.registry import DATASETS


@DATASETS.register("digits")
def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn digits: 1797 images of 8x8 pixels, 10 classes (easy: raw kNN ~0.98)."""
    from sklearn.datasets import load_digits as sk_load_digits

    check_range(
        "data.test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    bunch = sk_load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_test, y_train, y_test = split_train_test(
        x, bunch.target.astype(np.int64), test_fraction, seed
    )
    return Dataset("digits", "image", x_train, x_test, y_train, y_test)
