"""Node classification with a GNN teacher and MLP students, side by side (one function).

Models (all on the same split and seed):
    mlp       MLP on node features, labels only
    gnn       the GNN alone (no codebook), labels only
    gnn_vq    the VQGraph teacher: GNN + codebook + feature/edge decoders
    glnn      MLP distilled from gnn_vq's soft labels (+ labels)
    vqgraph   MLP distilled from gnn_vq's soft labels and soft code assignments (+ labels)

Transductive: every node and edge is visible in training, labels only on the train split;
accuracy on the test split. Inductive (``inductive > 0``): that share of the test nodes and
all their edges are removed before training; the teacher and the students train on the
rest; accuracy is reported on the unseen nodes (the GNN then sees the whole graph, the
MLPs only the nodes' features) as well as on the observed test nodes.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict

import numpy as np
import torch

from discotok.graphs.graph import Graph, split_nodes
from discotok.graphs.vqgraph import (
    GraphTeacher,
    StudentMLP,
    TrainSettings,
    code_statistics,
    pretrain_gnn,
    teacher_code_distribution,
    teacher_logits,
    train_student,
    train_teacher,
)

MODELS = ("mlp", "gnn", "gnn_vq", "glnn", "vqgraph")


def _time_per_10k(fn: callable, nodes: int, repeats: int = 5) -> float:
    """Median seconds of `repeats` calls of `fn` (after one warm-up call), per 10k nodes."""
    times = []
    with torch.no_grad():
        fn()
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 10_000 / nodes


def node_classification(
    graph: Graph,
    *,
    train: float = 0.1,
    val: float = 0.1,
    inductive: float = 0.0,
    hidden: int = 128,
    codes: int = 512,
    conv: str = "sage",
    ssl_epochs: int = 0,
    settings: TrainSettings | None = None,
    seed: int = 0,
) -> dict:
    """Train every model in MODELS on one split; accuracies, code statistics, timings."""
    settings = settings or TrainSettings()
    split = split_nodes(graph, train, val, inductive, seed)
    observed = split.observed
    seen = graph.subgraph(observed) if len(split.unseen) else graph
    renumber = np.full(graph.num_nodes, -1, dtype=np.int64)
    renumber[observed] = np.arange(len(observed))

    def ids(nodes: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(renumber[nodes])

    x = torch.from_numpy(seen.x)
    edges = torch.from_numpy(seen.edge_index)
    y = torch.from_numpy(np.where(seen.y >= 0, seen.y, 0))
    tr, va = ids(split.train), ids(split.val)
    test_seen = ids(np.setdiff1d(split.test, split.unseen))
    x_all, edges_all = torch.from_numpy(graph.x), torch.from_numpy(graph.edge_index)
    y_all = torch.from_numpy(np.where(graph.y >= 0, graph.y, 0))
    unseen = torch.from_numpy(split.unseen)
    k = graph.num_classes

    def scores(logits_seen: torch.Tensor, logits_all: torch.Tensor) -> dict[str, float]:
        out = {
            "test_acc": float((logits_seen[test_seen].argmax(-1) == y[test_seen]).float().mean())
        }
        if len(unseen):
            hit = logits_all[unseen].argmax(-1) == y_all[unseen]
            out["unseen_acc"] = float(hit.float().mean())
        return out

    torch.manual_seed(seed)
    results: dict[str, dict[str, float]] = {}
    start = time.perf_counter()

    pretrained = None
    if ssl_epochs:  # once, shared by both teachers
        pretrained = GraphTeacher(x.shape[1], k, hidden, conv=conv, codes=codes).gnn
        pretrain_gnn(pretrained, x, edges, ssl_epochs)

    def new_teacher() -> GraphTeacher:
        teacher = GraphTeacher(x.shape[1], k, hidden, conv=conv, codes=codes)
        if pretrained is not None:
            teacher.gnn.load_state_dict(pretrained.state_dict())
        return teacher

    plain = train_teacher(new_teacher(), x, edges, y, tr, va, settings, use_vq=False)
    results["gnn"] = scores(
        teacher_logits(plain, x, edges),
        teacher_logits(plain, x_all, edges_all),
    )
    teacher = train_teacher(new_teacher(), x, edges, y, tr, va, settings)
    teacher_seen = teacher_logits(teacher, x, edges)
    results["gnn_vq"] = scores(teacher_seen, teacher_logits(teacher, x_all, edges_all))
    soft = torch.softmax(teacher_seen, -1)
    soft_codes = teacher_code_distribution(teacher, x, edges, settings)
    students = {
        "mlp": {},
        "glnn": {"soft_labels": soft},
        "vqgraph": {"soft_labels": soft, "soft_codes": soft_codes, "codebook": teacher.codebook},
    }
    for name, extra in students.items():
        student = StudentMLP(x.shape[1], k, hidden, dropout=settings.student_dropout)
        student = train_student(student, x, y, tr, va, settings, **extra)
        with torch.no_grad():
            results[name] = scores(student(x)["logits"], student(x_all)["logits"])
    with torch.no_grad():
        teacher.eval()
        _, codes_all, _ = teacher.vq(teacher.gnn(x_all, edges_all)[None])
    labels = graph.y
    return {
        "graph": graph.name,
        "nodes": graph.num_nodes,
        "edges": int(graph.edge_index.shape[1] // 2),
        "classes": k,
        "seed": seed,
        "split": {
            "train": len(split.train),
            "val": len(split.val),
            "test": len(split.test),
            "unseen": len(split.unseen),
        },
        "settings": {**asdict(settings), "hidden": hidden, "codes": codes, "conv": conv},
        "ssl_epochs": ssl_epochs,
        "accuracy": {m: results[m] for m in MODELS},
        "codebook": code_statistics(codes_all[0].numpy(), labels, codes),
        "inference_seconds_per_10k_nodes": {
            "gnn": _time_per_10k(
                lambda: plain.classifier(plain.gnn(x_all, edges_all)), graph.num_nodes
            ),
            "mlp": _time_per_10k(lambda: student(x_all), graph.num_nodes),
        },
        "train_seconds": time.perf_counter() - start,
    }


def inference_seconds_per_10k(
    graph: Graph, *, hidden: int = 128, conv: str = "sage", repeats: int = 20
) -> dict[str, float]:
    """Full-batch forward time over the whole graph, per 10k nodes, of the GNN (message
    passing + classifier) and of an MLP student of the same width, untrained: the time does
    not depend on the weights. One warm-up call, then the median of `repeats`."""
    x, edges = torch.from_numpy(graph.x), torch.from_numpy(graph.edge_index)
    teacher = GraphTeacher(x.shape[1], graph.num_classes, hidden, conv=conv, codes=2).eval()
    student = StudentMLP(x.shape[1], graph.num_classes, hidden).eval()
    return {
        "gnn": _time_per_10k(
            lambda: teacher.classifier(teacher.gnn(x, edges)), graph.num_nodes, repeats
        ),
        "mlp": _time_per_10k(lambda: student(x)["logits"], graph.num_nodes, repeats),
    }


BUILTIN_GRAPHS = ("karate", "sbm")


def open_graph(data: str, edges: str = "", labels: str = "") -> Graph:
    """A built-in graph (karate, sbm), a graph .npz (see graph.load_graph), Debian
    dumpavail text (.txt), or node features (.npy/.csv) with `edges` and `labels` files."""
    from pathlib import Path

    from discotok.errors import DataError
    from discotok.graphs.debian import debian_graph
    from discotok.graphs.graph import karate_graph, load_edge_list, load_graph, sbm_graph

    if data == "karate":
        return karate_graph()
    if data == "sbm":
        return sbm_graph()
    path = Path(data)
    if edges:
        return load_edge_list(edges, path, labels or None)
    if path.suffix == ".npz":
        return load_graph(path)
    if path.suffix == ".txt" and path.is_file():
        return debian_graph(path.read_text())
    raise DataError(
        f"graph {data!r}: give one of {', '.join(BUILTIN_GRAPHS)}, a graph .npz, a Debian "
        "dumpavail .txt, or node features with --edges (and --labels)"
    )


def format_results(result: dict) -> str:
    """The accuracy table, code statistics and inference times, for the command line."""
    from discotok.report import _align

    rows = []
    for model, acc in result["accuracy"].items():
        unseen = acc.get("unseen_acc")
        rows.append([model, f"{acc['test_acc']:.3f}", "-" if unseen is None else f"{unseen:.3f}"])
    table = _align(["model", "test acc", "unseen acc"], rows)
    c = result["codebook"]
    t = result["inference_seconds_per_10k_nodes"]
    return (
        f"{result['graph']}: {result['nodes']} nodes, {result['edges']} edges, "
        f"{result['classes']} classes; split {result['split']}\n{table}\n"
        f"codebook: {c['codes_used']}/{c['codebook_size']} codes used, perplexity "
        f"{c['code_perplexity']:.1f}, code-label NMI {c['code_label_nmi']:.3f}, purity "
        f"{c['code_label_purity']:.3f}\n"
        f"inference per 10k nodes: GNN {t['gnn'] * 1000:.1f} ms, MLP {t['mlp'] * 1000:.2f} ms "
        f"({t['gnn'] / t['mlp']:.0f}x)"
    )
