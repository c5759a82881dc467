"""SimSiam (Chen & He 2021): BYOL without the momentum target. Each view's prediction
regresses the other view's projection under stop-gradient; the stop-gradient alone keeps
the two branches from collapsing."""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.byol import negative_cosine
from discotok.methods.heads import ProjectionHead
from discotok.registry import METHODS


@METHODS.register("simsiam")
class SimSiam(SSLMethod):
    """SimSiam with two views: symmetric negative cosine, stop-gradient on the targets."""

    def __init__(
        self,
        encoder: nn.Module,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        pred_hidden: int = 64,
        head_norm: str = "batch",
    ) -> None:
        super().__init__(encoder)
        check_range("method.proj_dim", proj_dim, 1)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.predictor = ProjectionHead(proj_dim, pred_hidden, proj_dim, head_norm)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        z1, z2 = (self.projector(self.encoder(v)) for v in batch["views"][:2])
        p1, p2 = self.predictor(z1), self.predictor(z2)
        loss = (negative_cosine(p1, z2) + negative_cosine(p2, z1)) / 2
        return {"loss": loss}
