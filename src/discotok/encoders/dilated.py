"""A dilated convolutional encoder for time series (the TS2Vec backbone), padding-aware.

Per-step input projection, then residual blocks of two "same"-padded convolutions with
dilation 2^i, giving one representation per time step. NaN in the input marks end padding:
those steps are zeroed before and after every convolution, so a series gives the same
representation however much padding follows it. The series vector is the max over its
valid steps (TS2Vec's instance-level pooling).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.registry import ENCODERS


class _Block(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        pad = (kernel_size - 1) * dilation // 2
        self.conv1 = nn.Conv1d(in_ch, out_ch, kernel_size, padding=pad, dilation=dilation)
        self.conv2 = nn.Conv1d(out_ch, out_ch, kernel_size, padding=pad, dilation=dilation)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, h: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.gelu(h)) * keep
        out = self.conv2(F.gelu(out)) * keep
        return out + self.skip(h) * keep


@ENCODERS.register("dilated")
class DilatedConvEncoder(nn.Module):
    """TS2Vec-style dilated residual convolutions: a vector per time step, max-pooled."""

    masks_padding = True

    def __init__(
        self,
        input_shape: tuple[int, ...],
        width: int = 64,
        depth: int = 6,
        kernel_size: int = 3,
        embed_dim: int = 128,
    ) -> None:
        super().__init__()
        if len(input_shape) != 2:
            raise ConfigError(
                f"encoder 'dilated' needs signals of shape (channels, length); got {input_shape}"
            )
        check_range("encoder.width", width, 1)
        check_range("encoder.depth", depth, 1)
        check_range("encoder.embed_dim", embed_dim, 1)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"encoder.kernel_size={kernel_size} must be odd (same padding)")
        self.hparams = dict(width=width, depth=depth, kernel_size=kernel_size, embed_dim=embed_dim)
        self.input_shape = tuple(input_shape)
        channels = input_shape[0]
        self.input_fc = nn.Conv1d(channels, width, 1)
        dims = [width] * (depth + 1) + [embed_dim]
        self.blocks = nn.ModuleList(
            _Block(dims[i], dims[i + 1], kernel_size, 2**i) for i in range(depth + 1)
        )
        self.embed_dim = embed_dim
        self.input_shape = tuple(input_shape)

    def frames(self, x: torch.Tensor, drop: torch.Tensor | None = None) -> torch.Tensor:
        """Per-step representations (n, length, embed_dim); zero on padded steps.

        `drop` (n, length, bool) hides those steps from the encoder (TS2Vec's timestamp
        masking during training).
        """
        valid = torch.isfinite(x).any(dim=1)
        keep = valid[:, None, :].to(x.dtype)
        h = self.input_fc(torch.nan_to_num(x, nan=0.0)) * keep
        if drop is not None:
            h = h.masked_fill(drop[:, None, :], 0.0)
        for block in self.blocks:
            h = block(h, keep)
        return h.transpose(1, 2)

    def frame_lengths(self, x: torch.Tensor) -> torch.Tensor:
        """Valid frames per series (one frame per time step)."""
        return torch.isfinite(x).any(dim=1).sum(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.frames(x)
        valid = torch.isfinite(x).any(dim=1)[:, :, None]
        return h.masked_fill(~valid, float("-inf")).amax(dim=1)
