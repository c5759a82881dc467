"""Generalized category discovery with an unknown number of classes: GPC's semi-supervised
Gaussian mixture with split and merge moves (Zhao et al., ICCV 2023).

Some classes are "old" (a share of their points is labelled), others are new. The mixture
starts from `k_init` components -- one per old class, pinned to its labelled points, plus
k-means++ picks among the unlabelled points -- and alternates EM with proposals that change K:

* split a component in two (2-means inside it, on faiss), accepted with the Hastings ratio
  ``H = alpha * Gamma(n1) L(X1) Gamma(n2) L(X2) / (Gamma(n) L(X))``;
* merge a component with its nearest neighbour, accepted with ``1 / H``;

where ``L`` is the Normal-inverse-Wishart marginal likelihood of a component's points. Two
old classes never merge, and a split of an old class keeps all its labelled points together.
The NIW prior's scale matrix is set so that its expected covariance equals the average
within-class covariance of the labelled classes: the labels say how big a class is, and the
moves look for components of that size. `prior_scale` (> 1: coarser, < 1: finer) tunes it.
Its strength (how many points' worth the prior counts) is calibrated on the labelled classes
(`_calibrate`): the weakest under which no labelled class would be split in two. That test
needs labelled classes of at least ``2 * min_size`` points; where none is that large (glyphs:
12 labelled points a class), `calibrate="auto"` chooses it on held-out classes instead: the labels
of half the old classes are hidden, the mixture is fitted under each of `HELD_OUT_STRENGTHS`,
and the strength whose clusters best recover the hidden classes (adjusted Rand index on their
labelled points, both halves hidden in turn) is kept. Small classes need the strong prior: a
component of ~24 points cannot pay for a covariance of its own in 16 dimensions, so under a
weak prior two such classes stay merged (measured: benchmarks/few_labels.py --data glyphs).

The calibrated prior is strong, and under it the moves get stuck where they start: from too
few components a lone split rarely pays (a new class split off an old one on its own can
lower the posterior even when the partition with every class apart is more probable), from
too many a lone merge rarely does. So the first `explore` share of the iterations (half by
default) runs under the weakest prior, which splits freely, and the rest under the chosen
one, which merges back what it does not support: both starts pass through an over-split
state and end near the same K (measured: benchmarks/few_labels.py). ``explore=0`` turns
this off.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, multigammaln

from discotok.errors import DataError, check_choice, check_range
from discotok.fewlabels.selftrain import check_classes


def niw_posterior(
    z: np.ndarray, m0: np.ndarray, kappa0: float, psi0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The NIW posterior's mean m_n and scale matrix Psi_n after observing `z` (n x d)."""
    n = len(z)
    mean = z.mean(0)
    centred = z - mean
    diff = (mean - m0)[:, None]
    psi_n = psi0 + centred.T @ centred + (kappa0 * n / (kappa0 + n)) * (diff @ diff.T)
    return (kappa0 * m0 + z.sum(0)) / (kappa0 + n), psi_n


def niw_log_marginal(
    z: np.ndarray, m0: np.ndarray, kappa0: float, nu0: float, psi0_logdet: float, psi0: np.ndarray
) -> float:
    """log p(X) of points `z` (n x d) under a Normal-inverse-Wishart prior (m0, kappa0, nu0,
    psi0), the mean and covariance integrated out (Murphy, "Conjugate Bayesian analysis")."""
    n, d = z.shape
    kappa_n, nu_n = kappa0 + n, nu0 + n
    _, psi_n = niw_posterior(z, m0, kappa0, psi0)
    _, logdet_n = np.linalg.slogdet(psi_n)
    return float(
        -0.5 * n * d * np.log(np.pi)
        + multigammaln(nu_n / 2, d)
        - multigammaln(nu0 / 2, d)
        + 0.5 * nu0 * psi0_logdet
        - 0.5 * nu_n * logdet_n
        + 0.5 * d * (np.log(kappa0) - np.log(kappa_n))
    )


STRENGTHS = (0.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
HELD_OUT_STRENGTHS = (0.0, 100.0, 400.0, 1600.0, 6400.0)
CALIBRATIONS = ("auto", "split", "held-out")


class SemiSupervisedGMM:
    """GPC's semi-supervised GMM; after `fit`: `labels_` (component of each point),
    `k_` (number of components), `old_` (old class of each of the first components),
    `history_` (K after each iteration), `strength_` (the prior strength of the last
    iterations: calibrated or given), `calibration_` (how it was chosen: ``"given"``,
    ``"split"``, ``"held-out"``, or ``"none"`` -- held-out calibration with fewer than 4 old
    classes, so the weakest) and `held_out_scores_` (strength -> adjusted Rand index, where
    held-out classes chose it). `calibrate`: ``"auto"`` (the split test where a labelled
    class is large enough, else held-out classes), ``"split"`` or ``"held-out"``."""

    def __init__(
        self,
        k_init: int,
        *,
        iterations: int = 40,
        alpha: float = 1.0,
        prior_scale: float = 1.0,
        prior_strength: float | None = None,
        dim: int = 16,
        min_size: int = 10,
        explore: float = 0.5,
        calibrate: str = "auto",
        seed: int = 0,
    ) -> None:
        check_choice("calibrate", calibrate, CALIBRATIONS)
        self.calibrate = calibrate
        check_range("k_init", k_init, 1)
        check_range("iterations", iterations, 1)
        check_range("explore", explore, 0, 1, high_inclusive=False)
        self.explore = explore
        check_range("alpha", alpha, 0, low_inclusive=False)
        check_range("prior_scale", prior_scale, 0, low_inclusive=False)
        check_range("dim", dim, 1)
        check_range("min_size", min_size, 2)
        self.k_init, self.iterations, self.alpha = k_init, iterations, alpha
        if prior_strength is not None:
            check_range("prior_strength", prior_strength, 0)
        self.prior_strength = prior_strength
        self.prior_scale, self.dim, self.min_size, self.seed = prior_scale, dim, min_size, seed

    # ---- setup -------------------------------------------------------------------------
    def _project(self, x: np.ndarray) -> np.ndarray:
        """Unit-norm features, PCA to `dim` dimensions (Gaussians fit better, and faster)."""
        x = np.asarray(x, dtype=np.float64)
        x = x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12)
        x = x - x.mean(0)
        d = min(self.dim, x.shape[1], len(x) - 1)
        _, _, vt = np.linalg.svd(x[:: max(1, len(x) // 5000)], full_matrices=False)
        return x @ vt[:d].T

    def _prior(self, z: np.ndarray, old_code: np.ndarray, labelled: np.ndarray) -> None:
        d = z.shape[1]
        self._classes = [z[labelled & (old_code == c)] for c in range(len(self.old_))]
        self._within = sum(np.cov(zc.T, bias=True) for zc in self._classes if len(zc) > 1)
        self._within = self._within / len(self._classes) + 1e-6 * np.eye(d)
        self.kappa0 = 1.0
        self.m0 = z.mean(0)
        self._set_strength(self.prior_strength if self.prior_strength is not None else 0.0)

    def _set_strength(self, strength: float) -> None:
        d = len(self.m0)
        self.strength_ = strength
        self.nu0 = d + 2.0 + strength
        self.psi0 = self.prior_scale * (self.nu0 - d - 1) * self._within
        self.psi0_logdet = float(np.linalg.slogdet(self.psi0)[1])

    def _calibrate(
        self, x: np.ndarray, y: np.ndarray, labelled: np.ndarray, rng: np.random.Generator
    ) -> None:
        """The weakest prior under which no labelled class would be split in two; on
        held-out classes where no labelled class is large enough to test.

        (Merging two labelled classes is not a usable test: the Dirichlet-process term
        Gamma(n1) Gamma(n2) / Gamma(n) favours merging large groups by about n log 2 nats,
        more than overlapping classes gain by staying apart -- which is why two old classes
        are never allowed to merge.)"""
        from discotok.tokenizers.kmeans import faiss_kmeans

        halves = []  # drawn whatever `calibrate` says: every path uses the same random numbers
        for zc in self._classes:
            if len(zc) >= 2 * self.min_size:
                _, half, _ = faiss_kmeans(zc.astype(np.float32), 2, seed=int(rng.integers(2**31)))
                if np.bincount(half, minlength=2).min() >= self.min_size:
                    halves.append((zc[half == 0], zc[half == 1]))
        if self.calibrate == "held-out" or (self.calibrate == "auto" and not halves):
            self._calibrate_held_out(x, y, labelled, rng)
            return
        self.calibration_ = "split"
        for strength in STRENGTHS:  # no class to test ("split" asked for): the weakest
            self._set_strength(strength)
            if max((self._log_h_split(a, b) for a, b in halves), default=-1.0) < 0:
                return

    def _calibrate_held_out(
        self, x: np.ndarray, y: np.ndarray, labelled: np.ndarray, rng: np.random.Generator
    ) -> None:
        """The strength whose mixture best recovers old classes whose labels are hidden."""
        from sklearn.metrics import adjusted_rand_score

        if len(self.old_) < 4:  # two folds of at least two classes each
            self.calibration_ = "none"
            self._set_strength(0.0)
            return
        order = rng.permutation(self.old_)
        folds = (order[: len(order) // 2], order[len(order) // 2 :])
        self.held_out_scores_ = {}
        for strength in HELD_OUT_STRENGTHS:
            scores = []
            for hidden in folds:
                probe = labelled & np.isin(y, hidden)
                inner = SemiSupervisedGMM(
                    self.k_init,
                    iterations=self.iterations,
                    alpha=self.alpha,
                    prior_scale=self.prior_scale,
                    prior_strength=strength,
                    dim=self.dim,
                    min_size=self.min_size,
                    explore=self.explore,
                    seed=self.seed,
                ).fit(x, y, labelled & ~probe)
                scores.append(adjusted_rand_score(y[probe], inner.labels_[probe]))
            self.held_out_scores_[strength] = float(np.mean(scores))
        self.calibration_ = "held-out"
        self._set_strength(max(self.held_out_scores_, key=self.held_out_scores_.get))

    def _log_ml(self, z: np.ndarray) -> float:
        return niw_log_marginal(z, self.m0, self.kappa0, self.nu0, self.psi0_logdet, self.psi0)

    def _init_labels(
        self, z: np.ndarray, old_code: np.ndarray, labelled: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        n_old = len(self.old_)
        centres = [z[labelled & (old_code == c)].mean(0) for c in range(n_old)]
        pool = z[~labelled]
        closest = ((pool[:, None] - np.array(centres)[None]) ** 2).sum(-1).min(1)
        for _ in range(self.k_init - n_old):  # k-means++ picks for the other components
            pick = rng.choice(len(pool), p=closest / closest.sum())
            centres.append(pool[pick])
            closest = np.minimum(closest, ((pool - pool[pick]) ** 2).sum(1))
        labels = ((z[:, None] - np.array(centres)[None]) ** 2).sum(-1).argmin(1)
        labels[labelled] = old_code[labelled]
        return labels

    # ---- EM ----------------------------------------------------------------------------
    def _em_step(self, z: np.ndarray, labels: np.ndarray, labelled: np.ndarray) -> np.ndarray:
        """One M-step (NIW posterior mode of each component) and hard E-step."""
        n, d = z.shape
        ks = np.unique(labels)
        scores = np.empty((n, len(ks)))
        for j, k in enumerate(ks):
            zk = z[labels == k]
            nk = len(zk)
            mean, psi = niw_posterior(zk, self.m0, self.kappa0, self.psi0)
            cov = psi / (self.nu0 + nk + d + 1)  # the posterior mode of the covariance
            chol = np.linalg.cholesky(cov)
            sol = np.linalg.solve(chol, (z - mean).T)
            log_det = 2 * np.log(np.diag(chol)).sum()
            scores[:, j] = np.log(nk / n) - 0.5 * (log_det + (sol**2).sum(0))
        new = ks[scores.argmax(1)]
        new[labelled] = labels[labelled]
        return new

    # ---- split / merge -----------------------------------------------------------------
    def _log_h_split(self, z1: np.ndarray, z2: np.ndarray) -> float:
        both = np.concatenate([z1, z2])
        return float(
            np.log(self.alpha)
            + gammaln(len(z1))
            + self._log_ml(z1)
            + gammaln(len(z2))
            + self._log_ml(z2)
            - gammaln(len(both))
            - self._log_ml(both)
        )

    def _split(
        self, z: np.ndarray, labels: np.ndarray, labelled: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        from discotok.tokenizers.kmeans import faiss_kmeans

        labels = labels.copy()
        for k in np.unique(labels):
            members = np.flatnonzero(labels == k)
            if len(members) < 2 * self.min_size:
                continue
            pinned = labelled[members]
            if pinned.any():  # an old class: its labelled points stay in half 0
                half = _pinned_two_means(z[members], pinned)
            else:
                seed = int(rng.integers(2**31))
                _, half, _ = faiss_kmeans(z[members].astype(np.float32), 2, seed=seed, niter=10)
            sizes = np.bincount(half, minlength=2)
            if sizes.min() < self.min_size:
                continue
            log_h = self._log_h_split(z[members[half == 0]], z[members[half == 1]])
            if np.log(rng.random()) < log_h:
                labels[members[half == 1]] = labels.max() + 1
        return labels

    def _merge(self, z: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Propose every pair (not two old classes), most probable merges first; each
        component takes part in at most one accepted merge per iteration."""
        labels = labels.copy()
        ks = np.unique(labels)
        log_ml = {int(k): self._log_ml(z[labels == k]) for k in ks}
        sizes = {int(k): int((labels == k).sum()) for k in ks}
        n_old = len(self.old_)
        proposals = []
        for i, a in enumerate(ks):
            for b in ks[i + 1 :]:
                a, b = int(a), int(b)
                if a < n_old and b < n_old:
                    continue
                both = z[(labels == a) | (labels == b)]
                log_h = (
                    -np.log(self.alpha)
                    + gammaln(len(both))
                    + self._log_ml(both)
                    - gammaln(sizes[a])
                    - log_ml[a]
                    - gammaln(sizes[b])
                    - log_ml[b]
                )
                proposals.append((log_h, a, b))
        done: set[int] = set()
        for log_h, a, b in sorted(proposals, reverse=True):
            if a in done or b in done:
                continue
            if np.log(rng.random()) < log_h:
                labels[labels == b] = a  # a < b: an old class keeps its id
                done.update((a, b))
        return labels

    # ---- fit ---------------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, labelled: np.ndarray) -> SemiSupervisedGMM:
        """Cluster all of `x`; `y` is read only where `labelled` is True."""
        x = np.asarray(x)
        labelled = np.asarray(labelled, dtype=bool)
        if x.ndim != 2 or len(labelled) != len(x) or len(y) != len(x):
            raise DataError(
                f"x must be (n, dim) with one label and one labelled flag per row; got x "
                f"{x.shape}, y {np.shape(y)}, labelled {labelled.shape}"
            )
        self.old_ = check_classes(np.asarray(y)[labelled], None)
        if self.k_init < len(self.old_):
            raise DataError(
                f"k_init={self.k_init} is below the {len(self.old_)} labelled classes; "
                "start from at least one component per labelled class"
            )
        if len(x) - labelled.sum() < self.k_init:
            raise DataError(
                f"{len(x) - labelled.sum()} unlabelled points cannot seed k_init="
                f"{self.k_init} components"
            )
        rng = np.random.default_rng(self.seed)
        z = self._project(x)
        old_code = np.full(len(x), -1)
        old_code[labelled] = np.searchsorted(self.old_, np.asarray(y)[labelled])
        self._prior(z, old_code, labelled)
        self.calibration_, self.held_out_scores_ = "given", {}
        if self.prior_strength is None:
            self._calibrate(x, np.asarray(y), labelled, rng)
        labels = self._init_labels(z, old_code, labelled, rng)
        self.history_ = [len(np.unique(labels))]
        strength, explore = self.strength_, int(round(self.explore * self.iterations))
        for it in range(self.iterations):
            if explore:  # the first `explore` iterations under the weakest prior
                self._set_strength(0.0 if it < explore else strength)
            labels = self._em_step(z, labels, labelled)
            if it % 2 == 0:
                labels = self._split(z, labels, labelled, rng)
            else:
                labels = self._merge(z, labels, rng)
            labels = self._em_step(z, labels, labelled)
            self.history_.append(len(np.unique(labels)))
        self.labels_ = _relabel(labels)
        self.k_ = int(self.labels_.max() + 1)
        return self


def _pinned_two_means(z: np.ndarray, pinned: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Split proposal for an old class: 2-means where the labelled points never leave half 0
    (faiss cannot pin points, and this is two centroids on one component's points). Half 1
    starts from the unlabelled points farthest from the labelled mean."""
    a = z[pinned].mean(0)
    far = ((z - a) ** 2).sum(1)
    free = ~pinned
    if free.sum() < 2:
        return np.zeros(len(z), dtype=int)
    half = (free & (far > np.median(far[free]))).astype(int)
    for _ in range(iterations):
        if not half.any():
            break
        a, b = z[half == 0].mean(0), z[half == 1].mean(0)
        half = (((z - b) ** 2).sum(1) < ((z - a) ** 2).sum(1)).astype(int)
        half[pinned] = 0
    return half


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Components numbered 0..K-1; the old classes (always present: their labelled points
    are pinned) keep ids 0..len(old)-1."""
    return np.unique(labels, return_inverse=True)[1]


def discovery_accuracy(
    y: np.ndarray, clusters: np.ndarray, old_classes: np.ndarray
) -> dict[str, float]:
    """GCD's All / Old / New accuracy: one Hungarian map on all points, then split by class."""
    from scipy.optimize import linear_sum_assignment

    classes, yc = np.unique(y, return_inverse=True)
    groups, cc = np.unique(clusters, return_inverse=True)
    counts = np.zeros((len(groups), len(classes)), dtype=np.int64)
    np.add.at(counts, (cc, yc), 1)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.full(len(groups), -1)
    mapping[rows] = cols
    correct = mapping[cc] == yc
    old = np.isin(y, old_classes)
    return {
        "all_acc": float(correct.mean()),
        "old_acc": float(correct[old].mean()) if old.any() else float("nan"),
        "new_acc": float(correct[~old].mean()) if (~old).any() else float("nan"),
    }
