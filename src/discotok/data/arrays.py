"""The user's own arrays: a .npy file (samples only) or a .npz file (samples and labels).

A .npz may hold ``x`` (required), ``y``, ``x_test`` and ``y_test``. Without ``x_test`` a
seeded ``test_fraction`` of the samples is held out. The modality follows from the shape
unless given: (n, length) and (n, channels, length) are signals, (n, c, h, w) images; set
``modality: vector`` for feature vectors (an MLP encoder).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from discotok.data.base import MODALITIES, Dataset, split_train_test
from discotok.errors import DataError, check_choice, check_range
from discotok.registry import DATASETS


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise DataError(f"data path {str(path)!r} is a folder; give a .npy or .npz file")
    if path.stat().st_size == 0:
        raise DataError(f"data file {str(path)!r} is empty")
    if path.suffix not in (".npy", ".npz"):
        raise DataError(f"data file {str(path)!r} must end in .npy or .npz")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"x": loaded}
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"data file {str(path)!r} is corrupt or not a numpy file ({err})") from None


def _as_modality(x: np.ndarray, modality: str, where: str) -> np.ndarray:
    if x.dtype.kind not in "fiub":
        raise DataError(f"{where} has dtype {x.dtype}; expected numbers")
    x = x.astype(np.float32)
    if modality == "vector":
        if x.ndim < 2:
            raise DataError(f"{where} has shape {x.shape}; vectors need (n, dim)")
        return x.reshape(len(x), -1)
    if modality == "signal":
        if x.ndim == 2:
            return x[:, None, :]
        if x.ndim == 3:
            return x
        raise DataError(f"{where} has shape {x.shape}; signals need (n, length) or (n, ch, length)")
    if x.ndim == 3:  # (n, h, w) grayscale
        return x[:, None]
    if x.ndim == 4:
        return x
    raise DataError(f"{where} has shape {x.shape}; images need (n, h, w) or (n, c, h, w)")


def _labels(y: np.ndarray | None, n: int, where: str) -> np.ndarray | None:
    if y is None:
        return None
    y = np.asarray(y).reshape(-1)
    if len(y) != n:
        raise DataError(f"{where} has {len(y)} labels for {n} samples")
    _, codes = np.unique(y, return_inverse=True)  # any label type -> 0..C-1
    return codes.astype(np.int64)


@DATASETS.register("arrays")
def load_arrays(
    path: str = "",
    modality: str = "auto",
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Your own .npy (samples) or .npz (x, optional y, x_test, y_test) file."""
    if not path:
        raise DataError("the arrays dataset needs a file: set data.path=/path/to/file.npz")
    check_choice("data.modality", modality, ("auto", *MODALITIES))
    check_range(
        "data.test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    file = Path(path)
    arrays = _read(file)
    if "x" not in arrays:
        raise DataError(
            f"{str(file)!r} has no array named 'x' (found: {', '.join(arrays) or 'none'}); "
            "save samples as x (and labels as y)"
        )
    x = arrays["x"]
    if x.ndim < 2 or len(x) == 0:
        raise DataError(f"{str(file)!r}: x has shape {x.shape}; expected (n, ...) with n > 0")
    if modality == "auto":
        modality = "image" if x.ndim == 4 else "signal"
    x = _as_modality(x, modality, f"{file.name}:x")
    y = _labels(arrays.get("y"), len(x), f"{file.name}:y")
    if "x_test" in arrays:
        x_test = _as_modality(arrays["x_test"], modality, f"{file.name}:x_test")
        y_test = _labels(arrays.get("y_test"), len(x_test), f"{file.name}:y_test")
        if (y is None) != (y_test is None):
            raise DataError(f"{str(file)!r}: give labels for both splits (y and y_test) or none")
        if y is not None:  # one label code space for both splits
            _, codes = np.unique(
                np.concatenate([arrays["y"].reshape(-1), arrays["y_test"].reshape(-1)]),
                return_inverse=True,
            )
            y, y_test = codes[: len(x)].astype(np.int64), codes[len(x) :].astype(np.int64)
        x_train = x
    else:
        x_train, x_test, y, y_test = split_train_test(x, y, test_fraction, seed)
    return Dataset(file.stem, modality, x_train, x_test, y, y_test)
