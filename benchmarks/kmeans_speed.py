"""k-means fit time and inertia: discotok (faiss + k-means++ seeds) vs scikit-learn KMeans.

Data: 100k x 256 float32 vectors from a mixture of 100 anisotropic Gaussians (fixed seed);
K = 100. Both sides start from greedy k-means++ seeds; scikit-learn runs with its defaults
(lloyd, max_iter 300, tol 1e-4, n_init 1). discotok runs twice:
- ``default``: the k-means tokenizer's defaults (``KMeansTokenizer(codes=K).fit``): two
  restarts on samples of 128 points per centroid (25 Lloyd iterations each), the better
  one (by its sample's inertia) refined by 2 Lloyd iterations on all points;
- ``one_sample``: faiss's own recipe, one restart on a sample of 256 points per centroid,
  then all points assigned (the tokenizer's default before this benchmark).
Inertia is computed the same way for all (faiss, all points). A single k-means++ draw
varies by a few percent on this data, so the mean ratio over repeats is the figure to read.

    python benchmarks/kmeans_speed.py [--n 100000] [--dim 256] [--k 100] [--smoke]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import write_results

from discotok.tokenizers.kmeans import KMeansTokenizer, faiss_kmeans, kmeans_plusplus


def mixture(n: int, dim: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1.0, (k, dim))
    scales = rng.uniform(0.3, 1.0, (k, dim))
    y = rng.integers(0, k, n)
    return (centers[y] + rng.normal(0, 1, (n, dim)) * scales[y]).astype(np.float32)


def inertia(x: np.ndarray, centroids: np.ndarray) -> float:
    import faiss

    index = faiss.IndexFlatL2(x.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    return float(index.search(x, 1)[0].sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--niter", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.n, args.dim, args.k, args.repeats = 3000, 16, 10, 1
    from sklearn.cluster import KMeans
    from sklearn.cluster import kmeans_plusplus as sk_plusplus

    x = mixture(args.n, args.dim, args.k)
    seeding = []  # greedy k-means++ on all points: scikit-learn's and ours
    for repeat in range(args.repeats):
        t0 = time.perf_counter()
        sk_plusplus(x, args.k, random_state=repeat)
        t1 = time.perf_counter()
        kmeans_plusplus(x, args.k, seed=repeat)
        seeding.append({"sklearn_seconds": t1 - t0, "ours_seconds": time.perf_counter() - t1})
    recipes = {
        "default": lambda seed: (
            KMeansTokenizer(codes=args.k, niter=args.niter, seed=seed).fit(x).centroids
        ),
        "one_sample": lambda seed: faiss_kmeans(x, args.k, seed=seed, niter=args.niter)[0],
    }
    rows = []
    for repeat in range(args.repeats):
        t0 = time.perf_counter()
        sk = KMeans(args.k, init="k-means++", n_init=1, random_state=repeat).fit(x)
        row = {
            "repeat": repeat,
            "sklearn_seconds": time.perf_counter() - t0,
            "sklearn_iterations": int(sk.n_iter_),
        }
        reference = inertia(x, sk.cluster_centers_)
        for name, fit in recipes.items():
            t0 = time.perf_counter()
            centroids = fit(repeat)
            seconds = time.perf_counter() - t0
            row[f"{name}_seconds"] = seconds
            row[f"{name}_speedup"] = row["sklearn_seconds"] / seconds
            row[f"{name}_inertia_ratio"] = inertia(x, centroids) / reference
        rows.append(row)
        print(
            f"repeat {repeat}: scikit-learn {row['sklearn_seconds']:.1f} s; "
            + "; ".join(
                f"{name} {row[f'{name}_seconds']:.2f} s ({row[f'{name}_speedup']:.1f}x, "
                f"inertia ratio {row[f'{name}_inertia_ratio']:.4f})"
                for name in recipes
            )
        )
    summary = {}
    for name in recipes:
        speedups = [r[f"{name}_speedup"] for r in rows]
        ratios = [r[f"{name}_inertia_ratio"] for r in rows]
        summary[name] = {
            "median_seconds": float(np.median([r[f"{name}_seconds"] for r in rows])),
            "median_speedup": float(np.median(speedups)),
            "min_speedup": float(min(speedups)),
            "mean_inertia_ratio": float(np.mean(ratios)),
            "max_inertia_ratio": float(max(ratios)),
            "target_met": float(np.median(speedups)) >= 5 and float(np.mean(ratios)) <= 1.0,
        }
    summary["sklearn_median_seconds"] = float(np.median([r["sklearn_seconds"] for r in rows]))
    summary["seeding_all_points"] = {
        "sklearn_median_seconds": float(np.median([r["sklearn_seconds"] for r in seeding])),
        "ours_median_seconds": float(np.median([r["ours_seconds"] for r in seeding])),
    }
    print(summary)
    if not args.smoke:
        print(
            "wrote",
            write_results(
                "kmeans_speed",
                {"args": vars(args), "seeding": seeding, "runs": rows, "summary": summary},
            ),
        )


if __name__ == "__main__":
    main()
