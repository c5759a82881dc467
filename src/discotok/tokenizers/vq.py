"""VQ, residual VQ, FSQ and LFQ through vector-quantize-pytorch, inside a small autoencoder.

MLP encoder (dim -> hidden -> latent) -> quantizer -> MLP decoder (latent -> hidden -> dim),
trained on MSE + the quantizer's own loss. VQ/RVQ start from k-means codebooks and replace
dead codes (EMA usage below 2); everything is quantized in fp32. `codes` is the number of
distinct token ids for every family, so families compare at matched bits:
RVQ uses `levels` codebooks of codes ** (1 / levels) entries, FSQ splits log2(codes) bits
into levels of 4 (and one of 2), LFQ uses log2(codes) binary dimensions.
"""

from __future__ import annotations

from typing import Any

import torch

from discotok.errors import ConfigError, check_range
from discotok.registry import TOKENIZERS
from discotok.tokenizers.trainable import (
    TokenizerNet,
    TrainableTokenizer,
    mlp,
    power_of_two_bits,
)


class QuantizedAutoencoder(TokenizerNet):
    """Wraps any vector-quantize-pytorch quantizer that takes (batch, 1, latent) input."""

    def __init__(self, dim: int, hidden: int, latent: int, quantizer: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = mlp([dim, hidden, latent])
        self.quantizer = quantizer
        self.decoder = mlp([latent, hidden, dim])

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.quantizer(z[:, None, :])
        zq, idx = out[0], out[1]
        aux = out[2].sum() if len(out) > 2 else zq.new_zeros(())
        return zq[:, 0], idx[:, 0], aux

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        zq, idx, aux = self.quantize(self.encoder(x))
        return self.decoder(zq), idx, aux

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.lookup(codes))


class _VQNet(QuantizedAutoencoder):
    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        return self.quantizer.get_output_from_indices(idx[:, None])[:, 0]


class _RVQNet(QuantizedAutoencoder):
    """Combines the per-level indices into one id: sum_l idx_l * per_level ** l."""

    def __init__(
        self,
        dim: int,
        hidden: int,
        latent: int,
        quantizer: torch.nn.Module,
        per_level: int,
        levels: int,
    ) -> None:
        super().__init__(dim, hidden, latent, quantizer)
        self.register_buffer("radix", per_level ** torch.arange(levels), persistent=False)
        self.per_level = per_level

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        zq, idx, aux = super().quantize(z)
        return zq, (idx.long() * self.radix).sum(-1), aux

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        per_level = (idx[:, None] // self.radix) % self.per_level
        return self.quantizer.get_output_from_indices(per_level[:, None, :])[:, 0]


class _ImplicitNet(QuantizedAutoencoder):
    """FSQ and LFQ: the codebook is implicit; indices map back through indices_to_codes."""

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        return self.quantizer.indices_to_codes(idx[:, None])[:, 0]


class _QuantizerTokenizer(TrainableTokenizer):
    def __init__(
        self,
        codes: int = 256,
        latent_dim: int = 32,
        hidden: int = 256,
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__(codes, epochs, batch_size, lr, seed)
        check_range("tokenizer.latent_dim", latent_dim, 1)
        check_range("tokenizer.hidden", hidden, 1)
        self.latent_dim = latent_dim
        self.hidden = hidden

    def options(self) -> dict[str, Any]:
        return {**super().options(), "latent_dim": self.latent_dim, "hidden": self.hidden}


@TOKENIZERS.register("vq")
class VQTokenizer(_QuantizerTokenizer):
    """Vector quantization (EMA codebook, k-means init, dead-code replacement) in an autoencoder."""

    kind = "vq"

    def build(self, dim: int) -> TokenizerNet:
        from vector_quantize_pytorch import VectorQuantize

        vq = VectorQuantize(
            self.latent_dim,
            self.codes,
            kmeans_init=True,
            kmeans_iters=10,
            threshold_ema_dead_code=2,
            commitment_weight=0.25,
        )
        return _VQNet(dim, self.hidden, self.latent_dim, vq)


@TOKENIZERS.register("rvq")
class RVQTokenizer(_QuantizerTokenizer):
    """Residual VQ: `levels` codebooks quantize what the previous ones left; one combined id."""

    kind = "rvq"

    def __init__(self, codes: int = 256, levels: int = 2, **kwargs: Any) -> None:
        super().__init__(codes, **kwargs)
        check_range("tokenizer.levels", levels, 1)
        per_level = int(round(codes ** (1 / levels)))
        if per_level**levels != codes or per_level < 2:
            raise ConfigError(
                f"rvq: tokenizer.codes={codes} is not a whole power of levels={levels} "
                f"(e.g. codes={max(per_level, 2) ** levels})"
            )
        self.levels = levels
        self.per_level = per_level

    def options(self) -> dict[str, Any]:
        return {**super().options(), "levels": self.levels}

    def build(self, dim: int) -> TokenizerNet:
        from vector_quantize_pytorch import ResidualVQ

        rvq = ResidualVQ(
            dim=self.latent_dim,
            num_quantizers=self.levels,
            codebook_size=self.per_level,
            kmeans_init=True,
            kmeans_iters=10,
            threshold_ema_dead_code=2,
            commitment_weight=0.25,
        )
        return _RVQNet(dim, self.hidden, self.latent_dim, rvq, self.per_level, self.levels)


def fsq_levels(codes: int) -> list[int]:
    """Split log2(codes) bits into FSQ levels of 4 values (plus one of 2 for an odd count)."""
    bits = power_of_two_bits("tokenizer.codes", codes)
    return [4] * (bits // 2) + ([2] if bits % 2 else [])


@TOKENIZERS.register("fsq")
class FSQTokenizer(_QuantizerTokenizer):
    """Finite scalar quantization: each latent dimension rounded to a few levels; no codebook."""

    kind = "fsq"

    def __init__(self, codes: int = 256, **kwargs: Any) -> None:
        super().__init__(codes, **kwargs)
        fsq_levels(codes)  # codes must be a power of two

    def build(self, dim: int) -> TokenizerNet:
        from vector_quantize_pytorch import FSQ

        return _ImplicitNet(
            dim,
            self.hidden,
            self.latent_dim,
            FSQ(levels=fsq_levels(self.codes), dim=self.latent_dim),
        )


@TOKENIZERS.register("lfq")
class LFQTokenizer(_QuantizerTokenizer):
    """Lookup-free quantization: the signs of log2(codes) dimensions, with an entropy loss."""

    kind = "lfq"

    def __init__(self, codes: int = 256, **kwargs: Any) -> None:
        super().__init__(codes, **kwargs)
        power_of_two_bits("tokenizer.codes", codes)

    def build(self, dim: int) -> TokenizerNet:
        from vector_quantize_pytorch import LFQ

        lfq = LFQ(
            dim=self.latent_dim,
            codebook_size=self.codes,
            entropy_loss_weight=0.1,
            commitment_loss_weight=0.25,
        )
        return _ImplicitNet(dim, self.hidden, self.latent_dim, lfq)
