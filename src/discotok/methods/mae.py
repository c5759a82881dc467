"""Masked image modelling on convolutional encoders: MAE-style pixel reconstruction.

Square patches of the input are masked (set to zero) at ``mask_ratio``; a light decoder on
the encoder's last feature map reconstructs the pixels, and the loss is the MSE on the
masked pixels only (He et al. 2022, adapted to CNNs the way SparK/ConvMAE do it: masked
patches are zeroed rather than dropped, since a convolution cannot skip them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod, require_feature_map
from discotok.registry import METHODS


def check_mask_ratio(mask_ratio: float) -> None:
    check_range("method.mask_ratio", mask_ratio, 0, 1, low_inclusive=False, high_inclusive=False)


def patch_mask(x: torch.Tensor, patch: int, ratio: float) -> torch.Tensor:
    """(n, 1, H, W) float mask, 1 on masked pixels: a random `ratio` of the patch x patch
    cells of each image (at least one cell masked, at least one kept)."""
    n, _, h, w = x.shape
    if h % patch or w % patch:
        raise ConfigError(
            f"method.patch={patch} does not divide the image size {h}x{w}; pick a divisor"
        )
    cells = (h // patch) * (w // patch)
    k = min(cells - 1, max(1, round(ratio * cells)))
    order = torch.rand(n, cells, device=x.device).argsort(1)
    masked = torch.zeros(n, cells, device=x.device)
    masked.scatter_(1, order[:, :k], 1.0)
    masked = masked.view(n, 1, h // patch, w // patch)
    return F.interpolate(masked, scale_factor=patch, mode="nearest")


@METHODS.register("mae")
class MAE(SSLMethod):
    """Masked pixel reconstruction with a two-layer convolutional decoder."""

    num_views = 1

    def __init__(
        self, encoder: nn.Module, mask_ratio: float = 0.6, patch: int = 4, decoder_width: int = 64
    ) -> None:
        super().__init__(encoder)
        require_feature_map(encoder, "mae")
        check_mask_ratio(mask_ratio)
        check_range("method.patch", patch, 1)
        self.mask_ratio, self.patch = mask_ratio, patch
        self.decoder = nn.Sequential(
            nn.Conv2d(encoder.feature_channels, decoder_width, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.to_pixels = nn.Conv2d(decoder_width, encoder.in_channels, 3, padding=1)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.decoder(self.encoder.feature_map(x))
        return self.to_pixels(F.interpolate(hidden, size=x.shape[-2:], mode="bilinear"))

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = batch["views"][0]
        mask = patch_mask(x, self.patch, self.mask_ratio)
        error = (self.reconstruct(x * (1 - mask)) - x).pow(2) * mask
        loss = error.sum() / (mask.sum() * x.shape[1])
        return {"loss": loss}
