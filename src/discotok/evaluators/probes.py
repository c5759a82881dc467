"""Frozen-feature probes: a linear classifier and a k-nearest-neighbour vote (faiss)."""

from __future__ import annotations

import numpy as np

from discotok.errors import DataError
from discotok.registry import EVALUATORS


def fit_standardizer(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The train split's per-feature mean and std (1 for constant features, which stay 0)."""
    mean = train.mean(0)
    std = train.std(0)
    std[std < 1e-8] = 1.0
    return mean, std


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale both splits by the train split's mean and std."""
    mean, std = fit_standardizer(train)
    return (train - mean) / std, (test - mean) / std


def _need_labels(y_train: np.ndarray | None, y_test: np.ndarray | None, what: str) -> None:
    if y_train is None or y_test is None:
        raise DataError(f"the {what} evaluator needs labels for train and test")
    if len(np.unique(y_train)) < 2:
        raise DataError(f"the {what} evaluator needs at least 2 classes in the train labels")


@EVALUATORS.register("linear")
def linear_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    seed: int = 0,
    max_iter: int = 1000,
    **_: object,
) -> dict[str, float]:
    """Linear probe: multinomial logistic regression (scikit-learn) on standardized features."""
    from sklearn.linear_model import LogisticRegression

    _need_labels(y_train, y_test, "linear")
    a, b = standardize(x_train, x_test)
    clf = LogisticRegression(max_iter=max_iter, random_state=seed)
    clf.fit(a, y_train)
    return {"linear_acc": float((clf.predict(b) == y_test).mean())}


def cosine_neighbours(
    base: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` most cosine-similar rows of `base` for each query (faiss, exact):
    (similarities, indices), each (len(queries), min(k, len(base)))."""
    import faiss

    def unit(v: np.ndarray) -> np.ndarray:
        v = np.ascontiguousarray(v, dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-12)

    index = faiss.IndexFlatIP(base.shape[1])
    index.add(unit(base))
    return index.search(unit(queries), min(k, len(base)))


def knn_predict(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    k: int = 20,
    temperature: float = 0.07,
) -> np.ndarray:
    """Cosine kNN with similarity-weighted votes, exp(sim / T) (the InstDisc/DINO protocol)."""
    sims, nbrs = cosine_neighbours(x_train, x_test, k)
    classes = np.unique(y_train)
    code = np.searchsorted(classes, y_train)
    votes = np.zeros((len(x_test), len(classes)))
    np.add.at(votes, (np.arange(len(x_test))[:, None], code[nbrs]), np.exp(sims / temperature))
    return classes[votes.argmax(1)]


@EVALUATORS.register("knn")
def knn_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    knn_k: int = 20,
    **_: object,
) -> dict[str, float]:
    """kNN probe: cosine similarity on faiss, k neighbours with weighted votes."""
    _need_labels(y_train, y_test, "knn")
    pred = knn_predict(x_train, y_train, x_test, k=knn_k)
    return {"knn_acc": float((pred == y_test).mean())}


@EVALUATORS.register("svm")
def svm_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    seed: int = 0,
    **_: object,
) -> dict[str, float]:
    """RBF-SVM probe (the TS2Vec protocol): C chosen by 5-fold CV over 1e-4 .. 1e4."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    _need_labels(y_train, y_test, "svm")
    a, b = standardize(x_train, x_test)
    folds = min(5, int(np.bincount(np.unique(y_train, return_inverse=True)[1]).min()))
    if folds < 2:  # a class with one sample: no cross-validation possible, default C
        clf = SVC(C=1.0, gamma="scale").fit(a, y_train)
    else:
        grid = {"C": [10.0**p for p in range(-4, 5)]}
        clf = GridSearchCV(SVC(gamma="scale"), grid, cv=folds).fit(a, y_train)
    return {"svm_acc": float((clf.predict(b) == y_test).mean())}
