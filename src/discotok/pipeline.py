"""The pipeline, stage by stage; each stage reads what the one before wrote to the run directory.

    pretrain(config, run_dir)   dataset -> views -> encoder -> method ==train==> checkpoint
    embed(run_dir)              checkpoint -> embeddings.npz
    tokenize(run_dir)           embeddings -> tokenizer.npz + tokens.npz  (tokenization.py)
    evaluate(run_dir)           embeddings, tokens, raw input -> metrics.json + report.md
                                                                          (evaluation.py)

Example:
    >>> from discotok import pretrain, embed, tokenize, evaluate
    >>> run = pretrain({"train": {"epochs": 1}}, "runs/quick")   # doctest: +SKIP
    >>> metrics = evaluate(run)                                   # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from discotok.config import RunConfig, TrainConfig, load_config, resolve
from discotok.data.base import Dataset
from discotok.encoders import DEFAULT_ENCODERS
from discotok.encoders.inference import encode_array, encode_frames
from discotok.environment import describe_environment
from discotok.errors import ConfigError, DataError, DiscotokError
from discotok.methods.base import SSLMethod
from discotok.registry import DATASETS, ENCODERS, METHODS, TOKENIZERS, VIEWS
from discotok.tokenizers.joint import attach_joint_tokens
from discotok.train.checkpoint import load_checkpoint
from discotok.train.distributed import launch, rank
from discotok.train.engine import StepCallback, fit, resolve_device
from discotok.views import DEFAULT_VIEWS

ConfigLike = RunConfig | dict[str, Any] | str | Path | None
# What becomes stale when a stage runs again (its outputs feed these files).
SAMPLE_TOKENS = ("tokenizer.npz", "tokens.npz", "token_metrics.json", "metrics.json")
FRAME_TOKENS = ("frame_tokenizer.npz", "frame_tokens.npz", "frame_token_metrics.json")
STALE = {
    "pretrain": ("embeddings.npz", "frames.npz", *SAMPLE_TOKENS, *FRAME_TOKENS),
    "embed": SAMPLE_TOKENS,
    "embed_frames": FRAME_TOKENS,
    "tokenize": ("metrics.json",),
}
# Settings that may change between a run and its resumption without changing its result.
RUNTIME_ONLY = {"progress", "num_threads", "device", "checkpoint_every", "log_every"}


def as_config(config: ConfigLike) -> RunConfig:
    """Accept a RunConfig, a nested dict, a YAML path, or None (the defaults)."""
    if isinstance(config, RunConfig):
        return resolve(config)
    if isinstance(config, dict):
        return resolve(RunConfig.from_dict(config))
    return load_config(config)


def load_dataset(cfg: RunConfig) -> Dataset:
    return DATASETS.build(cfg.data, seed=cfg.seed)


def load_eval_dataset(cfg: RunConfig) -> Dataset:
    """The probes' data: ``evaluate.data`` when set (a distribution shift: pretrained on one
    dataset, probed on another of the same sample shape), else the run's own."""
    if not cfg.evaluate.data:
        return load_dataset(cfg)
    target = DATASETS.build(cfg.evaluate.data, seed=cfg.seed)
    source = load_dataset(cfg)
    if target.sample_shape != source.sample_shape:
        raise ConfigError(
            f"evaluate.data {cfg.evaluate.data['name']!r} has samples of shape "
            f"{target.sample_shape}; the encoder was trained on {cfg.data['name']!r} samples "
            f"of shape {source.sample_shape}"
        )
    return target


def pretraining_inputs(x: np.ndarray, train: TrainConfig, seed: int) -> np.ndarray:
    """What the engine trains on: a seeded ``train.data_fraction`` of `x` (at least 2 samples)
    with Gaussian noise of ``train.input_noise`` x the data's std added once per sample."""
    rng = np.random.default_rng([seed, 7])
    if train.data_fraction < 1.0:
        keep = max(2, int(round(train.data_fraction * len(x))))
        x = x[np.sort(rng.choice(len(x), keep, replace=False))]
    if train.input_noise > 0:
        scale = float(np.nanstd(x)) * train.input_noise
        x = (x + scale * rng.standard_normal(x.shape)).astype(x.dtype)
    return x


def build_method(cfg: RunConfig, dataset: Dataset) -> tuple[SSLMethod, torch.nn.Module]:
    """Build views, encoder and method for `dataset`, resolving ``auto`` names in `cfg`.

    Time series from the series loaders (``dataset.padded``) default to the time-series
    views and the padding-aware ``dilated`` encoder.
    """
    for section, defaults in (("views", DEFAULT_VIEWS), ("encoder", DEFAULT_ENCODERS)):
        spec = getattr(cfg, section)
        if spec.get("name") == "auto":
            name = defaults["series" if dataset.padded else dataset.modality]
            setattr(cfg, section, {**spec, "name": name})
    cfg.views = VIEWS.resolve(cfg.views)
    cfg.encoder = ENCODERS.resolve(cfg.encoder, ("input_shape",))
    cfg.method = METHODS.resolve(cfg.method, ("encoder",))
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)  # same initial weights for every process and every rerun
        views = VIEWS.build(cfg.views)
        encoder = ENCODERS.build(cfg.encoder, input_shape=dataset.sample_shape)
        method = METHODS.build(cfg.method, encoder=encoder)
        if cfg.train.token_weight > 0:
            attach_joint_tokens(
                method,
                TOKENIZERS.build(cfg.tokenizer, seed=cfg.seed),
                encoder.embed_dim,
                cfg.train.token_weight,
                cfg.method["name"],
            )
    if not getattr(encoder, "masks_padding", False) and not np.isfinite(dataset.x_train).all():
        raise ConfigError(
            f"{dataset.name} holds series of different lengths (NaN-padded); encoder "
            f"{cfg.encoder['name']!r} cannot mask padding. Use encoder.name=dilated"
        )
    return method, views


def read_config(run_dir: str | Path) -> RunConfig:
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise DataError(
            f"{str(run_dir)!r} is not a run directory (no config.yaml); "
            "create one with discotok pretrain"
        )
    return load_config(path)


def _differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if prefix.startswith("train") and key in RUNTIME_ONLY:
                continue
            out += _differences(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [] if a == b else [f"{prefix}: {a!r} -> {b!r}"]


def _prepare_run_dir(cfg: RunConfig, run_dir: Path, resume: bool) -> None:
    previous = run_dir / "config.yaml"
    if resume and previous.exists():
        try:  # with today's defaults filled in: a setting added since compares at its default
            before = load_config(previous).to_dict()
        except DiscotokError:  # a setting removed since: compare as written
            before = yaml.safe_load(previous.read_text())
        diff = _differences(before, cfg.to_dict())
        if diff:
            raise ConfigError(
                f"{run_dir} holds a run with another config ({'; '.join(diff)}); "
                "choose another run directory or start fresh (--fresh)"
            )
    elif not resume:
        for stale in ("checkpoints/last.pt", "train_log.csv", "train_result.json"):
            (run_dir / stale).unlink(missing_ok=True)
        clear_after("pretrain", run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    previous.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))


def clear_after(stage: str, run_dir: Path) -> None:
    """Delete what was made from an earlier output of `stage` (see STALE)."""
    for name in STALE[stage]:
        (run_dir / name).unlink(missing_ok=True)


def _pretrain_process(
    cfg_dict: dict,
    run_dir: str,
    resume: bool,
    callbacks: tuple[StepCallback, ...] = (),
    init_from: str | None = None,
) -> None:
    cfg = RunConfig.from_dict(cfg_dict)
    dataset = load_dataset(cfg)
    method, views = build_method(cfg, dataset)
    if init_from:  # a resumed run's own checkpoint overrides these weights inside fit
        method.load_state_dict(load_checkpoint(init_from)["model"])
    result = fit(
        method,
        views,
        pretraining_inputs(dataset.x_train, cfg.train, cfg.seed),
        cfg.train,
        run_dir,
        seed=cfg.seed,
        resume=resume,
        callbacks=callbacks,
    )
    if rank() == 0 and result.steps > result.resumed_from_step:  # a finished run stays as is
        (Path(run_dir) / "train_result.json").write_text(json.dumps(vars(result), indent=2))
        clear_after("pretrain", Path(run_dir))


def pretrain(
    config: ConfigLike = None,
    run_dir: str | Path = "runs/default",
    *,
    resume: bool = True,
    callbacks: tuple[StepCallback, ...] = (),
    init_from: str | Path | None = None,
) -> Path:
    """Train the configured method; returns the run directory (``checkpoints/last.pt``).

    With ``resume=True`` an unfinished run in `run_dir` continues from its checkpoint, and a
    finished one returns at once. ``train.num_processes > 1`` trains on that many processes
    (torch.distributed); `callbacks` are then not available. `init_from` (a checkpoint of
    the same method and encoder) starts from its weights instead of a fresh initialisation
    (continual pre-training); it is recorded in ``environment.json``.
    """
    cfg = as_config(config)
    run_dir = Path(run_dir)
    if init_from and not Path(init_from).is_file():
        raise DataError(f"init_from checkpoint {str(init_from)!r} does not exist")
    dataset = load_dataset(cfg)
    build_method(cfg, dataset)  # resolve and validate every section before anything runs
    _prepare_run_dir(cfg, run_dir, resume)
    (run_dir / "environment.json").write_text(
        json.dumps(
            describe_environment(
                seed=cfg.seed,
                device=str(resolve_device(cfg.train.device)),
                num_processes=cfg.train.num_processes,
            )
            | ({"init_from": str(init_from)} if init_from else {})
            | ({"data_notes": dataset.notes} if dataset.notes else {}),
            indent=2,
        )
    )
    init = str(init_from) if init_from else None
    if cfg.train.num_processes > 1:
        if callbacks:
            raise ConfigError("callbacks are not supported with train.num_processes > 1")
        backend = "nccl" if resolve_device(cfg.train.device).type == "cuda" else "gloo"
        launch(
            _pretrain_process,
            cfg.train.num_processes,
            (cfg.to_dict(), str(run_dir), resume, (), init),
            backend=backend,
        )
    else:
        _pretrain_process(cfg.to_dict(), str(run_dir), resume, callbacks, init)
    return run_dir


def load_method(run_dir: str | Path) -> tuple[SSLMethod, RunConfig, Dataset]:
    """The trained method of a run (eval mode, CPU), with its config and dataset."""
    cfg = read_config(run_dir)
    dataset = load_eval_dataset(cfg)
    method, _ = build_method(cfg, dataset)
    state = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt")
    method.load_state_dict(state["model"])
    return method.eval(), cfg, dataset


def load_encoder(run_dir: str | Path) -> tuple[torch.nn.Module, RunConfig, Dataset]:
    """The trained encoder of a run (eval mode, CPU), with its config and dataset."""
    method, cfg, dataset = load_method(run_dir)
    return method.encoder, cfg, dataset


def load_featurizer(
    run_dir: str | Path, frames: bool = False
) -> tuple[torch.nn.Module, RunConfig, Dataset]:
    """What makes the probed features (``evaluate.features``): the trained encoder, or the
    encoder followed by the method's projector head; eval mode, CPU; the probes' data.
    Frame-level features always come from the encoder (the projector acts on pooled ones)."""
    method, cfg, dataset = load_method(run_dir)
    if frames or cfg.evaluate.features == "encoder":
        return method.encoder, cfg, dataset
    if not hasattr(method, "projector"):
        raise ConfigError(
            f"evaluate.features=projector: method {cfg.method['name']!r} has no projector "
            "head; probe its encoder (evaluate.features=encoder)"
        )
    return torch.nn.Sequential(method.encoder, method.projector).eval(), cfg, dataset


def embed(
    run_dir: str | Path, *, batch_size: int = 1024, device: str = "auto", frames: bool = False
) -> dict[str, np.ndarray]:
    """Embed the run's train and test data with its trained encoder -> ``embeddings.npz``.

    With ``frames=True`` the frame-level features before pooling are written instead
    (``frames.npz``: ``train``/``test`` of shape (total frames, dim) and ``*_lengths``).
    """
    encoder, _, data = load_featurizer(run_dir, frames)
    dev = resolve_device(device)
    encoder.to(dev)
    out: dict[str, np.ndarray] = {}
    for split, x in (("train", data.x_train), ("test", data.x_test)):
        if frames:
            out[split], out[f"{split}_lengths"] = encode_frames(encoder, x, batch_size, dev)
        else:
            out[split] = encode_array(encoder, x, batch_size, dev)
    if data.has_labels:
        out.update(y_train=data.y_train, y_test=data.y_test)
    np.savez(Path(run_dir) / ("frames.npz" if frames else "embeddings.npz"), **out)
    clear_after("embed_frames" if frames else "embed", Path(run_dir))
    return out


def read_embeddings(run_dir: str | Path, frames: bool = False) -> dict[str, np.ndarray]:
    path = Path(run_dir) / ("frames.npz" if frames else "embeddings.npz")
    if not path.exists():
        return embed(run_dir, frames=frames)
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}
