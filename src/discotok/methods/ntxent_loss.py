"""NT-Xent (normalised temperature-scaled cross entropy), the SimCLR / InfoNCE loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_range
from discotok.train.distributed import gather_with_grad, rank


class NTXentLoss(nn.Module):
    """For 2N views (N pairs), each view's positive is its pair; the other 2N-2 are negatives.

    Under torch.distributed the candidates are gathered from every process (gradients summed
    correctly), while each process averages over its own anchors; with DDP's gradient averaging
    this equals one process holding the whole global batch.
    """

    def __init__(self, temperature: float = 0.2) -> None:
        super().__init__()
        check_range("method.temperature", temperature, 0.0, low_inclusive=False)
        self.temperature = temperature

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        z1 = F.normalize(z1, dim=1)
        z2 = F.normalize(z2, dim=1)
        local = z1.shape[0]
        all1, all2 = gather_with_grad(z1), gather_with_grad(z2)
        total = all1.shape[0]
        offset = rank() * local
        anchors = torch.cat([z1, z2])
        candidates = torch.cat([all1, all2])
        logits = anchors @ candidates.T / self.temperature
        idx = torch.arange(local, device=z1.device) + offset
        self_cols = torch.cat([idx, idx + total])
        positive_cols = torch.cat([idx + total, idx])
        rows = torch.arange(2 * local, device=z1.device)
        logits[rows, self_cols] = float("-inf")
        return F.cross_entropy(logits, positive_cols)
