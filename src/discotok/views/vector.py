"""Augmentations for plain feature vectors (n, dim): Gaussian noise and feature dropout."""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import check_range
from discotok.registry import VIEWS


@VIEWS.register("vector")
class VectorViews(nn.Module):
    """Per-feature Gaussian noise and random feature masking, for tabular vectors."""

    def __init__(self, noise: float = 0.1, drop: float = 0.2) -> None:
        super().__init__()
        check_range("views.noise", noise, 0.0)
        check_range("views.drop", drop, 0.0, 1.0, high_inclusive=False)
        self.noise = noise
        self.drop = drop

    def variants(self) -> dict[str, nn.Module]:
        """One view per augmentation, the other switched off (for robustness metrics)."""
        return {"noise": VectorViews(self.noise, 0.0), "drop": VectorViews(0.0, self.drop)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keep = (torch.rand_like(x) >= self.drop).to(x.dtype)
        return (x + self.noise * torch.randn_like(x)) * keep
