"""The order in which an epoch visits the training samples."""

from __future__ import annotations

import numpy as np


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919 + 1) % (2**32)


def distinct_cluster_order(labels: np.ndarray, seed: int) -> np.ndarray:
    """An order where consecutive samples come from different clusters where possible.

    Each cluster is shuffled and the clusters are visited round-robin in a random order, so a
    window of K consecutive samples (K = number of non-empty clusters) repeats no cluster
    until the smaller clusters run out.
    """
    rng = np.random.default_rng(seed)
    members = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    longest = max(len(m) for m in members)
    rounds = []
    for r in range(longest):
        row = np.array([m[r] for m in members if r < len(m)])
        rounds.append(row[rng.permutation(len(row))])
    return np.concatenate(rounds)


def epoch_order(n: int, seed: int, epoch: int, labels: np.ndarray | None = None) -> np.ndarray:
    """A deterministic function of (seed, epoch): resuming a run replays the same order."""
    s = epoch_seed(seed, epoch)
    if labels is None:
        return np.random.default_rng(s).permutation(n)
    return distinct_cluster_order(labels, s)
