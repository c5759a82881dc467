"""TS2Vec (Yue et al. 2022): hierarchical contrasting of per-step representations.

No augmentation library: the two views are overlapping random crops of the same series, and
the encoder hides random time steps of each (timestamp masking). On the overlap, the same
step seen in both crops is a positive pair against (a) the other series at that step
(instance loss) and (b) the other steps of the same series (temporal loss); both are repeated
after every max-pooling by 2 along time, down to one step. Padding (NaN) steps never enter
a loss. Series longer than ``max_length`` (256 here, for CPUs; the paper used 3000 on GPUs)
are trained on a random window of that length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.registry import METHODS
from discotok.views.timeseries import random_window, step_mask, take_windows


def _contrast(z: torch.Tensor, valid: torch.Tensor, half: int) -> torch.Tensor:
    """Mean cross-entropy of each row's positive (row +- half) against the other rows.

    z: (groups, 2 * half, dim); valid: (groups, 2 * half). Invalid rows neither ask nor answer.
    """
    sim = z @ z.transpose(1, 2)
    eye = torch.eye(2 * half, dtype=torch.bool, device=z.device)
    low = torch.finfo(sim.dtype).min  # finite: a step where every row is padding gives no NaN
    sim = sim.masked_fill(eye | ~valid[:, None, :], low)
    rows = torch.arange(2 * half, device=z.device)
    pos = (rows + half) % (2 * half)
    losses = F.cross_entropy(
        sim.reshape(-1, 2 * half), pos.repeat(z.shape[0]), reduction="none"
    ).reshape(z.shape[0], 2 * half)
    ok = valid & valid[:, pos]
    return losses[ok].mean() if ok.any() else z.sum() * 0.0


def instance_loss(z1: torch.Tensor, z2: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """At each step, the same series in the other view against the other series."""
    z = torch.cat([z1, z2], dim=0).transpose(0, 1)  # (steps, 2n, dim)
    valid = torch.cat([mask, mask], dim=0).transpose(0, 1)
    return _contrast(z, valid, z1.shape[0])


def temporal_loss(z1: torch.Tensor, z2: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """In each series, the same step in the other view against the other steps."""
    z = torch.cat([z1, z2], dim=1)  # (n, 2 steps, dim)
    valid = torch.cat([mask, mask], dim=1)
    return _contrast(z, valid, z1.shape[1])


def _pool(z: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Max-pool by 2 along time over valid steps only."""
    z = z.masked_fill(~mask[:, :, None], float("-inf"))
    z = F.max_pool1d(z.transpose(1, 2), kernel_size=2).transpose(1, 2)
    mask = F.max_pool1d(mask[:, None, :].float(), kernel_size=2)[:, 0] > 0
    return z.masked_fill(~mask[:, :, None], 0.0), mask


def hierarchical_loss(
    z1: torch.Tensor, z2: torch.Tensor, mask: torch.Tensor, alpha: float = 0.5
) -> torch.Tensor:
    """TS2Vec's loss: instance + temporal contrast at every time scale, averaged."""
    total, levels = z1.sum() * 0.0, 0
    while z1.shape[1] > 1:
        total = total + alpha * instance_loss(z1, z2, mask)
        total = total + (1 - alpha) * temporal_loss(z1, z2, mask)
        levels += 1
        pooled1, _ = _pool(z1, mask)
        z2, mask = _pool(z2, mask)
        z1 = pooled1
    if z1.shape[1] == 1:
        total = total + alpha * instance_loss(z1, z2, mask)
        levels += 1
    return total / levels


def _randint(low: int, high: int) -> int:
    """A value in [low, high) from torch's generator (which the engine seeds per step)."""
    return int(torch.randint(low, high, (1,)).item())


@METHODS.register("ts2vec")
class TS2Vec(SSLMethod):
    """TS2Vec: contextual consistency of overlapping crops, instance + temporal losses."""

    augment = False  # the crops and the timestamp masking are the views

    def __init__(
        self,
        encoder: nn.Module,
        alpha: float = 0.5,
        mask_prob: float = 0.5,
        max_length: int = 256,
    ) -> None:
        super().__init__(encoder)
        if not getattr(encoder, "masks_padding", False):
            raise ConfigError("method 'ts2vec' needs a per-step encoder: set encoder.name=dilated")
        check_range("method.alpha", alpha, 0.0, 1.0)
        check_range("method.mask_prob", mask_prob, 0.0, 1.0, high_inclusive=False)
        check_range("method.max_length", max_length, 2)
        self.alpha = alpha
        self.mask_prob = mask_prob
        self.max_length = max_length

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        drop = torch.rand(x.shape[0], x.shape[2], device=x.device) < self.mask_prob
        return self.encoder.frames(x, drop=drop)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = random_window(batch["views"][0], self.max_length)
        n, length = x.shape[0], x.shape[2]
        crop = _randint(2, length + 1) if length > 2 else length
        left = _randint(0, length - crop + 1)
        right = left + crop
        extra_left = _randint(0, left + 1)
        extra_right = _randint(right, length + 1)
        offset = torch.randint(-extra_left, length - extra_right + 1, (n,), device=x.device)
        w1 = take_windows(x, offset + extra_left, right - extra_left)
        w2 = take_windows(x, offset + left, extra_right - left)
        z1 = self._encode(w1)[:, -crop:]
        z2 = self._encode(w2)[:, :crop]
        mask = step_mask(w1)[:, -crop:] & step_mask(w2)[:, :crop]
        loss = hierarchical_loss(z1, z2, mask, self.alpha)
        return {"loss": loss, "hierarchical": loss.detach()}
