"""Augmentations for time series (n, channels, length) that respect NaN end-padding.

The classic time-series SSL set (TS-TCC, the SimCLR baselines of the frame-projection paper):
jitter, per-channel scaling, segment permutation, smooth time warping and crop-resize. The
three time edits compose into one map from each output step to a source position inside the
series' own valid part, read with linear interpolation, so a padded series keeps its length
and its padding; a batch costs a few gathers on any device. Series longer than
``max_length`` steps first become a random window of that length per view (0 keeps them
whole), which bounds the cost of a step on long series.
"""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import check_range
from discotok.registry import VIEWS


def step_mask(x: torch.Tensor) -> torch.Tensor:
    """(n, length) True where a series has values (not NaN padding)."""
    return torch.isfinite(x).any(dim=1)


def take_windows(x: torch.Tensor, start: torch.Tensor, length: int) -> torch.Tensor:
    """Per series i, the steps start[i] .. start[i] + length - 1: (n, channels, length)."""
    index = start.to(x.device)[:, None] + torch.arange(length, device=x.device)[None, :]
    return x.gather(2, index[:, None, :].expand(-1, x.shape[1], -1))


def random_window(x: torch.Tensor, max_length: int) -> torch.Tensor:
    """One random window of `max_length` steps for the whole batch, if the series are longer."""
    if x.shape[2] <= max_length:
        return x
    start = int(torch.randint(0, x.shape[2] - max_length + 1, (1,)).item())
    return x[:, :, start : start + max_length]


@VIEWS.register("timeseries")
class TimeSeriesViews(nn.Module):
    """Jitter, scaling, segment permutation, time warp and crop-resize (padding-aware)."""

    def __init__(
        self,
        jitter: float = 0.1,
        scaling: float = 0.2,
        permute_prob: float = 0.3,
        max_segments: int = 5,
        warp: float = 0.2,
        warp_knots: int = 4,
        crop_min: float = 0.6,
        max_length: int = 512,
    ) -> None:
        super().__init__()
        check_range("views.jitter", jitter, 0.0)
        check_range("views.scaling", scaling, 0.0, 0.9)
        check_range("views.permute_prob", permute_prob, 0.0, 1.0)
        check_range("views.max_segments", max_segments, 1)
        check_range("views.warp", warp, 0.0, 0.9)
        check_range("views.warp_knots", warp_knots, 1)
        check_range("views.crop_min", crop_min, 0.0, 1.0, low_inclusive=False)
        check_range("views.max_length", max_length, 0)
        self.jitter = jitter
        self.scaling = scaling
        self.permute_prob = permute_prob
        self.max_segments = max_segments
        self.warp = warp
        self.warp_knots = warp_knots
        self.crop_min = crop_min
        self.max_length = max_length

    def variants(self) -> dict[str, nn.Module]:
        """One view per augmentation, the others switched off (for robustness metrics)."""
        off = dict(jitter=0.0, scaling=0.0, permute_prob=0.0, warp=0.0, crop_min=1.0)
        keep = dict(max_segments=self.max_segments, warp_knots=self.warp_knots, max_length=0)
        groups = {
            "jitter": {"jitter": self.jitter},
            "scaling": {"scaling": self.scaling},
            "permutation": {"permute_prob": 1.0},
            "time_warp": {"warp": self.warp},
            "crop": {"crop_min": self.crop_min},
        }
        return {name: TimeSeriesViews(**{**off, **keep, **only}) for name, only in groups.items()}

    def _positions(self, u: torch.Tensor) -> torch.Tensor:
        """Map normalised output positions u (n, length) in [0, 1] to source positions."""
        n = u.shape[0]
        if self.permute_prob > 0 and self.max_segments > 1:
            m = self.max_segments
            perm = torch.argsort(torch.rand(n, m, device=u.device), dim=1)
            keep = torch.rand(n, device=u.device) >= self.permute_prob
            perm[keep] = torch.arange(m, device=u.device)
            seg = (u * m).floor().clamp(max=m - 1)
            u = (perm.gather(1, seg.long()).to(u.dtype) + u * m - seg) / m
        if self.warp > 0:
            k = self.warp_knots
            speed = (1 + self.warp * torch.randn(n, k, device=u.device, dtype=u.dtype)).clamp(0.1)
            cum = torch.cat([torch.zeros_like(speed[:, :1]), speed.cumsum(1)], dim=1)
            cum = cum / cum[:, -1:]
            seg = (u * k).floor().clamp(max=k - 1).long()
            lo, hi = cum.gather(1, seg), cum.gather(1, seg + 1)
            u = lo + (u * k - seg) * (hi - lo)
        if self.crop_min < 1:
            width = torch.rand(n, 1, device=u.device, dtype=u.dtype) * (1 - self.crop_min)
            width = width + self.crop_min
            start = torch.rand_like(width) * (1 - width)
            u = start + width * u
        return u.clamp(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if 0 < self.max_length < x.shape[2]:
            start = torch.randint(0, x.shape[2] - self.max_length + 1, (x.shape[0],))
            x = take_windows(x, start, self.max_length)
        n, channels, length = x.shape
        valid = step_mask(x)
        lengths = valid.sum(1, keepdim=True).clamp(min=1)
        clean = torch.nan_to_num(x, nan=0.0)
        t = torch.arange(length, device=x.device, dtype=x.dtype)[None, :].expand(n, -1)
        last = (lengths - 1).to(x.dtype)
        u = (t / last.clamp(min=1)).clamp(max=1)
        source = self._positions(u) * last
        lo = source.floor().long().clamp(max=length - 1)
        hi = (lo + 1).clamp(max=(lengths - 1).expand(-1, length))
        frac = (source - lo.to(x.dtype))[:, None, :]
        index = lambda i: i[:, None, :].expand(-1, channels, -1)  # noqa: E731
        out = clean.gather(2, index(lo)) * (1 - frac) + clean.gather(2, index(hi)) * frac
        if self.scaling > 0:
            out = out * (1 + self.scaling * torch.randn(n, channels, 1, device=x.device))
        if self.jitter > 0:
            out = out + self.jitter * torch.randn_like(out)
        return out.masked_fill(~valid[:, None, :], float("nan"))


@VIEWS.register("none")
class NoViews(nn.Module):
    """No augmentation: every view is the input itself (augmentation-free methods)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
