"""G-SimCLR against SimCLR on MNIST-1D: same encoder, budget, views and seeds.

Three variants: SimCLR; G-SimCLR with the paper's pseudo-labels (denoising autoencoder +
k-means, K = batch size); G-SimCLR with k-means on the current features, refreshed each epoch.

    python benchmarks/gsimclr_vs_simclr.py [--seeds 0 1 2] [--epochs 60] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import mean_std, run_pipeline, write_results

from discotok.config import RunConfig

VARIANTS = {
    "simclr": {"name": "simclr"},
    "gsimclr-autoencoder": {"name": "gsimclr", "pseudo_labels_from": "autoencoder"},
    "gsimclr-features": {"name": "gsimclr", "pseudo_labels_from": "features"},
}
METRICS = ("linear_acc", "knn_acc", "kmeans_nmi", "kmeans_acc", "token_purity")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the demo's")
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant, method in VARIANTS.items():
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
                    f"kNN {m['embedding']['knn_acc']:.3f} ({m['pretrain_seconds']:.0f} s)"
                )
    summary = {
        variant: {
            key: mean_std([r[key] for r in rows if r["variant"] == variant])
            for key in (*METRICS, "pretrain_seconds")
        }
        for variant in VARIANTS
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
            "gsimclr_vs_simclr", {"config": cfg, "runs": rows, "summary": summary, "table": lines}
        )
        print("wrote", path)


if __name__ == "__main__":
    main()
