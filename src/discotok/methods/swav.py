"""SwAV (Caron et al. 2020): online clustering with swapped assignments. Each view's
projection is scored against learnable prototypes; the Sinkhorn-Knopp algorithm turns the
scores into balanced soft assignments (every prototype gets an equal share of the batch),
and each view predicts the other view's assignment."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.registry import METHODS
from discotok.train.distributed import is_distributed, world_size


def _all_reduce(x: torch.Tensor) -> torch.Tensor:
    if is_distributed() and world_size() > 1:
        dist.all_reduce(x)
    return x


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, epsilon: float = 0.05, iterations: int = 3) -> torch.Tensor:
    """Balanced soft assignments (batch x prototypes) of the global batch, rows sum to 1."""
    scores = scores.double()  # exp(-(range)/epsilon) underflows float32 for wide scores
    top = scores.max()
    if is_distributed() and world_size() > 1:
        dist.all_reduce(top, op=dist.ReduceOp.MAX)  # one scale for the global batch
    q = torch.exp((scores - top) / epsilon).T  # prototypes x local batch
    k, local = q.shape
    total = local * (world_size() if is_distributed() else 1)
    q /= _all_reduce(q.sum())
    for _ in range(iterations):
        q /= _all_reduce(q.sum(1, keepdim=True)) * k  # each prototype: 1/K of the mass
        q /= q.sum(0, keepdim=True) * total  # each sample: 1/B of the mass
    return (q * total).T.float()


@METHODS.register("swav")
class SwAV(SSLMethod):
    """SwAV with two views (no multi-crop, no queue: batches here are large enough)."""

    def __init__(
        self,
        encoder: nn.Module,
        prototypes: int = 100,
        temperature: float = 0.1,
        epsilon: float = 0.05,
        sinkhorn_iterations: int = 3,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        head_norm: str = "none",
    ) -> None:
        super().__init__(encoder)
        check_range("method.prototypes", prototypes, 2)
        check_range("method.temperature", temperature, 0, low_inclusive=False)
        check_range("method.epsilon", epsilon, 0, low_inclusive=False)
        check_range("method.sinkhorn_iterations", sinkhorn_iterations, 1)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.prototypes = nn.Linear(proj_dim, prototypes, bias=False)
        self.temperature, self.epsilon = temperature, epsilon
        self.sinkhorn_iterations = sinkhorn_iterations

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        with torch.no_grad():  # prototypes stay on the unit sphere
            self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))
        scores = [
            self.prototypes(F.normalize(self.projector(self.encoder(v)), dim=1))
            for v in batch["views"][:2]
        ]
        codes = [sinkhorn(s.detach(), self.epsilon, self.sinkhorn_iterations) for s in scores]
        loss = 0.0
        for i in range(2):
            logp = F.log_softmax(scores[1 - i] / self.temperature, 1)
            loss = loss + -(codes[i] * logp).sum(1).mean() / 2
        used = codes[0].argmax(1).unique().numel()
        return {"loss": loss, "prototypes_used": torch.tensor(float(used))}
