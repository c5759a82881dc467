"""DINO (Caron et al. 2021): self-distillation with no labels. A student matches the
centred, sharpened output distribution of a momentum teacher on another view; centring
(an EMA of the teacher's mean output) and sharpening (a low teacher temperature) together
keep it from collapsing. Multi-crop (``local_crops`` > 0, images only): the student also
sees small, low-resolution crops of further views and matches the teacher's outputs on the
two global views from them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.encoders.norm import make_norm
from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.methods.momentum import cosine_momentum, ema_update, frozen_copy, global_mean
from discotok.registry import METHODS


class DINOHead(nn.Module):
    """MLP -> L2-normalised bottleneck -> weight-normalised linear layer over `out_dim`."""

    def __init__(
        self, in_dim: int, hidden: int, bottleneck: int, out_dim: int, norm: str = "none"
    ) -> None:
        super().__init__()
        # no slot for "none", so checkpoints from before the option keep their layer numbers
        normed = [make_norm(norm, hidden, 0)] if norm != "none" else []
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden),
            *normed,
            nn.GELU(),
            nn.Linear(hidden, hidden),
            *[make_norm(norm, hidden, 0) for _ in normed],
            nn.GELU(),
            nn.Linear(hidden, bottleneck),
        )
        self.last = nn.utils.parametrizations.weight_norm(nn.Linear(bottleneck, out_dim, False))
        self.last.parametrizations.weight.original0.data.fill_(1.0)
        self.last.parametrizations.weight.original0.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last(F.normalize(self.mlp(x), dim=1))


@METHODS.register("dino")
class DINO(SSLMethod):
    """DINO with two global views and `local_crops` local ones (multi-crop, 0 by default);
    the student's encoder is the one kept."""

    def __init__(
        self,
        encoder: nn.Module,
        out_dim: int = 1024,
        hidden: int = 256,
        bottleneck: int = 64,
        student_temperature: float = 0.1,
        teacher_temperature: float = 0.04,
        center_momentum: float = 0.9,
        momentum: float = 0.996,
        head_norm: str = "none",
        local_crops: int = 0,
        local_size: float = 0.5,
        local_min: float = 0.25,
        local_max: float = 0.5,
    ) -> None:
        super().__init__(encoder)
        check_range("method.out_dim", out_dim, 2)
        check_range("method.local_crops", local_crops, 0)
        check_range("method.local_size", local_size, 0, 1, low_inclusive=False)
        if not 0 < local_min <= local_max <= 1:
            raise ConfigError(
                "method.local_min and local_max (the smallest and largest share of a view's "
                "area a local crop keeps) need 0 < local_min <= local_max <= 1; got "
                f"{local_min} and {local_max}"
            )
        shape = tuple(getattr(encoder, "input_shape", ()))
        if local_crops and len(shape) != 3:
            raise ConfigError(
                "method.local_crops needs an image encoder (input of shape (channels, height, "
                f"width)); this encoder takes {shape or 'an unknown shape'}: set local_crops 0"
            )
        self.num_views = 2 + local_crops
        self.local_hw = tuple(max(1, round(side * local_size)) for side in shape[1:])
        self.local_scale = (local_min, local_max)
        check_range("method.student_temperature", student_temperature, 0, low_inclusive=False)
        check_range("method.teacher_temperature", teacher_temperature, 0, low_inclusive=False)
        check_range("method.center_momentum", center_momentum, 0, 1)
        check_range("method.momentum", momentum, 0, 1)
        self.head = DINOHead(encoder.embed_dim, hidden, bottleneck, out_dim, head_norm)
        self.teacher_encoder = frozen_copy(encoder)
        self.teacher_head = frozen_copy(self.head)
        self.register_buffer("center", torch.zeros(out_dim))
        self.student_temperature = student_temperature
        self.teacher_temperature = teacher_temperature
        self.center_momentum = center_momentum
        self.momentum = momentum

    def local_views(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """Views 3 on, each cut to a random share of its area (from `local_min` to
        `local_max`) and resized to `local_size` of the image side (the student's multi-crop
        inputs)."""
        if len(views) <= 2:
            return []
        import kornia.augmentation as K

        crop = K.RandomResizedCrop(self.local_hw, scale=self.local_scale)
        return [crop(v) for v in views[2:]]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        views = batch["views"][: self.num_views]
        with torch.no_grad():
            local = self.local_views(views)
        student = [self.head(self.encoder(v)) for v in views[:2] + local]
        with torch.no_grad():
            teacher = [self.teacher_head(self.teacher_encoder(v)) for v in views[:2]]
            targets = [F.softmax((t - self.center) / self.teacher_temperature, 1) for t in teacher]
        # every (teacher view, student view) pair but a global view with itself
        pairs = [(i, j) for i in range(2) for j in range(len(student)) if j != i]
        loss = 0.0
        for i, j in pairs:
            logp = F.log_softmax(student[j] / self.student_temperature, 1)
            loss = loss + -(targets[i] * logp).sum(1).mean() / len(pairs)
        with torch.no_grad():
            self.center.mul_(self.center_momentum).add_(
                global_mean(torch.cat(teacher)), alpha=1 - self.center_momentum
            )
            entropy = -(targets[0] * targets[0].clamp_min(1e-12).log()).sum(1).mean()
        return {"loss": loss, "teacher_entropy": entropy}

    def after_step(self, step: int, total_steps: int) -> None:
        m = cosine_momentum(self.momentum, step, total_steps)
        ema_update(self.teacher_encoder, self.encoder, m)
        ema_update(self.teacher_head, self.head, m)
