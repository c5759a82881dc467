"""G-SimCLR (Chakraborty et al. 2020): pseudo-labels decide which samples share a batch.

Plain NT-Xent treats every other sample in the batch as a negative, including samples of the
same class. G-SimCLR clusters the data first and composes each batch from distinct clusters,
so fewer negatives are false negatives. Pseudo-labels come from one of two sources:

* ``autoencoder`` (the paper): a denoising autoencoder (Gaussian noise sigma 0.01, MSE) is
  trained once on the raw inputs; k-means on its bottleneck gives the labels.
* ``features`` (our generalisation): k-means on the encoder's current embeddings, refreshed
  every ``refresh_every`` epochs.

The number of clusters defaults to the global batch size, as in the paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from discotok.encoders.inference import encode_array
from discotok.errors import check_choice, check_range
from discotok.methods.simclr import SimCLR
from discotok.registry import METHODS
from discotok.tokenizers.kmeans import faiss_kmeans

SOURCES = ("autoencoder", "features")


def train_denoising_autoencoder(
    x: torch.Tensor,
    *,
    bottleneck: int = 64,
    hidden: int = 256,
    noise: float = 0.01,
    epochs: int = 5,
    batch_size: int = 256,
    seed: int = 0,
) -> np.ndarray:
    """Train an MLP denoising autoencoder on flattened `x`; return the bottleneck codes."""
    gen = torch.Generator().manual_seed(seed)
    flat = x.reshape(len(x), -1).float().cpu()
    flat = (flat - flat.mean(0)) / flat.std(0).clamp_min(1e-6)
    dim = flat.shape[1]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        enc = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, bottleneck))
        dec = nn.Sequential(nn.Linear(bottleneck, hidden), nn.ReLU(), nn.Linear(hidden, dim))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(flat), generator=gen)
        for i in range(0, len(flat), batch_size):
            batch = flat[order[i : i + batch_size]]
            noisy = batch + noise * torch.randn(batch.shape, generator=gen)
            loss = nn.functional.mse_loss(dec(enc(noisy)), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return enc(flat).numpy()


@METHODS.register("gsimclr")
class GSimCLR(SimCLR):
    """G-SimCLR: SimCLR whose batches hold at most one sample per pseudo-class."""

    def __init__(
        self,
        encoder: nn.Module,
        pseudo_labels_from: str = "features",
        num_clusters: int = 0,
        refresh_every: int = 1,
        ae_epochs: int = 5,
        ae_noise: float = 0.01,
        **simclr_options: Any,
    ) -> None:
        super().__init__(encoder, **simclr_options)
        check_choice("method.pseudo_labels_from", pseudo_labels_from, SOURCES)
        check_range("method.num_clusters", num_clusters, 0)
        check_range("method.refresh_every", refresh_every, 1)
        check_range("method.ae_epochs", ae_epochs, 1)
        check_range("method.ae_noise", ae_noise, 0.0)
        self.source = pseudo_labels_from
        self.num_clusters = num_clusters
        self.refresh_every = refresh_every
        self.ae_epochs = ae_epochs
        self.ae_noise = ae_noise

    def pseudo_labels(
        self,
        x_train: torch.Tensor,
        *,
        epoch: int,
        batch_size: int,
        seed: int,
        previous: np.ndarray | None,
    ) -> np.ndarray:
        if previous is not None and (self.source == "autoencoder" or epoch % self.refresh_every):
            return previous
        if self.source == "autoencoder":
            feats = train_denoising_autoencoder(
                x_train, noise=self.ae_noise, epochs=self.ae_epochs, seed=seed
            )
        else:
            device = next(self.encoder.parameters()).device
            feats = encode_array(self.encoder, x_train, device=device)
            feats /= np.linalg.norm(feats, axis=1, keepdims=True).clip(1e-12)
        k = min(self.num_clusters or batch_size, len(feats))
        return faiss_kmeans(feats, k, seed=seed + epoch)[1]
