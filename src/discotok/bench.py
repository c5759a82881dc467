"""``discotok bench GRID.yaml``: a grid of runs over methods x datasets x seeds and the five
aspects of Kumar et al.'s video SSL benchmark (pretraining data size, model size,
distribution shift, data noise, which features are probed), one tidy table and a report.

A grid file (every key but ``methods`` optional)::

    name: aspects                      # default: the file's stem
    base: ../configs/mnist1d_simclr.yaml   # a run config, relative to the grid file
    overrides: {train: {epochs: 10}}   # on top of base, for every cell
    seeds: [0, 1, 2]
    methods: [simclr, {name: byol, proj_dim: 64}]
    datasets: [mnist1d, {name: mnist1d, num_samples: 4000}]   # default: base's data
    aspects:                           # each varied alone; the others stay at base
      data_size: [0.1, 0.3]            # train.data_fraction: share of the set pretrained on
      model_size: [{width: 32}, {width: 128}]   # encoder options
      shift: [{name: glyphs, charset: digits}]  # evaluate.data: probe another dataset
      noise: [0.2, 0.5]                # train.input_noise: Gaussian, x the data's std
      features: [projector]            # evaluate.features: probe the projector's output

Each (dataset, method, seed) runs a ``base`` cell plus one cell per aspect value: pretrain,
embed, evaluate in ``OUT/runs/<cell>``. Probes always train and test on full, clean data
(the shift aspect's target data). After each cell ``OUT/results.csv`` is rewritten (one
row per cell: its settings, status and error, metrics, the raw input's linear and kNN
accuracy on the probed data (the floor), times, session); ``OUT/sessions.json``
records each invocation's machine, versions and commit. Run again, the grid skips the cells
already recorded (``--retry-failed`` reruns the failed ones) and an interrupted cell resumes
from its checkpoint; a cell that fails is recorded with its error and the grid goes on.
``OUT/report.md`` holds mean +- std tables per aspect and the plots (linear accuracy vs
data size, vs noise, vs pretraining time).
"""

from __future__ import annotations

import copy
import csv
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from discotok.config import RunConfig, merge
from discotok.errors import ConfigError, DataError, TrainingInterrupted

GRID_KEYS = ("name", "base", "overrides", "seeds", "methods", "datasets", "aspects")
ASPECTS = ("data_size", "model_size", "shift", "noise", "features")
METRICS = ("linear_acc", "knn_acc", "kmeans_nmi", "kmeans_acc", "token_purity", "rankme")
COLUMNS = (
    "cell",
    "dataset",
    "method",
    "aspect",
    "value",
    "seed",
    "status",
    "error",
    *METRICS,
    "raw_linear_acc",
    "raw_knn_acc",
    "pretrain_seconds",
    "samples_per_second",
    "pretrain_samples",
    "wall_seconds",
    "session",
)
# applied before the grid's own overrides: no progress bars, PCA maps (t-SNE costs seconds)
HARNESS_DEFAULTS = {"train": {"progress": False}, "evaluate": {"map": "pca"}}


@dataclass
class Cell:
    id: str
    dataset: str
    method: str
    aspect: str
    value: str
    seed: int
    config: dict[str, Any]


def _label(value: Any) -> str:
    """A short readable label: mnist1d, byol(proj_dim=64), width=32, 0.1."""
    if isinstance(value, dict):
        name = value.get("name")
        opts = ",".join(f"{k}={v}" for k, v in value.items() if k != "name")
        if name is None:
            return opts
        return f"{name}({opts})" if opts else str(name)
    return str(value)


def _component(value: Any, what: str) -> dict[str, Any]:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and "name" in value:
        return dict(value)
    raise ConfigError(f"{what} entry {value!r} must be a name or a mapping with a 'name'")


def load_grid(path: str | Path) -> dict[str, Any]:
    """Read and check a grid file: unknown keys and aspects are refused with the valid ones."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"grid file {str(path)!r} does not exist")
    try:
        grid = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise DataError(f"grid file {str(path)!r} is not valid YAML ({err})") from None
    if not isinstance(grid, dict):
        raise ConfigError(f"grid file {str(path)!r} must hold a mapping of {GRID_KEYS}")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ConfigError(f"unknown grid key(s) {unknown}; valid keys: {', '.join(GRID_KEYS)}")
    if not grid.get("methods"):
        raise ConfigError("the grid names no methods (methods: [simclr, ...])")
    aspects = grid.get("aspects") or {}
    if not isinstance(aspects, dict):
        raise ConfigError(f"aspects must be a mapping of aspect -> values; aspects: {ASPECTS}")
    bad = sorted(set(aspects) - set(ASPECTS))
    if bad:
        raise ConfigError(f"unknown aspect(s) {bad}; valid aspects: {', '.join(ASPECTS)}")
    for aspect, values in aspects.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"aspect {aspect!r} needs a non-empty list of values")
    seeds = grid.setdefault("seeds", [0])
    if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds):
        raise ConfigError(f"seeds must be a list of integers, not {seeds!r}")
    grid.setdefault("name", path.stem)
    if grid.get("base"):
        base = (path.parent / grid["base"]).resolve()
        if not base.is_file():
            raise DataError(f"grid base config {str(base)!r} does not exist")
        grid["base"] = str(base)
    return grid


def _aspect_config(config: dict[str, Any], aspect: str, value: Any) -> dict[str, Any]:
    """`config` with one aspect set to `value`."""
    if aspect == "data_size":
        return merge(config, {"train": {"data_fraction": value}})
    if aspect == "noise":
        return merge(config, {"train": {"input_noise": value}})
    if aspect == "features":
        return merge(config, {"evaluate": {"features": value}})
    if aspect == "model_size":
        if not isinstance(value, dict) or "name" in value:
            raise ConfigError(
                f"model_size values are encoder options like {{width: 32}}, not {value!r}"
            )
        return merge(config, {"encoder": value})
    return merge(config, {"evaluate": {"data": _component(value, "shift")}})  # shift


def grid_cells(grid: dict[str, Any]) -> list[Cell]:
    """Every cell of the grid, each config checked (names, options, ranges) before any runs."""
    from discotok.pipeline import as_config
    from discotok.registry import ENCODERS, METHODS

    base = yaml.safe_load(Path(grid["base"]).read_text()) if grid.get("base") else {}
    base = merge(merge(RunConfig().to_dict(), base or {}), HARNESS_DEFAULTS)
    base = merge(base, grid.get("overrides") or {})
    datasets = [_component(d, "datasets") for d in grid.get("datasets") or [base["data"]]]
    methods = [_component(m, "methods") for m in grid["methods"]]
    cells = []
    for data in datasets:
        for method in methods:
            settings = [("base", "base")] + [
                (aspect, value)
                for aspect, values in (grid.get("aspects") or {}).items()
                for value in values
            ]
            for seed in grid["seeds"]:
                for aspect, value in settings:
                    config = merge(base, {"data": data, "method": method, "seed": seed})
                    if aspect != "base":
                        config = _aspect_config(config, aspect, value)
                    label = "base" if aspect == "base" else f"{aspect}={_label(value)}"
                    cell_id = f"{_label(data)}/{_label(method)}/{label}/seed{seed}"
                    try:
                        resolved = as_config(copy.deepcopy(config)).to_dict()
                        METHODS.resolve(dict(resolved["method"]), ("encoder",))
                        if resolved["encoder"].get("name", "auto") != "auto":  # else: by data
                            ENCODERS.resolve(dict(resolved["encoder"]), ("input_shape",))
                    except ConfigError as err:
                        raise ConfigError(f"grid cell {cell_id}: {err}") from None
                    cells.append(
                        Cell(
                            cell_id,
                            _label(data),
                            _label(method),
                            aspect,
                            "" if aspect == "base" else _label(value),
                            seed,
                            config,
                        )
                    )
    return cells


def _directory(cell_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", cell_id)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def run_cell(cell: Cell, run_dir: Path) -> dict[str, Any]:
    """Pretrain (resuming a checkpoint), embed, evaluate one cell; its metric columns."""
    from discotok.evaluation import evaluate
    from discotok.pipeline import embed, pretrain

    pretrain(cell.config, run_dir, resume=True)
    embed(run_dir)
    metrics = evaluate(run_dir)
    train = metrics.get("train", {})
    return {
        **{k: metrics["embedding"].get(k, "") for k in METRICS},
        **{f"raw_{k}": metrics.get("raw", {}).get(k, "") for k in ("linear_acc", "knn_acc")},
        "pretrain_seconds": train.get("seconds", ""),
        "samples_per_second": train.get("samples_per_second", ""),
        "pretrain_samples": train.get("steps", 0)
        * cell.config["train"]["batch_size"]
        * cell.config["train"]["num_processes"],
    }


def run_grid(
    path: str | Path, out: str | Path | None = None, retry_failed: bool = False
) -> tuple[Path, list[dict[str, Any]]]:
    """Run every cell not yet recorded in ``OUT/results.csv``; write the table and report.
    Returns the output folder and every recorded row."""
    from discotok.environment import describe_environment

    grid = load_grid(path)
    cells = grid_cells(grid)
    out = Path(out or Path("runs") / "bench" / grid["name"])
    out.mkdir(parents=True, exist_ok=True)
    sessions_path, table = out / "sessions.json", out / "results.csv"
    sessions = json.loads(sessions_path.read_text()) if sessions_path.is_file() else []
    sessions.append(describe_environment(grid=str(path)))
    sessions_path.write_text(json.dumps(sessions, indent=2) + "\n")
    rows = [r for r in _read_rows(table) if not (retry_failed and r["status"] == "failed")]
    done = {r["cell"] for r in rows}
    todo = [c for c in cells if c.id not in done]
    print(f"grid {grid['name']}: {len(cells)} cells, {len(cells) - len(todo)} already recorded")
    for k, cell in enumerate(todo, 1):
        row = {c: "" for c in COLUMNS} | {
            "cell": cell.id,
            "dataset": cell.dataset,
            "method": cell.method,
            "aspect": cell.aspect,
            "value": cell.value,
            "seed": cell.seed,
            "session": len(sessions) - 1,
        }
        t0 = time.perf_counter()
        try:
            row.update(run_cell(cell, out / "runs" / _directory(cell.id)), status="ok")
        except TrainingInterrupted as err:
            raise TrainingInterrupted(
                f"grid stopped in cell {cell.id}: {err} Run the same bench command to go on."
            ) from None
        except Exception as err:  # noqa: BLE001 - a failed cell is recorded; the grid goes on
            row.update(status="failed", error=f"{type(err).__name__}: {err}")
        row["wall_seconds"] = round(time.perf_counter() - t0, 2)
        rows.append(row)
        _write_rows(table, rows)
        result = row["error"] or f"linear {float(row['linear_acc'] or 'nan'):.3f}"
        print(f"[{k}/{len(todo)}] {cell.id}: {row['status']} ({result})", flush=True)
    from discotok.bench_report import write_bench_report

    write_bench_report(out, rows, grid)
    return out, rows
