"""The in-memory dataset every stage passes around."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from discotok.errors import DataError

MODALITIES = ("signal", "image", "vector")


@dataclass
class Dataset:
    """Train/test arrays of one modality; labels are optional and used only for evaluation.

    Shapes: signal (n, channels, length); image (n, channels, height, width); vector (n, dim).
    ``padded`` signals hold series of different lengths, NaN-padded at the end (the only
    place NaN may appear); ``notes`` say what loading changed (padding, filled gaps...).
    """

    name: str
    modality: str
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None = None
    y_test: np.ndarray | None = None
    padded: bool = False
    notes: list[str] = field(default_factory=list)
    # samples of classes the dataset never holds (glyphs: characters outside the charset),
    # same sample shape: the in-domain out-of-distribution set of OOD metrics
    x_ood: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise DataError(f"modality {self.modality!r} unknown; choose one of {MODALITIES}")
        want = {"signal": 3, "image": 4, "vector": 2}[self.modality]
        for split in ("train", "test"):
            x = getattr(self, f"x_{split}")
            if x.ndim != want:
                raise DataError(
                    f"{self.name}: x_{split} has shape {x.shape}; a {self.modality} dataset "
                    f"needs {want} dimensions"
                )
            if len(x) == 0:
                raise DataError(f"{self.name}: x_{split} is empty")
            if self.padded:
                _check_padding(x, f"{self.name}: x_{split}")
            elif not np.isfinite(x).all():
                bad = int((~np.isfinite(x.reshape(len(x), -1))).any(axis=1).sum())
                raise DataError(f"{self.name}: x_{split} has {bad} rows with NaN or inf values")
            y = getattr(self, f"y_{split}")
            if y is not None and len(y) != len(x):
                raise DataError(f"{self.name}: y_{split} has {len(y)} labels for {len(x)} samples")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"{self.name}: train samples have shape {self.x_train.shape[1:]} but test "
                f"samples {self.x_test.shape[1:]}"
            )
        self.x_train = np.ascontiguousarray(self.x_train, dtype=np.float32)
        self.x_test = np.ascontiguousarray(self.x_test, dtype=np.float32)
        if self.x_ood is not None:
            if self.x_ood.shape[1:] != self.x_train.shape[1:] or len(self.x_ood) == 0:
                raise DataError(
                    f"{self.name}: x_ood has shape {self.x_ood.shape}; samples of shape "
                    f"{self.x_train.shape[1:]} are needed"
                )
            self.x_ood = np.ascontiguousarray(self.x_ood, dtype=np.float32)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def has_labels(self) -> bool:
        return self.y_train is not None and self.y_test is not None

    @property
    def num_classes(self) -> int:
        if not self.has_labels:
            return 0
        return int(len(np.unique(np.concatenate([self.y_train, self.y_test]))))


def _check_padding(x: np.ndarray, where: str) -> None:
    """NaN may only pad the end of a series (all channels), and no series may be all padding."""
    if x.ndim != 3:
        raise DataError(f"{where}: only signals (n, channels, length) can be padded")
    if np.isinf(x).any():
        raise DataError(f"{where} holds infinite values")
    valid = np.isfinite(x)
    step = valid.any(axis=1)
    length = step.sum(axis=1)
    if (length == 0).any():
        raise DataError(f"{where}: {int((length == 0).sum())} series are empty (all NaN)")
    prefix = np.arange(x.shape[2])[None, :] < length[:, None]
    if (step != prefix).any() or (valid != step[:, None, :]).any():
        bad = int(((step != prefix).any(1) | (valid != step[:, None, :]).any((1, 2))).sum())
        raise DataError(
            f"{where}: {bad} series have NaN inside them; NaN may only pad the end "
            "(the series loaders fill gaps by interpolation)"
        )


def split_train_test(
    x: np.ndarray, y: np.ndarray | None, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """A seeded random split; used when the user's file has no test split of its own."""
    n = len(x)
    n_test = max(1, int(round(n * test_fraction)))
    if n - n_test < 2:
        raise DataError(f"{n} samples are too few to split into train and test")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return (
        x[train],
        x[test],
        None if y is None else y[train],
        None if y is None else y[test],
    )
