"""Batched augmentations for 1-D signals (n, channels, length), all in torch on any device.

Shift, time scaling and crop-resize are one random affine warp of the time axis applied with
``grid_sample`` (zero padding outside the signal), so a whole batch costs one kernel call.
Randomness comes from torch's global generator, which the engine seeds per step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_range
from discotok.registry import VIEWS


@VIEWS.register("signal1d")
class SignalViews(nn.Module):
    """Shift, time scaling, crop-resize, amplitude scaling, Gaussian noise and masking."""

    def __init__(
        self,
        max_shift: float = 0.25,
        time_scale: float = 0.2,
        crop_min: float = 0.7,
        amplitude: float = 0.2,
        noise: float = 0.1,
        mask_max: float = 0.2,
        mask_prob: float = 0.5,
    ) -> None:
        super().__init__()
        check_range("views.max_shift", max_shift, 0.0, 1.0)
        check_range("views.time_scale", time_scale, 0.0, 0.9)
        check_range("views.crop_min", crop_min, 0.0, 1.0, low_inclusive=False)
        check_range("views.amplitude", amplitude, 0.0, 0.9)
        check_range("views.noise", noise, 0.0)
        check_range("views.mask_max", mask_max, 0.0, 1.0)
        check_range("views.mask_prob", mask_prob, 0.0, 1.0)
        self.max_shift = max_shift
        self.time_scale = time_scale
        self.crop_min = crop_min
        self.amplitude = amplitude
        self.noise = noise
        self.mask_max = mask_max
        self.mask_prob = mask_prob

    def variants(self) -> dict[str, nn.Module]:
        """One view per augmentation, the others switched off (for robustness metrics)."""
        off = dict(
            max_shift=0.0,
            time_scale=0.0,
            crop_min=1.0,
            amplitude=0.0,
            noise=0.0,
            mask_max=0.0,
            mask_prob=0.0,
        )
        groups = {
            "shift": {"max_shift": self.max_shift},
            "time_scale": {"time_scale": self.time_scale},
            "crop": {"crop_min": self.crop_min},
            "amplitude": {"amplitude": self.amplitude},
            "noise": {"noise": self.noise},
            "mask": {"mask_max": self.mask_max, "mask_prob": 1.0},
        }
        return {name: SignalViews(**{**off, **only}) for name, only in groups.items()}

    def _uniform(self, n: int, low: float, high: float, ref: torch.Tensor) -> torch.Tensor:
        return torch.rand(n, device=ref.device, dtype=ref.dtype) * (high - low) + low

    def warp(self, x: torch.Tensor) -> torch.Tensor:
        """Resample each signal at t' = scale * t + offset (normalised time in [-1, 1])."""
        n, _, length = x.shape
        crop = self._uniform(n, self.crop_min, 1.0, x)
        stretch = self._uniform(n, 1.0 - self.time_scale, 1.0 + self.time_scale, x)
        scale = crop / stretch
        offset = self._uniform(n, -2 * self.max_shift, 2 * self.max_shift, x)
        t = torch.linspace(-1.0, 1.0, length, device=x.device, dtype=x.dtype)
        grid_x = scale[:, None] * t[None, :] + offset[:, None]
        grid = torch.stack([grid_x, torch.zeros_like(grid_x)], dim=-1)[:, None]  # (n,1,L,2)
        out = F.grid_sample(x[:, :, None, :], grid, align_corners=True, padding_mode="zeros")
        return out[:, :, 0, :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, length = x.shape
        out = self.warp(x)
        if self.amplitude > 0:
            out = out * self._uniform(n, 1 - self.amplitude, 1 + self.amplitude, x)[:, None, None]
        if self.noise > 0:
            scale = x.std(dim=(1, 2), keepdim=True).clamp_min(1e-6)
            out = out + self.noise * scale * torch.randn_like(out)
        if self.mask_max > 0 and self.mask_prob > 0:
            width = (self._uniform(n, 0.0, self.mask_max, x) * length).long()
            start = (torch.rand(n, device=x.device) * (length - width + 1)).long()
            pos = torch.arange(length, device=x.device)[None, :]
            masked = (pos >= start[:, None]) & (pos < (start + width)[:, None])
            masked &= (torch.rand(n, device=x.device) < self.mask_prob)[:, None]
            out = out.masked_fill(masked[:, None, :], 0.0)
        return out
