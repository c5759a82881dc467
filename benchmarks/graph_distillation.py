"""Graphs: VQGraph on the Debian package graph (packages, Depends edges, 58 Sections).

The graph is built from this machine's `apt-cache dumpavail` (TF-IDF of the descriptions
reduced to 128 dimensions by truncated SVD) and cached under $DISCOTOK_CACHE. Node
classification with 10 % of the packages labelled for training and 10 % for validation
(model selection), the rest for testing; GraphSAGE (2 layers, 64 wide) and MLPs of the
same size, full-batch Adam (lr 0.01, weight decay 5e-4, 60 epochs, the best of the
validation checks every 5 epochs kept), codebook of 256 codes (sized for 2 CPU cores: a
full-batch epoch of the VQ teacher over 63k nodes takes seconds here). Transductive, and
inductive with 20 % of the test nodes and their edges hidden during training. Reported
per model: test accuracy (and accuracy on the unseen nodes), the codebook's usage and how
its codes cluster by Section, and inference time per 10k nodes (full-batch forward on the
whole graph, median of 5).
Seeds 0, 1, 2.

    python benchmarks/graph_distillation.py [--seeds 0 1 2] [--smoke]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from common import mean_std, write_results

from discotok.graphs.debian import debian_graph, dumpavail
from discotok.graphs.graph import load_graph, save_graph
from discotok.graphs.node_classification import MODELS, node_classification
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    graph = debian(args.smoke)
    print(f"{graph.num_nodes} nodes; " + "; ".join(graph.notes), flush=True)
    settings = TrainSettings(epochs=5 if args.smoke else 60)
    codes, hidden = (16, 16) if args.smoke else (256, 64)
    runs = []
    for setting, inductive in (("transductive", 0.0), ("inductive", 0.2)):
        for seed in args.seeds if not args.smoke else [0]:
            r = node_classification(
                graph, inductive=inductive, hidden=hidden, codes=codes, settings=settings, seed=seed
            )
            r["setting"] = setting
            runs.append(r)
            print(setting, seed, {m: a for m, a in r["accuracy"].items()}, flush=True)
    summary = {}
    for setting in ("transductive", "inductive"):
        mine = [r for r in runs if r["setting"] == setting]
        summary[setting] = {
            m: {
                key: mean_std([r["accuracy"][m][key] for r in mine])
                for key in mine[0]["accuracy"][m]
            }
            for m in MODELS
        }
    summary["codebook"] = {
        key: mean_std([r["codebook"][key] for r in runs if r["setting"] == "transductive"])
        for key in runs[0]["codebook"]
    }
    summary["inference_seconds_per_10k_nodes"] = {
        m: mean_std([r["inference_seconds_per_10k_nodes"][m] for r in runs]) for m in ("gnn", "mlp")
    }
    rows = [
        [
            m,
            *[
                f"{summary[s][m][k]['mean']:.3f} ± {summary[s][m][k]['std']:.3f}"
                for s, k in (
                    ("transductive", "test_acc"),
                    ("inductive", "test_acc"),
                    ("inductive", "unseen_acc"),
                )
            ],
        ]
        for m in MODELS
    ]
    print(_align(["model", "transductive", "inductive (seen)", "inductive (unseen)"], rows))
    if not args.smoke:
        write_results(
            "graph_distillation",
            {
                "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
                "graph": {"nodes": graph.num_nodes, "notes": graph.notes},
                "seeds": args.seeds,
                "runs": runs,
                "summary": summary,
            },
        )


if __name__ == "__main__":
    main()
