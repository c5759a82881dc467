"""Soft bag-of-words over a vocabulary of local features (the OBoW targets).

The vocabulary is k-means over local feature vectors (e.g. a sample's frames). A feature's
soft assignment is softmax(-(inv_delta / mean_min_dist) * squared distances to the words),
where mean_min_dist is the mean squared distance of the fit features to their nearest word;
a set's bag of words max-pools the assignments over the set and L1-normalises them.
As a tokenizer, encode/decode behave like k-means (the hard nearest word).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from discotok.errors import DataError, check_range
from discotok.registry import TOKENIZERS
from discotok.tokenizers.base import check_vectors
from discotok.tokenizers.kmeans import KMeansTokenizer


@TOKENIZERS.register("bow")
class BagOfWordsTokenizer(KMeansTokenizer):
    """k-means vocabulary with OBoW soft assignments and bag-of-words histograms of sets."""

    kind = "bow"

    def __init__(
        self, codes: int = 64, inv_delta: float = 15.0, niter: int = 25, seed: int = 0
    ) -> None:
        super().__init__(codes=codes, niter=niter, seed=seed)
        check_range("tokenizer.inv_delta", inv_delta, 0.0, low_inclusive=False)
        self.inv_delta = inv_delta
        self.mean_min_dist = 1.0

    def fit(self, x: np.ndarray) -> BagOfWordsTokenizer:
        flat = np.asarray(x).reshape(-1, np.asarray(x).shape[-1])
        super().fit(flat)
        self.mean_min_dist = float(self._squared_distances(flat).min(1).mean()) or 1.0
        return self

    def _squared_distances(self, x: np.ndarray) -> np.ndarray:
        words = self._fitted()
        x = check_vectors(x, "bag-of-words input", words.shape[1])
        return (x**2).sum(1, keepdims=True) - 2 * x @ words.T + (words**2).sum(1)[None]

    def soft_assign(self, x: np.ndarray) -> np.ndarray:
        """(n, dim) features -> (n, codes) soft word assignments (rows sum to 1)."""
        logits = -(self.inv_delta / self.mean_min_dist) * self._squared_distances(x)
        logits -= logits.max(1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(1, keepdims=True)

    def bag_of_words(self, sets: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Histograms of sets: (n, m, dim) arrays, or (total, dim) features with `lengths`."""
        sets = np.asarray(sets)
        if lengths is None:
            if sets.ndim != 3:
                raise DataError(f"bag_of_words needs (n, m, dim) sets or lengths; got {sets.shape}")
            lengths = np.full(len(sets), sets.shape[1])
            sets = sets.reshape(-1, sets.shape[-1])
        if int(np.sum(lengths)) != len(sets):
            raise DataError(f"lengths sum to {int(np.sum(lengths))} but {len(sets)} features given")
        soft = self.soft_assign(sets)
        pooled = np.stack([part.max(0) for part in np.split(soft, np.cumsum(lengths)[:-1])])
        return pooled / pooled.sum(1, keepdims=True)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"centroids": self._fitted(), "mean_min_dist": np.array(self.mean_min_dist)}

    def _options(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "inv_delta": self.inv_delta,
            "niter": self.niter,
            "seed": self.seed,
        }

    @classmethod
    def _restore(
        cls, options: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> BagOfWordsTokenizer:
        tok = cls(**options)
        tok.centroids = arrays["centroids"].astype(np.float32)
        tok.mean_min_dist = float(arrays["mean_min_dist"])
        return tok
