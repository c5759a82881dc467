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


Featurize = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def token_agreement(
    featurize: Featurize,
    tokenizer: Tokenizer,
    x: np.ndarray,
    variants: dict[str, nn.Module],
    seed: int = 0,
) -> dict[str, float]:
    """Share of samples whose token is unchanged under each augmentation, and their mean.

    `featurize` maps raw samples to the vectors the tokenizer was fitted on (the trained
    encoder, or the standardized raw input for the baseline).
    """
    clean = tokenizer.encode(featurize(x)[0])
    out: dict[str, float] = {}
    for i, (name, view) in enumerate(variants.items()):
        codes = tokenizer.encode(featurize(augment_array(view, x, seed + i))[0])
        out[f"token_agreement_{name}"] = float((codes == clean).mean())
    if out:
        out["token_agreement"] = float(np.mean(list(out.values())))
    return out


def sequence_robustness(
    featurize: Featurize,
    tokenizer: Tokenizer,
    x: np.ndarray,
    variants: dict[str, nn.Module],
    seed: int = 0,
) -> dict[str, float]:
    """Mean Unit Edit Distance between each sample's clean and augmented token sequences."""
    from discotok.evaluators.tokens import unit_edit_distance

    def sequences(vectors: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        return np.split(tokenizer.encode(vectors), np.cumsum(lengths)[:-1])

    clean = sequences(*featurize(x))
    out: dict[str, float] = {}
    for i, (name, view) in enumerate(variants.items()):
        augmented = sequences(*featurize(augment_array(view, x, seed + i)))
        out[f"token_ued_{name}"] = float(
            np.mean([unit_edit_distance(a, b) for a, b in zip(clean, augmented)])
        )
    if out:
        out["token_ued"] = float(np.mean(list(out.values())))
    return out
