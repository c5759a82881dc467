"""Shared by the benchmark scripts: run one configured pipeline, and write results files."""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from discotok import embed, evaluate, pretrain
from discotok.config import RunConfig
from discotok.environment import describe_environment
from discotok.errors import DiscotokError, TrainingInterrupted

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


def pretrained_embeddings(config: dict[str, Any], run_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Pretrain into `run_dir` (reusing a finished run there of the same config), embed if
    not done yet; the run directory and its embeddings."""
    from discotok.pipeline import read_embeddings

    run = pretrain(config, run_dir, resume=True)
    if not (run / "embeddings.npz").exists():
        embed(run)
    return run, read_embeddings(run)


def mean_std(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def group_mean_std(
    rows: list[dict[str, Any]], by: tuple[str, ...], metrics: tuple[str, ...]
) -> list[dict[str, Any]]:
    """One entry per distinct value of the `by` fields (in order of first appearance): those
    fields, the number of rows (``seeds``) and mean +- std of each metric."""
    out = []
    for key in dict.fromkeys(tuple(r[f] for f in by) for r in rows):
        group = [r for r in rows if tuple(r[f] for f in by) == key]
        out.append(
            {
                **dict(zip(by, key)),
                "seeds": len(group),
                **{m: mean_std([r[m] for r in group]) for m in metrics},
            }
        )
    return out


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"environment": START_ENVIRONMENT, **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


METRICS = ("linear_acc", "knn_acc", "kmeans_nmi", "kmeans_acc", "token_purity")
SMOKE_DATA = {"name": "mnist1d", "num_samples": 600}


def compare_methods(
    name: str,
    variants: dict[str, dict[str, Any]],
    doc: str,
    base: dict[str, Any] | None = None,
    smoke_data: dict[str, Any] | None = None,
    train: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One pipeline (the demo's on MNIST-1D unless `base` says otherwise) once per method
    variant and seed: same data, encoder, views, epochs and seeds; a mean +- std table of the
    embedding's metrics, with the raw input as the floor -> results/<name>.json, rewritten
    after each run (all methods of a seed, then the next seed). A run that fails with a user
    error (a diverged loss...) is recorded as failed and the others go on.
    `train` maps a variant to its own training settings (a batch size...), applied over the
    shared ones (under --smoke a batch size is capped at 64); the results file keeps the
    shared config and these.
    Command line: [--seeds 0 1 2] [--epochs N] [--variants NAME ...] [--resume] [--smoke];
    `--variants` runs only those, and only with --resume (it adds runs to the results file,
    whose other runs it keeps). Returns the summary (per variant:
    mean +- std of each metric, and of the method's own numeric metrics, ``method_*``)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in results/<name>.json (same config) and add the rest",
    )
    parser.add_argument(
        "--variants", nargs="+", default=None, help="run only these variants (default: all)"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.variants or []) - set(variants))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from: {', '.join(variants)}")
    if args.variants and not (args.resume or args.smoke):
        parser.error("--variants adds runs to the results file: use it with --resume")
    rows: list[dict[str, Any]] = []
    raw: list[dict[str, Any]] = []
    earlier: list[dict[str, Any]] | None = None  # environments of the runs kept by --resume
    seeds = args.seeds[:1] if args.smoke else args.seeds
    summary: dict[str, Any] = {}

    def record(cfg: dict[str, Any], earlier: list[dict[str, Any]] | None) -> None:
        """Rewrite results/<name>.json after every run: a stopped benchmark keeps its runs."""
        if args.smoke:
            return
        summary, lines = _summarise(variants, rows, raw)
        payload = {"config": cfg, "runs": rows, "raw": raw, "summary": summary}
        if train:
            payload["variant_train"] = train
        if earlier:
            payload["earlier_environments"] = earlier
        write_results(name, {**payload, "table": lines})

    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for variant, method in variants.items():
                if args.variants and variant not in args.variants:
                    continue
                cfg = copy.deepcopy(base) if base else RunConfig().to_dict()
                cfg.update(seed=seed, method=method)
                cfg["train"]["progress"] = False
                if args.epochs:
                    cfg["train"]["epochs"] = args.epochs
                if args.smoke:
                    cfg["data"] = smoke_data or SMOKE_DATA
                    cfg["train"].update(epochs=1, batch_size=64)
                if args.resume and not args.smoke and earlier is None:
                    earlier = _kept_runs(name, cfg, train, rows, raw)
                if any(r["variant"] == variant and r["seed"] == seed for r in rows):
                    print(f"{variant} seed {seed}: kept from the earlier results", flush=True)
                    continue
                run_dir = Path(tmp) / f"{variant}-{seed}"
                run_cfg = copy.deepcopy(cfg)
                run_cfg["train"].update((train or {}).get(variant, {}))
                if args.smoke:  # the smoke data holds 480 training samples
                    run_cfg["train"]["batch_size"] = min(run_cfg["train"]["batch_size"], 64)
                try:
                    m = run_pipeline(run_cfg, run_dir)
                except TrainingInterrupted:  # Ctrl-C / SIGTERM stops the benchmark, not a run
                    raise
                except DiscotokError as err:
                    print(f"{variant} seed {seed}: FAILED: {err}", flush=True)
                    rows.append({"variant": variant, "seed": seed, "failed": str(err)})
                    record(cfg, earlier)
                    continue
                extra = m.get("method_metrics", {})
                # keep one of each method's figures: its lowest seed's (--resume included)
                lowest = min((r["seed"] for r in rows if r["variant"] == variant), default=seed)
                for figure in extra.pop("figures", []):
                    if seed <= lowest and not args.smoke:
                        shutil.copy(run_dir / figure, RESULTS / f"{name}_{variant}_{figure}")
                rows.append(
                    {
                        "variant": variant,
                        "seed": seed,
                        "pretrain_seconds": m["pretrain_seconds"],
                        "samples_per_second": m["train"]["samples_per_second"],
                        **m["embedding"],
                        **{f"method_{k}": v for k, v in extra.items()},
                    }
                )
                if "raw" in m and not any(r["seed"] == seed for r in raw):
                    raw.append({"seed": seed, **{k: m["raw"][k] for k in METRICS}})
                print(
                    f"{variant} seed {seed}: linear {m['embedding']['linear_acc']:.3f} "
                    f"kNN {m['embedding']['knn_acc']:.3f} ({m['pretrain_seconds']:.0f} s)",
                    flush=True,
                )
                record(cfg, earlier)
            summary, lines = _summarise(variants, rows, raw)
            print("\n".join(lines), flush=True)
    return summary


def _kept_runs(
    name: str,
    cfg: dict[str, Any],
    train: dict[str, dict[str, Any]] | None,
    rows: list[dict[str, Any]],
    raw: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Load results/<name>.json's finished runs into rows/raw for --resume; refuse a file
    written under another config (seed and method aside) or in which a variant with runs
    trained under other settings of its own (a variant new to the file may bring its own).
    Returns its environments."""
    strip = lambda c: {k: v for k, v in c.items() if k not in ("seed", "method")}  # noqa: E731

    def same_setup(old: dict[str, Any]) -> bool:
        before, now = old.get("variant_train") or {}, train or {}
        kept = {r["variant"] for r in old["runs"]}
        return strip(old["config"]) == strip(cfg) and all(before.get(v) == now.get(v) for v in kept)

    old, environments = earlier_results(name, same_setup)
    if old:
        rows.extend(r for r in old["runs"] if "failed" not in r)
        raw.extend(old["raw"])
    return environments


def earlier_results(
    name: str, same_setup: Callable[[dict[str, Any]], bool]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """For --resume: results/<name>.json and the environments its runs ran in (None and []
    when there is no file yet); refuse a file for which `same_setup` is false."""
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        print(f"--resume: no {path} yet, starting fresh", flush=True)
        return None, []
    old = json.loads(path.read_text())
    if not same_setup(old):
        raise SystemExit(f"--resume: {path} was written under another config; run without it")
    return old, [*old.get("earlier_environments", []), old["environment"]]


def _summarise(
    variants: dict[str, Any], rows: list[dict[str, Any]], raw: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[str]]:
    """Mean +- std per variant over its finished runs, and the markdown table."""
    timing = ("pretrain_seconds", "samples_per_second")
    summary: dict[str, Any] = {}
    for variant in variants:
        done = [r for r in rows if r["variant"] == variant and "failed" not in r]
        own = [
            {k for k, v in r.items() if k.startswith("method_") and isinstance(v, float)}
            for r in done
        ]
        extra = sorted(set.intersection(*own)) if own else []  # method metrics of every run
        summary[variant] = {
            "runs": len(done),
            "failed": sum(r["variant"] == variant and "failed" in r for r in rows),
            **{k: mean_std([r[k] for r in done]) for k in (*METRICS, *timing, *extra) if done},
        }
    header = "| method | " + " | ".join(METRICS) + " | pretrain s | samples/s | runs |"
    lines = [header, "|" + "---|" * (len(METRICS) + 4)]
    if raw:
        cells = [f"{mean_std([r[k] for r in raw])['mean']:.3f}" for k in METRICS]
        lines.append("| raw input | " + " | ".join(cells) + f" | – | – | {len(raw)} |")
    for variant, s in summary.items():
        if not s["runs"]:  # every run failed, or none ran yet (--variants runs others)
            state = "failed" if s["failed"] else "not run"
            lines.append(f"| {variant} | {state} |" + " |" * (len(METRICS) + 2))
            continue
        cells = [f"{s[k]['mean']:.3f} ± {s[k]['std']:.3f}" for k in METRICS]
        failed = f" ({s['failed']} failed)" if s["failed"] else ""
        lines.append(
            f"| {variant} | "
            + " | ".join(cells)
            + f" | {s['pretrain_seconds']['mean']:.0f} | {s['samples_per_second']['mean']:.0f}"
            + f" | {s['runs']}{failed} |"
        )
    return summary, lines
