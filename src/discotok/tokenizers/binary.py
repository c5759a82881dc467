"""Binary tokens: Bernoulli latents with straight-through gradients (Binary Latent Diffusion).

An MLP gives logits for `bits = log2(codes)` latent bits; p = sigmoid(logits). In training
b ~ Bernoulli(p) and the decoder sees b + p - stopgrad(p) (the straight-through estimator);
at test time b = [p > 0.5]. The token id is the bits read as a binary number. An optional
penalty mean(p (1 - p)) pushes the probabilities towards 0 or 1.
"""

from __future__ import annotations

from typing import Any

import torch

from discotok.errors import check_range
from discotok.registry import TOKENIZERS
from discotok.tokenizers.trainable import (
    TokenizerNet,
    TrainableTokenizer,
    mlp,
    power_of_two_bits,
)


class _BinaryNet(TokenizerNet):
    def __init__(self, dim: int, hidden: int, bits: int, penalty: float) -> None:
        super().__init__()
        self.encoder = mlp([dim, hidden, bits])
        self.decoder = mlp([bits, hidden, dim])
        self.penalty = penalty
        self.register_buffer("powers", 2 ** torch.arange(bits), persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p = torch.sigmoid(self.encoder(x))
        if self.training:
            b = torch.bernoulli(p.detach())
            b = b + p - p.detach()
        else:
            b = (p > 0.5).to(p.dtype)
        codes = ((b.detach() > 0.5).long() * self.powers).sum(-1)
        return self.decoder(b), codes, self.penalty * (p * (1 - p)).mean()

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        bits = (codes[:, None] // self.powers) % 2
        return self.decoder(bits.float())


@TOKENIZERS.register("binary")
class BinaryTokenizer(TrainableTokenizer):
    """Bernoulli binary latents (straight-through); the id is the bit pattern."""

    kind = "binary"

    def __init__(
        self, codes: int = 256, hidden: int = 256, penalty: float = 0.0, **kwargs: Any
    ) -> None:
        super().__init__(codes, **kwargs)
        self.bits = power_of_two_bits("tokenizer.codes", codes)
        check_range("tokenizer.hidden", hidden, 1)
        check_range("tokenizer.penalty", penalty, 0.0)
        self.hidden = hidden
        self.penalty = penalty

    def options(self) -> dict[str, Any]:
        return {**super().options(), "hidden": self.hidden, "penalty": self.penalty}

    def build(self, dim: int) -> TokenizerNet:
        return _BinaryNet(dim, self.hidden, self.bits, self.penalty)
