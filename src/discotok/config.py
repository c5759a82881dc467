"""The run configuration: YAML + dotted command-line overrides, validated at the edge.

Component sections (data, views, encoder, method, tokenizer) are ``{"name": ..., **options}``
checked against the registered constructor; the engine's own settings are dataclasses.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from discotok.errors import ConfigError, check_choice, check_range

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant", "infinite")
MAP_METHODS = ("tsne", "pca")
FEATURES = ("encoder", "projector")


@dataclass
class TrainConfig:
    """Settings of the training engine (not of any one method)."""

    epochs: int = 60
    steps: int = 0
    batch_size: int = 256
    lr: float = 4e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    schedule: str = "cosine"
    warmup_epochs: float = 1.0
    cooldown_epochs: float = 10.0
    constant_lr_ratio: float = 0.25
    anneal_epochs: float = 0.0
    anneal_lr_ratio: float = 0.01
    checkpoint_every: int = 200
    log_every: int = 10
    device: str = "auto"
    num_processes: int = 1
    sync_batchnorm: bool = True
    num_threads: int = 0
    progress: bool = True
    # what the engine pretrains on (probes always see the full, clean data): a seeded share
    # of the training set, and Gaussian input noise (std relative to the data's std)
    data_fraction: float = 1.0
    input_noise: float = 0.0
    # > 0: the run's tokenizer (a trainable family) trains with the encoder, its loss times
    # this weight added to the method's (tokenizers/joint.py); 0: fitted after pretraining
    token_weight: float = 0.0

    def validate(self) -> None:
        check_range("train.epochs", self.epochs, 1)
        check_range("train.steps", self.steps, 0)
        check_range("train.batch_size", self.batch_size, 2)
        check_range("train.lr", self.lr, 0.0, low_inclusive=False)
        check_range("train.weight_decay", self.weight_decay, 0.0)
        check_choice("train.optimizer", self.optimizer, OPTIMIZERS)
        check_choice("train.schedule", self.schedule, SCHEDULES)
        check_range("train.warmup_epochs", self.warmup_epochs, 0.0)
        check_range("train.cooldown_epochs", self.cooldown_epochs, 0.0)
        check_range(
            "train.constant_lr_ratio", self.constant_lr_ratio, 0.0, 1.0, low_inclusive=False
        )
        check_range("train.anneal_epochs", self.anneal_epochs, 0.0)
        check_range(
            "train.anneal_lr_ratio",
            self.anneal_lr_ratio,
            0.0,
            self.constant_lr_ratio,
            low_inclusive=False,
        )
        check_range("train.checkpoint_every", self.checkpoint_every, 1)
        check_range("train.log_every", self.log_every, 1)
        check_range("train.num_processes", self.num_processes, 1)
        check_range("train.num_threads", self.num_threads, 0)
        check_range("train.data_fraction", self.data_fraction, 0.0, 1.0, low_inclusive=False)
        check_range("train.input_noise", self.input_noise, 0.0)
        check_range("train.token_weight", self.token_weight, 0.0)
        if self.device != "auto" and not (
            self.device == "cpu" or self.device.startswith(("cuda", "mps"))
        ):
            raise ConfigError(
                f"train.device={self.device!r} is not valid; choose auto, cpu, cuda, cuda:N or mps"
            )


@dataclass
class EvalConfig:
    """Which evaluators run, and on what."""

    evaluators: list[str] = field(default_factory=lambda: ["linear", "knn", "kmeans"])
    knn_k: int = 20
    include_raw: bool = True
    map: str = "tsne"
    map_points: int = 1000
    # the probes' data: another dataset of the same sample shape (a distribution shift),
    # or empty for the run's own; and which features: the encoder's or the projector's
    data: dict[str, Any] = field(default_factory=dict)
    features: str = "encoder"

    def validate(self) -> None:
        from discotok.registry import EVALUATORS

        for name in self.evaluators:
            EVALUATORS.get(name)
        check_choice("evaluate.features", self.features, FEATURES)
        check_range("evaluate.knn_k", self.knn_k, 1)
        check_choice("evaluate.map", self.map, MAP_METHODS)
        check_range("evaluate.map_points", self.map_points, 10)


@dataclass
class RunConfig:
    """Everything that defines a run; saved resolved as ``config.yaml`` in the run directory."""

    data: dict[str, Any] = field(default_factory=lambda: {"name": "mnist1d"})
    views: dict[str, Any] = field(default_factory=lambda: {"name": "auto"})
    encoder: dict[str, Any] = field(default_factory=lambda: {"name": "auto"})
    method: dict[str, Any] = field(default_factory=lambda: {"name": "simclr"})
    tokenizer: dict[str, Any] = field(default_factory=lambda: {"name": "kmeans"})
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        raw = copy.deepcopy(raw or {})
        sections = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - sections)
        if unknown:
            raise ConfigError(
                f"unknown config section {', '.join(map(repr, unknown))}; "
                f"valid sections: {', '.join(sorted(sections))}"
            )
        cfg = cls()
        for key, value in raw.items():
            if key in ("train", "evaluate"):
                setattr(cfg, key, _dataclass_from(type(getattr(cfg, key)), key, value))
            elif key == "seed":
                if not isinstance(value, int):
                    raise ConfigError(f"seed={value!r} must be an integer")
                cfg.seed = value
            else:
                if isinstance(value, str):
                    value = {"name": value}
                if not isinstance(value, dict):
                    raise ConfigError(f"section {key!r} must be a mapping with a 'name'")
                merged = dict(getattr(cfg, key)) if "name" not in value else {}
                merged.update(value)
                setattr(cfg, key, merged)
        return cfg


def _dataclass_from(kind: type, section: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"section {section!r} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ConfigError(
            f"{section} has no option {', '.join(map(repr, unknown))}; "
            f"valid options: {', '.join(fields)}"
        )
    defaults = kind()
    for key, val in value.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(val, int) and not isinstance(val, bool):
            val = float(val)
        if not isinstance(val, expected) or (expected is int and isinstance(val, bool)):
            raise ConfigError(
                f"{section}.{key}={val!r} has the wrong type; expected {expected.__name__}"
            )
        setattr(defaults, key, val)
    return defaults


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """Turn ``["train.epochs=5", "method.name=gsimclr"]`` into a nested dict (YAML-typed)."""
    nested: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, text = item.split("=", 1)
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({err})") from None
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with an earlier override")
        node[parts[-1]] = value
    return nested


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into a copy of `base`; a new component ``name`` drops old options."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            if "name" in value and value["name"] != out[key].get("name"):
                out[key] = copy.deepcopy(value)
            else:
                out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML config (optional), apply overrides, resolve and validate everything."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping of sections")
    raw = merge(raw, parse_overrides(overrides or []))
    return resolve(RunConfig.from_dict(raw))


def resolve(cfg: RunConfig) -> RunConfig:
    """Fill every component's defaults and check names, options and ranges."""
    from discotok.registry import DATASETS, TOKENIZERS

    cfg.train.validate()
    cfg.evaluate.validate()
    cfg.data = DATASETS.resolve(cfg.data, ("seed",))
    if cfg.evaluate.data:
        cfg.evaluate.data = DATASETS.resolve(cfg.evaluate.data, ("seed",))
    cfg.tokenizer = TOKENIZERS.resolve(cfg.tokenizer, ("seed",))
    TOKENIZERS.build(cfg.tokenizer, seed=cfg.seed)  # checks option ranges; fitting comes later
    # views/encoder/method depend on the data's modality; resolved in pipeline.build_model
    return cfg
