"""Unsupervised learning under latent label shift: DDFA (Roberts et al., NeurIPS 2022).

Unlabelled data arrive in domains whose class proportions p(y | d) differ while p(x | y) stays
the same ("elements that shift together group together"):

1. a domain discriminator p(d | x) (cross-fitted: each half is scored by a model trained on
   the other half, so the probabilities are out-of-sample);
2. k-means (faiss) on p(d | x) discretises the inputs into m = `clusters_per_class` * K
   "words";
3. NMF of the word-by-domain table p(word | d) ~ p(y | d) p(word | y) -- topic modelling,
   with labels as topics -- recovers p(y | d);
4. p(y | x) solves p(d | x) = sum_y p(d | y) p(y | x) (non-negative least squares per point),
   and p_d(y | x) ~ p(y | x) p(y | d) / p(y) labels each point in its own domain; a few EM
   steps then re-estimate p(y | d) from those posteriors (``refine_steps``).
Classes come out as anonymous components 0..K-1; score them with a Hungarian map.
"""

from __future__ import annotations

import numpy as np

from discotok.errors import DataError, check_choice, check_range
from discotok.evaluators.probes import fit_standardizer
from discotok.fewlabels.head import Head, one_hot

FACTORIZATIONS = ("spa", "nmf")


class DDFA:
    """After `fit`: `p_y_given_d_` (domains x K), `proba_` (p_d(y|x) per point), `labels_`."""

    def __init__(
        self,
        classes: int,
        *,
        clusters_per_class: int = 3,
        head: str = "linear",
        head_epochs: int = 300,
        refine_steps: int = 10,
        factorization: str = "spa",
        seed: int = 0,
    ) -> None:
        check_choice("factorization", factorization, FACTORIZATIONS)
        self.factorization = factorization
        check_range("classes", classes, 2)
        check_range("refine_steps", refine_steps, 0)
        self.refine_steps = refine_steps
        check_range("clusters_per_class", clusters_per_class, 1)
        self.k, self.clusters_per_class = classes, clusters_per_class
        self.head, self.head_epochs, self.seed = head, head_epochs, seed

    def _check(self, x: np.ndarray, domain: np.ndarray) -> tuple[np.ndarray, int]:
        x, domain = np.asarray(x), np.asarray(domain)
        if x.ndim != 2 or domain.shape != (len(x),):
            raise DataError(
                f"x must be (n, dim) with one domain id per row; got {x.shape} and {domain.shape}"
            )
        ids, code, sizes = np.unique(domain, return_inverse=True, return_counts=True)
        if len(ids) < self.k:
            raise DataError(
                f"{len(ids)} domains cannot identify {self.k} classes: DDFA needs at least "
                "as many domains as classes"
            )
        small = ids[sizes < 2]
        if len(small):
            raise DataError(
                f"domains {small.tolist()} hold a single point; p(word | domain) cannot be "
                "estimated from one point -- merge or drop them"
            )
        m = self.clusters_per_class * self.k
        if len(x) < m:
            raise DataError(f"{len(x)} points are fewer than the {m} k-means clusters")
        self.domains_ = ids
        return code, len(ids)

    def _discriminate(self, x: np.ndarray, code: np.ndarray, n_dom: int) -> np.ndarray:
        """Out-of-fold p(d | x): two halves, each scored by the model fit on the other."""
        rng = np.random.default_rng(self.seed)
        fold = rng.permutation(len(x)) % 2
        proba = np.empty((len(x), n_dom), dtype=np.float32)
        targets = one_hot(code, n_dom)
        for f in (0, 1):
            fit_on, score = fold != f, fold == f
            mean, std = fit_standardizer(x[fit_on])
            head = Head(self.head, epochs=self.head_epochs, seed=self.seed)
            head.fit((x[fit_on] - mean) / std, targets[fit_on])
            proba[score] = head.predict_proba((x[score] - mean) / std)
        return proba

    def fit(self, x: np.ndarray, domain: np.ndarray) -> DDFA:
        from scipy.optimize import nnls

        from discotok.tokenizers.kmeans import faiss_kmeans

        code, n_dom = self._check(x, domain)
        p_d_x = self._discriminate(np.asarray(x, dtype=np.float32), code, n_dom)
        m = self.clusters_per_class * self.k
        _, words, _ = faiss_kmeans(p_d_x, m, seed=self.seed, nredo=3)
        table = np.zeros((n_dom, m))
        np.add.at(table, (code, words), 1)  # counts of word w in domain d
        p_d = np.bincount(code, minlength=n_dom) / len(code)
        if self.factorization == "spa":
            p_d_given_y = _spa_anchors(table, self.k)
        else:
            p_d_given_y = _nmf_p_d_given_y(table, self.k, p_d, self.seed)
        p_y_x = np.array([nnls(p_d_given_y, row)[0] for row in p_d_x]) + 1e-12
        p_y_x /= p_y_x.sum(1, keepdims=True)
        p_y = p_y_x.mean(0)
        p_y_d = p_d_given_y * p_y[None] / p_d[:, None]  # Bayes: p(y | d)
        p_y_d /= p_y_d.sum(1, keepdims=True).clip(1e-12)
        self.p_y_given_d_, self.proba_ = self._refine(p_y_x, p_y_d, code, n_dom)
        self.labels_ = self.proba_.argmax(1)
        return self

    def _refine(
        self, p_y_x: np.ndarray, p_y_d: np.ndarray, code: np.ndarray, n_dom: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """p_d(y | x) ~ p(y | x) p(y | d) / p(y), then re-estimate p(y | d) as the mean of
        p_d(y | x) over the domain's points, and repeat (Saerens et al.'s EM for label shift,
        started from the NMF estimate); `refine_steps=0` keeps the NMF estimate."""
        p_y = p_y_x.mean(0).clip(1e-12)
        for step in range(self.refine_steps + 1):
            adjusted = p_y_x * p_y_d[code] / p_y[None]
            adjusted /= adjusted.sum(1, keepdims=True)
            if step == self.refine_steps:
                break
            p_y_d = np.zeros_like(p_y_d)
            np.add.at(p_y_d, code, adjusted)
            p_y_d /= p_y_d.sum(1, keepdims=True)
        return p_y_d, adjusted


def _spa_anchors(table: np.ndarray, k: int) -> np.ndarray:
    """Separable NMF by the successive projection algorithm (Gillis & Vavasis 2014).

    Each word's domain profile p(d | word) is a mixture of the class profiles p(d | y),
    weighted by p(y | word). Under DDFA's anchor assumption some words belong to one class,
    so the class profiles are extreme points of the words' profiles: SPA picks the profile
    with the largest norm, projects it out, and repeats K times.
    """
    profiles = table / table.sum(0, keepdims=True).clip(1e-12)  # columns: p(d | word)
    residual = profiles.copy()
    anchors = []
    for _ in range(k):
        best = int((residual**2).sum(0).argmax())
        anchors.append(best)
        u = residual[:, best] / np.linalg.norm(residual[:, best]).clip(1e-12)
        residual -= np.outer(u, u @ residual)
    return profiles[:, anchors]


def _nmf_p_d_given_y(table: np.ndarray, k: int, p_d: np.ndarray, seed: int) -> np.ndarray:
    """p(d | y) from scikit-learn's NMF of p(word | d) = p(y | d) p(word | y)."""
    from sklearn.decomposition import NMF

    nmf = NMF(k, init="nndsvda", max_iter=5000, random_state=seed)
    w = nmf.fit_transform(table / table.sum(1, keepdims=True))  # (D, K)
    w = w * nmf.components_.sum(1)[None]  # rows of H become p(word | y)
    p_y_d = w / w.sum(1, keepdims=True).clip(1e-12)
    joint = p_y_d * p_d[:, None]
    return joint / joint.sum(0, keepdims=True).clip(1e-12)


def label_shift_scores(
    y: np.ndarray, components: np.ndarray, p_y_given_d: np.ndarray, true_p_y_given_d: np.ndarray
) -> dict[str, float]:
    """Hungarian accuracy of the components, and the L1 error of p(y | d) under the same map:
    sum over classes of |estimated - true| per domain, averaged over domains."""
    from scipy.optimize import linear_sum_assignment

    classes, yc = np.unique(y, return_inverse=True)
    k = p_y_given_d.shape[1]
    counts = np.zeros((k, len(classes)), dtype=np.int64)
    np.add.at(counts, (components, yc), 1)
    rows, cols = linear_sum_assignment(-counts)
    estimate = np.zeros_like(true_p_y_given_d)
    estimate[:, cols] = p_y_given_d[:, rows]
    l1 = np.abs(estimate - true_p_y_given_d).sum(1)
    return {
        "acc": float(counts[rows, cols].sum() / len(y)),
        "p_y_given_d_l1": float(l1.mean()),
    }
