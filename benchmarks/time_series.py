"""Time series: the unsupervised-representation protocol on every classification set in aeon's
wheel (UCR/UEA; univariate, multivariate and variable-length).

Per set and seed, each discotok method is pretrained on the train split without labels
(configs/ucr_<method>.yaml: dilated encoder, 200 steps of batch 16, AdamW lr 0.001), frozen,
and probed on its train embeddings: RBF-SVM (C by 5-fold CV, the TS2Vec protocol) and
logistic regression; test accuracy is reported. Same table, on the same z-normalised series:
1-NN Euclidean and 1-NN DTW (aeon; variable-length series unpadded) and supervised ROCKET
(aeon, 10,000 kernels; variable-length series zero-padded) as the ceiling. Mean accuracy
and average rank (over the SVM accuracies and the baselines; ties share ranks) across sets.
For seed 0 the frame-level tokens (k-means, 16 codes, on the per-step features) are measured
too: unit edit distance under each time-series augmentation.

    python benchmarks/time_series.py [--seeds 0 1 2] [--sets GunPoint ...] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from common import RESULTS, START_ENVIRONMENT, mean_std, write_results
from scipy.stats import rankdata

from discotok import embed, pretrain, tokenize
from discotok.data.timeseries import AEON_SETS, load_ucr, valid_lengths
from discotok.evaluators.probes import linear_probe, svm_probe
from discotok.report import _align

CONFIGS = Path(__file__).parent.parent / "configs"
METHODS = ("frameproj", "simclr", "ts2vec")
BASELINES = ("1nn_euclidean", "1nn_dtw", "rocket")


def baselines(data, seed: int, kernels: int) -> dict[str, float]:
    from aeon.classification.convolution_based import RocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    def unpadded(x: np.ndarray) -> list[np.ndarray]:
        return [s[:, :n] for s, n in zip(x, valid_lengths(x))]

    variable = not np.isfinite(data.x_train).all() or not np.isfinite(data.x_test).all()
    a = unpadded(data.x_train) if variable else data.x_train
    b = unpadded(data.x_test) if variable else data.x_test
    out = {}
    for name, distance in (("1nn_euclidean", "euclidean"), ("1nn_dtw", "dtw")):
        if distance == "euclidean" and variable:  # Euclidean needs equal lengths: zero-pad
            a_, b_ = np.nan_to_num(data.x_train), np.nan_to_num(data.x_test)
        else:
            a_, b_ = a, b
        clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance=distance)
        out[name] = float((clf.fit(a_, data.y_train).predict(b_) == data.y_test).mean())
    rocket = RocketClassifier(n_kernels=kernels, random_state=seed)
    rocket.fit(np.nan_to_num(data.x_train), data.y_train)
    out["rocket"] = float((rocket.predict(np.nan_to_num(data.x_test)) == data.y_test).mean())
    return out


def learned(method: str, dataset: str, seed: int, run: Path, smoke: bool, units: bool) -> dict:
    cfg = yaml.safe_load((CONFIGS / f"ucr_{method}.yaml").read_text())
    cfg["data"]["dataset"] = dataset
    cfg["seed"] = seed
    cfg["train"]["progress"] = False
    if smoke:
        cfg["train"]["steps"] = 3
        cfg["train"]["batch_size"] = 8
    t0 = time.perf_counter()
    pretrain(cfg, run, resume=False)
    seconds = time.perf_counter() - t0
    emb = embed(run)
    args = (emb["train"], emb["y_train"], emb["test"], emb["y_test"])
    row = {
        "pretrain_seconds": seconds,
        **svm_probe(*args, seed=seed),
        **linear_probe(*args, seed=seed),
    }
    if units:
        codes = 4 if smoke else 16
        frame = tokenize(run, {"name": "kmeans", "codes": codes}, level="frame")
        row.update({k: v for k, v in frame.items() if k.startswith("token_ued")})
        row["token_purity"] = frame.get("token_purity")
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sets", nargs="+", default=list(AEON_SETS))
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="rerun only --sets and replace them in the existing results file (recorded)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.sets, args.seeds = ["UnitTest"], [0]
    rows, base = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.sets:
            data = load_ucr(dataset)
            base[dataset] = baselines(data, 0, 100 if args.smoke else 10_000)
            print(dataset, {k: round(v, 3) for k, v in base[dataset].items()}, flush=True)
            for method in METHODS:
                for seed in args.seeds:
                    run = Path(tmp) / f"{dataset}-{method}-{seed}"
                    row = learned(method, dataset, seed, run, args.smoke, units=seed == 0)
                    rows.append({"dataset": dataset, "method": method, "seed": seed, **row})
                    print(
                        f"  {method} seed {seed}: svm {row['svm_acc']:.3f} linear "
                        f"{row['linear_acc']:.3f} ({row['pretrain_seconds']:.0f} s)",
                        flush=True,
                    )
    reruns = []
    sets = args.sets
    if args.merge:  # keep the other sets' runs; record which sets were rerun, when and how
        old = json.loads((RESULTS / "time_series.json").read_text())
        rows = [r for r in old["runs"] if r["dataset"] not in args.sets] + rows
        base = {**old["baselines"], **base}
        sets = list(old["summary"]["per_set"])
        reruns = old.get("reruns", [{"sets": "all", "environment": old["environment"]}])
        reruns.append({"sets": args.sets, "environment": START_ENVIRONMENT})
    summary = summarise(rows, base, sets)
    print(table(summary, sets))
    if not args.smoke:
        write_results(
            "time_series",
            {
                "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
                "seeds": args.seeds,
                "baselines": base,
                "runs": rows,
                "summary": summary,
                **({"reruns": reruns} if reruns else {}),
            },
        )


def summarise(rows: list[dict], base: dict[str, dict], sets: list[str]) -> dict:
    per_set: dict[str, dict[str, float]] = {}
    for dataset in sets:
        accs = dict(base[dataset])
        for method in METHODS:
            mine = [r for r in rows if r["dataset"] == dataset and r["method"] == method]
            accs[method] = statistics.fmean(r["svm_acc"] for r in mine)
            accs[f"{method}_linear"] = statistics.fmean(r["linear_acc"] for r in mine)
            accs[f"{method}_std"] = mean_std([r["svm_acc"] for r in mine])["std"]
            accs[f"{method}_pretrain_seconds"] = max(r["pretrain_seconds"] for r in mine)
        per_set[dataset] = accs
    compared = (*METHODS, *BASELINES)
    ranks = {name: [] for name in compared}
    for dataset in sets:
        r = rankdata([-per_set[dataset][name] for name in compared])
        for name, value in zip(compared, r):
            ranks[name].append(float(value))
    wins = {
        m: sum(per_set[d][m] > max(per_set[d][o] for o in METHODS if o != m) for d in sets)
        for m in METHODS
    }
    return {
        "per_set": per_set,
        "mean_acc": {n: statistics.fmean(per_set[d][n] for d in sets) for n in compared},
        "mean_linear_acc": {
            m: statistics.fmean(per_set[d][f"{m}_linear"] for d in sets) for m in METHODS
        },
        "average_rank": {n: statistics.fmean(ranks[n]) for n in compared},
        "wins_among_ssl": wins,
        "max_pretrain_seconds": max(
            per_set[d][f"{m}_pretrain_seconds"] for d in sets for m in METHODS
        ),
    }


def table(summary: dict, sets: list[str]) -> str:
    names = (*METHODS, *BASELINES)
    rows = []
    for d in sets:
        rows.append([d, *[f"{summary['per_set'][d][n]:.3f}" for n in names]])
    rows.append(["mean", *[f"{summary['mean_acc'][n]:.3f}" for n in names]])
    rows.append(["avg rank", *[f"{summary['average_rank'][n]:.2f}" for n in names]])
    return _align(["set (RBF-SVM for SSL)", *names], rows)


if __name__ == "__main__":
    main()
