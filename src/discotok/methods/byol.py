"""BYOL (Grill et al. 2020): bootstrap your own latent. An online network (encoder, projector,
predictor) predicts a momentum target network's projection of the other view; no negatives.
The predictor and the slowly moving target are what keep it from collapsing."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.methods.momentum import cosine_momentum, ema_update, frozen_copy
from discotok.registry import METHODS


def negative_cosine(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """2 - 2 cos(prediction, target), averaged; the target carries no gradient."""
    cos = F.cosine_similarity(prediction, target.detach(), dim=1)
    return (2 - 2 * cos).mean()


@METHODS.register("byol")
class BYOL(SSLMethod):
    """BYOL with two views; the target network's momentum rises to 1 along a cosine."""

    def __init__(
        self,
        encoder: nn.Module,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        pred_hidden: int = 256,
        momentum: float = 0.99,
        head_norm: str = "batch",
    ) -> None:
        super().__init__(encoder)
        check_range("method.proj_dim", proj_dim, 1)
        check_range("method.momentum", momentum, 0, 1)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.predictor = ProjectionHead(proj_dim, pred_hidden, proj_dim, head_norm)
        self.target_encoder = frozen_copy(encoder)
        self.target_projector = frozen_copy(self.projector)
        self.momentum = momentum

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        views = batch["views"][:2]
        online = [self.predictor(self.projector(self.encoder(v))) for v in views]
        with torch.no_grad():
            target = [self.target_projector(self.target_encoder(v)) for v in views]
        loss = (negative_cosine(online[0], target[1]) + negative_cosine(online[1], target[0])) / 2
        return {"loss": loss}

    def after_step(self, step: int, total_steps: int) -> None:
        m = cosine_momentum(self.momentum, step, total_steps)
        ema_update(self.target_encoder, self.encoder, m)
        ema_update(self.target_projector, self.projector, m)
