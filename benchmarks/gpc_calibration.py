"""How GPC's prior strength is calibrated: the split test against held-out classes.

The encoders and the discovery setting of few_labels.py (an existing finished run in
--work-dir with the same config is reused): SimCLR embeddings of MNIST-1D (10 classes, about
400 labelled points per old class) and of glyphs (62 classes, 12 labelled points per old
class); old classes are the first half, 50 % of their points labelled; GPC started from half
and double the true K. For each, the prior strength chosen

* by the split test (the weakest under which no labelled class would be split; on glyphs no
  labelled class has the 20 points the test needs, so this is the weakest prior), and
* on held-out classes (half the old classes' labels hidden in turn; the strength whose
  clusters best recover them),

and what each gives: the estimated K and New-class accuracy on the unlabelled points. It
backs the default, ``calibrate="auto"``: the split test where it can run, else held-out.

    python benchmarks/gpc_calibration.py [--seeds 0,1,2] [--work-dir DIR] [--smoke]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import pretrained_embeddings, write_results
from few_labels import encoder_args, encoder_config, pm, summarise

from discotok.fewlabels import SemiSupervisedGMM, discovery_accuracy, discovery_split
from discotok.report import _align

STARTS = {"mnist1d": (5, 20), "glyphs": (31, 124)}


def calibrations(emb: dict, seed: int, starts: tuple[int, ...]) -> dict[str, dict]:
    x, y = emb["train"], emb["y_train"]
    labelled, old = discovery_split(y, len(np.unique(y)) // 2, 0.5, seed=seed)
    u = ~labelled
    out = {}
    for k_init in starts:
        for calibrate in ("split", "held-out"):
            t0 = time.perf_counter()
            gmm = SemiSupervisedGMM(k_init, calibrate=calibrate, seed=seed).fit(x, y, labelled)
            out[f"from K={k_init}, {calibrate}"] = {
                "k": gmm.k_,
                **discovery_accuracy(y[u], gmm.labels_[u], old),
                "prior_strength": gmm.strength_,
                "held_out_ari": {str(s): a for s, a in gmm.held_out_scores_.items()},
                "seconds": time.perf_counter() - t0,
            }
    return out


def main() -> None:
    args = encoder_args().parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    datasets = {name: encoder_config(name) for name in STARTS}
    if args.smoke:  # one seed, a small MNIST-1D encoder trained for one epoch
        seeds, datasets = seeds[:1], {"mnist1d": datasets["mnist1d"]}
        datasets["mnist1d"]["data"] = {"name": "mnist1d", "num_samples": 1000}
        datasets["mnist1d"]["train"]["epochs"] = 1
        args.work_dir = tempfile.mkdtemp(prefix="discotok-gpc-calibration-smoke-")
    per_seed, tables = {}, {}
    for name, cfg in datasets.items():
        per_seed[name] = []
        for seed in seeds:
            cfg["seed"] = seed
            _, emb = pretrained_embeddings(cfg, Path(args.work_dir) / f"{name}-seed{seed}")
            per_seed[name].append(calibrations(emb, seed, STARTS[name]))
            print(f"{name} seed {seed} done", flush=True)
        summary = summarise(per_seed[name])
        rows = [
            [row, pm(v["k"], 1), pm(v["new_acc"]), pm(v["prior_strength"], 0)]
            for row, v in summary.items()
        ]
        tables[name] = _align(["GPC, calibration", "K", "new acc", "prior strength"], rows)
        print(f"\n{name}:\n{tables[name]}")
    if not args.smoke:
        payload = {
            "seeds": seeds,
            "torch_threads": torch.get_num_threads(),
            "per_seed": per_seed,
            "tables": {name: t.splitlines() for name, t in tables.items()},
        }
        print("wrote", write_results("gpc_calibration", payload))


if __name__ == "__main__":
    main()
