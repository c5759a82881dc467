"""Run an encoder over a whole array in batches, without gradients."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


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
