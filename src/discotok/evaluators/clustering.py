"""Clustering quality of features: k-means with K = number of classes, against the labels."""

from __future__ import annotations

import numpy as np

from discotok.errors import DataError
from discotok.evaluators.probes import standardize
from discotok.registry import EVALUATORS


def hungarian_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Best accuracy over one-to-one maps of clusters to classes (scipy's Hungarian solver)."""
    from scipy.optimize import linear_sum_assignment

    classes, y = np.unique(labels, return_inverse=True)
    groups, c = np.unique(clusters, return_inverse=True)
    counts = np.zeros((len(groups), len(classes)), dtype=np.int64)
    np.add.at(counts, (c, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(labels))


@EVALUATORS.register("kmeans")
def kmeans_clustering(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    seed: int = 0,
    **_: object,
) -> dict[str, float]:
    """k-means (faiss, K = number of classes) on the test split: NMI, ARI, Hungarian accuracy."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from discotok.tokenizers.kmeans import faiss_kmeans

    if y_test is None:
        raise DataError("the kmeans evaluator needs test labels")
    k = len(np.unique(y_test))
    _, test = standardize(x_train, x_test)
    _, clusters, _ = faiss_kmeans(test, k, seed=seed, nredo=5)
    return {
        "kmeans_nmi": float(normalized_mutual_info_score(y_test, clusters)),
        "kmeans_ari": float(adjusted_rand_score(y_test, clusters)),
        "kmeans_acc": hungarian_accuracy(y_test, clusters),
    }
