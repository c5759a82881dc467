"""Graphs: cleaning and loaders, the Debian builder, splits, VQGraph teacher and students."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from discotok.errors import DataError
from discotok.graphs.debian import debian_graph, dependency_names, parse_stanzas
from discotok.graphs.graph import (
    from_pyg,
    karate_graph,
    load_edge_list,
    load_graph,
    make_graph,
    save_graph,
    sbm_graph,
    split_nodes,
)
from discotok.graphs.node_classification import MODELS, node_classification
from discotok.graphs.vqgraph import (
    GraphTeacher,
    StudentMLP,
    TrainSettings,
    _Batches,
    code_logits,
    teacher_code_distribution,
    train_student,
)

SLICE = Path(__file__).parent / "data" / "debian_slice.txt"


def test_cleaning_counts_self_loops_duplicates_and_isolated_nodes():
    edges = np.array([[0, 1], [1, 0], [0, 1], [2, 2], [1, 2]]).T
    g = make_graph("toy", np.ones((4, 2)), edges, np.array([0, 1, -1, 1]))
    assert g.edge_index.shape[1] == 4  # {0-1, 1-2}, both directions
    assert "1 self-loops dropped" in g.notes and "1 duplicate edges dropped" in g.notes
    assert "1 isolated nodes (kept; no neighbours)" in g.notes
    assert "1 nodes without a label" in g.notes


@pytest.mark.parametrize(
    "x, edges, y, message",
    [
        (np.ones((3, 2)), np.array([[0, 5], [1, 7], [0, 2]]), None, "2 edges name nodes"),
        (np.ones((3, 2)), np.array([[0, 1]]), np.array([0, 1]), "2 labels for 3 nodes"),
        (np.array([[1.0, np.nan], [0, 0]]), np.array([[0, 1]]), None, "NaN or inf features"),
        (np.ones((3, 2)), np.array([[0.5, 1.0]]), None, "integer"),
        (np.ones((3, 2)), np.array([[0, 1]]), np.array([0, -3, 1]), "class ids >= 0"),
    ],
)
def test_bad_graphs_are_refused_clearly(x, edges, y, message):
    with pytest.raises(DataError, match=message):
        make_graph("bad", x, edges, y)


def test_dependency_names_keep_alternatives_and_drop_versions():
    names = dependency_names("libc6 (>= 2.34), python3:any | python3-foo (<< 2), perl")
    assert names == ["libc6", "python3", "python3-foo", "perl"]


def test_debian_slice_builds_a_labelled_graph(tmp_path):
    text = SLICE.read_text()
    assert len(parse_stanzas(text)) == 560
    g = debian_graph(text, dim=16)
    assert g.num_nodes == 560 and g.x.shape == (560, 16)
    assert {"python", "perl", "games", "fonts"} <= set(g.class_names)
    assert g.edge_index.shape[1] > 500 and "Depends on packages outside" in g.notes[1]
    python3 = g.node_names.index("python3")
    assert g.class_names[g.y[python3]] == "python"
    back = load_graph(save_graph(g, tmp_path / "d.npz"))
    assert np.array_equal(back.edge_index, g.edge_index) and back.node_names == g.node_names
    assert back.notes == g.notes  # the build's counts travel with the file


def test_debian_builder_command(tmp_path, capsys):
    from discotok.graphs.debian import main

    main(["--input", str(SLICE), "--out", str(tmp_path / "g.npz"), "--dim", "8"])
    assert "560 nodes" in capsys.readouterr().out
    assert load_graph(tmp_path / "g.npz").x.shape == (560, 8)


def test_graph_file_of_another_format_is_refused(tmp_path):
    path = tmp_path / "old.npz"
    np.savez(path, format=99, x=np.ones((2, 2)), edge_index=np.zeros((2, 0), dtype=np.int64))
    with pytest.raises(DataError, match="format 99"):
        load_graph(path)
    np.savez(tmp_path / "nox.npz", y=np.ones(3))
    with pytest.raises(DataError, match="needs arrays x"):
        load_graph(tmp_path / "nox.npz")


def test_edge_list_files(tmp_path):
    (tmp_path / "e.csv").write_text("0,1\n1,2\n2,3\n")
    np.save(tmp_path / "x.npy", np.eye(5))
    (tmp_path / "y.csv").write_text("0\n1\n-1\n1\n0\n")
    g = load_edge_list(tmp_path / "e.csv", tmp_path / "x.npy", tmp_path / "y.csv")
    assert g.num_nodes == 5 and g.edge_index.shape[1] == 6 and g.y.tolist() == [0, 1, -1, 1, 0]
    (tmp_path / "bad.csv").write_text("0,1.5\n")
    with pytest.raises(DataError, match="non-integer"):
        load_edge_list(tmp_path / "bad.csv", tmp_path / "x.npy")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load_edge_list(tmp_path / "empty.csv", tmp_path / "x.npy")


def test_pyg_data_and_builtin_generators():
    from torch_geometric.data import Data

    data = Data(
        x=torch.eye(3), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([0, 1, 1])
    )
    g = from_pyg(data)
    assert g.num_nodes == 3 and g.edge_index.shape[1] == 4
    k = karate_graph()
    assert k.num_nodes == 34 and k.num_classes == 2 and k.edge_index.shape[1] == 156
    s = sbm_graph((30, 30), seed=1)
    # the generator's symmetric edges are not "duplicates"
    assert s.num_nodes == 60 and not any("duplicate" in n for n in s.notes)
    assert np.array_equal(s.x, sbm_graph((30, 30), seed=1).x)


def test_splits_are_disjoint_and_inductive_nodes_lose_their_edges():
    g = sbm_graph((50, 50, 50))
    split = split_nodes(g, train=0.2, val=0.1, inductive=0.25, seed=0)
    parts = [split.train, split.val, split.test]
    assert sum(map(len, parts)) == 150 and len(np.unique(np.concatenate(parts))) == 150
    assert set(split.unseen) <= set(split.test) and len(split.unseen) == round(
        0.25 * len(split.test)
    )
    seen = g.subgraph(split.observed)
    assert seen.num_nodes == 150 - len(split.unseen)
    assert seen.edge_index.max() < seen.num_nodes
    with pytest.raises(DataError, match="at least 2 classes"):
        split_nodes(make_graph("one", np.ones((4, 2)), np.array([[0, 1]]), np.zeros(4)))


def test_code_distributions_are_distributions():
    teacher = GraphTeacher(8, 3, hidden=16, codes=8)
    g = sbm_graph((20, 20), dim=8)
    x, e = torch.from_numpy(g.x), torch.from_numpy(g.edge_index)
    teacher(x, e)  # k-means init of the codebook on the first batch
    p = teacher_code_distribution(teacher, x, e, TrainSettings())
    assert p.shape == (40, 8) and torch.allclose(p.sum(-1), torch.ones(40))
    assert code_logits(torch.randn(5, 16), teacher.codebook, 0.1).shape == (5, 8)


@pytest.mark.slow
def test_gnn_uses_structure_that_an_mlp_cannot_see():
    # weak feature signal, strong communities: the graph carries the label
    g = sbm_graph((60, 60, 60), p_in=0.15, p_out=0.005, signal=0.2, seed=0)
    r = node_classification(
        g,
        train=0.2,
        inductive=0.2,
        hidden=32,
        codes=16,
        settings=TrainSettings(epochs=60, student_steps=300),
    )
    acc = r["accuracy"]
    assert set(acc) == set(MODELS)
    assert acc["gnn"]["test_acc"] > acc["mlp"]["test_acc"] + 0.15
    assert all(0 <= a["unseen_acc"] <= 1 for a in acc.values())
    assert 1 <= r["codebook"]["codes_used"] <= 16
    assert r["inference_seconds_per_10k_nodes"]["mlp"] > 0


def test_graph_command(tmp_path, capsys):
    from discotok.cli import main

    out = tmp_path / "r.json"
    args = ["graph", "--data", "karate", "--epochs", "5", "--codes", "4", "--hidden", "8"]
    args += ["--student-steps", "20", "--batch-size", "8"]
    assert main([*args, "--train", "0.3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "vqgraph" in printed and "inference per 10k nodes" in printed
    assert json.loads(out.read_text())["graph"] == "karate"
    assert main(["graph", "--data", "nothing.bin"]) == 2
    assert "give one of karate, sbm" in capsys.readouterr().err


def test_contrastive_gnn_pretraining_learns():
    from discotok.graphs.vqgraph import GNN, pretrain_gnn

    torch.manual_seed(0)
    g = sbm_graph((40, 40, 40), p_in=0.2, dim=8)
    gnn = GNN(8, 16, dropout=0.0)
    losses = pretrain_gnn(gnn, torch.from_numpy(g.x), torch.from_numpy(g.edge_index), 40, lr=0.01)
    assert len(losses) == 40 and np.mean(losses[-5:]) < np.mean(losses[:5])


def test_student_batches_cover_every_node_once_per_pass():
    torch.manual_seed(0)
    batches = _Batches(torch.arange(10, 20), 3)
    first = torch.cat([batches.next() for _ in range(3)])  # 9 of 10: the last 1 is dropped
    assert len(first) == 9 and len(set(first.tolist())) == 9 and first.min() >= 10
    assert len(_Batches(torch.arange(4), 8).next()) == 4  # fewer nodes than a batch: all


def test_distilled_student_learns_the_teachers_soft_labels_on_unlabelled_nodes():
    # a labelling of all nodes that the features determine; only 6 nodes carry true labels,
    # so a student can only get the rest right by following the soft labels
    torch.manual_seed(0)
    x = torch.randn(300, 8)
    target = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
    soft = torch.nn.functional.one_hot(target, 4).float() * 0.9 + 0.025
    train, val = torch.arange(6), torch.arange(6, 300)
    settings = TrainSettings(student_steps=400, batch_size=64, label_weight=0.0)
    student = train_student(StudentMLP(8, 4, 32), x, target, train, val, settings, soft_labels=soft)
    with torch.no_grad():
        agree = (student(x)["logits"].argmax(-1) == target).float().mean()
    assert agree > 0.9


def test_inference_timing_covers_gnn_and_mlp():
    from discotok.graphs.node_classification import inference_seconds_per_10k

    times = inference_seconds_per_10k(karate_graph(), hidden=8, repeats=3)
    assert set(times) == {"gnn", "mlp"} and all(t > 0 for t in times.values())
