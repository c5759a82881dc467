"""A 1-D convolutional encoder for signals (n, channels, length)."""

from __future__ import annotations

import torch
from torch import nn

from discotok.encoders.norm import make_norm
from discotok.errors import ConfigError, check_range
from discotok.registry import ENCODERS


@ENCODERS.register("cnn1d")
class CNN1d(nn.Module):
    """Stacked Conv1d-norm-ReLU blocks (every other one strided), pooled to a vector."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        width: int = 64,
        depth: int = 4,
        kernel_size: int = 5,
        embed_dim: int = 128,
        pool_size: int = 4,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if len(input_shape) != 2:
            raise ConfigError(
                f"encoder 'cnn1d' needs signals of shape (channels, length); got {input_shape}"
            )
        check_range("encoder.width", width, 1)
        check_range("encoder.depth", depth, 1)
        check_range("encoder.kernel_size", kernel_size, 1)
        check_range("encoder.embed_dim", embed_dim, 1)
        check_range("encoder.pool_size", pool_size, 1)
        self.hparams = dict(
            width=width,
            depth=depth,
            kernel_size=kernel_size,
            embed_dim=embed_dim,
            pool_size=pool_size,
            norm=norm,
        )
        self.input_shape = tuple(input_shape)
        channels, length = input_shape
        layers: list[nn.Module] = []
        in_ch = channels
        for i in range(depth):
            stride = 2 if i % 2 == 1 and length > 8 else 1
            length = (length + stride - 1) // stride
            layers += [
                nn.Conv1d(in_ch, width, kernel_size, stride=stride, padding=kernel_size // 2),
                make_norm(norm, width, 1),
                nn.ReLU(inplace=True),
            ]
            in_ch = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(pool_size)
        self.head = nn.Linear(width * pool_size, embed_dim)
        self.embed_dim = embed_dim
        self.input_shape = tuple(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """Frame-level features before pooling: (n, frames, width), one frame per output step."""
        return self.features(x).transpose(1, 2)
