import numpy as np
import pytest

from discotok.errors import DataError
from discotok.evaluators.clustering import hungarian_accuracy, kmeans_clustering
from discotok.evaluators.probes import knn_probe, linear_probe
from discotok.evaluators.tokens import token_metrics


def separable(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.3, (n, 5)) + np.eye(3, 5)[y] * 4
    return x.astype(np.float32), y


def test_hungarian_accuracy_ignores_cluster_names():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert hungarian_accuracy(y, np.array([5, 5, 3, 3, 9, 9])) == 1.0
    assert hungarian_accuracy(y, np.array([1, 1, 1, 1, 2, 2])) == pytest.approx(4 / 6)


def test_probes_on_separable_and_random_data():
    x, y = separable()
    xt, yt = separable(seed=1)
    assert linear_probe(x, y, xt, yt)["linear_acc"] > 0.98
    assert knn_probe(x, y, xt, yt, knn_k=5)["knn_acc"] > 0.98
    noise = np.random.default_rng(2).normal(size=x.shape).astype(np.float32)
    assert linear_probe(noise, y, noise[::-1].copy(), yt)["linear_acc"] < 0.6
    metrics = kmeans_clustering(x, y, xt, yt)
    assert metrics["kmeans_nmi"] > 0.9 and metrics["kmeans_acc"] > 0.95


def test_probes_need_labels():
    x, y = separable()
    with pytest.raises(DataError, match="needs labels"):
        linear_probe(x, None, x, y)
    with pytest.raises(DataError, match="at least 2 classes"):
        knn_probe(x, np.zeros(len(x), int), x, y)


def test_token_metrics_known_values():
    m = token_metrics(np.array([0, 1, 2, 3] * 5), 4, np.array([0, 0, 1, 1] * 5))
    assert m["token_perplexity"] == pytest.approx(4.0)
    assert m["token_purity"] == 1.0 and m["token_dead_codes"] == 0
    m = token_metrics(np.array([0, 0, 0, 0]), 8, np.array([0, 1, 0, 1]))
    assert m["token_perplexity"] == pytest.approx(1.0)
    assert m["token_purity"] == 0.5 and m["token_dead_codes"] == 7 and m["token_usage"] == 1 / 8
