"""Continual pre-training: one model keeps pre-training on a sequence of data splits that
arrive in turn (here: groups of classes), with a linear probe after each split.

Each split is trained as its own run (``<run_dir>/task<t>/``), started from the previous
split's weights (``pretrain(init_from=...)``; the optimiser state starts afresh). Two
learning-rate plans:

* ``infinite`` (Ibrahim et al. 2024): warmup and a cosine cooldown to a constant on the
  first split only; every later split trains at that constant -- no re-warming;
* ``cosine``: every split warms up again and decays to zero (the repeated-cosine baseline).

After split t a linear probe is fit on the train embeddings of every class seen so far and
scored on their test samples, split by split: ``accuracy[t][j]``. Forgetting of split j is
its best accuracy before the last split minus its accuracy after the last.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from discotok.errors import ConfigError, DataError, check_choice
from discotok.pipeline import ConfigLike, as_config, load_dataset, load_encoder, pretrain

PLANS = ("infinite", "cosine")


def class_groups(classes: np.ndarray, size: int) -> list[list[int]]:
    """Consecutive groups of `size` classes: [[0, 1], [2, 3], ...]."""
    classes = np.unique(classes)
    return [classes[i : i + size].tolist() for i in range(0, len(classes), size)]


def _probe(encoder: Any, data: Any, seen: list[int], tasks: list[list[int]]) -> list[float]:
    """Linear probe on the seen classes; accuracy on each seen split's test samples."""
    from sklearn.linear_model import LogisticRegression

    from discotok.encoders.inference import encode_array
    from discotok.evaluators.probes import standardize

    train = np.isin(data.y_train, seen)
    test = np.isin(data.y_test, seen)
    a = encode_array(encoder, data.x_train[train])
    b = encode_array(encoder, data.x_test[test])
    a, b = standardize(a, b)
    pred = LogisticRegression(max_iter=1000).fit(a, data.y_train[train]).predict(b)
    y = data.y_test[test]
    return [float((pred[np.isin(y, task)] == y[np.isin(y, task)]).mean()) for task in tasks]


def continual(
    config: ConfigLike,
    run_dir: str | Path,
    *,
    plan: str = "infinite",
    classes_per_task: int = 2,
    epochs_per_task: int = 12,
) -> dict[str, Any]:
    """Pre-train on the dataset's class groups in turn -> ``continual.json`` in `run_dir`."""
    check_choice("plan", plan, PLANS)
    cfg = as_config(config)
    data = load_dataset(cfg)
    if not data.has_labels:
        raise DataError("continual pre-training splits the data by class: it needs labels")
    tasks = class_groups(data.y_train, classes_per_task)
    if len(tasks) < 2:
        raise ConfigError(f"{len(tasks)} split(s) of {classes_per_task} classes: need at least 2")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    accuracy: list[list[float]] = []
    previous = None
    for t, task in enumerate(tasks):
        path = run_dir / f"task{t}.npz"
        train, test = np.isin(data.y_train, task), np.isin(data.y_test, task)
        np.savez(
            path,
            x=data.x_train[train],
            y=data.y_train[train],
            x_test=data.x_test[test],
            y_test=data.y_test[test],
        )
        step_cfg = copy.deepcopy(cfg.to_dict())
        step_cfg["data"] = {"name": "arrays", "path": str(path), "modality": data.modality}
        step_cfg["train"]["epochs"] = epochs_per_task
        step_cfg["train"]["schedule"] = plan
        if plan == "infinite" and t > 0:  # later splits: the constant rate, no re-warming
            step_cfg["train"].update(warmup_epochs=0.0, cooldown_epochs=0.0)
        pretrain(step_cfg, run_dir / f"task{t}", resume=True, init_from=previous)
        previous = run_dir / f"task{t}" / "checkpoints" / "last.pt"
        encoder, _, _ = load_encoder(run_dir / f"task{t}")
        seen = [c for group in tasks[: t + 1] for c in group]
        accuracy.append(_probe(encoder, data, seen, tasks[: t + 1]))
    final = accuracy[-1]
    forgetting = [max(row[j] for row in accuracy[j:-1]) - final[j] for j in range(len(tasks) - 1)]
    result = {
        "plan": plan,
        "tasks": tasks,
        "epochs_per_task": epochs_per_task,
        "accuracy": accuracy,
        "average_accuracy": [float(np.mean(row)) for row in accuracy],
        "forgetting": forgetting,
        "mean_forgetting": float(np.mean(forgetting)),
    }
    (run_dir / "continual.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
