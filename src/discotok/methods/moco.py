"""MoCo v2 (Chen et al. 2020) and v3 (Chen, Xie & He 2021): contrast against a momentum
encoder's keys.

v2: a query (online encoder + projector) is contrasted with the key of its other view (momentum
encoder + projector) and with a queue of `queue_size` keys from earlier batches, which gives
many negatives with small batches. v3: no queue; a predictor on the query side, and the
negatives are the momentum keys of the rest of the global batch. Both symmetric in the views.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_choice, check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.methods.momentum import cosine_momentum, ema_update, frozen_copy, push_fifo
from discotok.registry import METHODS
from discotok.train.distributed import gather_with_grad, rank


@METHODS.register("moco")
class MoCo(SSLMethod):
    """MoCo ``version`` v2 (queue of negatives) or v3 (in-batch keys, predictor)."""

    def __init__(
        self,
        encoder: nn.Module,
        version: str = "v2",
        queue_size: int = 4096,
        temperature: float = 0.2,
        momentum: float = 0.99,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        head_norm: str = "none",
    ) -> None:
        super().__init__(encoder)
        check_choice("method.version", version, ("v2", "v3"))
        check_range("method.queue_size", queue_size, 1)
        check_range("method.temperature", temperature, 0, low_inclusive=False)
        check_range("method.momentum", momentum, 0, 1)
        self.version = version
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.predictor = (
            ProjectionHead(proj_dim, proj_hidden, proj_dim, head_norm)
            if version == "v3"
            else nn.Identity()
        )
        self.key_encoder = frozen_copy(encoder)
        self.key_projector = frozen_copy(self.projector)
        self.temperature = temperature
        self.momentum = momentum
        if version == "v2":
            keys = F.normalize(torch.randn(queue_size, proj_dim), dim=1)
            self.register_buffer("queue", keys)
            self.register_buffer("cursor", torch.tensor(0))

    def _contrast(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        q = F.normalize(q, dim=1)
        if self.version == "v2":  # positive first, then the queue
            queue = self.queue.clone()  # the queue changes in place before backward runs
            logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], dim=1)
            target = torch.zeros(len(q), dtype=torch.long, device=q.device)
        else:  # the global batch's keys; the positive is this sample's own key
            logits = q @ gather_with_grad(k).T
            target = torch.arange(len(q), device=q.device) + rank() * len(q)
        return F.cross_entropy(logits / self.temperature, target)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        views = batch["views"][:2]
        queries = [self.predictor(self.projector(self.encoder(v))) for v in views]
        with torch.no_grad():
            keys = [F.normalize(self.key_projector(self.key_encoder(v)), dim=1) for v in views]
        loss = (self._contrast(queries[0], keys[1]) + self._contrast(queries[1], keys[0])) / 2
        if self.version == "v2":
            self._enqueue(*keys)
        return {"loss": loss}

    @torch.no_grad()
    def _enqueue(self, *views: torch.Tensor) -> None:
        """Every process's keys, view by view (the order one process would have)."""
        keys = torch.cat([gather_with_grad(k) for k in views])[: len(self.queue)]
        push_fifo(self.queue, self.cursor, keys)

    def after_step(self, step: int, total_steps: int) -> None:
        m = cosine_momentum(self.momentum, step, total_steps)
        ema_update(self.key_encoder, self.encoder, m)
        ema_update(self.key_projector, self.projector, m)
