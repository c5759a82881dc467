"""The few-label workflows on a run's embeddings: ``self_train``, ``discover``,
``label_shift``. Each reads ``embeddings.npz`` (embedding first if needed) and writes
``<name>.json`` (settings and metrics) and ``<name>.npz`` (predictions) to the run directory.

Labels come from the user (an array with one entry per train sample, -1 = unlabelled; for
``label_shift`` a domain id per train sample) or, when none are given, are simulated from the
run's own labels -- then every result is scored against the hidden truth.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from discotok.errors import ConfigError, DataError, check_range
from discotok.fewlabels.ddfa import DDFA, cross_fit, label_shift_scores
from discotok.fewlabels.finetune import (
    domain_discriminator,
    fine_tune,
    predict,
    run_data,
    view_embeddings,
)
from discotok.fewlabels.gpc import SemiSupervisedGMM, discovery_accuracy
from discotok.fewlabels.selftrain import SelfTraining, check_classes, sklearn_self_training
from discotok.fewlabels.splits import (
    class_proportions,
    discovery_split,
    label_shift_domains,
    label_subset,
)

UNLABELLED = -1


def read_label_file(path: str | Path, n: int, what: str = "labels") -> np.ndarray:
    """A .npy file with one integer per train sample (-1 = unlabelled)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(f"{what} file {str(path)!r} is missing or empty")
    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise DataError(f"{what} file {str(path)!r} is not a readable .npy file ({err})") from None
    return check_label_array(values, n, what)


def check_label_array(values: np.ndarray, n: int, what: str = "labels") -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (n,) or not np.issubdtype(values.dtype, np.integer):
        raise DataError(
            f"{what} must be {n} integers, one per train sample; got {values.dtype} {values.shape}"
        )
    return values.astype(np.int64)


def _embeddings(run_dir: str | Path) -> dict[str, np.ndarray]:
    from discotok.pipeline import read_embeddings

    return read_embeddings(run_dir)


def _write(run_dir: str | Path, name: str, result: dict[str, Any], **arrays: np.ndarray) -> None:
    Path(run_dir, f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    np.savez(Path(run_dir, f"{name}.npz"), **arrays)


def _given_or_simulated(
    emb: dict[str, np.ndarray], labels: np.ndarray | None, what: str
) -> tuple[np.ndarray | None, bool]:
    truth = emb.get("y_train")
    if labels is not None:
        return check_label_array(labels, len(emb["train"]), what), False
    if truth is None:
        raise DataError(
            f"{what}: the run's data has no labels to simulate a few-label setting from; "
            "pass your labels (one per train sample, -1 = unlabelled)"
        )
    return None, True


def self_train(
    run_dir: str | Path,
    *,
    labels: np.ndarray | None = None,
    label_fraction: float = 0.01,
    policy: str = "dynamic",
    pseudo: str = "hard",
    head: str = "linear",
    rounds: int = 5,
    threshold: float = 0.95,
    finetune_epochs: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Self-train a classifier on the run's embeddings -> ``self_train.json`` / ``.npz``.

    Without `labels`, `label_fraction` of each class is kept (stratified) and the rest hidden.
    Reported next to the self-trained head: the same head on the labels alone, and
    scikit-learn's SelfTrainingClassifier (fixed threshold), all on the test split.
    With `finetune_epochs` > 0 the encoder itself is then fine-tuned (see ``finetune.py``).
    """
    emb = _embeddings(run_dir)
    x, y_true = emb["train"], emb.get("y_train")
    given, simulated = _given_or_simulated(emb, labels, "self-training labels")
    if simulated:
        y = y_true.copy()
        y[~label_subset(y_true, label_fraction, seed=seed)] = UNLABELLED
        classes = np.unique(y_true)
    else:
        y, classes = given, None
    known = y != UNLABELLED
    classes = check_classes(y[known], classes)
    t0 = time.perf_counter()
    model = SelfTraining(
        policy, threshold=threshold, rounds=rounds, pseudo=pseudo, head=head, seed=seed
    ).fit(
        x[known],
        y[known],
        x[~known],
        classes=classes,
        y_unlabelled=y_true[~known] if simulated else None,
    )
    result: dict[str, Any] = {
        "settings": {
            "policy": policy,
            "pseudo": pseudo,
            "head": head,
            "rounds": rounds,
            "threshold": threshold,
            "finetune_epochs": finetune_epochs,
            "seed": seed,
            "labels": "simulated" if simulated else "given",
            "label_fraction": label_fraction if simulated else float(known.mean()),
            "labelled": int(known.sum()),
            "unlabelled": int((~known).sum()),
        },
        "history": model.history,
        "fit_seconds": time.perf_counter() - t0,
    }
    arrays = {"train_pred": model.predict(x)}
    if "test" in emb and emb.get("y_test") is not None:
        xt, yt = emb["test"], emb["y_test"]
        alone = SelfTraining(policy, rounds=0, head=head, seed=seed)  # the labels only
        alone.fit(x[known], y[known], x[~known], classes=classes)
        reference = sklearn_self_training(x[known], y[known], x[~known], seed=seed)
        arrays["test_pred"] = model.predict(xt)
        result["test_acc"] = {
            "self_training": float((arrays["test_pred"] == yt).mean()),
            "labels_only": float((alone.predict(xt) == yt).mean()),
            "sklearn_self_training": float((reference.predict(xt) == yt).mean()),
        }
        if finetune_epochs:
            result["test_acc"].update(
                _fine_tuned(run_dir, model, alone, x, y, known, emb, finetune_epochs, seed)
            )
    _write(run_dir, "self_train", result, **arrays)
    return result


def _fine_tuned(
    run_dir: str | Path,
    model: SelfTraining,
    alone: SelfTraining,
    x: np.ndarray,
    y: np.ndarray,
    known: np.ndarray,
    emb: dict[str, np.ndarray],
    epochs: int,
    seed: int,
) -> dict[str, float]:
    """Fine-tune the encoder on labels + the teacher's pseudo-labels (from `model`'s head),
    and -- for the same number of optimiser steps, from `alone`'s head -- on the labels
    alone; test accuracy of both."""
    from discotok.fewlabels.head import one_hot

    data = run_data(run_dir, len(x))
    k = len(model.classes_)
    rows_l = np.flatnonzero(known)
    onehot = one_hot(np.searchsorted(model.classes_, y[known]), k)
    chosen, soft = model.pseudo_labels(x[~known])
    rows = np.concatenate([rows_l, np.flatnonzero(~known)[chosen]])
    targets = np.concatenate([onehot, soft])
    batch = 256
    steps = epochs * math.ceil(len(rows) / batch)
    epochs_alone = math.ceil(steps / math.ceil(len(rows_l) / batch))
    out = {}
    for name, r, t, e, start in (
        ("self_training_finetuned", rows, targets, epochs, model),
        ("labels_only_finetuned", rows_l, onehot, epochs_alone, alone),
    ):
        head = start.linear_head()  # the student starts from its teacher's classifier
        student, dev = fine_tune(run_dir, r, t, epochs=e, batch_size=batch, seed=seed, head=head)
        pred = model.classes_[predict(student, data.x_test, dev)]
        out[name] = float((pred == emb["y_test"]).mean())
    return out


def discover(
    run_dir: str | Path,
    *,
    labels: np.ndarray | None = None,
    known: int | None = None,
    label_fraction: float = 0.5,
    k_init: int | None = None,
    iterations: int = 40,
    finetune_epochs: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Generalized category discovery with GPC's split/merge GMM -> ``discovery.json``/``.npz``.

    Without `labels`, the first `known` classes (default: half) are old and `label_fraction`
    of their points labelled. `k_init` (default: twice the labelled classes) is where the
    number of clusters starts; the estimate is reported with All / Old / New accuracy on the
    unlabelled points, next to k-means (faiss) given the true number of classes. With
    `finetune_epochs` > 0 the run's featurizer is then fine-tuned on the clusters
    (prototypes.py) and the mixture fitted again on the new embeddings, from the estimated K;
    the first round's numbers are kept under ``before_finetune``.
    """
    emb = _embeddings(run_dir)
    x, y_true = emb["train"], emb.get("y_train")
    given, simulated = _given_or_simulated(emb, labels, "discovery labels")
    if simulated:
        n_classes = len(np.unique(y_true))
        known = n_classes // 2 if known is None else known
        labelled, old = discovery_split(y_true, known, label_fraction, seed=seed)
        y = np.where(labelled, y_true, UNLABELLED)
    else:
        y = given
        labelled = y != UNLABELLED
        old = check_classes(y[labelled], None)
    k_init = 2 * len(old) if k_init is None else k_init
    t0 = time.perf_counter()
    gmm = SemiSupervisedGMM(k_init, iterations=iterations, seed=seed).fit(x, y, labelled)
    arrays: dict[str, np.ndarray] = {}
    before = None
    if finetune_epochs:
        from discotok.fewlabels.prototypes import prototype_finetune

        before = _discovery_scores(x, y_true, gmm, labelled, old, seed)
        x, arrays["test_finetuned"], losses = prototype_finetune(
            run_dir, gmm.labels_, epochs=finetune_epochs, seed=seed
        )
        arrays["train_finetuned"] = x
        before.update(k_estimate=gmm.k_, k_history=gmm.history_, finetune_losses=losses)
        gmm = SemiSupervisedGMM(gmm.k_, iterations=iterations, seed=seed).fit(x, y, labelled)
    result: dict[str, Any] = {
        "settings": {
            "k_init": k_init,
            "iterations": iterations,
            "seed": seed,
            "labels": "simulated" if simulated else "given",
            "old_classes": old.tolist(),
            "labelled": int(labelled.sum()),
            "unlabelled": int((~labelled).sum()),
            "prior_strength": gmm.strength_,
            "prior_calibration": gmm.calibration_,
            "explore": gmm.explore,
            "finetune_epochs": finetune_epochs,
        },
        "k_estimate": gmm.k_,
        "k_history": gmm.history_,
        "fit_seconds": time.perf_counter() - t0,
        **_discovery_scores(x, y_true, gmm, labelled, old, seed),
    }
    if before is not None:
        result["before_finetune"] = before
    _write(run_dir, "discovery", result, clusters=gmm.labels_, labelled=labelled, **arrays)
    return result


def _discovery_scores(
    x: np.ndarray,
    y_true: np.ndarray | None,
    gmm: SemiSupervisedGMM,
    labelled: np.ndarray,
    old: np.ndarray,
    seed: int,
) -> dict[str, Any]:
    """All / Old / New accuracy of the mixture and of k-means given the true K, on the
    unlabelled points (nothing without ground truth)."""
    if y_true is None or labelled.all():
        return {}
    from discotok.tokenizers.kmeans import faiss_kmeans

    u = ~labelled
    true_k = int(len(np.unique(y_true)))
    _, clusters, _ = faiss_kmeans(
        np.ascontiguousarray(x[u], dtype=np.float32), true_k, seed=seed, nredo=5
    )
    return {
        "true_k": true_k,
        "gpc": discovery_accuracy(y_true[u], gmm.labels_[u], old),
        "kmeans_true_k": discovery_accuracy(y_true[u], clusters, old),
    }


def label_shift(
    run_dir: str | Path,
    *,
    domains: np.ndarray | None = None,
    classes: int | None = None,
    num_domains: int = 20,
    alpha: float = 0.5,
    finetune_epochs: int = 0,
    folds: int = 2,
    refit_rounds: int = 0,
    copies: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """Recover classes and p(y | d) from unlabelled domains with DDFA -> ``label_shift.*``.

    Without `domains`, the run's labelled train split is cut into `num_domains` domains with
    Dirichlet(`alpha`) class proportions; `classes` defaults to the true number of classes.
    `finetune_epochs` > 0: the domain discriminator is the run's encoder fine-tuned on the
    domain task for that many epochs (`domain_discriminator`) instead of a linear head on
    the frozen embedding. `folds`: the discriminator's cross-fitting folds (each scored by
    a model fit on the others). `refit_rounds` > 0: that many rounds of self-training under
    label shift after DDFA (a head refit to its labels, then EM; see `DDFA`). `copies` > 1:
    DDFA fits on each train sample and `copies` - 1 views of it drawn by the run's own
    augmentations, embedded by the frozen encoder, each in its sample's domain (small
    domains give the discriminator too few points); a sample's p(y | x) is the mean over its
    copies. Not with `finetune_epochs`, whose discriminator sees augmented views already.
    """
    emb = _embeddings(run_dir)
    x, y_true = emb["train"], emb.get("y_train")
    given, simulated = _given_or_simulated(emb, domains, "domains")
    domain = label_shift_domains(y_true, num_domains, alpha, seed=seed)[0] if simulated else given
    if classes is None:
        if y_true is None:
            raise DataError("label_shift needs the number of classes (classes=K) without labels")
        classes = int(len(np.unique(y_true)))
    check_range("copies", copies, 1)
    if copies > 1 and finetune_epochs:
        raise ConfigError(
            "copies > 1 augments the frozen embedding's discriminator; the fine-tuned one "
            "(finetune_epochs > 0) trains on augmented views already -- use one of the two"
        )
    t0 = time.perf_counter()
    model, proba = DDFA(classes, folds=folds, refit_rounds=refit_rounds, seed=seed), None
    code, _ = model.check_domains(x, domain)  # before minutes of fine-tuning or embedding
    if finetune_epochs:
        discriminator = domain_discriminator(run_dir, x, code, finetune_epochs, seed)
        proba = cross_fit(len(x), discriminator, seed, folds)
    if copies > 1:
        rows = view_embeddings(run_dir, len(x), copies, seed)
        model.fit(rows, np.tile(domain, copies))
    else:
        model.fit(x, domain, domain_proba=proba)
    # one row per sample: the mean over its copies (the copies are blocks of len(x) rows)
    p_y_x = model.proba_.reshape(copies, len(x), classes).mean(0)
    labels = p_y_x.argmax(1)
    result: dict[str, Any] = {
        "settings": {
            "classes": classes,
            "domains": int(len(model.domains_)),
            "finetune_epochs": finetune_epochs,
            "folds": folds,
            "refit_rounds": refit_rounds,
            "copies": copies,
            "alpha": alpha if simulated else None,
            "labels": "simulated" if simulated else "given",
            "seed": seed,
        },
        "p_y_given_d": model.p_y_given_d_.round(4).tolist(),
        "refit_label_changes": [round(c, 4) for c in model.refit_changes_],
        "fit_seconds": time.perf_counter() - t0,
    }
    if y_true is not None and classes == len(np.unique(y_true)):
        from discotok.evaluators.clustering import hungarian_accuracy
        from discotok.tokenizers.kmeans import faiss_kmeans

        code = np.unique(domain, return_inverse=True)[1]
        y_code = np.unique(y_true, return_inverse=True)[1]
        truth = class_proportions(code, y_code, len(model.domains_), classes)
        result["true_p_y_given_d"] = truth.round(4).tolist()
        result["ddfa"] = label_shift_scores(y_true, labels, model.p_y_given_d_, truth)
        _, clusters, _ = faiss_kmeans(
            np.ascontiguousarray(x, dtype=np.float32), classes, seed=seed, nredo=5
        )
        result["kmeans_acc"] = hungarian_accuracy(y_true, clusters)
    _write(run_dir, "label_shift", result, components=labels, proba=p_y_x)
    return result
