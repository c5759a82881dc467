"""Tokenizers with learned weights, trained as small autoencoders over the input vectors.

A subclass supplies ``build(dim) -> TokenizerNet``; this base standardizes the input with the
fit data's statistics, trains the net (Adam, fp32, seeded), encodes and decodes in batches,
and saves / loads the weights in the common versioned tokenizer file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from discotok.errors import ConfigError, DataError, check_range
from discotok.tokenizers.base import Tokenizer, check_codebook_size, check_vectors


class TokenizerNet(nn.Module):
    """forward(x) -> (reconstruction, integer codes, auxiliary loss); decode(codes) -> x."""

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def after_fit(self, data: torch.Tensor) -> None:
        """Called once in eval mode after training, e.g. to record statistics for decode."""


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def power_of_two_bits(field: str, codes: int) -> int:
    bits = int(round(math.log2(codes))) if codes > 0 else 0
    if codes < 2 or 2**bits != codes:
        raise ConfigError(f"{field}={codes} must be a power of two (2, 4, ..., 65536) here")
    return bits


class TrainableTokenizer(Tokenizer):
    """Base for tokenizers fitted by gradient descent; `codes` = number of token ids."""

    def __init__(
        self,
        codes: int = 256,
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        check_range("tokenizer.codes", codes, 2)
        check_range("tokenizer.epochs", epochs, 1)
        check_range("tokenizer.batch_size", batch_size, 2)
        check_range("tokenizer.lr", lr, 0.0, low_inclusive=False)
        self.codes = codes
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.net: TokenizerNet | None = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.history: list[float] = []

    @property
    def num_codes(self) -> int:
        return self.codes

    def build(self, dim: int) -> TokenizerNet:
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The constructor arguments, for saving; subclasses add their own."""
        return {
            "codes": self.codes,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "seed": self.seed,
        }

    def fit(self, x: np.ndarray) -> TrainableTokenizer:
        x = check_vectors(x, f"{self.kind} fit")
        check_codebook_size(self.codes, len(x))
        self.mean = x.mean(0)
        self.std = x.std(0).clip(1e-6)
        data = torch.from_numpy((x - self.mean) / self.std)
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.net = self.build(x.shape[1])
            gen = torch.Generator().manual_seed(self.seed)
            opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
            self.net.train()
            batch = min(self.batch_size, len(data))
            for _ in range(self.epochs):
                order = torch.randperm(len(data), generator=gen)
                total = 0.0
                for i in range(0, len(data) - batch + 1, batch):
                    xb = data[order[i : i + batch]]
                    recon, _, aux = self.net(xb)
                    loss = nn.functional.mse_loss(recon, xb) + aux
                    if not torch.isfinite(loss):
                        raise DataError(f"{self.kind} training diverged (loss {loss.item()})")
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(xb)
                self.history.append(total / len(data))
        self.net.eval()
        with torch.no_grad():
            self.net.after_fit(data)
        return self

    def _ready(self) -> TokenizerNet:
        if self.net is None:
            raise DataError(f"the {self.kind} tokenizer is not fitted; call fit(x) first")
        return self.net

    @torch.no_grad()
    def encode(self, x: np.ndarray) -> np.ndarray:
        net = self._ready()
        x = check_vectors(x, f"{self.kind} encode", len(self.mean))
        data = torch.from_numpy((x - self.mean) / self.std)
        out = [net(data[i : i + 4096])[1] for i in range(0, len(data), 4096)]
        return torch.cat(out).long().numpy()

    @torch.no_grad()
    def decode(self, codes: np.ndarray) -> np.ndarray:
        net = self._ready()
        codes = np.asarray(codes)
        self.check_codes(codes)
        recon = net.decode(torch.from_numpy(codes.astype(np.int64))).numpy()
        return recon * self.std + self.mean

    def _arrays(self) -> dict[str, np.ndarray]:
        net = self._ready()
        state = {f"state.{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
        return {"mean": self.mean, "std": self.std, **state}

    def _options(self) -> dict[str, Any]:
        return {**self.options(), "dim": len(self.mean)}

    @classmethod
    def _restore(cls, options: dict[str, Any], arrays: dict[str, np.ndarray]) -> Tokenizer:
        dim = options.pop("dim")
        tok = cls(**options)
        tok.mean, tok.std = arrays["mean"], arrays["std"]
        with torch.random.fork_rng():
            tok.net = tok.build(dim)
        state = {k[6:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("state.")}
        tok.net.load_state_dict(state)
        tok.net.eval()
        return tok
