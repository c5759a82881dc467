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
from discotok.evaluators.probes import fit_standardizer
from discotok.evaluators.robustness import sequence_robustness, token_agreement
from discotok.evaluators.tokens import sequence_metrics, token_metrics
from discotok.pipeline import (
    clear_after,
    load_featurizer,
    load_method,
    read_config,
    read_embeddings,
)
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
    x_test: np.ndarray  # the raw test samples that `test` was made from


def tokens_prefix(level: str) -> str:
    """File-name prefix of a level's token files: tokens.npz or frame_tokens.npz."""
    return "frame_" if level == "frame" else ""


def build_tokenizer(spec: dict[str, Any], seed: int = 0) -> Tokenizer:
    return TOKENIZERS.build(spec, seed=seed)


def _per_token(labels: np.ndarray | None, lengths: np.ndarray) -> np.ndarray | None:
    return None if labels is None else np.repeat(labels, lengths)


def _run_input(run_dir: Path, level: str) -> TokenInput:
    check_choice("level", level, LEVELS)
    emb = read_embeddings(run_dir, frames=level == "frame")
    encoder, _, data = load_featurizer(run_dir, frames=level == "frame")

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
        data.x_test,
    )


def raw_input(data: Dataset) -> TokenInput:
    """The flattened input, standardized with the train split's statistics: the baseline.

    NaN end-padding of variable-length series reads as 0 here.
    """
    mean, std = fit_standardizer(np.nan_to_num(data.x_train.reshape(len(data.x_train), -1)))

    def featurize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = np.nan_to_num(x.reshape(len(x), -1))
        return (flat - mean) / std, np.ones(len(x), dtype=np.int64)

    (a, ones_train), (b, ones_test) = featurize(data.x_train), featurize(data.x_test)
    return TokenInput(
        a, b, ones_train, ones_test, data.y_train, data.y_test, featurize, data.x_test
    )


def encode_splits(tok: Tokenizer, inp: TokenInput) -> dict[str, np.ndarray]:
    return {"train": tok.encode(inp.train), "test": tok.encode(inp.test)}


def measure(
    tok: Tokenizer,
    inp: TokenInput,
    cfg: RunConfig,
    robustness: bool = True,
    codes: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """Token metrics on the test split (dead codes on train), plus robustness.

    `codes` are the splits' tokens when the caller has them already (encode_splits).
    """
    codes = codes or encode_splits(tok, inp)
    test_codes = codes["test"]
    out = {
        **token_metrics(test_codes, tok.num_codes, _per_token(inp.y_test, inp.test_lengths)),
        "token_dead_codes": float(tok.num_codes - len(np.unique(codes["train"]))),
        "token_mse": tok.reconstruction_mse(inp.test, test_codes),
    }
    sequences = bool((inp.test_lengths > 1).any())
    if sequences:
        out.update(sequence_metrics(test_codes, inp.test_lengths, tok.num_codes))
    views = VIEWS.build(cfg.views)
    if robustness and hasattr(views, "variants"):
        check = sequence_robustness if sequences else token_agreement
        out.update(check(inp.featurize, tok, inp.x_test, views.variants(), seed=cfg.seed))
    return out


def _write_tokens(
    path: Path, tok: Tokenizer, inp: TokenInput, codes: dict[str, np.ndarray]
) -> None:
    arrays: dict[str, Any] = {"format": TOKENS_FORMAT, "num_codes": tok.num_codes}
    for split in ("train", "test"):
        lengths = getattr(inp, f"{split}_lengths")
        arrays[f"{split}_codes"] = codes[split]
        arrays[f"{split}_ids"] = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        arrays[f"{split}_lengths"] = lengths
        labels = getattr(inp, f"y_{split}")
        if labels is not None:
            arrays[f"y_{split}"] = labels
    np.savez(path, **arrays)


def uses_joint_tokenizer(cfg: RunConfig, spec: dict[str, Any], level: str, refit: bool) -> bool:
    """Whether `spec` at `level` is the tokenizer the run trained with its encoder."""
    return cfg.train.token_weight > 0 and level == "sample" and not refit and spec == cfg.tokenizer


def joint_tokenizer(run_dir: Path, spec: dict[str, Any], seed: int, train: np.ndarray) -> Tokenizer:
    """The tokenizer a run trained jointly with its encoder (``train.token_weight`` > 0),
    standardizing with the statistics of `train` (the training split's embeddings)."""
    method, _, _ = load_method(run_dir)
    return method.joint_tokens.export(build_tokenizer(spec, seed), train)


def tokenize(
    run_dir: str | Path,
    tokenizer: dict[str, Any] | None = None,
    *,
    level: str = "sample",
    robustness: bool = True,
    refit: bool = False,
) -> dict[str, float]:
    """Fit the tokenizer on the train split's vectors, encode both splits, measure the tokens.

    A run pretrained with ``train.token_weight`` > 0 already holds its tokenizer (trained with
    the encoder): asked for that same tokenizer at the sample level, it is taken as it is
    (``token_joint`` 1 in the metrics, fit time 0) unless `refit`, which fits a fresh one on
    the final embeddings instead. Writes ``[frame_]tokenizer.npz``, ``[frame_]tokens.npz`` and
    ``[frame_]token_metrics.json``.
    """
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    spec = TOKENIZERS.resolve(tokenizer or cfg.tokenizer, ("seed",))
    inp = _run_input(run_dir, level)
    joint = uses_joint_tokenizer(cfg, spec, level, refit)
    t0 = time.perf_counter()
    if joint:
        tok = joint_tokenizer(run_dir, spec, cfg.seed, inp.train)
    else:
        tok = build_tokenizer(spec, cfg.seed).fit(inp.train)
    fit_seconds = 0.0 if joint else time.perf_counter() - t0
    prefix = tokens_prefix(level)
    if level == "sample":
        clear_after("tokenize", run_dir)
    tok.save(run_dir / f"{prefix}tokenizer.npz")
    codes = encode_splits(tok, inp)
    _write_tokens(run_dir / f"{prefix}tokens.npz", tok, inp, codes)
    metrics = {
        **measure(tok, inp, cfg, robustness, codes),
        "token_fit_seconds": fit_seconds,
        "token_joint": float(joint),
    }
    (run_dir / f"{prefix}token_metrics.json").write_text(
        json.dumps({"tokenizer": spec, "level": level, **metrics}, indent=2)
    )
    return metrics


def raw_token_metrics(inp: TokenInput, cfg: RunConfig, spec: dict[str, Any]) -> dict[str, float]:
    """The same tokenizer fitted on the raw input (see raw_input): the baseline for tokens."""
    return measure(build_tokenizer(spec, cfg.seed).fit(inp.train), inp, cfg)


def compare_tokenizers(
    run_dir: str | Path, names: list[str], codes: int | None = None, *, level: str = "sample"
) -> dict[str, dict[str, float]]:
    """Fit several tokenizer families on the same vectors -> ``[frame_]token_comparison.json``."""
    run_dir = Path(run_dir)
    for name in names:
        TOKENIZERS.get(name)  # fail on a wrong name before any fitting
    cfg = read_config(run_dir)
    inp = _run_input(run_dir, level)
    results = {}
    for name in names:
        spec = TOKENIZERS.resolve({"name": name, **({"codes": codes} if codes else {})}, ("seed",))
        t0 = time.perf_counter()
        tok = build_tokenizer(spec, cfg.seed).fit(inp.train)
        seconds = time.perf_counter() - t0
        results[name] = {**measure(tok, inp, cfg), "token_fit_seconds": seconds}
    (run_dir / f"{tokens_prefix(level)}token_comparison.json").write_text(
        json.dumps(results, indent=2)
    )
    return results
