"""Self-training on frozen features: fit on the labels, pseudo-label the unlabelled points the
model is confident about, refit on both, repeat (Amini et al., "Self-Training: A Survey").

Four ways to choose which pseudo-labels to trust, the survey's main axis:

* ``fixed``      -- confidence >= `threshold` (the classic rule; scikit-learn's baseline);
* ``kbest``      -- the k most confident points of each predicted class, k growing each round;
* ``curriculum`` -- every point above a confidence percentile that falls each round
  (curriculum labelling: 20 % of the unlabelled set, then 40 %, ...);
* ``dynamic``    -- class-wise self-adaptive thresholds (FreeMatch): the bar is the mean
  confidence over the unlabelled points, lowered for each class in proportion to how much
  probability mass the model gives it, so a class it is still learning is not starved;
  `threshold` is not used.

Pseudo-labels are ``hard`` (one-hot) or ``soft`` (the sharpened predicted distribution).
Every round re-selects from all unlabelled points with the newest model, so a wrong early
pseudo-label can be corrected, and the head is refit from scratch.
"""

from __future__ import annotations

import numpy as np

from discotok.errors import DataError, check_choice, check_range
from discotok.evaluators.probes import fit_standardizer
from discotok.fewlabels.head import Head, one_hot

POLICIES = ("fixed", "kbest", "curriculum", "dynamic")
PSEUDO = ("hard", "soft")


def select_confident(
    proba: np.ndarray, policy: str, step: int, rounds: int, threshold: float
) -> np.ndarray:
    """Which unlabelled points to pseudo-label at round `step` (1..rounds) of `rounds`."""
    conf, pred = proba.max(1), proba.argmax(1)
    share = step / rounds
    if policy == "fixed":
        return conf >= threshold
    if policy == "curriculum":
        return conf >= np.quantile(conf, 1 - share)
    if policy == "kbest":
        mask = np.zeros(len(conf), dtype=bool)
        k = max(1, int(round(share * len(conf) / proba.shape[1])))
        for c in np.unique(pred):
            idx = np.flatnonzero(pred == c)
            mask[idx[np.argsort(-conf[idx])[:k]]] = True
        return mask
    # dynamic: FreeMatch's self-adaptive thresholds -- the global bar is the mean confidence,
    # scaled per class by the class's share of the predicted mass (max-normalised)
    marginal = proba.mean(0)
    per_class = conf.mean() * marginal / marginal.max()
    return conf >= per_class[pred]


class SelfTraining:
    """Self-training classifier over frozen features; `history` records each round."""

    def __init__(
        self,
        policy: str = "dynamic",
        *,
        threshold: float = 0.95,
        rounds: int = 5,
        pseudo: str = "hard",
        temperature: float = 0.5,
        unlabelled_weight: float = 1.0,
        head: str = "linear",
        head_epochs: int = 300,
        seed: int = 0,
    ) -> None:
        check_choice("policy", policy, POLICIES)
        check_choice("pseudo", pseudo, PSEUDO)
        check_range("threshold", threshold, 0, 1)
        check_range("rounds", rounds, 0)  # 0: the labels alone, no pseudo-labels
        check_range("temperature", temperature, 0, low_inclusive=False)
        check_range("unlabelled_weight", unlabelled_weight, 0)
        self.policy, self.threshold, self.rounds = policy, threshold, rounds
        self.pseudo, self.temperature = pseudo, temperature
        self.unlabelled_weight = unlabelled_weight
        self.head_kind, self.head_epochs, self.seed = head, head_epochs, seed
        self.history: list[dict[str, float]] = []

    def _head(self) -> Head:
        return Head(self.head_kind, epochs=self.head_epochs, seed=self.seed)

    def _targets(self, proba: np.ndarray) -> np.ndarray:
        if self.pseudo == "hard":
            return one_hot(proba.argmax(1), proba.shape[1])
        sharp = proba ** (1 / self.temperature)
        return sharp / sharp.sum(1, keepdims=True)

    def fit(
        self,
        x_labelled: np.ndarray,
        y_labelled: np.ndarray,
        x_unlabelled: np.ndarray,
        *,
        classes: np.ndarray | None = None,
        y_unlabelled: np.ndarray | None = None,
    ) -> SelfTraining:
        """Train. `classes` (optional) is the full class list: each needs a labelled example.
        `y_unlabelled`, when known, only scores the pseudo-labels in `history`."""
        self.classes_ = check_classes(y_labelled, classes)
        if len(x_unlabelled) == 0:
            raise DataError("self-training needs unlabelled points; got none")
        self.mean_, self.std_ = fit_standardizer(np.concatenate([x_labelled, x_unlabelled]))
        xl, xu = self._scale(x_labelled), self._scale(x_unlabelled)
        targets_l = one_hot(np.searchsorted(self.classes_, y_labelled), len(self.classes_))
        self.head_ = self._head().fit(xl, targets_l)
        self.history = [self._record(0, np.zeros(len(xu), bool), None, y_unlabelled)]
        for step in range(1, self.rounds + 1):
            proba = self.head_.predict_proba(xu)
            chosen = select_confident(proba, self.policy, step, self.rounds, self.threshold)
            x = np.concatenate([xl, xu[chosen]])
            t = np.concatenate([targets_l, self._targets(proba[chosen])])
            w = np.concatenate([np.ones(len(xl)), np.full(chosen.sum(), self.unlabelled_weight)])
            self.head_ = self._head().fit(x, t, w)
            self.history.append(self._record(step, chosen, proba, y_unlabelled))
        return self

    def pseudo_labels(self, x_unlabelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The final model's choice: which unlabelled points to trust, and their targets
        (hard or soft, over `classes_`) -- what a student model is then trained on."""
        proba = self.predict_proba(x_unlabelled)
        chosen = select_confident(proba, self.policy, self.rounds, self.rounds, self.threshold)
        return chosen, self._targets(proba[chosen])

    def linear_head(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(weight, bias) of the linear head on *unscaled* features -- the standardisation
        folded in -- or None for an MLP head. A fine-tuned student starts from it."""
        return self.head_.unscaled_linear(self.mean_, self.std_)

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean_) / self.std_).astype(np.float32)

    def _record(
        self, step: int, chosen: np.ndarray, proba: np.ndarray | None, y_u: np.ndarray | None
    ) -> dict[str, float]:
        row = {"round": step, "pseudo_labelled": int(chosen.sum())}
        if proba is not None and y_u is not None and chosen.any():
            pred = self.classes_[proba[chosen].argmax(1)]
            row["pseudo_label_acc"] = float((pred == np.asarray(y_u)[chosen]).mean())
        return row

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.head_.predict_proba(self._scale(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(x).argmax(1)]


def check_classes(y_labelled: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """The class list, checked: labels inside it, at least one labelled example of each."""
    y = np.asarray(y_labelled)
    if y.ndim != 1 or len(y) == 0:
        raise DataError(f"need a non-empty 1-D array of labels, got shape {y.shape}")
    seen = np.unique(y)
    if classes is None:
        classes = seen
    classes = np.unique(np.asarray(classes))
    outside = np.setdiff1d(seen, classes)
    if len(outside):
        raise DataError(f"labels {outside.tolist()} are not in the class list {classes.tolist()}")
    missing = np.setdiff1d(classes, seen)
    if len(missing):
        raise DataError(
            f"classes {missing.tolist()} have no labelled example; self-training cannot learn "
            "them -- label at least one each, or use `discotok discover` for unseen classes"
        )
    if len(classes) < 2:
        raise DataError("need labelled examples of at least 2 classes, got 1")
    return classes


def sklearn_self_training(
    x_labelled: np.ndarray,
    y_labelled: np.ndarray,
    x_unlabelled: np.ndarray,
    *,
    threshold: float = 0.95,
    seed: int = 0,
) -> object:
    """scikit-learn's SelfTrainingClassifier around logistic regression: the reference."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.semi_supervised import SelfTrainingClassifier

    x = np.concatenate([x_labelled, x_unlabelled])
    y = np.concatenate([np.asarray(y_labelled), np.full(len(x_unlabelled), -1)])
    base = LogisticRegression(max_iter=1000, random_state=seed)
    model = make_pipeline(StandardScaler(), SelfTrainingClassifier(base, threshold=threshold))
    return model.fit(x, y)
