"""Continual pre-training on MNIST-1D: the infinite learning-rate schedule against repeated
cosine, over five splits of two classes each arriving in turn.

The demo's SimCLR setting (encoder, views, batch 256, AdamW lr 0.004), 12 epochs per split.
infinite: warmup 1 epoch and cosine cooldown over 10 epochs to 0.25 x lr on the first split,
then 0.25 x lr with no re-warming; cosine: warmup 1 epoch + cosine to 0 on every split.
After each split a linear probe on every class seen so far; reported: average accuracy over
the seen splits after each split, final average, mean forgetting. Seeds 0, 1, 2.

    python benchmarks/continual_schedules.py [--seeds 0 1 2] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import mean_std, write_results

from discotok.config import RunConfig
from discotok.continual import PLANS, continual
from discotok.report import _align


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    epochs = 12
    seeds = args.seeds[:1] if args.smoke else args.seeds
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for plan in PLANS:
            for seed in seeds:
                cfg = RunConfig().to_dict()
                cfg["seed"] = seed
                cfg["train"]["progress"] = False
                if args.smoke:
                    cfg["data"] = {"name": "mnist1d", "num_samples": 1000}
                    cfg["train"]["batch_size"] = 64
                    epochs = 1
                result = continual(
                    cfg, Path(tmp) / f"{plan}-{seed}", plan=plan, epochs_per_task=epochs
                )
                runs.append({"seed": seed, **result})
                print(
                    f"{plan} seed {seed}: average after each split "
                    f"{[round(a, 3) for a in result['average_accuracy']]}, "
                    f"forgetting {result['mean_forgetting']:.3f}",
                    flush=True,
                )
    summary = {}
    for plan in PLANS:
        mine = [r for r in runs if r["plan"] == plan]
        summary[plan] = {
            "average_accuracy": [
                mean_std([r["average_accuracy"][t] for r in mine])
                for t in range(len(mine[0]["average_accuracy"]))
            ],
            "mean_forgetting": mean_std([r["mean_forgetting"] for r in mine]),
        }
    header = [
        "plan",
        *[f"after {t + 1}" for t in range(len(summary[PLANS[0]]["average_accuracy"]))],
    ]
    rows = [
        [plan, *[f"{a['mean']:.3f} ± {a['std']:.3f}" for a in s["average_accuracy"]]]
        for plan, s in summary.items()
    ]
    header.append("forgetting")
    for row, s in zip(rows, summary.values()):
        row.append(f"{s['mean_forgetting']['mean']:.3f} ± {s['mean_forgetting']['std']:.3f}")
    table = _align(header, rows)
    print(table)
    if not args.smoke:
        payload = {"epochs_per_task": epochs, "runs": runs, "summary": summary}
        payload["table"] = table.splitlines()
        print("wrote", write_results("continual_schedules", payload))


if __name__ == "__main__":
    main()
