"""Masked Scene Modeling's evaluation protocol, for any stage-wise image encoder.

MSM probes a hierarchical encoder with features taken from *every* resolution level: each
level's feature map is brought to one output grid (average-pooled when finer, bilinearly
upsampled when coarser), the levels are concatenated along channels, and two frozen probes
read them:

* **per image**: the concatenated map averaged over locations -> the linear and kNN probes;
* **dense**: every location of the grid is a sample, with its own label -> a linear probe
  per location (accuracy over all locations, over foreground locations, and mean IoU).

``levels="last"`` uses the last level only, the usual single-map protocol, for the ablation
MSM makes (does the multi-level read-out add anything?).

Encoders qualify when their convolutional trunk is an ``nn.Sequential`` called ``features``
(``cnn2d``, ``resnet``): a level is the last output at each spatial size along it. Location
labels come from the caller; ``ink_labels`` makes them for glyph-like images (bright strokes
on a dark background): a cell carrying enough ink is labelled with its image's class
(+1), the rest is background (0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.data.base import Dataset
from discotok.errors import ConfigError, DataError, check_choice, check_range
from discotok.evaluators.probes import knn_probe, linear_probe, standardize

LEVELS = ("all", "last")


def level_maps(encoder: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The feature map of each resolution level of `encoder.features`, finest first."""
    trunk = getattr(encoder, "features", None)
    if not isinstance(trunk, nn.Sequential):
        raise ConfigError(
            f"the multi-level probe needs a stage-wise image encoder (cnn2d or resnet); "
            f"{type(encoder).__name__} has no convolutional trunk `features`"
        )
    last: dict[tuple[int, ...], torch.Tensor] = {}
    h = x
    for layer in trunk:
        h = layer(h)
        last[tuple(h.shape[-2:])] = h  # dicts keep the order sizes first appear in
    return list(last.values())


@torch.no_grad()
def multilevel_features(
    encoder: nn.Module,
    x: np.ndarray,
    grid: int = 8,
    levels: str = "all",
    batch_size: int = 256,
) -> np.ndarray:
    """(n, channels of the levels used, grid, grid) features of images `x` (n, c, h, w)."""
    check_choice("levels", levels, LEVELS)
    check_range("grid", grid, 1)
    if x.ndim != 4:
        raise DataError(f"the multi-level probe needs images (n, channels, h, w); got {x.shape}")
    encoder.eval()
    out = []
    for start in range(0, len(x), batch_size):
        maps = level_maps(encoder, torch.from_numpy(x[start : start + batch_size]))
        if levels == "last":
            maps = maps[-1:]
        resized = [
            F.adaptive_avg_pool2d(m, grid)
            if m.shape[-1] >= grid
            else F.interpolate(m, size=(grid, grid), mode="bilinear", align_corners=False)
            for m in maps
        ]
        out.append(torch.cat(resized, dim=1).numpy())
    return np.concatenate(out)


def ink_labels(
    x: np.ndarray, y: np.ndarray, grid: int = 8, threshold: float = 0.5, share: float = 0.25
) -> np.ndarray:
    """(n, grid, grid) location labels: y + 1 where at least `share` of the cell's pixels
    are above `threshold` (ink), else 0 (background)."""
    ink = torch.from_numpy((x.max(axis=1, keepdims=True) > threshold).astype(np.float32))
    cells = F.adaptive_avg_pool2d(ink, grid)[:, 0].numpy()
    return np.where(cells >= share, np.asarray(y)[:, None, None] + 1, 0).astype(np.int64)


def dense_probe(
    train: np.ndarray,
    train_labels: np.ndarray,
    test: np.ndarray,
    test_labels: np.ndarray,
    *,
    max_locations: int = 20000,
    seed: int = 0,
) -> dict[str, float]:
    """A linear probe per location. `train`/`test`: (n, c, g, g) features, labels (n, g, g)
    (0 = background). Trains on at most `max_locations` random train locations."""
    from sklearn.linear_model import LogisticRegression

    def flat(f: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if f.shape[0] != lab.shape[0] or f.shape[2:] != lab.shape[1:]:
            raise DataError(f"location labels {lab.shape} do not match the features {f.shape}")
        return f.transpose(0, 2, 3, 1).reshape(-1, f.shape[1]), lab.reshape(-1)

    a, la = flat(train, train_labels)
    b, lb = flat(test, test_labels)
    if len(a) > max_locations:
        pick = np.random.default_rng(seed).choice(len(a), max_locations, replace=False)
        a, la = a[pick], la[pick]
    a, b = standardize(a, b)
    pred = LogisticRegression(max_iter=500, random_state=seed).fit(a, la).predict(b)
    fg = lb > 0
    ious = []
    for c in np.unique(lb):
        union = ((pred == c) | (lb == c)).sum()
        ious.append(((pred == c) & (lb == c)).sum() / union)
    return {
        "dense_acc": float((pred == lb).mean()),
        "dense_fg_acc": float((pred[fg] == lb[fg]).mean()) if fg.any() else float("nan"),
        "dense_miou": float(np.mean(ious)),
    }


def probe_encoder(
    encoder: nn.Module,
    data: Dataset,
    grid: int = 8,
    levels: str = "all",
    knn_k: int = 20,
    seed: int = 0,
    max_locations: int = 20000,
) -> dict[str, Any]:
    """MSM's protocol for `encoder` (trained or not) on a labelled image dataset: per-image
    linear and kNN accuracy on the pooled multi-level features, and the dense probe on ink
    labels (``discotok.evaluation.multilevel_probe`` runs it on a run's encoder)."""
    if not data.has_labels:
        raise DataError("the multi-level probe needs a labelled image dataset")
    f_train = multilevel_features(encoder, data.x_train, grid, levels)
    f_test = multilevel_features(encoder, data.x_test, grid, levels)
    pooled_train, pooled_test = f_train.mean(axis=(2, 3)), f_test.mean(axis=(2, 3))
    out: dict[str, Any] = {"grid": grid, "levels": levels, "channels": int(f_train.shape[1])}
    out["image_linear_acc"] = linear_probe(
        pooled_train, data.y_train, pooled_test, data.y_test, seed=seed
    )["linear_acc"]
    out["image_knn_acc"] = knn_probe(
        pooled_train, data.y_train, pooled_test, data.y_test, knn_k=knn_k
    )["knn_acc"]
    out.update(
        dense_probe(
            f_train,
            ink_labels(data.x_train, data.y_train, grid),
            f_test,
            ink_labels(data.x_test, data.y_test, grid),
            max_locations=max_locations,
            seed=seed,
        )
    )
    return out
