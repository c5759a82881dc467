"""SimCLR (Chen et al. 2020): two views, encoder + projector, NT-Xent."""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.methods.ntxent_loss import NTXentLoss
from discotok.registry import METHODS


@METHODS.register("simclr")
class SimCLR(SSLMethod):
    """SimCLR: NT-Xent between the projections of two augmented views."""

    def __init__(
        self,
        encoder: nn.Module,
        temperature: float = 0.2,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        head_norm: str = "none",
    ) -> None:
        super().__init__(encoder)
        check_range("method.proj_hidden", proj_hidden, 1)
        check_range("method.proj_dim", proj_dim, 1)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.criterion = NTXentLoss(temperature)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        v1, v2 = batch["views"][:2]
        z1 = self.projector(self.encoder(v1))
        z2 = self.projector(self.encoder(v2))
        loss = self.criterion(z1, z2)
        return {"loss": loss, "ntxent": loss.detach()}
