"""Graphs for node classification: one in-memory type, cleaning, loaders, generators, splits.

A `Graph` holds node features ``x`` (n, d), an undirected ``edge_index`` (2, E) with both
directions stored, optional labels ``y`` (n,) with -1 for unlabelled nodes, and ``notes``
on what cleaning changed. Every loader goes through `make_graph`, which drops self-loops
and duplicate edges (counted in the notes), counts isolated nodes, and refuses edges that
name missing nodes, features and labels of the wrong length, and non-finite features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from discotok.errors import DataError, check_range

GRAPH_FORMAT = 1


@dataclass
class Graph:
    """Node features, undirected edges (both directions) and labels (-1 = unknown)."""

    name: str
    x: np.ndarray
    edge_index: np.ndarray
    y: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    node_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_classes(self) -> int:
        return 0 if self.y is None else int(self.y.max()) + 1

    def subgraph(self, nodes: np.ndarray) -> Graph:
        """The graph induced by `nodes` (renumbered in the given order)."""
        new_id = np.full(self.num_nodes, -1, dtype=np.int64)
        new_id[nodes] = np.arange(len(nodes))
        src, dst = new_id[self.edge_index[0]], new_id[self.edge_index[1]]
        keep = (src >= 0) & (dst >= 0)
        return Graph(
            self.name,
            self.x[nodes],
            np.stack([src[keep], dst[keep]]),
            None if self.y is None else self.y[nodes],
            self.class_names,
        )


def make_graph(
    name: str,
    x: np.ndarray,
    edges: np.ndarray,
    y: np.ndarray | None = None,
    class_names: list[str] | None = None,
    node_names: list[str] | None = None,
) -> Graph:
    """Check and clean: symmetric edges without self-loops or duplicates; notes count them."""
    x = np.asarray(x)
    if x.ndim != 2 or len(x) == 0 or x.dtype.kind not in "fiub":
        raise DataError(f"{name}: node features have shape {x.shape}; expected (nodes, dim)")
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        raise DataError(f"{name}: {bad} nodes have NaN or inf features")
    n = len(x)
    edges = np.asarray(edges)
    if edges.size == 0:
        edges = np.zeros((2, 0), dtype=np.int64)
    if edges.ndim != 2 or 2 not in edges.shape or edges.dtype.kind not in "iu":
        raise DataError(f"{name}: edges have shape {edges.shape}; expected integer (2, E) pairs")
    if edges.shape[0] != 2:
        edges = edges.T
    edges = edges.astype(np.int64)
    missing = (edges < 0) | (edges >= n)
    if missing.any():
        bad = np.unique(edges[missing])
        raise DataError(
            f"{name}: {int(missing.any(axis=0).sum())} edges name nodes that do not exist "
            f"(ids {', '.join(map(str, bad[:5]))}{'...' if len(bad) > 5 else ''}; "
            f"there are {n} nodes, ids 0..{n - 1})"
        )
    notes = []
    loops = edges[0] == edges[1]
    if loops.any():
        notes.append(f"{int(loops.sum())} self-loops dropped")
    edges = edges[:, ~loops]
    duplicates = edges.shape[1] - np.unique(edges, axis=1).shape[1]  # the same (a, b) again
    unique = np.unique(np.concatenate([edges, edges[::-1]], axis=1), axis=1)
    if duplicates > 0:
        notes.append(f"{duplicates} duplicate edges dropped")
    degree = np.bincount(unique[0], minlength=n)
    if (degree == 0).any():
        notes.append(f"{int((degree == 0).sum())} isolated nodes (kept; no neighbours)")
    labels = None
    if y is not None:
        labels = np.asarray(y).reshape(-1)
        if len(labels) != n:
            raise DataError(
                f"{name}: {len(labels)} labels for {n} nodes; give one per node, -1 for unknown"
            )
        labels = labels.astype(np.int64)
        if (labels < -1).any():
            raise DataError(f"{name}: labels must be class ids >= 0, or -1 for unknown")
        if (labels == -1).any():
            notes.append(f"{int((labels == -1).sum())} nodes without a label")
    return Graph(
        name,
        x.astype(np.float32),
        unique,
        labels,
        list(class_names or []),
        list(node_names or []),
        notes,
    )


def save_graph(graph: Graph, path: str | Path) -> Path:
    """A versioned .npz: features, edges, labels, names."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        format=GRAPH_FORMAT,
        name=graph.name,
        x=graph.x,
        edge_index=graph.edge_index,
        y=graph.y if graph.y is not None else np.zeros(0, dtype=np.int64),
        class_names=np.array(graph.class_names, dtype=str),
        node_names=np.array(graph.node_names, dtype=str),
        notes=np.array(graph.notes, dtype=str),
    )
    return path


def load_graph(path: str | Path) -> Graph:
    """A graph file: a .npz with ``x`` and ``edge_index`` (2, E) or ``edges`` (E, 2), and
    optional ``y`` (-1 = unknown), ``class_names``, ``node_names``."""
    from discotok.data.arrays import _read

    path = Path(path)
    arrays = _read(path)
    if "x" not in arrays or not ({"edge_index", "edges"} & set(arrays)):
        raise DataError(
            f"{str(path)!r} needs arrays x (node features) and edge_index or edges "
            f"(found: {', '.join(arrays) or 'none'})"
        )
    if "format" in arrays and int(arrays["format"]) != GRAPH_FORMAT:
        raise DataError(
            f"{str(path)!r} is graph format {int(arrays['format'])}; this version reads "
            f"{GRAPH_FORMAT}. Rebuild it."
        )
    y = arrays.get("y")
    graph = make_graph(
        str(arrays["name"]) if "name" in arrays else path.stem,
        arrays["x"],
        arrays.get("edge_index", arrays.get("edges")),
        None if y is None or y.size == 0 else y,
        [str(c) for c in arrays.get("class_names", [])],
        [str(c) for c in arrays.get("node_names", [])],
    )
    if "notes" in arrays:  # what building the file counted (the cleaning above repeats it)
        graph.notes = [str(n) for n in arrays["notes"]]
    return graph


def load_edge_list(
    edges: str | Path, features: str | Path, labels: str | Path | None = None
) -> Graph:
    """Your graph as files: an edge list (.csv of two integer columns, or .npy (E, 2)),
    node features (.npy or .csv, a row per node) and labels (.npy or .csv, -1 = unknown)."""

    def read(path: str | Path, what: str) -> np.ndarray:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{what} file {str(path)!r} does not exist")
        if path.stat().st_size == 0:
            raise DataError(f"{what} file {str(path)!r} is empty")
        if path.suffix == ".npy":
            from discotok.data.arrays import _read

            return _read(path)["x"]
        try:
            return np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError as err:
            raise DataError(f"{what} file {str(path)!r} is not numeric csv ({err})") from None

    edge_array = read(edges, "edge list")
    if edge_array.ndim != 2 or edge_array.shape[1] != 2:
        raise DataError(f"edge list has shape {edge_array.shape}; expected two columns")
    if not np.allclose(edge_array, np.round(edge_array)):
        raise DataError("edge list holds non-integer node ids")
    x = read(features, "features")
    y = None if labels is None else read(labels, "labels").reshape(-1).round().astype(np.int64)
    return make_graph(Path(edges).stem, x, edge_array.astype(np.int64).T, y)


def from_pyg(data: object, name: str = "pyg") -> Graph:
    """A PyTorch Geometric ``Data`` object (x, edge_index, optional y)."""
    if getattr(data, "x", None) is None or getattr(data, "edge_index", None) is None:
        raise DataError("a PyG Data object needs x (node features) and edge_index")
    y = getattr(data, "y", None)
    return make_graph(
        name,
        data.x.detach().cpu().numpy(),
        data.edge_index.detach().cpu().numpy(),
        None if y is None else y.detach().cpu().numpy(),
    )


def sbm_graph(
    block_sizes: tuple[int, ...] = (200, 200, 200, 200),
    p_in: float = 0.05,
    p_out: float = 0.005,
    dim: int = 32,
    signal: float = 0.5,
    seed: int = 0,
) -> Graph:
    """A stochastic block model (torch_geometric's generator): the block is the label, and
    features are the block's random mean times `signal` plus unit Gaussian noise."""
    import torch
    from torch_geometric.utils import stochastic_blockmodel_graph

    check_range("p_in", p_in, 0.0, 1.0)
    check_range("p_out", p_out, 0.0, 1.0)
    k = len(block_sizes)
    probs = torch.full((k, k), p_out)
    probs.fill_diagonal_(p_in)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        edges = stochastic_blockmodel_graph(torch.tensor(block_sizes), probs).numpy()
    y = np.repeat(np.arange(k), block_sizes)
    means = torch.randn(k, dim, generator=gen).numpy()
    noise = torch.randn(len(y), dim, generator=gen).numpy()
    return make_graph(f"sbm{k}", signal * means[y] + noise, edges, y)


def karate_graph() -> Graph:
    """Zachary's karate club (networkx): 34 members, 2 clubs; features are one-hot ids."""
    import networkx as nx

    g = nx.karate_club_graph()
    y = np.array([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in g.nodes])
    return make_graph(
        "karate", np.eye(g.number_of_nodes()), np.array(list(g.edges)).T, y, ["Mr. Hi", "Officer"]
    )


@dataclass
class NodeSplit:
    """Node ids of each part. Inductive splits also hold out `unseen` test nodes whose edges
    are hidden during training (the teacher and the student never see them)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    unseen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    size: int = 0  # nodes in the whole graph

    @property
    def observed(self) -> np.ndarray:
        """Every node except the unseen ones: the graph that training sees."""
        return np.setdiff1d(np.arange(self.size), self.unseen)


def split_nodes(
    graph: Graph,
    train: float = 0.1,
    val: float = 0.1,
    inductive: float = 0.0,
    seed: int = 0,
) -> NodeSplit:
    """Random split of the labelled nodes: `train` and `val` shares, the rest test; with
    ``inductive > 0`` that share of the test nodes becomes `unseen` (GLNN's protocol)."""
    if graph.y is None:
        raise DataError(f"{graph.name} has no labels; node classification needs them")
    check_range("train", train, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_range("val", val, 0.0, 1.0, high_inclusive=False)
    check_range("inductive", inductive, 0.0, 1.0, high_inclusive=False)
    labelled = np.flatnonzero(graph.y >= 0)
    if len(np.unique(graph.y[labelled])) < 2:
        raise DataError(f"{graph.name}: node classification needs at least 2 classes")
    order = np.random.default_rng(seed).permutation(labelled)
    n_train = max(1, int(round(train * len(order))))
    n_val = int(round(val * len(order)))
    test = order[n_train + n_val :]
    if len(test) == 0:
        raise DataError(f"{graph.name}: no labelled nodes left for testing; lower train/val")
    unseen = test[: int(round(inductive * len(test)))]
    return NodeSplit(
        np.sort(order[:n_train]),
        np.sort(order[n_train : n_train + n_val]),
        np.sort(test),
        np.sort(unseen),
        graph.num_nodes,
    )
