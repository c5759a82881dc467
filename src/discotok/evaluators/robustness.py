"""Token robustness: how often a sample keeps its token when one augmentation is applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def _per_augmentation(
    featurize: Featurize,
    x: np.ndarray,
    variants: dict[str, nn.Module],
    seed: int,
    tokens: Callable[[np.ndarray, np.ndarray], Any],
    score: Callable[[Any, Any], float],
    name: str,
) -> dict[str, float]:
    """``score(clean tokens, augmented tokens)`` for each augmentation, and their mean."""
    clean = tokens(*featurize(x))
    out = {
        f"{name}_{aug}": score(clean, tokens(*featurize(augment_array(view, x, seed + i))))
        for i, (aug, view) in enumerate(variants.items())
    }
    if out:
        out[name] = float(np.mean(list(out.values())))
    return out


def token_agreement(
    featurize: Featurize,
    tokenizer: Tokenizer,
    x: np.ndarray,
    variants: dict[str, nn.Module],
    seed: int = 0,
) -> dict[str, float]:
    """Share of samples whose token is unchanged under each augmentation, and their mean.

    `featurize` maps raw samples to (vectors, lengths) as the tokenizer was fitted on them
    (the trained encoder, or the standardized raw input for the baseline).
    """

    def codes(vectors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        return tokenizer.encode(vectors)

    def agreement(clean: np.ndarray, augmented: np.ndarray) -> float:
        return float((clean == augmented).mean())

    return _per_augmentation(featurize, x, variants, seed, codes, agreement, "token_agreement")


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

    def ued(clean: list[np.ndarray], augmented: list[np.ndarray]) -> float:
        return float(np.mean([unit_edit_distance(a, b) for a, b in zip(clean, augmented)]))

    return _per_augmentation(featurize, x, variants, seed, sequences, ued, "token_ued")
