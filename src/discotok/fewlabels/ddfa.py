"""Unsupervised learning under latent label shift: DDFA (Roberts et al., NeurIPS 2022).

Unlabelled data arrive in domains whose class proportions p(y | d) differ while p(x | y) stays
the same ("elements that shift together group together"):

1. a domain discriminator p(d | x) (cross-fitted: each half is scored by a model trained on
   the other half, so the probabilities are out-of-sample) -- by default a linear head on the
   given features; `fit(domain_proba=...)` takes any other's (``workflows.label_shift``
   passes an encoder fine-tuned on the domain task);
2. k-means (faiss) on p(d | x) discretises the inputs into m = `clusters_per_class` * K
   "words";
3. NMF of the word-by-domain table p(word | d) ~ p(y | d) p(word | y) -- topic modelling,
   with labels as topics -- recovers p(y | d);
4. p(y | x) solves p(d | x) = sum_y p(d | y) p(y | x) (non-negative least squares per point),
   and p_d(y | x) ~ p(y | x) p(y | d) / p(y) labels each point in its own domain; a few EM
   steps then re-estimate p(y | d) from those posteriors (``refine_steps``,
   `label_shift_em`);
5. optional, ours (not in the paper): ``refit_rounds`` rounds of self-training under label
   shift -- a head on the features is fit to the current labels (cross-fitted, so each
   point's p(y | x) comes from a model that never saw its label), and EM re-estimates
   p(y | d) and the labels from it. It helps when DDFA's first labels are mostly right
   (strong shift, a good discriminator) and hurts when they are not (mild shift);
   measured in benchmarks/ddfa_discriminators.py; off by default.
Classes come out as anonymous components 0..K-1; score them with a Hungarian map.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from discotok.errors import DataError, check_choice, check_range
from discotok.fewlabels.head import fit_scaled_head, one_hot

FACTORIZATIONS = ("spa", "nmf")
# (rows to fit on, rows to score) -> p(d | x) of the scored rows, one column per domain
Discriminator = Callable[[np.ndarray, np.ndarray], np.ndarray]


class DDFA:
    """After `fit`: `p_y_given_d_` (domains x K), `proba_` (p_d(y|x) per point), `labels_`;
    `rounds_`: (p_y_given_d, labels) before the refit rounds and after each; and
    `refit_changes_`: the fraction of labels each refit round changed (needs no true
    labels; it shows whether the rounds have settled, not whether the labels are right)."""

    def __init__(
        self,
        classes: int,
        *,
        clusters_per_class: int = 3,
        head: str = "linear",
        head_epochs: int = 300,
        refine_steps: int = 10,
        factorization: str = "spa",
        folds: int = 2,
        refit_rounds: int = 0,
        seed: int = 0,
    ) -> None:
        check_range("refit_rounds", refit_rounds, 0)
        self.refit_rounds = refit_rounds
        check_choice("factorization", factorization, FACTORIZATIONS)
        check_range("folds", folds, 2)
        self.folds = folds
        self.factorization = factorization
        check_range("classes", classes, 2)
        check_range("refine_steps", refine_steps, 0)
        self.refine_steps = refine_steps
        check_range("clusters_per_class", clusters_per_class, 1)
        self.k, self.clusters_per_class = classes, clusters_per_class
        self.head, self.head_epochs, self.seed = head, head_epochs, seed

    def check_domains(self, x: np.ndarray, domain: np.ndarray) -> tuple[np.ndarray, int]:
        """Domain codes 0..D-1 (ids in sorted order) and D; clear errors for what DDFA
        cannot fit (fewer domains than classes, single-point domains, too few points)."""
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

    @property
    def refit_changes_(self) -> list[float]:
        """The fraction of labels each refit round changed (from `rounds_`)."""
        pairs = zip(self.rounds_, self.rounds_[1:])
        return [float((new != old).mean()) for (_, old), (_, new) in pairs]

    def discriminator(self, x: np.ndarray, code: np.ndarray) -> Discriminator:
        """The default discriminator: the linear (or MLP) head on the standardized `x`."""
        return self._head(x, one_hot(code, int(code.max()) + 1))

    def _head(self, x: np.ndarray, targets: np.ndarray) -> Discriminator:
        """Fit/score with the linear (or MLP) head from the standardized `x` to `targets`."""

        def fit_and_score(fit_on: np.ndarray, score: np.ndarray) -> np.ndarray:
            fit = (x[fit_on], targets[fit_on], self.head)
            head, mean, std = fit_scaled_head(*fit, epochs=self.head_epochs, seed=self.seed)
            return head.predict_proba((x[score] - mean) / std)

        return fit_and_score

    def fit(
        self, x: np.ndarray, domain: np.ndarray, *, domain_proba: np.ndarray | None = None
    ) -> DDFA:
        """`domain_proba`: out-of-sample p(d | x) from a discriminator of your own (domains in
        sorted order of their ids, e.g. from `cross_fit`); by default the head on `x`."""
        from scipy.optimize import nnls

        from discotok.tokenizers.kmeans import faiss_kmeans

        code, n_dom = self.check_domains(x, domain)
        x = np.asarray(x, dtype=np.float32)
        if domain_proba is None:
            p_d_x = cross_fit(len(x), self.discriminator(x, code), self.seed, self.folds)
        else:
            p_d_x = _checked_proba(domain_proba, len(code), n_dom)
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
        # started from the factorisation's estimate; refine_steps=0 keeps it
        p_y_d, proba = label_shift_em(p_y_x, p_y_d, code, self.refine_steps)
        self.rounds_ = [(p_y_d, proba.argmax(1))]
        for _ in range(self.refit_rounds):
            targets = one_hot(self.rounds_[-1][1], self.k)
            p_y_x = cross_fit(len(x), self._head(x, targets), self.seed, self.folds)
            p_y_d, proba = label_shift_em(p_y_x, p_y_d, code, self.refine_steps)
            self.rounds_.append((p_y_d, proba.argmax(1)))
        self.p_y_given_d_, self.proba_, self.labels_ = p_y_d, proba, self.rounds_[-1][1]
        return self


def label_shift_em(
    p_y_x: np.ndarray, p_y_d: np.ndarray, code: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Saerens et al.'s EM for label shift: p_d(y | x) ~ p(y | x) p(y | d) / p(y), then
    p(y | d) re-estimated as the mean of p_d(y | x) over domain d's points (`code`), `steps`
    times from the given p(y | d). Returns p(y | d) and the last p_d(y | x). A point whose
    classes all have p(y | d) = 0 in its domain (small data: the factorisation can zero
    them) keeps its own p(y | x) rather than dividing by zero."""
    p_y = p_y_x.mean(0).clip(1e-12)
    for step in range(steps + 1):
        adjusted = p_y_x * p_y_d[code] / p_y[None]
        total = adjusted.sum(1, keepdims=True)
        adjusted = np.where(total > 0, adjusted / np.where(total > 0, total, 1.0), p_y_x)
        if step == steps:
            break
        p_y_d = np.zeros_like(p_y_d)
        np.add.at(p_y_d, code, adjusted)
        p_y_d /= p_y_d.sum(1, keepdims=True)
    return p_y_d, adjusted


def cross_fit(n: int, fit_and_score: Discriminator, seed: int = 0, folds: int = 2) -> np.ndarray:
    """Out-of-fold p(d | x) of n points: split at random (fixed by `seed`) into `folds`
    parts, each scored by the discriminator fit on all the others."""
    check_range("folds", folds, 2)
    fold = np.random.default_rng(seed).permutation(n) % folds
    parts = {
        f: fit_and_score(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(folds)
    }
    proba = np.empty((n, parts[0].shape[1]), dtype=np.float32)
    for f, part in parts.items():
        proba[fold == f] = part
    return proba


def _checked_proba(proba: np.ndarray, n: int, n_dom: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n, n_dom):
        raise DataError(
            f"domain_proba must be (points, domains) = ({n}, {n_dom}); got {proba.shape}"
        )
    if not np.isfinite(proba).all() or (proba < 0).any():
        raise DataError("domain_proba must hold finite, non-negative probabilities")
    return (proba / proba.sum(1, keepdims=True).clip(1e-12)).astype(np.float32)


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
