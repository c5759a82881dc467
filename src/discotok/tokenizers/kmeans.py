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
    scores all candidates with one matrix product (4.4 s vs 5.6 s on 100k x 256, K = 100,
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
    refine_iter: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd k-means through faiss; returns (centroids, labels of all points, inertia).

    Seeding and Lloyd iterations run on a random sample of at most
    `max_points_per_centroid` * k points (faiss's own default; 0 = all points), then every
    point is assigned to its nearest centroid. ``init="kmeans++"`` seeds with greedy
    k-means++ (faiss's own init is a random sample, which often merges well-separated
    clusters); each of `nredo` restarts draws a new sample and seeds.

    Without refinement (`refine_iter=0`) the restart with the lowest inertia on all points
    wins. With it, the restart with the lowest inertia on its own sample wins (no full pass
    per restart) and then runs `refine_iter` Lloyd iterations (faiss) on all points: centroids
    fitted on a sample carry its noise (~0.3 % of inertia at 256 points per centroid in 256
    dimensions), which one full-data iteration removes. A smaller sample with restarts and
    refinement finds better minima than one large sample at the same cost
    (benchmarks/kmeans_speed.py).
    """
    check_choice("tokenizer.init", init, INITS)
    check_range("refine_iter", refine_iter, 0)
    x = check_vectors(x, "k-means input")
    check_codebook_size(k, len(x))
    best: tuple[np.ndarray, float, np.ndarray | None] | None = None  # centroids, score, labels
    for attempt in range(nredo):
        sample = x
        limit = max_points_per_centroid * k
        if max_points_per_centroid and len(x) > limit:
            pick = np.random.default_rng(seed + attempt).choice(len(x), limit, replace=False)
            sample = x[np.sort(pick)]
        km = _faiss_lloyd(x.shape[1], k, niter, seed + attempt, len(sample))
        if init == "kmeans++":
            km.train(sample, init_centroids=kmeans_plusplus(sample, k, seed + attempt))
        else:
            km.train(sample)
        if refine_iter:
            score, labels = float(km.obj[-1]), None
        else:
            distances, labels = km.index.search(x, 1)
            score = float(distances.sum())
        if best is None or score < best[1]:
            best = (km.centroids.copy(), score, labels)
    assert best is not None
    centroids, inertia, labels = best
    if refine_iter:
        km = _faiss_lloyd(x.shape[1], k, refine_iter, seed, len(x))
        km.train(x, init_centroids=centroids)
        centroids = km.centroids.copy()
        distances, labels = km.index.search(x, 1)
        inertia = float(distances.sum())
    assert labels is not None
    return centroids, labels[:, 0].astype(np.int64), inertia


def _faiss_lloyd(dim: int, k: int, niter: int, seed: int, points: int) -> Any:
    import faiss

    return faiss.Kmeans(
        dim,
        k,
        niter=niter,
        seed=seed,
        max_points_per_centroid=points,  # the caller sampled already
        min_points_per_centroid=1,  # small inputs are the caller's choice: no warning
    )


@TOKENIZERS.register("kmeans")
class KMeansTokenizer(Tokenizer):
    """k-means codebook (faiss): each vector becomes the index of its nearest centroid.

    Defaults (decided on benchmarks/results/kmeans_speed.json): two restarts, each seeded
    with k-means++ and fitted on a sample of 128 points per centroid, the better one refined
    by two Lloyd iterations on all points. About a fifth slower than one restart on 256
    points per centroid (faiss's recipe), with 2 % lower inertia on that benchmark.
    ``sample_per_centroid=0`` fits on all points.
    """

    kind = "kmeans"

    def __init__(
        self,
        codes: int = 64,
        niter: int = 25,
        nredo: int = 2,
        init: str = "kmeans++",
        sample_per_centroid: int = 128,
        refine_iter: int = 2,
        seed: int = 0,
    ) -> None:
        check_range("tokenizer.codes", codes, 1)
        check_choice("tokenizer.init", init, INITS)
        check_range("tokenizer.niter", niter, 1)
        check_range("tokenizer.nredo", nredo, 1)
        check_range("tokenizer.sample_per_centroid", sample_per_centroid, 0)
        check_range("tokenizer.refine_iter", refine_iter, 0)
        self.codes = codes
        self.niter = niter
        self.nredo = nredo
        self.init = init
        self.sample_per_centroid = sample_per_centroid
        self.refine_iter = refine_iter
        self.seed = seed
        self.centroids: np.ndarray | None = None

    @property
    def num_codes(self) -> int:
        return self.codes

    def fit(self, x: np.ndarray) -> KMeansTokenizer:
        self.centroids, _, _ = faiss_kmeans(
            x,
            self.codes,
            seed=self.seed,
            niter=self.niter,
            nredo=self.nredo,
            init=self.init,
            max_points_per_centroid=self.sample_per_centroid,
            refine_iter=self.refine_iter,
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
            "sample_per_centroid": self.sample_per_centroid,
            "refine_iter": self.refine_iter,
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
