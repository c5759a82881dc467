"""Small helpers shared by the speech objectives (masked_frames, wav2vec, hubert)."""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import ConfigError


def require_speech_encoder(encoder: nn.Module, method: str) -> None:
    """The speech objectives mask the encoder's local features: only ``speech`` has them."""
    if not hasattr(encoder, "local_features"):
        raise ConfigError(
            f"method {method!r} needs encoder 'speech' (masked local features); "
            f"got {type(encoder).__name__}"
        )


def input_pairs(x: torch.Tensor) -> torch.Tensor:
    """(n, bins, frames) input -> (n, frames // 2, 2 * bins): the input under each 20 ms frame."""
    n, bins, t = x.shape
    pairs = torch.nan_to_num(x[:, :, : 2 * (t // 2)], nan=0.0).transpose(1, 2)
    return pairs.reshape(n, t // 2, 2 * bins)
