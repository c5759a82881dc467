"""Few-label settings built from any labelled set: a labelled subset, known/novel classes for
category discovery, and domains whose class proportions shift (latent label shift)."""

from __future__ import annotations

import numpy as np

from discotok.errors import DataError, check_range


def check_labels(y: np.ndarray | None, what: str) -> np.ndarray:
    """Integer class labels as a 1-D array; a clear error when there are none."""
    if y is None:
        raise DataError(f"{what} needs labels (y_train) to build or score its setting")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise DataError(f"{what}: labels must be a non-empty 1-D array, got shape {y.shape}")
    return y


def label_subset(
    y: np.ndarray, fraction: float, *, seed: int = 0, min_per_class: int = 1
) -> np.ndarray:
    """A boolean mask labelling `fraction` of each class (at least `min_per_class` each).

    Stratified, so that 1 % of a 10-class set still labels every class: self-training cannot
    learn a class it never sees labelled.
    """
    y = check_labels(y, "label_subset")
    check_range("label_fraction", fraction, 0, 1, low_inclusive=False)
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        take = min(len(idx), max(min_per_class, int(round(fraction * len(idx)))))
        mask[rng.choice(idx, take, replace=False)] = True
    return mask


def discovery_split(
    y: np.ndarray, known: int, label_fraction: float = 0.5, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The generalized category discovery setting (Vaze et al.'s protocol).

    The first `known` classes (in sorted order) are "old": `label_fraction` of their points
    are labelled. Every other point -- the rest of the old classes and all of the new
    classes -- is unlabelled. Returns (labelled mask, old class ids).
    """
    y = check_labels(y, "discovery")
    classes = np.unique(y)
    check_range("known", known, 1, len(classes) - 1)
    old = classes[:known]
    mask = label_subset(y, label_fraction, seed=seed) & np.isin(y, old)
    return mask, old


def label_shift_domains(
    y: np.ndarray, domains: int, alpha: float, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split a labelled set into `domains` whose class proportions differ (latent label shift).

    Each domain draws class weights w_d ~ Dirichlet(alpha); every point of class y goes to
    domain d with probability proportional to w_d(y), so p(x | y) is the same in every domain
    and only p(y | d) shifts (small alpha: strong shift). Returns the domain of each point and
    the realised p(y | d) (domains x classes), measured from the assignment.
    """
    y = check_labels(y, "label_shift_domains")
    check_range("domains", domains, 2)
    check_range("alpha", alpha, 0, low_inclusive=False)
    classes, code = np.unique(y, return_inverse=True)
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(len(classes), alpha), size=domains)  # (D, K)
    by_class = weights / weights.sum(0, keepdims=True)  # p(d | y) for the assignment
    cumulative = np.cumsum(by_class[:, code].T, axis=1)  # (n, D)
    domain = (rng.random(len(y))[:, None] > cumulative).sum(1).clip(0, domains - 1)
    return domain, class_proportions(domain, code, domains, len(classes))


def class_proportions(domain: np.ndarray, code: np.ndarray, domains: int, k: int) -> np.ndarray:
    """p(y | d) counted from domain ids and class codes 0..k-1 (empty domains: uniform)."""
    counts = np.zeros((domains, k))
    np.add.at(counts, (domain, code), 1)
    totals = counts.sum(1, keepdims=True)
    return np.where(totals > 0, counts / np.maximum(totals, 1), 1.0 / k)
