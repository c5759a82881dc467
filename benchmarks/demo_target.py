"""The demo's target: the default SimCLR run on MNIST-1D reaches a linear probe >= 0.85
within 3 minutes of training on this machine. Runs the exact `discotok demo` config.

    python benchmarks/demo_target.py [--seeds 0 1 2] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import mean_std, run_pipeline, write_results

from discotok.config import RunConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            cfg = RunConfig().to_dict()  # the demo's embedded defaults
            cfg["seed"] = seed
            cfg["train"]["progress"] = False
            if args.smoke:
                cfg["data"] = {"name": "mnist1d", "num_samples": 600}
                cfg["train"]["epochs"] = 1
            m = run_pipeline(cfg, Path(tmp) / f"seed{seed}")
            row = {
                "seed": seed,
                "pretrain_seconds": m["pretrain_seconds"],
                "evaluate_seconds": m["evaluate_seconds"],
                "raw": m["raw"],
                "embedding": m["embedding"],
            }
            rows.append(row)
            print(
                f"seed {seed}: linear {m['embedding']['linear_acc']:.3f} "
                f"(raw {m['raw']['linear_acc']:.3f}), kNN {m['embedding']['knn_acc']:.3f}, "
                f"pretrain {m['pretrain_seconds']:.0f} s"
            )
    summary = {
        key: mean_std([r["embedding"][key] for r in rows])
        for key in ("linear_acc", "knn_acc", "kmeans_nmi", "token_purity")
    }
    summary["raw_linear_acc"] = mean_std([r["raw"]["linear_acc"] for r in rows])
    summary["pretrain_seconds"] = mean_std([r["pretrain_seconds"] for r in rows])
    summary["target_met"] = all(
        r["embedding"]["linear_acc"] >= 0.85 and r["pretrain_seconds"] < 180 for r in rows
    )
    print(summary)
    if not args.smoke:
        print(
            "wrote", write_results("demo_target", {"config": cfg, "runs": rows, "summary": summary})
        )


if __name__ == "__main__":
    main()
