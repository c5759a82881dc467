"""Time series: the UCR/UEA classification sets that aeon ships, and users' own series files.

Conventions (docs/time-series.md says why):

- Variable-length series are padded at the end with NaN up to the longest series of both
  splits. NaN marks padding everywhere on the time-series path (views, the ``dilated``
  encoder, frame tokens), so nothing is truncated and padding never enters a representation.
- NaN inside a series (a gap) is filled by linear interpolation over time (the nearest value
  at the ends); the dataset's ``notes`` say how many values were filled.
- Normalisation (``normalise``): ``series`` z-normalises each series per channel over its
  valid part (the UCR univariate convention: shape matters, level and scale do not);
  ``set`` z-normalises each channel with the train split's statistics, keeping the levels
  that carry information in multivariate sets (the UEA archive ships them unnormalised,
  e.g. JapaneseVowels' LPC coefficients); ``none`` keeps the values; ``auto`` (default)
  is ``series`` for univariate and ``set`` for multivariate data. A constant channel
  becomes zeros instead of being divided by zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from discotok.data.base import Dataset, split_train_test
from discotok.errors import DataError, check_choice, check_range
from discotok.registry import DATASETS

# The classification sets inside aeon's wheel; any other name would try to download.
AEON_SETS = (
    "ACSF1",
    "ArrowHead",
    "BasicMotions",
    "Covid3Month_disc",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "OSULeaf",
    "PickupGestureWiimoteZ",
    "UnitTest",
)
LABEL_COLUMNS = ("none", "first", "last")
NORMALISATIONS = ("auto", "series", "set", "none")
SERIES_SUFFIXES = (".ts", ".csv", ".npy", ".npz")


def valid_lengths(x: np.ndarray) -> np.ndarray:
    """Per sample, the number of time steps before the NaN padding: (n,)."""
    finite = np.isfinite(x).any(axis=1)  # (n, length): a step is valid if any channel is
    last = finite.shape[1] - np.argmax(finite[:, ::-1], axis=1)
    return np.where(finite.any(axis=1), last, 0).astype(np.int64)


def pad_series(series: list[np.ndarray] | np.ndarray, length: int, where: str) -> np.ndarray:
    """Stack (channels, length_i) series into one (n, channels, length) array, NaN-padded."""
    if len(series) == 0:
        raise DataError(f"{where} holds no series")
    channels = {np.asarray(s).shape[0] for s in series}
    if len(channels) != 1:
        raise DataError(f"{where}: series have different channel counts {sorted(channels)}")
    out = np.full((len(series), channels.pop(), length), np.nan, dtype=np.float64)
    for i, s in enumerate(series):
        s = np.asarray(s, dtype=np.float64)
        out[i, :, : s.shape[1]] = s
    return out


def fill_gaps(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Linearly interpolate NaN inside each series' valid part; returns (x, values filled).

    A channel with no finite value at all becomes zeros (counted as filled).
    """
    x = x.copy()
    lengths = valid_lengths(x)
    filled = 0
    for i, n in enumerate(lengths):
        part = x[i, :, :n]
        gaps = ~np.isfinite(part)
        if not gaps.any():
            continue
        filled += int(gaps.sum())
        steps = np.arange(n)
        for c in np.flatnonzero(gaps.any(axis=1)):
            ok = ~gaps[c]
            part[c] = np.interp(steps, steps[ok], part[c, ok]) if ok.any() else 0.0
    return x, filled


def znormalise(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Per series and channel, zero mean and unit std over the valid part.

    Returns (x, constant channels); a constant channel becomes zeros.
    """
    mean = np.nanmean(x, axis=2, keepdims=True)
    std = np.nanstd(x, axis=2, keepdims=True)
    constant = std < 1e-8
    return (x - mean) / np.where(constant, 1.0, std), int(constant.sum())


def set_normalise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per channel, zero mean and unit std over every real step of the train split."""
    mean = np.nanmean(train, axis=(0, 2), keepdims=True)
    std = np.nanstd(train, axis=(0, 2), keepdims=True)
    constant = std < 1e-8
    std = np.where(constant, 1.0, std)
    return (train - mean) / std, (test - mean) / std, int(constant.sum())


def prepare_splits(
    train: list[np.ndarray] | np.ndarray,
    test: list[np.ndarray] | np.ndarray,
    normalise: str,
    where: str,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pad both splits to one length, fill gaps, normalise; returns the arrays and notes."""
    check_choice("data.normalise", normalise, NORMALISATIONS)
    lengths = [np.asarray(s).shape[-1] for part in (train, test) for s in part]
    length = max(lengths)
    a = pad_series(train, length, f"{where} (train)")
    b = pad_series(test, length, f"{where} (test)")
    if a.shape[1] != b.shape[1]:
        raise DataError(
            f"{where}: train series have {a.shape[1]} channels but test series {b.shape[1]}"
        )
    notes = []
    if min(lengths) != length:
        notes.append(
            f"variable length ({min(lengths)}-{length} steps): padded at the end with NaN "
            "and masked, not truncated"
        )
    a, gaps_a = fill_gaps(a)
    b, gaps_b = fill_gaps(b)
    if gaps_a + gaps_b:
        notes.append(f"{gaps_a + gaps_b} missing values inside series filled by interpolation")
    if normalise == "auto":
        normalise = "series" if a.shape[1] == 1 else "set"
    constant = 0
    if normalise == "series":
        (a, const_a), (b, const_b) = znormalise(a), znormalise(b)
        constant = const_a + const_b
    elif normalise == "set":
        a, b, constant = set_normalise(a, b)
    if normalise != "none":
        how = "series and channel" if normalise == "series" else "channel (train statistics)"
        notes.append(f"z-normalised per {how}")
    if constant:
        notes.append(f"{constant} constant channels set to zero (not divided by 0)")
    empty = int((valid_lengths(a) == 0).sum() + (valid_lengths(b) == 0).sum())
    if empty:
        raise DataError(f"{where}: {empty} series have no values at all")
    return a.astype(np.float32), b.astype(np.float32), notes


def encode_labels(
    y_train: np.ndarray | None, y_test: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Any label type -> codes 0..C-1 shared by both splits."""
    if y_train is None or y_test is None:
        return None, None
    _, codes = np.unique(
        np.concatenate([np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)]),
        return_inverse=True,
    )
    return codes[: len(y_train)].astype(np.int64), codes[len(y_train) :].astype(np.int64)


def _as_list(x: np.ndarray | list) -> list[np.ndarray]:
    return [np.asarray(s, dtype=np.float64) for s in x]


@DATASETS.register("ucr")
def load_ucr(dataset: str = "GunPoint", normalise: str = "auto", seed: int = 0) -> Dataset:
    """A UCR/UEA classification set from aeon's wheel, with its published train/test split."""
    check_choice("data.dataset", dataset, AEON_SETS)
    from aeon.datasets import load_classification

    x_train, y_train = load_classification(dataset, split="train")
    x_test, y_test = load_classification(dataset, split="test")
    a, b, notes = prepare_splits(_as_list(x_train), _as_list(x_test), normalise, dataset)
    ya, yb = encode_labels(y_train, y_test)
    return Dataset(dataset, "signal", a, b, ya, yb, padded=True, notes=notes)


def _read_ts(path: Path) -> tuple[list[np.ndarray], np.ndarray | None]:
    from aeon.datasets import load_from_ts_file

    try:
        x, y = load_from_ts_file(str(path))
    except Exception as err:  # aeon raises IOError, ValueError, TypeError... on bad files
        raise DataError(f"{str(path)!r} is not a readable .ts file ({err})") from None
    return _as_list(x), (None if y is None or len(y) == 0 else np.asarray(y))


def _read_csv(path: Path, label_column: str) -> tuple[list[np.ndarray], np.ndarray | None]:
    """One univariate series per row; empty trailing cells make shorter series, empty or
    NaN cells inside a row are gaps; any other non-number is an error naming its cell."""
    rows = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        raise DataError(f"{str(path)!r} has no rows")
    width = max(len(r) for r in rows)
    table = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell.strip():
                try:
                    table[i, j] = float(cell)
                except ValueError:
                    raise DataError(
                        f"{str(path)!r} row {i + 1}, column {j + 1}: {cell.strip()!r} is not a "
                        "number (leave a cell empty for a missing value)"
                    ) from None
    y = None
    if label_column == "first":
        y, table = table[:, 0], table[:, 1:]
    elif label_column == "last":
        y, table = table[:, -1], table[:, :-1]
    if y is not None and not np.isfinite(y).all():
        raise DataError(f"{str(path)!r}: the label column has empty or non-numeric cells")
    return [row[None, :] for row in table], y


def _read_numpy(path: Path) -> tuple[list[np.ndarray], np.ndarray | None, dict[str, np.ndarray]]:
    from discotok.data.arrays import _read

    arrays = _read(path)
    if "x" not in arrays:
        raise DataError(f"{str(path)!r} has no array named 'x' (found: {', '.join(arrays)})")
    extra = {k: v for k, v in arrays.items() if k in ("x_test", "y_test")}

    def series(x: np.ndarray, name: str) -> list[np.ndarray]:
        if x.dtype.kind not in "fiub" or x.ndim not in (2, 3) or len(x) == 0:
            raise DataError(
                f"{path.name}:{name} has shape {x.shape} and dtype {x.dtype}; series need "
                "numbers shaped (n, length) or (n, channels, length)"
            )
        return _as_list(x[:, None, :] if x.ndim == 2 else x)

    if "x_test" in extra:
        extra["x_test"] = series(extra["x_test"], "x_test")
    return series(arrays["x"], "x"), arrays.get("y"), extra


def read_series_file(
    path: Path, label_column: str = "none"
) -> tuple[list[np.ndarray], np.ndarray | None, dict]:
    """Series, labels (or None) and any test split stored in the same (.npz) file."""
    if not path.exists():
        raise DataError(f"series file {str(path)!r} does not exist")
    if path.is_dir() or path.suffix not in SERIES_SUFFIXES:
        raise DataError(
            f"series file {str(path)!r} must end in one of {', '.join(SERIES_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise DataError(f"series file {str(path)!r} is empty")
    if path.suffix == ".ts":
        return (*_read_ts(path), {})
    if path.suffix == ".csv":
        return (*_read_csv(path, label_column), {})
    return _read_numpy(path)


@DATASETS.register("series")
def load_series(
    path: str = "",
    test_path: str = "",
    label_column: str = "none",
    normalise: str = "auto",
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Your own series: .ts (sktime/aeon), .csv (a series per row), .npy or .npz files."""
    if not path:
        raise DataError("the series dataset needs a file: set data.path=/path/to/train.ts")
    check_choice("data.label_column", label_column, LABEL_COLUMNS)
    check_range(
        "data.test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    file = Path(path)
    x, y, extra = read_series_file(file, label_column)
    if y is not None and len(y) != len(x):
        raise DataError(f"{file.name}: {len(y)} labels for {len(x)} series")
    if test_path:
        x_test, y_test, _ = read_series_file(Path(test_path), label_column)
    elif "x_test" in extra:
        x_test, y_test = extra["x_test"], extra.get("y_test")
    else:
        index = np.arange(len(x))
        train, test, _, _ = split_train_test(index, None, test_fraction, seed)
        x, x_test = [x[i] for i in train], [x[i] for i in test]
        y, y_test = (None, None) if y is None else (y[train], y[test])
    if (y is None) != (y_test is None):
        raise DataError(f"{file.name}: give labels for both splits or for neither")
    if y_test is not None and len(y_test) != len(x_test):
        raise DataError(f"test split: {len(y_test)} labels for {len(x_test)} series")
    a, b, notes = prepare_splits(x, x_test, normalise, file.name)
    ya, yb = encode_labels(y, y_test)
    return Dataset(file.stem, "signal", a, b, ya, yb, padded=True, notes=notes)
