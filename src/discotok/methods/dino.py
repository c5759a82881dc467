"""DINO (Caron et al. 2021): self-distillation with no labels. A student matches the
centred, sharpened output distribution of a momentum teacher on another view; centring
(an EMA of the teacher's mean output) and sharpening (a low teacher temperature) together
keep it from collapsing."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.encoders.norm import make_norm
from discotok.errors import check_range
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
    """DINO with two global views (no multi-crop); the student's encoder is the one kept."""

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
    ) -> None:
        super().__init__(encoder)
        check_range("method.out_dim", out_dim, 2)
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

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        views = batch["views"][:2]
        student = [self.head(self.encoder(v)) for v in views]
        with torch.no_grad():
            teacher = [self.teacher_head(self.teacher_encoder(v)) for v in views]
            targets = [F.softmax((t - self.center) / self.teacher_temperature, 1) for t in teacher]
        loss = 0.0
        for i, target in enumerate(targets):
            logp = F.log_softmax(student[1 - i] / self.student_temperature, 1)
            loss = loss + -(target * logp).sum(1).mean() / 2
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
