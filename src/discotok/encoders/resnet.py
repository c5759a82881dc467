"""A small ResNet for images, sized for CPU: a 3x3 stem and `depth` stages of residual
basic blocks (two 3x3 convolutions and a skip), each stage after the first halving the
resolution and doubling the width, then global average pooling (He et al. 2016, the CIFAR
layout scaled down)."""

from __future__ import annotations

import torch
from torch import nn

from discotok.encoders.cnn2d import check_image_encoder
from discotok.encoders.norm import make_norm
from discotok.errors import check_range
from discotok.registry import ENCODERS


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False),
            make_norm(norm, out_ch, 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False),
            make_norm(norm, out_ch, 2),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.skip = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), make_norm(norm, out_ch, 2)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


@ENCODERS.register("resnet")
class ResNet(nn.Module):
    """Residual stages of `blocks` basic blocks; width doubles and resolution halves per stage."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        width: int = 16,
        depth: int = 3,
        blocks: int = 1,
        embed_dim: int = 128,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        channels = check_image_encoder("resnet", input_shape, width, depth, embed_dim)
        check_range("encoder.blocks", blocks, 1)
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, 3, 1, 1, bias=False),
            make_norm(norm, width, 2),
            nn.ReLU(inplace=True),
        ]
        in_ch = width
        for stage in range(depth):
            out_ch = width * 2**stage
            for b in range(blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                layers.append(BasicBlock(in_ch, out_ch, stride, norm))
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
