"""A small 2-D convolutional encoder for images (n, channels, height, width)."""

from __future__ import annotations

import torch
from torch import nn

from discotok.encoders.norm import make_norm
from discotok.errors import ConfigError, check_range
from discotok.registry import ENCODERS


def check_image_encoder(
    name: str, input_shape: tuple[int, ...], width: int, depth: int, embed_dim: int
) -> int:
    """Checks shared by the image encoders, which halve the resolution depth - 1 times;
    returns the number of input channels."""
    if len(input_shape) != 3:
        raise ConfigError(
            f"encoder {name!r} needs images of shape (channels, height, width); got {input_shape}"
        )
    check_range("encoder.width", width, 1)
    check_range("encoder.depth", depth, 1)
    check_range("encoder.embed_dim", embed_dim, 1)
    channels, height, wide = input_shape
    if min(height, wide) < 2 ** (depth - 1):
        raise ConfigError(
            f"encoder {name!r} with depth {depth} halves the image {depth - 1} times; "
            f"{height}x{wide} is too small (need at least {2 ** (depth - 1)} pixels a side)"
            "; lower encoder.depth"
        )
    return channels


@ENCODERS.register("cnn2d")
class CNN2d(nn.Module):
    """Conv-norm-ReLU stages doubling the width and halving the resolution, then avg-pool."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        width: int = 32,
        depth: int = 3,
        embed_dim: int = 128,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        channels = check_image_encoder("cnn2d", input_shape, width, depth, embed_dim)
        layers: list[nn.Module] = []
        in_ch = channels
        for i in range(depth):
            out_ch = width * 2**i
            layers += [
                nn.Conv2d(in_ch, out_ch, 3, padding=1),
                make_norm(norm, out_ch, 2),
                nn.ReLU(inplace=True),
            ]
            if i < depth - 1:
                layers.append(nn.MaxPool2d(2))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_ch, embed_dim)
        self.embed_dim = embed_dim
        self.input_shape = tuple(input_shape)
        self.feature_channels = in_ch
        self.in_channels = channels

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's local features (n, channels, h, w), before pooling (OBoW)."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_map(x).mean(dim=(2, 3)))
