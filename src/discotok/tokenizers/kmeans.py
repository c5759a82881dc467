"""k-means tokens on faiss: fit centroids, encode = nearest centroid, decode = centroid."""

from __future__ import annotations

from typing import Any

import numpy as np

from discotok.errors import DataError, check_choice, check_range
from discotok.registry import TOKENIZERS
from discotok.tokenizers.base import Tokenizer, check_codebook_size, check_vectors

INITS = ("kmeans++", "random")


def kmeans_plusplus(x: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Greedy k-means++ seeds (Arthur & Vassilvitskii; 2 + log k candidates per round).

    Ours rather than scikit-learn's ``kmeans_plusplus``: the same algorithm, but each round
    scores all candidates with one matrix product (5.1 s vs 6.0 s on 100k x 256, K = 100,
    benchmarks/results/kmeans_speed.json); ``faiss_kmeans`` seeds on a sample, which is
    where most of its speed comes from.
    """
    rng = np.random.default_rng(seed)
    n = len(x)
    trials = 2 + int(np.log(k))
    sq = np.einsum("ij,ij->i", x, x)
    first = int(rng.integers(n))
    closest = np.maximum(sq - 2 * x @ x[first] + sq[first], 0)
    chosen = [first]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than k: take any unused ones
            chosen.append(int(rng.choice(np.setdiff1d(np.arange(n), chosen))))
            continue
        candidates = np.searchsorted(np.cumsum(closest), rng.random(trials) * total)
        candidates = np.minimum(candidates, n - 1)
        dist = np.maximum(sq[:, None] - 2 * x @ x[candidates].T + sq[candidates][None], 0)
        scores = np.minimum(closest[:, None], dist)
        best = int(scores.sum(0).argmin())
        closest = scores[:, best]
        chosen.append(int(candidates[best]))
    return x[chosen].copy()


def faiss_kmeans(
    x: np.ndarray,
    k: int,
    *,
    seed: int = 0,
    niter: int = 25,
    nredo: int = 1,
    init: str = "kmeans++",
    max_points_per_centroid: int = 256,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd k-means through faiss; returns (centroids, labels of all points, inertia).

    Seeding and Lloyd iterations run on a random sample of at most
    `max_points_per_centroid` * k points (faiss's own default; 0 = all points), then every
    point is assigned to its nearest centroid. ``init="kmeans++"`` seeds with greedy
    k-means++ (faiss's own init is a random sample, which often merges well-separated
    clusters); each of `nredo` restarts draws a new sample and seeds, the lowest inertia on
    all points wins.
    """
    import faiss

    check_choice("tokenizer.init", init, INITS)
    x = check_vectors(x, "k-means input")
    check_codebook_size(k, len(x))
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for attempt in range(nredo):
        sample = x
        limit = max_points_per_centroid * k
        if max_points_per_centroid and len(x) > limit:
            pick = np.random.default_rng(seed + attempt).choice(len(x), limit, replace=False)
            sample = x[np.sort(pick)]
        km = faiss.Kmeans(
            x.shape[1],
            k,
            niter=niter,
            seed=seed + attempt,
            max_points_per_centroid=len(sample),
            min_points_per_centroid=1,  # small inputs are the caller's choice: no warning
        )
        if init == "kmeans++":
            km.train(sample, init_centroids=kmeans_plusplus(sample, k, seed + attempt))
        else:
            km.train(sample)
        distances, labels = km.index.search(x, 1)
        inertia = float(distances.sum())
        if best is None or inertia < best[2]:
            best = (km.centroids.copy(), labels[:, 0].astype(np.int64), inertia)
    assert best is not None
    return best


@TOKENIZERS.register("kmeans")
class KMeansTokenizer(Tokenizer):
    """k-means codebook (faiss): each vector becomes the index of its nearest centroid."""

    kind = "kmeans"

    def __init__(
        self,
        codes: int = 64,
        niter: int = 25,
        nredo: int = 1,
        init: str = "kmeans++",
        seed: int = 0,
    ) -> None:
        check_range("tokenizer.codes", codes, 1)
        check_choice("tokenizer.init", init, INITS)
        check_range("tokenizer.niter", niter, 1)
        check_range("tokenizer.nredo", nredo, 1)
        self.codes = codes
        self.niter = niter
        self.nredo = nredo
        self.init = init
        self.seed = seed
        self.centroids: np.ndarray | None = None

    @property
    def num_codes(self) -> int:
        return self.codes

    def fit(self, x: np.ndarray) -> KMeansTokenizer:
        self.centroids, _, _ = faiss_kmeans(
            x, self.codes, seed=self.seed, niter=self.niter, nredo=self.nredo, init=self.init
        )
        return self

    def _fitted(self) -> np.ndarray:
        if self.centroids is None:
            raise DataError("the k-means tokenizer is not fitted; call fit(x) first")
        return self.centroids

    def encode(self, x: np.ndarray) -> np.ndarray:
        import faiss

        centroids = self._fitted()
        x = check_vectors(x, "k-means encode", centroids.shape[1])
        index = faiss.IndexFlatL2(centroids.shape[1])
        index.add(centroids)
        return index.search(x, 1)[1][:, 0].astype(np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        centroids = self._fitted()
        codes = np.asarray(codes)
        self.check_codes(codes)
        return centroids[codes]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"centroids": self._fitted()}

    def _options(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "niter": self.niter,
            "nredo": self.nredo,
            "init": self.init,
            "seed": self.seed,
        }

    @classmethod
    def _restore(cls, options: dict[str, Any], arrays: dict[str, np.ndarray]) -> KMeansTokenizer:
        tok = cls(**options)
        tok.centroids = arrays["centroids"].astype(np.float32)
        return tok


@TOKENIZERS.register("kmeans_minibatch")
class MiniBatchKMeansTokenizer(KMeansTokenizer):
    """The GSLM/HuBERT unit recipe: scikit-learn MiniBatchKMeans, k-means++, batch 10000."""

    kind = "kmeans_minibatch"

    def __init__(
        self,
        codes: int = 64,
        niter: int = 100,
        nredo: int = 20,
        batch_size: int = 10000,
        seed: int = 0,
    ) -> None:
        super().__init__(codes=codes, niter=niter, nredo=nredo, seed=seed)
        check_range("tokenizer.batch_size", batch_size, 1)
        self.batch_size = batch_size

    def fit(self, x: np.ndarray) -> MiniBatchKMeansTokenizer:
        from sklearn.cluster import MiniBatchKMeans

        x = check_vectors(x, "k-means input")
        check_codebook_size(self.codes, len(x))
        km = MiniBatchKMeans(
            self.codes,
            init="k-means++",
            max_iter=self.niter,
            batch_size=self.batch_size,
            n_init=self.nredo,
            random_state=self.seed,
        ).fit(x)
        self.centroids = km.cluster_centers_.astype(np.float32)
        return self

    def _options(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "niter": self.niter,
            "nredo": self.nredo,
            "batch_size": self.batch_size,
            "seed": self.seed,
        }
