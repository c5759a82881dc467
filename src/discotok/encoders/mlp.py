"""A multilayer perceptron encoder for any input, flattened."""

from __future__ import annotations

import math

import torch
from torch import nn

from discotok.encoders.norm import make_norm
from discotok.errors import check_range
from discotok.registry import ENCODERS


@ENCODERS.register("mlp")
class MLP(nn.Module):
    """Flatten, then Linear-norm-ReLU layers, then a linear embedding."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        width: int = 256,
        depth: int = 2,
        embed_dim: int = 128,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        check_range("encoder.width", width, 1)
        check_range("encoder.depth", depth, 0)
        check_range("encoder.embed_dim", embed_dim, 1)
        layers: list[nn.Module] = [nn.Flatten()]
        in_dim = math.prod(input_shape)
        for _ in range(depth):
            layers += [nn.Linear(in_dim, width), make_norm(norm, width, 0), nn.ReLU(inplace=True)]
            in_dim = width
        layers.append(nn.Linear(in_dim, embed_dim))
        self.net = nn.Sequential(*layers)
        self.embed_dim = embed_dim
        self.input_shape = tuple(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
