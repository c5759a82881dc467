"""Shared by the benchmark scripts: run one configured pipeline, and write results files."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from discotok import embed, evaluate, pretrain
from discotok.config import RunConfig
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


METRICS = ("linear_acc", "knn_acc", "kmeans_nmi", "kmeans_acc", "token_purity")


def compare_methods(name: str, variants: dict[str, dict[str, Any]], doc: str) -> None:
    """The demo's pipeline on MNIST-1D once per method variant and seed: same encoder, views,
    epochs and seeds; a mean +- std table of the embedding's metrics -> results/<name>.json.
    Command line: [--seeds 0 1 2] [--epochs N] [--smoke]."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the demo's")
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant, method in variants.items():
            for seed in args.seeds:
                cfg = RunConfig().to_dict()
                cfg.update(seed=seed, method=method)
                cfg["train"]["progress"] = False
                if args.epochs:
                    cfg["train"]["epochs"] = args.epochs
                if args.smoke:
                    cfg["data"] = {"name": "mnist1d", "num_samples": 600}
                    cfg["train"]["epochs"] = 1
                m = run_pipeline(cfg, Path(tmp) / f"{variant}-{seed}")
                rows.append(
                    {
                        "variant": variant,
                        "seed": seed,
                        "pretrain_seconds": m["pretrain_seconds"],
                        **m["embedding"],
                    }
                )
                print(
                    f"{variant} seed {seed}: linear {m['embedding']['linear_acc']:.3f} "
                    f"kNN {m['embedding']['knn_acc']:.3f} ({m['pretrain_seconds']:.0f} s)",
                    flush=True,
                )
    summary = {
        variant: {
            key: mean_std([r[key] for r in rows if r["variant"] == variant])
            for key in (*METRICS, "pretrain_seconds")
        }
        for variant in variants
    }
    header = "| method | " + " | ".join(METRICS) + " | pretrain s |"
    lines = [header, "|" + "---|" * (len(METRICS) + 2)]
    for variant, s in summary.items():
        cells = [f"{s[k]['mean']:.3f} ± {s[k]['std']:.3f}" for k in METRICS]
        lines.append(
            f"| {variant} | " + " | ".join(cells) + f" | {s['pretrain_seconds']['mean']:.0f} |"
        )
    print("\n".join(lines))
    if not args.smoke:
        path = write_results(
            name, {"config": cfg, "runs": rows, "summary": summary, "table": lines}
        )
        print("wrote", path)
