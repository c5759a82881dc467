"""The evaluate stage: probes, token metrics and the collapse monitor (RankMe) on the
embedding and on the raw input; and what only the trained method can measure (GEDI's OOD
AUROC and samples) under ``method_metrics``.

Writes ``metrics.json`` and the report (``report.md``, ``loss.png``, ``embedding_map.png``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from discotok.config import RunConfig
from discotok.evaluators.collapse import collapsed, rankme
from discotok.methods.base import SSLMethod
from discotok.pipeline import (
    load_encoder,
    load_eval_dataset,
    load_method,
    read_config,
    read_embeddings,
)
from discotok.registry import EVALUATORS, METHODS
from discotok.report import write_report
from discotok.tokenization import raw_input, raw_token_metrics, tokenize


def evaluate_features(
    x_train: np.ndarray,
    y_train: np.ndarray | None,
    x_test: np.ndarray,
    y_test: np.ndarray | None,
    cfg: RunConfig,
) -> dict[str, float]:
    """Run every configured evaluator on one pair of (train, test) feature arrays."""
    out: dict[str, float] = {}
    for name in cfg.evaluate.evaluators:
        out.update(
            EVALUATORS.get(name)(
                x_train, y_train, x_test, y_test, seed=cfg.seed, knn_k=cfg.evaluate.knn_k
            )
        )
    return out


def evaluate(run_dir: str | Path) -> dict[str, Any]:
    """Probe embeddings and tokens (and the raw input as a baseline) -> metrics.json, report."""
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    data = load_eval_dataset(cfg)
    emb = read_embeddings(run_dir)
    learned: dict[str, float] = {}
    if data.has_labels:
        learned = evaluate_features(emb["train"], data.y_train, emb["test"], data.y_test, cfg)
    learned["rankme"] = rankme(emb["test"])
    tokens_path = run_dir / "token_metrics.json"
    if not tokens_path.exists():  # evaluate the tokens the user made, or make the default ones
        tokenize(run_dir)
    token_info = json.loads(tokens_path.read_text())
    learned.update({k: v for k, v in token_info.items() if k.startswith("token_")})
    metrics: dict[str, Any] = {
        "dataset": cfg.data["name"],
        "method": cfg.method["name"],
        "encoder": cfg.encoder["name"],
        "tokenizer": token_info["tokenizer"],
        "seed": cfg.seed,
        "num_train": int(len(data.x_train)),
        "num_test": int(len(data.x_test)),
        "embedding": learned,
        "collapsed": collapsed(learned["rankme"], emb["test"].shape[1]),
    }
    if data.notes:
        metrics["data_notes"] = data.notes
    if cfg.evaluate.include_raw:  # the same probes and tokenizer on the standardized input
        inp = raw_input(data)
        raw: dict[str, float] = {}
        if data.has_labels:
            raw = evaluate_features(inp.train, data.y_train, inp.test, data.y_test, cfg)
        raw["rankme"] = rankme(inp.test)
        raw.update(raw_token_metrics(inp, cfg, token_info["tokenizer"]))
        metrics["raw"] = raw
    if METHODS.get(cfg.method["name"]).evaluate_method is not SSLMethod.evaluate_method:
        method, _, _ = load_method(run_dir)
        metrics["method_metrics"] = method.evaluate_method(data, run_dir, cfg.seed)
    result = run_dir / "train_result.json"
    if result.exists():
        metrics["train"] = json.loads(result.read_text())
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    write_report(run_dir, metrics, data, emb, cfg)
    return metrics


def multilevel_probe(
    run_dir: str | Path, grid: int = 8, levels: str = "all", knn_k: int = 20
) -> dict[str, Any]:
    """MSM's protocol on a run's trained encoder and its (image) dataset: per-image linear and
    kNN accuracy on the pooled multi-level features, and the dense probe on ink labels."""
    from discotok.evaluators.dense import probe_encoder

    encoder, cfg, data = load_encoder(run_dir)
    return probe_encoder(encoder, data, grid, levels, knn_k, cfg.seed)
