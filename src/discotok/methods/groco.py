"""GroCo (Shvetsova et al. 2023): contrastive learning by sorting.

For each anchor the similarities to its positives (the other views of its sample) and to its
hardest in-batch negatives are sorted by a differentiable sorting network; the loss asks that
every positive land in the top block of the ranking, whatever the order inside each block.

The relaxed odd-even sorting network is written here in torch (about 20 lines); the `diffsort`
package would add a dependency for one function. Each comparator mixes a pair with the
Cauchy-relaxed probability that the pair is already in order, and the product of the
comparator matrices is the relaxed permutation matrix.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.registry import METHODS
from discotok.train.distributed import gather_with_grad, rank


def relaxed_sort(scores: torch.Tensor, steepness: float = 1.0) -> torch.Tensor:
    """Relaxed descending odd-even sort of each row of `scores` (m, n) -> (m, n, n) matrices P,
    P[r, j] = how much element j ends at rank r (rows and columns sum to 1)."""
    m, n = scores.shape
    perm = torch.eye(n, device=scores.device, dtype=scores.dtype).expand(m, n, n)
    values = scores
    for layer in range(n):
        left = torch.arange(layer % 2, n - 1, 2, device=scores.device)
        if len(left) == 0:
            continue
        right = left + 1
        a, b = values[:, left], values[:, right]
        keep = 0.5 + torch.atan(steepness * (a - b)) / math.pi  # P(pair already in order)
        values = values.clone()
        values[:, left] = keep * a + (1 - keep) * b
        values[:, right] = (1 - keep) * a + keep * b
        rows_l, rows_r = perm[:, left], perm[:, right]
        perm = perm.clone()
        perm[:, left] = keep[..., None] * rows_l + (1 - keep[..., None]) * rows_r
        perm[:, right] = (1 - keep[..., None]) * rows_l + keep[..., None] * rows_r
    return perm


def sorting_loss(
    positives: torch.Tensor, negatives: torch.Tensor, steepness: float
) -> torch.Tensor:
    """BCE between "ranked in the top |positives| block" and "is a positive", per element."""
    scores = torch.cat([positives, negatives], dim=1)
    k = positives.shape[1]
    in_top = relaxed_sort(scores, steepness)[:, :k].sum(1).clamp(1e-6, 1 - 1e-6)
    target = torch.zeros_like(scores)
    target[:, :k] = 1
    return F.binary_cross_entropy(in_top, target)


@METHODS.register("groco")
class GroCo(SSLMethod):
    """GroCo with two views: one positive and the `negatives` hardest negatives per anchor."""

    def __init__(
        self,
        encoder: nn.Module,
        negatives: int = 10,
        temperature: float = 0.1,
        steepness: float = 1.0,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        head_norm: str = "none",
    ) -> None:
        super().__init__(encoder)
        check_range("method.negatives", negatives, 1)
        check_range("method.temperature", temperature, 0, low_inclusive=False)
        check_range("method.steepness", steepness, 0, low_inclusive=False)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.negatives = negatives
        self.temperature = temperature
        self.steepness = steepness

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        v1, v2 = batch["views"][:2]
        z = F.normalize(
            torch.cat([self.projector(self.encoder(v1)), self.projector(self.encoder(v2))]), dim=1
        )
        n = len(z) // 2
        # the anchor carries the gradient; the other side is a stop-gradient copy (all ranks)
        z1_all = gather_with_grad(z[:n].detach())
        z2_all = gather_with_grad(z[n:].detach())
        others = torch.cat([z1_all, z2_all])
        total = len(z1_all)
        if 2 * total - 2 < self.negatives:
            raise ConfigError(
                f"method.negatives={self.negatives} needs a global batch of at least "
                f"{self.negatives // 2 + 2} samples; raise train.batch_size or lower negatives"
            )
        sims = z @ others.T / self.temperature  # (2n local anchors, 2 * total)
        mine = torch.arange(n, device=z.device) + rank() * n
        own = torch.cat([mine, mine + total])  # each anchor's own column
        partner = torch.cat([mine + total, mine])  # its positive
        pos = sims.gather(1, partner[:, None])
        masked = sims.clone()
        rows = torch.arange(2 * n, device=z.device)
        masked[rows, own] = float("-inf")
        masked[rows, partner] = float("-inf")
        neg = masked.topk(self.negatives, dim=1).values
        loss = sorting_loss(pos, neg, self.steepness)
        with torch.no_grad():
            top1 = (pos[:, 0] > neg[:, 0]).float().mean()
        return {"loss": loss, "positive_on_top": top1}
