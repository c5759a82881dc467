"""The tokenize stage: fit a tokenizer on a run's embeddings, write tokens, measure them.

Two levels: ``sample`` (one pooled embedding -> one token per sample, files ``tokens.npz``,
``tokenizer.npz``, ``token_metrics.json``) and ``frame`` (the encoder's frame-level
features -> a token sequence per sample, files ``frame_tokens.npz``, ...).

Token files (format 1), readable by numpy alone:
    train_codes, test_codes     int64 token ids, one row per token (all sequences concatenated)
    train_ids, test_ids         int64 index of the sample each token belongs to
    train_lengths, test_lengths int64 tokens per sample (1 at the sample level)
    num_codes                   the tokenizer's number of distinct ids
    y_train, y_test             labels of the samples, when the dataset has them
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discotok.config import RunConfig
from discotok.data.base import Dataset
from discotok.encoders.inference import encode_array, encode_frames
from discotok.errors import check_choice
from discotok.evaluators.probes import standardize
from discotok.evaluators.robustness import sequence_robustness, token_agreement
from discotok.evaluators.tokens import sequence_metrics, token_metrics
from discotok.pipeline import clear_after, load_dataset, load_encoder, read_config, read_embeddings
from discotok.registry import TOKENIZERS, VIEWS
from discotok.tokenizers.base import Tokenizer

TOKENS_FORMAT = 1
LEVELS = ("sample", "frame")
Featurize = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class TokenInput:
    """What a tokenizer is fitted on and measured with, at one level."""

    train: np.ndarray  # (tokens, dim)
    test: np.ndarray
    train_lengths: np.ndarray  # tokens per sample
    test_lengths: np.ndarray
    y_train: np.ndarray | None  # per sample
    y_test: np.ndarray | None
    featurize: Featurize  # raw samples -> (vectors, lengths), for robustness


def build_tokenizer(spec: dict[str, Any], seed: int = 0) -> Tokenizer:
    return TOKENIZERS.build(spec, seed=seed)


def _per_token(labels: np.ndarray | None, lengths: np.ndarray) -> np.ndarray | None:
    return None if labels is None else np.repeat(labels, lengths)


def _run_input(run_dir: Path, level: str) -> TokenInput:
    check_choice("level", level, LEVELS)
    emb = read_embeddings(run_dir, frames=level == "frame")
    encoder, _, _ = load_encoder(run_dir)

    def featurize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if level == "frame":
            return encode_frames(encoder, x)
        return encode_array(encoder, x), np.ones(len(x), dtype=np.int64)

    ones = {s: np.ones(len(emb[s]), dtype=np.int64) for s in ("train", "test")}
    return TokenInput(
        emb["train"],
        emb["test"],
        emb.get("train_lengths", ones["train"]),
        emb.get("test_lengths", ones["test"]),
        emb.get("y_train"),
        emb.get("y_test"),
        featurize,
    )


def _raw_input(data: Dataset) -> TokenInput:
    """The standardized, flattened input as the vectors: the baseline for sample tokens."""
    flat_train = data.x_train.reshape(len(data.x_train), -1)
    a, b = standardize(flat_train, data.x_test.reshape(len(data.x_test), -1))
    mean, std = flat_train.mean(0), flat_train.std(0)
    std[std < 1e-8] = 1.0

    def featurize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x.reshape(len(x), -1) - mean) / std, np.ones(len(x), dtype=np.int64)

    ones_train, ones_test = np.ones(len(a), np.int64), np.ones(len(b), np.int64)
    return TokenInput(a, b, ones_train, ones_test, data.y_train, data.y_test, featurize)


def measure(
    tok: Tokenizer, inp: TokenInput, cfg: RunConfig, data: Dataset, robustness: bool = True
) -> dict[str, float]:
    """Token metrics on the test split (dead codes on train), plus robustness."""
    codes = tok.encode(inp.test)
    _, _, mse = tok(inp.test)
    out = {
        **token_metrics(codes, tok.num_codes, _per_token(inp.y_test, inp.test_lengths)),
        "token_dead_codes": float(tok.num_codes - len(np.unique(tok.encode(inp.train)))),
        "token_mse": mse,
    }
    sequences = bool((inp.test_lengths > 1).any())
    if sequences:
        out.update(sequence_metrics(codes, inp.test_lengths, tok.num_codes))
    views = VIEWS.build(cfg.views)
    if robustness and hasattr(views, "variants"):
        check = sequence_robustness if sequences else token_agreement
        out.update(check(inp.featurize, tok, data.x_test, views.variants(), seed=cfg.seed))
    return out


def _write_tokens(path: Path, tok: Tokenizer, inp: TokenInput) -> None:
    arrays: dict[str, Any] = {"format": TOKENS_FORMAT, "num_codes": tok.num_codes}
    for split in ("train", "test"):
        lengths = getattr(inp, f"{split}_lengths")
        arrays[f"{split}_codes"] = tok.encode(getattr(inp, split))
        arrays[f"{split}_ids"] = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        arrays[f"{split}_lengths"] = lengths
        labels = getattr(inp, f"y_{split}")
        if labels is not None:
            arrays[f"y_{split}"] = labels
    np.savez(path, **arrays)


def tokenize(
    run_dir: str | Path,
    tokenizer: dict[str, Any] | None = None,
    *,
    level: str = "sample",
    robustness: bool = True,
) -> dict[str, float]:
    """Fit the tokenizer on the train split's vectors, encode both splits, measure the tokens.

    Writes ``[frame_]tokenizer.npz``, ``[frame_]tokens.npz`` and ``[frame_]token_metrics.json``.
    """
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    spec = TOKENIZERS.resolve(tokenizer or cfg.tokenizer, ("seed",))
    inp = _run_input(run_dir, level)
    t0 = time.perf_counter()
    tok = build_tokenizer(spec, cfg.seed).fit(inp.train)
    fit_seconds = time.perf_counter() - t0
    prefix = "frame_" if level == "frame" else ""
    if level == "sample":
        clear_after("tokenize", run_dir)
    tok.save(run_dir / f"{prefix}tokenizer.npz")
    _write_tokens(run_dir / f"{prefix}tokens.npz", tok, inp)
    metrics = {
        **measure(tok, inp, cfg, load_dataset(cfg), robustness),
        "token_fit_seconds": fit_seconds,
    }
    (run_dir / f"{prefix}token_metrics.json").write_text(
        json.dumps({"tokenizer": spec, "level": level, **metrics}, indent=2)
    )
    return metrics


def raw_token_metrics(data: Dataset, cfg: RunConfig, spec: dict[str, Any]) -> dict[str, float]:
    """The same tokenizer fitted on the standardized raw input: the baseline for tokens."""
    inp = _raw_input(data)
    return measure(build_tokenizer(spec, cfg.seed).fit(inp.train), inp, cfg, data)


def compare_tokenizers(
    run_dir: str | Path, names: list[str], codes: int | None = None, *, level: str = "sample"
) -> dict[str, dict[str, float]]:
    """Fit several tokenizer families on the same vectors -> ``[frame_]token_comparison.json``."""
    run_dir = Path(run_dir)
    for name in names:
        TOKENIZERS.get(name)  # fail on a wrong name before any fitting
    cfg = read_config(run_dir)
    data = load_dataset(cfg)
    inp = _run_input(run_dir, level)
    results = {}
    for name in names:
        spec = TOKENIZERS.resolve({"name": name, **({"codes": codes} if codes else {})}, ("seed",))
        t0 = time.perf_counter()
        tok = build_tokenizer(spec, cfg.seed).fit(inp.train)
        seconds = time.perf_counter() - t0
        results[name] = {**measure(tok, inp, cfg, data), "token_fit_seconds": seconds}
    prefix = "frame_" if level == "frame" else ""
    (run_dir / f"{prefix}token_comparison.json").write_text(json.dumps(results, indent=2))
    return results
