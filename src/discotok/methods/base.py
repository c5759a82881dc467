"""What every self-supervised method is: an nn.Module returning named losses.

The engine owns the loop. It calls ``method({"views": [v1, v2, ...], "index": idx})`` and
minimises ``losses["loss"]`` (a method with ``augment = False`` gets the raw batch as every
view: it makes its own views, e.g. frame projections or TS2Vec's crops); other entries are
logged. After each optimiser step it calls ``method.after_step(step, total_steps)`` (EMA
teachers). A method that wants a say in which samples share a batch returns pseudo-labels
from ``pseudo_labels``; the engine then composes batches from distinct pseudo-classes.
``evaluate_method`` adds to ``discotok evaluate`` what only the trained method can measure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from discotok.data.base import Dataset
from discotok.errors import ConfigError


def require_feature_map(encoder: nn.Module, method: str) -> None:
    """Refuse an encoder without local features (methods that read its feature map)."""
    if not hasattr(encoder, "feature_map"):
        raise ConfigError(
            f"method {method!r} needs an encoder with a feature map: use encoder.name=cnn2d "
            "or resnet on images"
        )


class SSLMethod(nn.Module):
    """Base class: holds ``encoder`` (the part kept after training) and returns losses."""

    num_views: int = 2
    augment: bool = True
    # buffers whose shape depends on the data (set in prepare): loading a checkpoint
    # resizes them to the saved shape first
    data_sized_buffers: tuple[str, ...] = ()

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def _load_from_state_dict(
        self, state_dict: dict, prefix: str, *args: object, **kw: object
    ) -> None:
        for name in self.data_sized_buffers:
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kw)

    def forward(
        self, batch: dict[str, torch.Tensor | list[torch.Tensor]]
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def after_step(self, step: int, total_steps: int) -> None:
        """Called by the engine after each optimiser step (`step` counts from 1): momentum
        teachers and centres update here. Default: nothing."""

    def prepare(self, x_train: torch.Tensor, epoch: int) -> None:
        """Called by the engine on every process at the start of each epoch (and when a run
        resumes) with the whole training set: targets that need all the data are computed
        here (HuBERT's k-means units). Default: nothing."""

    def evaluate_method(self, data: Dataset, run_dir: Path, seed: int) -> dict[str, Any]:
        """Metrics only the trained method itself can give (GEDI: out-of-distribution AUROC
        of its energy, generated samples), merged into ``discotok evaluate``'s metrics under
        ``method``. Figures it writes into `run_dir` are named in a ``figures`` list, and
        sentences the user should read (the run is degenerate...) in a ``warnings`` list:
        ``discotok evaluate`` prints them and the report shows them. Default: none."""
        return {}

    def pseudo_labels(
        self,
        x_train: torch.Tensor,
        *,
        epoch: int,
        batch_size: int,
        seed: int,
        previous: np.ndarray | None,
    ) -> np.ndarray | None:
        """Labels that decide the batch composition of `epoch`, or None for random batches."""
        return None
