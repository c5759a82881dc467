"""Run an encoder over a whole array in batches, without gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from discotok.errors import ConfigError


@torch.no_grad()
def _batched(
    fn: Callable[[torch.Tensor], torch.Tensor],
    encoder: nn.Module,
    x: np.ndarray | torch.Tensor,
    batch_size: int,
    device: str | torch.device,
) -> torch.Tensor:
    """``fn`` over `x` in batches with `encoder` in eval mode; its mode is restored after."""
    was_training = encoder.training
    encoder.eval()
    try:
        data = torch.as_tensor(x, dtype=torch.float32)
        outs = [
            fn(data[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(data), batch_size)
        ]
    finally:
        encoder.train(was_training)
    return torch.cat(outs)


def encode_array(
    encoder: nn.Module,
    x: np.ndarray | torch.Tensor,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Embed `x` (n, ...) with `encoder`: (n, embed_dim)."""
    return _batched(encoder, encoder, x, batch_size, device).numpy()


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
    frames = _batched(encoder.frames, encoder, x, batch_size, device)
    if getattr(encoder, "masks_padding", False):  # padded series: keep each one's valid frames
        lengths = encoder.frame_lengths(torch.as_tensor(x)).numpy().astype(np.int64)
        valid = np.arange(frames.shape[1])[None, :] < lengths[:, None]
        return frames.numpy()[valid], lengths
    # fixed-length inputs give every sample the same number of frames
    lengths = np.full(len(frames), frames.shape[1], dtype=np.int64)
    return frames.reshape(-1, frames.shape[-1]).numpy(), lengths


def encode_with_views(
    encoder: nn.Module,
    views: nn.Module,
    x: np.ndarray | torch.Tensor,
    copies: int,
    seed: int = 0,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Embed `x` and then `copies` - 1 random views of it drawn by `views` (an augmentation
    module; its randomness fixed by `seed`): (copies * n, embed_dim), one block of n rows per
    copy, the plain samples first."""
    if copies < 1:
        raise ConfigError(f"copies must be at least 1; got {copies}")
    torch.manual_seed(seed)
    data = torch.as_tensor(x, dtype=torch.float32)
    blocks = [encode_array(encoder, data, batch_size, device)]
    for _ in range(copies - 1):
        with torch.no_grad():
            augmented = torch.cat([views(b) for b in data.split(batch_size)])
        blocks.append(encode_array(encoder, augmented, batch_size, device))
    return np.concatenate(blocks)
