"""MSM's multi-level evaluation protocol (evaluators/dense.py)."""

import numpy as np
import pytest
import torch

from discotok.encoders.cnn2d import CNN2d
from discotok.encoders.mlp import MLP
from discotok.encoders.resnet import ResNet
from discotok.errors import ConfigError, DataError
from discotok.evaluation import multilevel_probe
from discotok.evaluators.dense import (
    dense_probe,
    ink_labels,
    level_maps,
    multilevel_features,
)


def test_one_map_per_resolution_level():
    x = torch.randn(2, 1, 32, 32)
    maps = level_maps(CNN2d((1, 32, 32), width=4, depth=3).eval(), x)
    assert [tuple(m.shape[1:]) for m in maps] == [(4, 32, 32), (8, 16, 16), (16, 8, 8)]
    maps = level_maps(ResNet((1, 32, 32), width=4, depth=3).eval(), x)
    assert [m.shape[-1] for m in maps] == [32, 16, 8]
    with pytest.raises(ConfigError, match="stage-wise image encoder"):
        level_maps(MLP((10,)), torch.randn(2, 10))


def test_levels_are_brought_to_one_grid_and_concatenated():
    torch.manual_seed(0)
    enc = CNN2d((1, 32, 32), width=4, depth=3)
    x = np.random.default_rng(0).random((5, 1, 32, 32)).astype(np.float32)
    every = multilevel_features(enc, x, grid=8)
    assert every.shape == (5, 4 + 8 + 16, 8, 8)
    last = multilevel_features(enc, x, grid=8, levels="last")
    np.testing.assert_allclose(last, enc.feature_map(torch.from_numpy(x)).detach(), atol=1e-5)
    np.testing.assert_allclose(every[:, -16:], last, atol=1e-6)
    assert multilevel_features(enc, x, grid=16).shape == (5, 28, 16, 16)  # coarse level upsampled
    with pytest.raises(DataError, match="images"):
        multilevel_features(enc, x[:, 0], grid=8)


def test_ink_labels_mark_cells_with_enough_ink():
    x = np.zeros((2, 1, 8, 8), dtype=np.float32)
    x[0, 0, :4, :4] = 1.0  # top-left cell of a 2x2 grid is all ink
    x[1, 0, 4:, 4:6] = 1.0  # half of the bottom-right cell
    labels = ink_labels(x, np.array([3, 7]), grid=2, share=0.5)
    assert labels[0].tolist() == [[4, 0], [0, 0]]
    assert labels[1].tolist() == [[0, 0], [0, 8]]
    assert ink_labels(x, np.array([3, 7]), grid=2, share=0.6)[1].max() == 0


def test_dense_probe_reads_location_labels_that_are_in_the_features():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (200, 4, 4))
    feats = rng.normal(size=(200, 5, 4, 4)).astype(np.float32)
    feats[:, 0] += 3 * labels  # the label is in channel 0 at each location
    out = dense_probe(feats[:150], labels[:150], feats[150:], labels[150:])
    assert out["dense_acc"] > 0.9 and out["dense_miou"] > 0.8
    noise = dense_probe(feats[:150, 1:], labels[:150], feats[150:, 1:], labels[150:])
    assert noise["dense_acc"] < 0.5
    with pytest.raises(DataError, match="do not match"):
        dense_probe(feats[:150], labels[:140], feats[150:], labels[150:])


def test_multilevel_probe_on_a_run(tmp_path):
    from discotok import pretrain

    cfg = {
        "data": {"name": "digits"},
        "encoder": {"name": "cnn2d", "width": 8, "depth": 2, "embed_dim": 16},
        "method": {"name": "msm", "patch": 2},
        "train": {"epochs": 1, "batch_size": 128, "progress": False},
    }
    run = pretrain(cfg, tmp_path / "run")
    every = multilevel_probe(run, grid=4)
    last = multilevel_probe(run, grid=4, levels="last")
    assert every["channels"] == 8 + 16 and last["channels"] == 16
    for out in (every, last):
        assert 0.1 < out["image_linear_acc"] <= 1 and 0 < out["dense_fg_acc"] <= 1
        assert 0 < out["dense_miou"] <= 1
