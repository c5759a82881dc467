"""Transitive invariance (Wang, He & Gupta 2017): positives mined through a graph.

The graph has two kinds of edges: intra-instance (two views of one image) and inter-instance
(each image's `neighbours` nearest images in the current embedding, rebuilt with faiss at
the start of every `refresh_every`-th epoch). Transitivity turns A ~ B (inter) and B ~ B'
(intra) into the positive pair A ~ B'. Training: a multi-positive InfoNCE (SupCon form) in
which each anchor view has two positives, its other view and the augmented view of one of
its mined neighbours; the rest of the global batch are negatives.

Decided here: the engine owns the augmentations, so a mined neighbour enters as its
un-augmented image, through the same encoder and projector. A fresh encoder has nothing
worth mining, so training uses the views alone for `warmup_epochs` (1) before the mined
edges switch on. Inter-instance edges are nearest neighbours only (not same-cluster edges).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.data.base import Dataset
from discotok.encoders.inference import encode_array
from discotok.errors import check_range
from discotok.evaluators.probes import cosine_neighbours
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.registry import METHODS
from discotok.train.distributed import gather_with_grad, rank


def mine_neighbours(embeddings: np.ndarray, k: int) -> np.ndarray:
    """(n, k) indices of each row's k nearest other rows (cosine)."""
    _, idx = cosine_neighbours(embeddings, embeddings, k + 1)
    out = np.empty((len(idx), idx.shape[1] - 1), dtype=np.int64)
    for i, row in enumerate(idx):  # drop the row itself wherever faiss ranked it
        others = row[row != i]
        out[i] = others[: out.shape[1]]
    return out


def multi_positive_nce(z: torch.Tensor, groups: torch.Tensor, temperature: float) -> torch.Tensor:
    """SupCon loss: each row's positives are the other rows of its group (global batch)."""
    z = F.normalize(z, dim=1)
    everyone, their_groups = gather_with_grad(z), gather_with_grad(groups[:, None]).squeeze(1)
    logits = z @ everyone.T / temperature
    me = torch.arange(len(z), device=z.device) + rank() * len(z)
    self_mask = torch.zeros_like(logits, dtype=torch.bool)
    self_mask[torch.arange(len(z)), me] = True
    logits = logits.masked_fill(self_mask, float("-inf"))
    positive = (groups[:, None] == their_groups[None]) & ~self_mask
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -(log_p.masked_fill(~positive, 0).sum(1) / positive.sum(1).clamp_min(1)).mean()


@METHODS.register("transitive")
class TransitiveInvariance(SSLMethod):
    """Views plus mined neighbours as positives, refreshed from the current embedding."""

    data_sized_buffers = ("neighbour_table",)

    def __init__(
        self,
        encoder: nn.Module,
        neighbours: int = 1,
        refresh_every: int = 5,
        warmup_epochs: int = 1,
        temperature: float = 0.2,
        proj_hidden: int = 256,
        proj_dim: int = 64,
    ) -> None:
        super().__init__(encoder)
        check_range("method.neighbours", neighbours, 1)
        check_range("method.refresh_every", refresh_every, 1)
        check_range("method.warmup_epochs", warmup_epochs, 0)
        check_range("method.temperature", temperature, 0, low_inclusive=False)
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, proj_dim)
        self.k, self.refresh_every, self.warmup_epochs = neighbours, refresh_every, warmup_epochs
        self.temperature = temperature
        self.register_buffer("neighbour_table", torch.zeros(0, neighbours, dtype=torch.long))
        self.register_buffer("mined_at", torch.tensor(-1))
        self._data: torch.Tensor | None = None

    def prepare(self, x_train: torch.Tensor, epoch: int) -> None:
        """Keep the data (neighbours enter as images); mine edges when they are due."""
        self._data = x_train
        due = epoch >= self.warmup_epochs and (epoch - self.warmup_epochs) % self.refresh_every == 0
        if not due or int(self.mined_at) == epoch:
            return
        was = self.encoder.training
        device = next(self.encoder.parameters()).device
        emb = encode_array(self.encoder.eval(), x_train, device=device)
        self.encoder.train(was)
        table = torch.from_numpy(mine_neighbours(emb, self.k)).to(self.mined_at.device)
        self.neighbour_table, self.mined_at = table, torch.tensor(epoch)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        v1, v2 = batch["views"][:2]
        idx = batch["index"].to(v1.device)
        views = [v1, v2]
        groups = [idx, idx]
        if self.neighbour_table.numel() and self._data is not None:
            pick = torch.randint(self.k, (len(idx),), device=idx.device)
            mined = self.neighbour_table[idx, pick]
            views.append(self._data[mined.to(self._data.device)].to(v1.device))
            groups.append(idx)
        z = self.projector(self.encoder(torch.cat(views)))
        loss = multi_positive_nce(z, torch.cat(groups), self.temperature)
        return {"loss": loss, "mined": torch.tensor(float(len(views) == 3), device=v1.device)}

    def evaluate_method(self, data: Dataset, run_dir: Path, seed: int) -> dict[str, Any]:
        """Precision of the pairs the trained embedding would mine (neighbour shares the
        label), against the raw input's neighbours as the baseline."""
        if not data.has_labels:
            return {}
        emb = encode_array(self.encoder.eval(), data.x_train)
        found = {}
        for name, x in (("embedding", emb), ("raw", data.x_train.reshape(len(emb), -1))):
            table = mine_neighbours(x, self.k)
            found[f"mined_precision_{name}"] = float(
                (data.y_train[table] == data.y_train[:, None]).mean()
            )
        return found
