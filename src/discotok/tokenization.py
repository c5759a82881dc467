"""The tokenize stage: fit a tokenizer on a run's embeddings, write tokens, measure them.

tokens.npz (format 1), readable by numpy alone:
    train_codes, test_codes     int64 token ids, one row per token
    train_ids, test_ids         int64 index of the sample each token belongs to
    train_lengths, test_lengths int64 tokens per sample (1 for pooled embeddings)
    num_codes                   the tokenizer's number of distinct ids
    y_train, y_test             labels, when the dataset has them
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from discotok.config import RunConfig
from discotok.data.base import Dataset
from discotok.encoders.inference import encode_array
from discotok.evaluators.probes import standardize
from discotok.evaluators.robustness import token_agreement
from discotok.evaluators.tokens import token_metrics
from discotok.pipeline import (
    clear_after,
    load_dataset,
    load_encoder,
    read_config,
    read_embeddings,
)
from discotok.registry import TOKENIZERS, VIEWS
from discotok.tokenizers.base import Tokenizer

TOKENS_FORMAT = 1


def build_tokenizer(spec: dict[str, Any], seed: int = 0) -> Tokenizer:
    return TOKENIZERS.build(spec, seed=seed)


def measure_tokens(
    tok: Tokenizer,
    train: np.ndarray,
    test: np.ndarray,
    y_test: np.ndarray | None,
) -> dict[str, float]:
    """Token metrics on the test split; dead codes counted on the train split."""
    codes = tok.encode(test)
    _, _, mse = tok(test)
    return {
        **token_metrics(codes, tok.num_codes, y_test),
        "token_dead_codes": float(tok.num_codes - len(np.unique(tok.encode(train)))),
        "token_mse": mse,
    }


def write_tokens(path: Path, tok: Tokenizer, splits: dict[str, np.ndarray], **extra: Any) -> None:
    arrays: dict[str, Any] = {"format": TOKENS_FORMAT, "num_codes": tok.num_codes, **extra}
    for split, vectors in splits.items():
        codes = tok.encode(vectors)
        arrays[f"{split}_codes"] = codes
        arrays[f"{split}_ids"] = np.arange(len(codes), dtype=np.int64)
        arrays[f"{split}_lengths"] = np.ones(len(codes), dtype=np.int64)
    np.savez(path, **arrays)


def _robustness(
    run_dir: Path, cfg: RunConfig, data: Dataset, tok: Tokenizer, raw: bool = False
) -> dict[str, float]:
    views = VIEWS.build(cfg.views)
    if not hasattr(views, "variants"):
        return {}
    if raw:
        mean = data.x_train.reshape(len(data.x_train), -1).mean(0)
        std = data.x_train.reshape(len(data.x_train), -1).std(0)
        std[std < 1e-8] = 1.0

        def featurize(x: np.ndarray) -> np.ndarray:
            return (x.reshape(len(x), -1) - mean) / std
    else:
        encoder, _, _ = load_encoder(run_dir)

        def featurize(x: np.ndarray) -> np.ndarray:
            return encode_array(encoder, x)

    return token_agreement(featurize, tok, data.x_test, views.variants(), seed=cfg.seed)


def tokenize(
    run_dir: str | Path, tokenizer: dict[str, Any] | None = None, *, robustness: bool = True
) -> dict[str, float]:
    """Fit the tokenizer on train embeddings, encode both splits -> tokens.npz + metrics."""
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    spec = TOKENIZERS.resolve(tokenizer or cfg.tokenizer, ("seed",))
    emb = read_embeddings(run_dir)
    t0 = time.perf_counter()
    tok = build_tokenizer(spec, cfg.seed).fit(emb["train"])
    fit_seconds = time.perf_counter() - t0
    clear_after("tokenize", run_dir)
    tok.save(run_dir / "tokenizer.npz")
    labels = {k: v for k, v in emb.items() if k.startswith("y_")}
    write_tokens(
        run_dir / "tokens.npz", tok, {"train": emb["train"], "test": emb["test"]}, **labels
    )
    metrics = {
        **measure_tokens(tok, emb["train"], emb["test"], emb.get("y_test")),
        "token_fit_seconds": fit_seconds,
    }
    if robustness:
        metrics.update(_robustness(run_dir, cfg, load_dataset(cfg), tok))
    (run_dir / "token_metrics.json").write_text(
        json.dumps({"tokenizer": spec, **metrics}, indent=2)
    )
    return metrics


def raw_token_metrics(
    data: Dataset, cfg: RunConfig, spec: dict[str, Any], robustness: bool = True
) -> dict[str, float]:
    """The same tokenizer fitted on the standardized raw input: the baseline for tokens."""
    a, b = standardize(
        data.x_train.reshape(len(data.x_train), -1), data.x_test.reshape(len(data.x_test), -1)
    )
    tok = build_tokenizer(spec, cfg.seed).fit(a)
    out = measure_tokens(tok, a, b, data.y_test)
    if robustness:
        out.update(_robustness(Path("."), cfg, data, tok, raw=True))
    return out


def compare_tokenizers(
    run_dir: str | Path, names: list[str], codes: int | None = None
) -> dict[str, dict[str, float]]:
    """Fit several tokenizer families on the same embeddings -> token_comparison.json."""
    run_dir = Path(run_dir)
    for name in names:
        TOKENIZERS.get(name)  # fail on a wrong name before any fitting
    cfg = read_config(run_dir)
    data = load_dataset(cfg)
    emb = read_embeddings(run_dir)
    results = {}
    for name in names:
        spec = TOKENIZERS.resolve({"name": name, **({"codes": codes} if codes else {})}, ("seed",))
        t0 = time.perf_counter()
        tok = build_tokenizer(spec, cfg.seed).fit(emb["train"])
        seconds = time.perf_counter() - t0
        metrics = measure_tokens(tok, emb["train"], emb["test"], emb.get("y_test"))
        metrics.update(_robustness(run_dir, cfg, data, tok), token_fit_seconds=seconds)
        results[name] = metrics
    (run_dir / "token_comparison.json").write_text(json.dumps(results, indent=2))
    return results
