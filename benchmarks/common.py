"""Shared by the benchmark scripts: run one configured pipeline, and write results files."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from discotok import embed, evaluate, pretrain
from discotok.environment import describe_environment

RESULTS = Path(__file__).parent / "results"
# Captured when the benchmark starts: the code that runs is the code of this moment.
START_ENVIRONMENT = describe_environment()


def run_pipeline(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Pretrain from scratch, embed, evaluate; return the metrics plus wall-clock times."""
    t0 = time.perf_counter()
    pretrain(config, run_dir, resume=False)
    t1 = time.perf_counter()
    embed(run_dir)
    metrics = evaluate(run_dir)
    metrics["pretrain_seconds"] = t1 - t0
    metrics["evaluate_seconds"] = time.perf_counter() - t1
    return metrics


def mean_std(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"environment": START_ENVIRONMENT, **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
