"""Sparse-autoencoder codes (as in SAE circuit discovery): the token is the strongest feature.

h = ReLU(W_enc (x - b_dec) + b_enc) over `codes` features; x_hat = W_dec h + b_dec with the
decoder's columns kept at unit norm; loss MSE + `l1` * |h|_1. The integer code is argmax(h);
``active_set(x, k)`` gives the k most active features. Decoding a code returns that feature's
direction scaled by its mean activation when it wins, plus b_dec.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from discotok.errors import check_range
from discotok.registry import TOKENIZERS
from discotok.tokenizers.base import check_vectors
from discotok.tokenizers.trainable import TokenizerNet, TrainableTokenizer


class _SparseNet(TokenizerNet):
    def __init__(self, dim: int, features: int, l1: float) -> None:
        super().__init__()
        self.enc = nn.Linear(dim, features)
        self.w_dec = nn.Parameter(torch.randn(dim, features) / dim**0.5)
        self.b_dec = nn.Parameter(torch.zeros(dim))
        self.l1 = l1
        self.register_buffer("typical", torch.ones(features))

    def unit_decoder(self) -> torch.Tensor:
        return self.w_dec / self.w_dec.norm(dim=0, keepdim=True).clamp_min(1e-8)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.enc(x - self.b_dec))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.features(x)
        recon = h @ self.unit_decoder().T + self.b_dec
        return recon, h.argmax(1), self.l1 * h.abs().sum(1).mean()

    def after_fit(self, data: torch.Tensor) -> None:
        h = self.features(data)
        winner = h.argmax(1)
        sums = torch.zeros_like(self.typical).index_add_(0, winner, h.max(1).values)
        counts = torch.bincount(winner, minlength=len(self.typical)).to(sums.dtype)
        self.typical.copy_(torch.where(counts > 0, sums / counts.clamp_min(1), self.typical))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.unit_decoder()[:, codes].T * self.typical[codes, None] + self.b_dec


@TOKENIZERS.register("sparse")
class SparseTokenizer(TrainableTokenizer):
    """Sparse autoencoder (ReLU, unit-norm decoder, L1); the code is the argmax feature."""

    kind = "sparse"

    def __init__(self, codes: int = 256, l1: float = 0.02, **kwargs: Any) -> None:
        super().__init__(codes, **kwargs)
        check_range("tokenizer.l1", l1, 0.0)
        self.l1 = l1

    def options(self) -> dict[str, Any]:
        return {**super().options(), "l1": self.l1}

    def build(self, dim: int) -> TokenizerNet:
        return _SparseNet(dim, self.codes, self.l1)

    @torch.no_grad()
    def active_set(self, x: np.ndarray, k: int = 4) -> np.ndarray:
        """The indices of the k most active features of each vector, strongest first."""
        net = self._ready()
        x = check_vectors(x, "sparse active_set", len(self.mean))
        h = net.features(torch.from_numpy((x - self.mean) / self.std))
        return h.topk(min(k, h.shape[1]), dim=1).indices.numpy()
