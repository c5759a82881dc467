"""Heads that sit on top of an encoder's embedding."""

from __future__ import annotations

from torch import nn

from discotok.encoders.norm import make_norm


class ProjectionHead(nn.Sequential):
    """Linear-norm-ReLU-Linear, the SimCLR projector."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, norm: str = "none") -> None:
        super().__init__(
            nn.Linear(in_dim, hidden_dim),
            make_norm(norm, hidden_dim, 0),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, out_dim),
        )
