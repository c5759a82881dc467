"""VICReg (Bardes et al. 2022) and Barlow Twins (Zbontar et al. 2021): redundancy reduction.

Both regularise the batch statistics of two views' expanded embeddings instead of using
negatives. VICReg: invariance (MSE between views) + variance (a hinge keeping every
dimension's standard deviation at 1) + covariance (off-diagonal covariances pushed to 0).
Barlow Twins: the cross-correlation matrix of the standardised views is pushed to the
identity. Under torch.distributed the statistics are taken over the global batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.registry import METHODS
from discotok.train.distributed import gather_with_grad


def gathered_batch(z: torch.Tensor, method: str) -> torch.Tensor:
    """`z` from every process (gradients kept), refused if too small for batch statistics."""
    z = gather_with_grad(z)
    if len(z) < 2:
        raise ConfigError(
            f"method {method!r} needs batch statistics: a global batch of at least 2 "
            f"samples (got {len(z)}); raise train.batch_size"
        )
    return z


def _off_diagonal(m: torch.Tensor) -> torch.Tensor:
    return m - torch.diag_embed(torch.diagonal(m))


def vicreg_terms(z1: torch.Tensor, z2: torch.Tensor) -> dict[str, torch.Tensor]:
    """Invariance, variance and covariance terms of two (n, d) embeddings."""
    invariance = F.mse_loss(z1, z2)
    variance, covariance = z1.new_zeros(()), z1.new_zeros(())
    for z in (z1, z2):
        z = z - z.mean(0)
        std = torch.sqrt(z.var(0) + 1e-4)
        variance = variance + F.relu(1 - std).mean() / 2
        cov = z.T @ z / (len(z) - 1)
        covariance = covariance + _off_diagonal(cov).pow(2).sum() / z.shape[1] / 2
    return {"invariance": invariance, "variance": variance, "covariance": covariance}


@METHODS.register("vicreg")
class VICReg(SSLMethod):
    """VICReg with two views and an expander MLP; weights 25 / 25 / 1 as in the paper."""

    def __init__(
        self,
        encoder: nn.Module,
        proj_hidden: int = 256,
        proj_dim: int = 256,
        invariance_weight: float = 25.0,
        variance_weight: float = 25.0,
        covariance_weight: float = 1.0,
        head_norm: str = "batch",
    ) -> None:
        super().__init__(encoder)
        for name, value in (
            ("invariance_weight", invariance_weight),
            ("variance_weight", variance_weight),
            ("covariance_weight", covariance_weight),
        ):
            check_range(f"method.{name}", value, 0)
        self.expander = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.weights = (invariance_weight, variance_weight, covariance_weight)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        z1, z2 = (
            gathered_batch(self.expander(self.encoder(v)), "vicreg") for v in batch["views"][:2]
        )
        terms = vicreg_terms(z1, z2)
        loss = sum(w * t for w, t in zip(self.weights, terms.values(), strict=True))
        return {"loss": loss, **{k: v.detach() for k, v in terms.items()}}


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, off_diagonal: float) -> torch.Tensor:
    """sum_i (1 - C_ii)^2 + off_diagonal * sum_{i != j} C_ij^2, C the cross-correlation."""
    z1 = (z1 - z1.mean(0)) / (z1.std(0) + 1e-5)
    z2 = (z2 - z2.mean(0)) / (z2.std(0) + 1e-5)
    c = z1.T @ z2 / len(z1)
    on = (1 - torch.diagonal(c)).pow(2).sum()
    return on + off_diagonal * _off_diagonal(c).pow(2).sum()


@METHODS.register("barlow_twins")
class BarlowTwins(SSLMethod):
    """Barlow Twins with two views and a projector; off-diagonal weight 0.0051."""

    def __init__(
        self,
        encoder: nn.Module,
        proj_hidden: int = 256,
        proj_dim: int = 256,
        off_diagonal: float = 0.0051,
        head_norm: str = "batch",
    ) -> None:
        super().__init__(encoder)
        check_range("method.off_diagonal", off_diagonal, 0)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim, head_norm)
        self.off_diagonal = off_diagonal

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        z1, z2 = (
            gathered_batch(self.projector(self.encoder(v)), "barlow_twins")
            for v in batch["views"][:2]
        )
        return {"loss": barlow_twins_loss(z1, z2, self.off_diagonal)}
