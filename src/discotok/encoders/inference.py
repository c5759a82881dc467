"""Run an encoder over a whole array in batches, without gradients."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from discotok.errors import ConfigError


@torch.no_grad()
def encode_array(
    encoder: nn.Module,
    x: np.ndarray | torch.Tensor,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Embed `x` (n, ...) with `encoder` in eval mode; restores the encoder's mode afterwards."""
    was_training = encoder.training
    encoder.eval()
    try:
        data = torch.as_tensor(x, dtype=torch.float32)
        outs = [
            encoder(data[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(data), batch_size)
        ]
    finally:
        encoder.train(was_training)
    return torch.cat(outs).numpy()


@torch.no_grad()
def encode_frames(
    encoder: nn.Module,
    x: np.ndarray | torch.Tensor,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-level features of every sample, concatenated: (total frames, dim) and lengths."""
    if not hasattr(encoder, "frames"):
        raise ConfigError(
            f"encoder {type(encoder).__name__} has no frame-level output; frame tokens need an "
            "encoder that keeps a time axis (cnn1d)"
        )
    was_training = encoder.training
    encoder.eval()
    try:
        data = torch.as_tensor(x, dtype=torch.float32)
        outs = [
            encoder.frames(data[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(data), batch_size)
        ]
    finally:
        encoder.train(was_training)
    frames = torch.cat(outs)  # fixed-length inputs give the same frame count per sample
    lengths = np.full(len(frames), frames.shape[1], dtype=np.int64)
    return frames.reshape(-1, frames.shape[-1]).numpy(), lengths
