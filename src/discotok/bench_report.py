"""The bench grid's report: mean +- std tables per aspect and the plots (linear accuracy vs
pretraining data size, vs input noise, vs pretraining time) -> ``OUT/report.md``."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

SHOWN = (
    ("linear_acc", "linear"),
    ("knn_acc", "kNN"),
    ("kmeans_nmi", "k-means NMI"),
    ("raw_linear_acc", "raw input, linear"),
)
# an aspect's plot: its x axis and the base cell's value on it (train.* defaults)
PLOTS = {"data_size": ("pretraining data fraction", 1.0), "noise": ("input noise (x std)", 0.0)}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {std:.3f}"


def summary_tables(rows: list[dict[str, Any]]) -> list[str]:
    """One markdown table per aspect (the base cells first): mean +- std over seeds."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["aspect"], row["dataset"], row["method"], row["value"])].append(row)
    aspects = sorted({key[0] for key in groups}, key=lambda a: (a != "base", a))
    lines: list[str] = []
    for aspect in aspects:
        lines += [
            f"### {aspect}",
            "",
            "| dataset | method | value | "
            + " | ".join(name for _, name in SHOWN)
            + " | pretrain s | runs |",
            "|" + "---|" * (len(SHOWN) + 5),
        ]
        for (a, dataset, method, value), members in sorted(groups.items()):
            if a != aspect:
                continue
            ok = [r for r in members if r["status"] == "ok"]
            cells = [
                _mean_std([v for r in ok if (v := _number(r[key])) is not None]) for key, _ in SHOWN
            ]
            seconds = [v for r in ok if (v := _number(r["pretrain_seconds"])) is not None]
            failed = len(members) - len(ok)
            runs = f"{len(ok)}" + (f" ({failed} failed)" if failed else "")
            time_cell = f"{statistics.fmean(seconds):.0f}" if seconds else "-"
            lines.append(
                f"| {dataset} | {method} | {value or '-'} | "
                + " | ".join(cells)
                + f" | {time_cell} | {runs} |"
            )
        lines.append("")
    return lines


def _plot(rows: list[dict[str, Any]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    ok = [r for r in rows if r["status"] == "ok" and _number(r["linear_acc"]) is not None]
    for aspect, (xlabel, base_x) in PLOTS.items():
        if not any(r["aspect"] == aspect for r in ok):
            continue
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for series in sorted({(r["dataset"], r["method"]) for r in ok}):
            points: dict[float, list[float]] = defaultdict(list)
            for r in ok:
                if (r["dataset"], r["method"]) != series or r["aspect"] not in ("base", aspect):
                    continue
                x = base_x if r["aspect"] == "base" else float(r["value"])
                points[x].append(float(r["linear_acc"]))
            xs = sorted(points)
            ax.plot(xs, [statistics.fmean(points[x]) for x in xs], "o-", label=" / ".join(series))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("linear probe accuracy")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / f"{aspect}.png", dpi=110)
        plt.close(fig)
        written.append(f"{aspect}.png")
    timed = [r for r in ok if _number(r["pretrain_seconds"]) is not None]
    if timed:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for method in sorted({r["method"] for r in timed}):
            mine = [r for r in timed if r["method"] == method]
            ax.scatter(
                [float(r["pretrain_seconds"]) for r in mine],
                [float(r["linear_acc"]) for r in mine],
                label=method,
                s=14,
            )
        ax.set_xlabel("pretraining wall-clock seconds")
        ax.set_ylabel("linear probe accuracy")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "compute.png", dpi=110)
        plt.close(fig)
        written.append("compute.png")
    return written


def write_bench_report(out: Path, rows: list[dict[str, Any]], grid: dict[str, Any]) -> Path:
    """``OUT/report.md`` with the tables and plots of every recorded cell."""
    failed = [r for r in rows if r["status"] == "failed"]
    lines = [
        f"# Bench grid: {grid['name']}",
        "",
        f"{len(rows)} cells recorded ({len(failed)} failed); seeds {grid['seeds']}; every "
        "row, with its session's machine and versions (sessions.json), is in results.csv.",
        "Probes train and test on full, clean data (the shift aspect's target data).",
        "",
        *summary_tables(rows),
    ]
    for figure in _plot(rows, out):
        lines += [f"![{figure}]({figure})", ""]
    if failed:
        lines += ["## Failed cells", ""] + [f"- {r['cell']}: {r['error']}" for r in failed]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
