"""Collapse monitor: the effective rank of an embedding (RankMe, Garrido et al. 2023).

RankMe = exp(entropy of the normalised singular values) of the (n, dim) embedding matrix:
about `dim` for well-spread features, 1 when every sample maps to one direction. It needs
no labels, so it is computed for every run.
"""

from __future__ import annotations

import numpy as np

from discotok.errors import DataError


def rankme(z: np.ndarray, eps: float = 1e-7) -> float:
    """Effective rank of `z` (rows are samples), between 1 and min(n, dim)."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or len(z) == 0:
        raise DataError(f"RankMe needs an (n, dim) array, got shape {z.shape}")
    sigma = np.linalg.svd(z, compute_uv=False)
    if sigma.sum() <= 0:
        return 1.0  # all zeros: fully collapsed
    p = sigma / sigma.sum() + eps
    return float(np.exp(-(p * np.log(p)).sum()))


def collapsed(rank: float, dim: int) -> bool:
    """A run counts as collapsed when its effective rank is below max(2, dim / 50)."""
    return rank < max(2.0, dim / 50)
