"""Graphs: VQGraph on the Debian package graph (packages, Depends edges, 58 Sections).

The graph is built from this machine's `apt-cache dumpavail` (TF-IDF of the descriptions
reduced to 128 dimensions by truncated SVD) and cached under $DISCOTOK_CACHE. Node
classification with 10 % of the packages labelled for training and 10 % for validation
(model selection), the rest for testing; GraphSAGE (2 layers, 64 wide) and MLPs of the
same size, codebook of 256 codes. Teachers: full-batch Adam (lr 0.01, weight decay 5e-4,
200 epochs, the best of the validation checks every 5 epochs kept). Students: 3000 Adam
steps on mini-batches of 512 (labelled nodes for the label loss, nodes of the whole graph
for the distillation losses), dropout 0.2, the best of the validation checks every 100
steps kept. Transductive, and inductive with 20 % of the test nodes and their edges hidden
during training; then transductive with 1 % of the packages labelled (and 1 % for
validation), with and without GRACE-style contrastive pretraining of the teachers' GNN
(100 epochs). Reported per model: test accuracy (and accuracy on the unseen nodes), the
codebook's usage and how its codes cluster by Section. Inference time per 10k nodes of the
GNN and of an MLP of the same width: full-batch forward on the whole graph, timed after
all runs in three rounds of a warm-up call and the median of 20 calls. Seeds 0, 1, 2.
Each finished run is kept in --work-dir and skipped when the command is run again.

    python benchmarks/graph_distillation.py [--seeds 0 1 2] [--smoke] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from common import mean_std, write_results

from discotok.graphs.debian import debian_graph, dumpavail
from discotok.graphs.graph import load_graph, save_graph
from discotok.graphs.node_classification import (
    MODELS,
    inference_seconds_per_10k,
    node_classification,
)
from discotok.graphs.vqgraph import TrainSettings
from discotok.report import _align

SLICE = Path(__file__).parent.parent / "tests" / "data" / "debian_slice.txt"


def debian(smoke: bool):
    if smoke:
        return debian_graph(SLICE.read_text(), dim=16)
    cache = Path(os.environ.get("DISCOTOK_CACHE", Path.home() / ".cache" / "discotok"))
    path = cache / "debian_graph.npz"
    if not path.exists():
        save_graph(debian_graph(dumpavail()), path)
    return load_graph(path)


SETTINGS = {  # name: (train share, validation share, inductive share, ssl epochs)
    "transductive": (0.1, 0.1, 0.0, 0),
    "inductive": (0.1, 0.1, 0.2, 0),
    "1% labels": (0.01, 0.01, 0.0, 0),
    "1% labels, SSL-pretrained teachers": (0.01, 0.01, 0.0, 100),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    parser.add_argument("--work-dir", default="runs/graph_distillation", help="finished runs")
    args = parser.parse_args()
    graph = debian(args.smoke)
    print(f"{graph.num_nodes} nodes; " + "; ".join(graph.notes), flush=True)
    if args.smoke:
        settings = TrainSettings(epochs=5, student_steps=20, student_eval_every=10)
    else:
        settings = TrainSettings(epochs=200)
    codes, hidden = (16, 16) if args.smoke else (256, 64)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for setting, (train, val, inductive, ssl) in SETTINGS.items():
        for seed in args.seeds if not args.smoke else [0]:
            done = work / f"{setting.replace(' ', '_').replace(',', '')}_{seed}.json"
            if done.exists() and not args.smoke:
                r = json.loads(done.read_text())
            else:
                r = node_classification(
                    graph,
                    train=train,
                    val=val,
                    inductive=inductive,
                    hidden=hidden,
                    codes=codes,
                    ssl_epochs=5 if ssl and args.smoke else ssl,
                    settings=settings,
                    seed=seed,
                )
                r["setting"] = setting
                if not args.smoke:
                    done.write_text(json.dumps(r))
            runs.append(r)
            print(setting, seed, {m: a for m, a in r["accuracy"].items()}, flush=True)
    summary = {
        setting: {
            m: {
                key: mean_std([r["accuracy"][m][key] for r in mine])
                for key in mine[0]["accuracy"][m]
            }
            for m in MODELS
        }
        for setting in SETTINGS
        if (mine := [r for r in runs if r["setting"] == setting])
    }
    summary["codebook"] = {
        key: mean_std([r["codebook"][key] for r in runs if r["setting"] == "transductive"])
        for key in runs[0]["codebook"]
    }
    # Timed on their own after training: the per-run times (in `runs`) share the machine
    # with whatever else ran at that moment; three rounds of a warm-up + median of 20.
    rounds = [inference_seconds_per_10k(graph, hidden=hidden) for _ in range(3)]
    summary["inference_seconds_per_10k_nodes"] = {
        m: mean_std([t[m] for t in rounds]) for m in ("gnn", "mlp")
    }
    columns = [(s, "test_acc") for s in SETTINGS] + [("inductive", "unseen_acc")]
    rows = [
        [
            m,
            *[
                f"{summary[s][m][k]['mean']:.3f} ± {summary[s][m][k]['std']:.3f}"
                for s, k in columns
            ],
        ]
        for m in MODELS
    ]
    print(_align(["model", *[s if k == "test_acc" else f"{s} (unseen)" for s, k in columns]], rows))
    if not args.smoke:
        write_results(
            "graph_distillation",
            {
                "protocol": " ".join(__doc__.split("\n\n")[1].split()),
                "graph": {"nodes": graph.num_nodes, "notes": graph.notes},
                "seeds": args.seeds,
                "settings": {
                    k: dict(zip(("train", "val", "inductive", "ssl_epochs"), v))
                    for k, v in SETTINGS.items()
                },
                "runs": runs,
                "summary": summary,
            },
        )


if __name__ == "__main__":
    main()
