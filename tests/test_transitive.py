"""Transitive invariance: neighbours mined from the embedding become positives."""

import csv

import numpy as np
import pytest
import torch
from conftest import tiny

from discotok.encoders.mlp import MLP
from discotok.methods.transitive import (
    TransitiveInvariance,
    mine_neighbours,
    multi_positive_nce,
)
from discotok.pipeline import load_method, pretrain


def test_mined_neighbours_exclude_the_point_and_stay_in_its_cluster():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(20, 4)) + 10, rng.normal(size=(20, 4)) - 10])
    table = mine_neighbours(x, 3)
    assert table.shape == (40, 3)
    assert not (table == np.arange(40)[:, None]).any()
    assert ((table < 20) == (np.arange(40) < 20)[:, None]).all()


def test_multi_positive_loss_prefers_positives_that_agree():
    torch.manual_seed(0)
    base = torch.randn(8, 16)
    groups = torch.arange(8).repeat(2)
    agree = multi_positive_nce(torch.cat([base, base + 0.01]), groups, 0.2)
    disagree = multi_positive_nce(torch.cat([base, torch.randn(8, 16)]), groups, 0.2)
    assert agree < disagree


def test_edges_switch_on_after_warmup_and_add_a_third_view():
    torch.manual_seed(0)
    method = TransitiveInvariance(MLP((10,), width=16, depth=1, embed_dim=8), neighbours=2)
    x = torch.randn(64, 10)
    method.prepare(x, 0)
    assert method.neighbour_table.numel() == 0
    batch = {"views": [x[:16], x[:16]], "index": torch.arange(16)}
    assert method(batch)["mined"] == 0
    method.prepare(x, 1)
    assert method.neighbour_table.shape == (64, 2) and int(method.mined_at) == 1
    out = method(batch)
    assert out["mined"] == 1 and torch.isfinite(out["loss"])


@pytest.mark.slow
def test_transitive_run_mines_and_reports_pair_precision(tmp_path):
    cfg = tiny(
        encoder={"name": "cnn2d", "width": 8, "depth": 2, "embed_dim": 16},
        views={"name": "image2d"},
        method={"name": "transitive", "refresh_every": 1},
        train={"epochs": 3, "batch_size": 128},
    )
    cfg["data"] = {"name": "digits"}  # no mnist1d options
    run = pretrain(cfg, tmp_path)
    with open(run / "train_log.csv") as f:
        mined = [float(r["mined"]) for r in csv.DictReader(f)]
    assert mined[0] == 0 and mined[-1] == 1
    method, _, data = load_method(run)
    found = method.evaluate_method(data, tmp_path, 0)
    assert found["mined_precision_raw"] > 0.9  # raw 8x8 digits: neighbours share labels
    assert 0.3 < found["mined_precision_embedding"] <= 1  # far above chance (0.1)
