"""GEDI on two moons and two circles: does the clustering objective find the two shapes?

For each set (2000 points, noise 0.05, standardised; 1500 train / 500 test) and seed: GEDI
without and with its energy term (MLP encoder 64-64-32, 2 clusters, beta 1, Gaussian-noise
views with sigma 0.2, 150 epochs of batch 128, AdamW lr 0.003). Reported on the test points:
NMI of GEDI's own cluster assignment (argmax), NMI of k-means (k = 2) on the raw points as the
baseline, and the OOD AUROC of the energy against uniform noise in the data's bounding box.

    python benchmarks/gedi_toy.py [--seeds 0 1 2] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import mean_std, write_results
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from discotok import pretrain
from discotok.pipeline import load_method

VARIANTS = {"gedi, no energy term": 0.0, "gedi": 1.0}


def config(data: str, gen_weight: float, seed: int, epochs: int) -> dict:
    return {
        "data": {"name": data, "num_samples": 2000, "noise": 0.05},
        "encoder": {"name": "mlp", "width": 64, "depth": 2, "embed_dim": 32},
        "views": {"name": "vector", "noise": 0.2, "drop": 0.0},
        "method": {"name": "gedi", "clusters": 2, "proj_hidden": 64, "gen_weight": gen_weight},
        "train": {"epochs": epochs, "batch_size": 128, "lr": 0.003, "progress": False},
        "seed": seed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    seeds, epochs = (args.seeds[:1], 2) if args.smoke else (args.seeds, 150)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for data in ("moons", "circles"):
            for seed in seeds:
                for variant, gen_weight in VARIANTS.items():
                    cfg = config(data, gen_weight, seed, epochs)
                    run_dir = Path(tmp) / f"{data}-{seed}-{gen_weight}"
                    t0 = time.perf_counter()
                    pretrain(cfg, run_dir, resume=False)
                    seconds = time.perf_counter() - t0
                    method, _, d = load_method(run_dir)
                    found = method.evaluate_method(d, run_dir, seed)
                    raw = KMeans(2, n_init=10, random_state=seed).fit_predict(d.x_test)
                    rows.append(
                        {
                            "data": data,
                            "variant": variant,
                            "seed": seed,
                            "cluster_nmi": found["cluster_nmi"],
                            "ood_auroc_noise": found["ood_auroc_noise"],
                            "kmeans_raw_nmi": normalized_mutual_info_score(d.y_test, raw),
                            "pretrain_seconds": seconds,
                        }
                    )
                    print(rows[-1], flush=True)
    keys = ("cluster_nmi", "ood_auroc_noise", "kmeans_raw_nmi", "pretrain_seconds")
    summary: dict[str, dict] = {}
    lines = [
        "| data | method | cluster NMI | OOD AUROC (noise) | k-means NMI (raw) | train s |",
        "|---|---|---|---|---|---|",
    ]
    for data in ("moons", "circles"):
        for variant in VARIANTS:
            mine = [r for r in rows if r["data"] == data and r["variant"] == variant]
            s = {k: mean_std([r[k] for r in mine]) for k in keys}
            summary[f"{data} / {variant}"] = s
            nmis = ", ".join(f"{r['cluster_nmi']:.2f}" for r in mine)
            lines.append(
                f"| {data} | {variant} | {s['cluster_nmi']['mean']:.3f} ({nmis}) | "
                f"{s['ood_auroc_noise']['mean']:.3f} ± {s['ood_auroc_noise']['std']:.3f} | "
                f"{s['kmeans_raw_nmi']['mean']:.3f} | {s['pretrain_seconds']['mean']:.0f} |"
            )
    print("\n".join(lines))
    if not args.smoke:
        cfg = config("moons", 1.0, seeds[0], epochs)
        payload = {"config": cfg, "runs": rows, "summary": summary, "table": lines}
        print("wrote", write_results("gedi_toy", payload))


if __name__ == "__main__":
    main()
