"""Token robustness: how often a sample keeps its token when one augmentation is applied."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from discotok.tokenizers.base import Tokenizer


def augment_array(view: nn.Module, x: np.ndarray, seed: int, batch_size: int = 2048) -> np.ndarray:
    """Apply `view` to `x` in batches under a fixed seed (the caller's RNG is left alone)."""
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(seed)
        parts = [
            view(torch.from_numpy(x[i : i + batch_size])) for i in range(0, len(x), batch_size)
        ]
    return torch.cat(parts).numpy()


def token_agreement(
    featurize: Callable[[np.ndarray], np.ndarray],
    tokenizer: Tokenizer,
    x: np.ndarray,
    variants: dict[str, nn.Module],
    seed: int = 0,
) -> dict[str, float]:
    """Share of samples whose token is unchanged under each augmentation, and their mean.

    `featurize` maps raw samples to the vectors the tokenizer was fitted on (the trained
    encoder, or the standardized raw input for the baseline).
    """
    clean = tokenizer.encode(featurize(x))
    out: dict[str, float] = {}
    for i, (name, view) in enumerate(variants.items()):
        codes = tokenizer.encode(featurize(augment_array(view, x, seed + i)))
        out[f"token_agreement_{name}"] = float((codes == clean).mean())
    if out:
        out["token_agreement"] = float(np.mean(list(out.values())))
    return out
