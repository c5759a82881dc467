"""MIM and cMIM: a probabilistic auto-encoder trained with the Mutual Information Machine
objective (Livne et al. 2019), plus cMIM's augmentation-free contrastive term.

Encoder q(z|x) = N(mu(x), sigma(x)^2) on top of the backbone's embedding, prior N(0, I),
decoder p(x|z) an MLP (Gaussian with unit variance: a squared error). The A-MIM loss, on
z ~ q(z|x): -1/2 [log p(x|z) + log p(z) + log q(z|x)]; unlike the ELBO it rewards a sharp
posterior (high log q), i.e. information about x in z. cMIM (``contrastive_weight`` > 0)
adds InfoNCE between each posterior mean and the posterior sample of the same input, with
the rest of the global batch as negatives: no augmentation needed (``augment = False``).

Decided here, since the cMIM description leaves it open: the contrastive term uses cosine
similarity over ``temperature`` 0.1; the "informative embedding" is the decoder's first
hidden layer given mu, reported by ``discotok evaluate`` next to mu itself.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from discotok.data.base import Dataset
from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.registry import EVALUATORS, METHODS
from discotok.train.distributed import gather_with_grad, rank


@METHODS.register("cmim")
class CMIM(SSLMethod):
    """MIM auto-encoder (``contrastive_weight`` 0) or cMIM (> 0, the default)."""

    num_views = 1
    augment = False

    def __init__(
        self,
        encoder: nn.Module,
        latent_dim: int = 32,
        decoder_width: int = 256,
        contrastive_weight: float = 1.0,
        temperature: float = 0.1,
    ) -> None:
        super().__init__(encoder)
        check_range("method.latent_dim", latent_dim, 1)
        check_range("method.contrastive_weight", contrastive_weight, 0)
        check_range("method.temperature", temperature, 0, low_inclusive=False)
        self.posterior = nn.Linear(encoder.embed_dim, 2 * latent_dim)
        self.shape = encoder.input_shape
        self.decoder_hidden = nn.Sequential(nn.Linear(latent_dim, decoder_width), nn.ReLU())
        self.decoder_out = nn.Sequential(
            nn.Linear(decoder_width, decoder_width),
            nn.ReLU(),
            nn.Linear(decoder_width, math.prod(self.shape)),
        )
        self.contrastive_weight, self.temperature = contrastive_weight, temperature

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_sigma = self.posterior(self.encoder(x)).chunk(2, dim=1)
        return mu, log_sigma.clamp(-7, 5)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = batch["views"][0]
        if not torch.isfinite(x).all():
            raise ConfigError(
                "method 'cmim' reconstructs its input, which holds NaN (padded series of "
                "different lengths); use series of one length or another method"
            )
        mu, log_sigma = self.encode(x)
        eps = torch.randn_like(mu)
        z = mu + log_sigma.exp() * eps
        x_hat = self.decoder_out(self.decoder_hidden(z)).view_as(x)
        log_px = -0.5 * (x_hat - x).flatten(1).pow(2).sum(1)
        log_pz = -0.5 * z.pow(2).sum(1)
        log_qz = -(log_sigma + 0.5 * eps.pow(2)).sum(1)
        mim = -0.5 * (log_px + log_pz + log_qz).mean() / math.prod(self.shape)
        out = {"mim": mim.detach(), "reconstruction": -log_px.mean().detach()}
        loss = mim
        if self.contrastive_weight > 0:
            anchors = F.normalize(mu, dim=1)
            candidates = gather_with_grad(F.normalize(z, dim=1))
            logits = anchors @ candidates.T / self.temperature
            target = torch.arange(len(mu), device=mu.device) + rank() * len(mu)
            contrast = F.cross_entropy(logits, target)
            loss = loss + self.contrastive_weight * contrast
            out["contrastive"] = contrast.detach()
        return {"loss": loss, **out}

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, _ = self.encode(x)
        return {"mu": mu, "informative": self.decoder_hidden(mu)}

    def evaluate_method(self, data: Dataset, run_dir: Path, seed: int) -> dict[str, Any]:
        """Linear and kNN probes on mu and on the informative embedding (decoder hidden)."""
        if not data.has_labels:
            return {}
        self.eval()
        train = self.features(torch.from_numpy(data.x_train))
        test = self.features(torch.from_numpy(data.x_test))
        out: dict[str, Any] = {}
        for name in ("mu", "informative"):
            for probe in ("linear", "knn"):
                found = EVALUATORS.get(probe)(
                    train[name].numpy(), data.y_train, test[name].numpy(), data.y_test, seed=seed
                )
                out[f"{name}_{probe}_acc"] = found[f"{probe}_acc"]
        return out
