"""MNIST-1D: procedural 1-D digits (Greydanus 2020), generated in-process, never downloaded."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from discotok.data.base import Dataset
from discotok.errors import check_range
from discotok.registry import DATASETS


@DATASETS.register("mnist1d")
def load_mnist1d(
    num_samples: int = 10000,
    test_fraction: float = 0.2,
    seed: int = 0,
    corr_noise_scale: float = 0.25,
    iid_noise_scale: float = 0.02,
    shear_scale: float = 0.75,
) -> Dataset:
    """MNIST-1D: 10 classes of length-40 signals, generated offline (4k samples in ~2 s).
    The generator's correlated / white noise and shear scales (package defaults) can be
    raised for a shifted variant of the same task (e.g. ``discotok bench``'s shift aspect)."""
    check_range("data.num_samples", num_samples, 20)
    check_range(
        "data.test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    for name, value in (
        ("corr_noise_scale", corr_noise_scale),
        ("iid_noise_scale", iid_noise_scale),
        ("shear_scale", shear_scale),
    ):
        check_range(f"data.{name}", value, 0.0)
    raw = _generate(
        num_samples, test_fraction, seed, corr_noise_scale, iid_noise_scale, shear_scale
    )
    return Dataset(
        name="mnist1d",
        modality="signal",
        x_train=raw["x"][:, None, :].copy(),
        x_test=raw["x_test"][:, None, :].copy(),
        y_train=raw["y"].astype(np.int64),
        y_test=raw["y_test"].astype(np.int64),
    )


@lru_cache(maxsize=4)
def _generate(
    num_samples: int,
    test_fraction: float,
    seed: int,
    corr_noise_scale: float = 0.25,
    iid_noise_scale: float = 0.02,
    shear_scale: float = 0.75,
) -> dict[str, np.ndarray]:
    """Generation takes seconds; the pipeline's stages in one process share the result."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.corr_noise_scale = corr_noise_scale
    args.iid_noise_scale = iid_noise_scale
    args.shear_scale = shear_scale
    args.num_samples = num_samples
    args.train_split = 1.0 - test_fraction
    args.seed = 42 + seed  # 42 is the package's own default seed
    # make_dataset seeds numpy's global RNG; keep the caller's global state untouched.
    state = np.random.get_state()
    try:
        return make_dataset(args)
    finally:
        np.random.set_state(state)
