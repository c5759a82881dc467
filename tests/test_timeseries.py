"""Time series: loaders (aeon sets, users' files), padding-aware views and encoder, TS2Vec,
frame projections, and the time-series pipeline end to end."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from discotok import embed, evaluate, pretrain, tokenize
from discotok.data.base import Dataset
from discotok.data.timeseries import (
    fill_gaps,
    load_series,
    load_ucr,
    valid_lengths,
    znormalise,
)
from discotok.encoders.cnn1d import CNN1d
from discotok.encoders.dilated import DilatedConvEncoder
from discotok.errors import ConfigError, DataError
from discotok.evaluators.probes import svm_probe
from discotok.methods.frameproj import FrameProjections, MorletCWT, fourier_view
from discotok.methods.ts2vec import TS2Vec, hierarchical_loss
from discotok.views.timeseries import TimeSeriesViews

CONFIGS = Path(__file__).parent.parent / "configs"


def padded_batch(lengths=(20, 13, 30, 7), channels=2, total=30, seed=0):
    g = np.random.default_rng(seed)
    x = np.full((len(lengths), channels, total), np.nan, dtype=np.float32)
    for i, n in enumerate(lengths):
        x[i, :, :n] = g.normal(size=(channels, n))
    return torch.from_numpy(x)


# ---------------------------------------------------------------- data


def test_ucr_fixed_length_set_has_published_split():
    data = load_ucr("GunPoint")
    assert data.x_train.shape == (50, 1, 150) and data.x_test.shape == (150, 1, 150)
    assert np.isfinite(data.x_train).all() and data.num_classes == 2
    # z-normalised per series (the UCR convention)
    assert np.allclose(data.x_train.mean(axis=2), 0, atol=1e-4)
    assert np.allclose(data.x_train.std(axis=2), 1, atol=1e-3)


def test_variable_length_set_is_padded_not_truncated():
    from aeon.datasets import load_classification

    raw, _ = load_classification("JapaneseVowels", split="train")
    data = load_ucr("JapaneseVowels")
    assert data.padded and data.x_train.shape[1] == 12
    np.testing.assert_array_equal(valid_lengths(data.x_train), [s.shape[1] for s in raw])
    assert data.x_train.shape[2] == 29  # the longest series of both splits
    assert any("padded" in note for note in data.notes)


def test_multivariate_sets_keep_channel_levels():
    from aeon.datasets import load_classification

    data = load_ucr("JapaneseVowels")  # auto: per channel with train statistics
    assert "z-normalised per channel (train statistics)" in data.notes
    valid = data.x_train[:, :, :7]  # every series has at least 7 steps
    assert np.allclose(np.nanmean(data.x_train, axis=(0, 2)), 0, atol=1e-4)
    assert np.abs(valid.mean(axis=2)).max() > 0.5  # series keep their own levels
    raw, _ = load_classification("JapaneseVowels", split="train")
    kept = load_ucr("JapaneseVowels", normalise="none")
    assert np.allclose(kept.x_train[0, :, : raw[0].shape[1]], raw[0], atol=1e-5)
    with pytest.raises(ConfigError, match="series, set, none"):
        load_ucr("GunPoint", normalise="minmax")


def test_unknown_set_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="GunPoint"):
        load_ucr("CricketX")  # not in the wheel; would need a download


def test_gaps_are_interpolated_and_constant_series_become_zeros():
    x = np.array([[[1.0, np.nan, 3.0, 4.0, np.nan, np.nan]]])  # gap, then 2 steps padding
    x[0, 0, 4:] = np.nan
    filled, count = fill_gaps(x)
    assert count == 1 and filled[0, 0, 1] == 2.0 and np.isnan(filled[0, 0, 4:]).all()
    const = np.array([[[5.0, 5.0, 5.0, np.nan]]])
    out, constant = znormalise(const)
    assert constant == 1 and np.array_equal(out[0, 0, :3], [0, 0, 0]) and np.isnan(out[0, 0, 3])


def test_dataset_rejects_nan_inside_a_padded_series():
    x = np.zeros((2, 1, 5), dtype=np.float32)
    x[0, 0, 2] = np.nan
    with pytest.raises(DataError, match="NaN inside"):
        Dataset("bad", "signal", x, x.copy(), padded=True)


def test_series_npz_with_gaps_and_labels(tmp_path):
    g = np.random.default_rng(0)
    x = g.normal(size=(30, 3, 40))
    x[0, 1, 10] = np.nan
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, y=np.arange(30) % 3)
    data = load_series(str(path), test_fraction=0.3)
    assert len(data.x_train) + len(data.x_test) == 30 and data.num_classes == 3
    assert np.isfinite(data.x_train).all() and np.isfinite(data.x_test).all()
    assert any("filled by interpolation" in note for note in data.notes)


def test_series_ts_file_with_unequal_lengths(tmp_path):
    rows = ["1,2,3,4,5:a", "2,3,4:b", "5,4,3,2,1,0:a", "1,1,2,3:b", "0,1,0,1,0,1,0:a"]
    header = (
        "@problemName toy\n@timeStamps false\n@missing false\n@univariate true\n"
        "@equalLength false\n@classLabel true a b\n@data\n"
    )
    path = tmp_path / "toy.ts"
    path.write_text(header + "\n".join(rows) + "\n")
    data = load_series(str(path), test_path=str(path))
    assert data.x_train.shape == (5, 1, 7) and data.num_classes == 2
    np.testing.assert_array_equal(valid_lengths(data.x_train), [5, 3, 6, 4, 7])


def test_series_csv_label_column_and_short_rows(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("0,1,2,3,4\n1,4,3,,\n0,2,2,2,2\n1,0,1,0,\n0,5,4,3,2\n1,1,2,3,4\n")
    data = load_series(str(path), label_column="first", test_path=str(path))
    assert data.x_train.shape == (6, 1, 4) and data.num_classes == 2
    np.testing.assert_array_equal(valid_lengths(data.x_train), [4, 2, 4, 3, 4, 4])
    # row 2 is constant -> zeros, not a division by zero
    assert np.array_equal(data.x_train[2, 0], np.zeros(4))


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.ts", "", "empty"),
        ("bad.ts", "this is not a ts file\n@data\n1,2,x:y\n", "not a readable .ts"),
        ("bad.csv", "1,2\nc,d\n", "row 2, column 1"),
        ("bad.txt", "1,2,3\n", "must end in"),
    ],
)
def test_bad_series_files_give_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_series(str(path), test_path=str(path))


def test_mismatched_channels_between_train_and_test(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, x=np.zeros((4, 2, 10)) + np.arange(10), x_test=np.zeros((4, 3, 10)))
    with pytest.raises(DataError, match="2 channels but test series 3"):
        load_series(str(path))


def test_single_class_is_a_clear_probe_error():
    emb = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(DataError, match="at least 2 classes"):
        svm_probe(emb, np.zeros(10, dtype=int), emb, np.zeros(10, dtype=int))


def test_fewer_series_than_the_batch_size(tmp_path):
    cfg = {"data": {"name": "ucr", "dataset": "UnitTest"}, "train": {"batch_size": 32}}
    with pytest.raises(ConfigError, match="lower train.batch_size"):
        pretrain(cfg, tmp_path / "run")


# ---------------------------------------------------------------- views and encoder


def test_views_keep_padding_and_change_the_values():
    x = padded_batch()
    torch.manual_seed(0)
    views = TimeSeriesViews()
    for name, view in {"all": views, **views.variants()}.items():
        out = view(x)
        assert torch.equal(torch.isnan(out), torch.isnan(x)), name
        assert not torch.allclose(torch.nan_to_num(out), torch.nan_to_num(x)), name
    off = TimeSeriesViews(jitter=0, scaling=0, permute_prob=0, warp=0, crop_min=1.0)
    assert torch.allclose(torch.nan_to_num(off(x)), torch.nan_to_num(x), atol=1e-5)


def test_dilated_encoder_ignores_how_much_padding_follows():
    torch.manual_seed(0)
    enc = DilatedConvEncoder((2, 50), width=8, depth=3, embed_dim=16).eval()
    short = padded_batch(total=30)
    longer = torch.cat([short, torch.full((4, 2, 20), float("nan"))], dim=2)
    with torch.no_grad():
        assert torch.allclose(enc(short), enc(longer), atol=1e-5)
        assert enc.frames(longer).shape == (4, 50, 16)
    assert enc.frame_lengths(longer).tolist() == [20, 13, 30, 7]


def test_cnn1d_on_variable_length_data_points_to_dilated(tmp_path):
    cfg = {"data": {"name": "ucr", "dataset": "JapaneseVowels"}, "encoder": {"name": "cnn1d"}}
    with pytest.raises(ConfigError, match="encoder.name=dilated"):
        pretrain(cfg, tmp_path / "run")


# ---------------------------------------------------------------- methods


def test_hierarchical_loss_rewards_matching_views():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(8, 16, 32, generator=g)
    mask = torch.ones(8, 16, dtype=torch.bool)
    same = hierarchical_loss(z1, z1 + 0.1 * torch.randn(8, 16, 32, generator=g), mask)
    other = hierarchical_loss(z1, torch.randn(8, 16, 32, generator=g), mask)
    assert same < other
    mask[:, 10:] = False  # masked steps must not matter
    changed = z1.clone()
    changed[:, 10:] = 100.0
    assert torch.allclose(hierarchical_loss(z1, z1, mask), hierarchical_loss(changed, z1, mask))


@pytest.mark.parametrize("method", ["ts2vec", "frameproj"])
def test_augmentation_free_methods_train_on_padded_batches(method):
    torch.manual_seed(0)
    enc = DilatedConvEncoder((2, 30), width=8, depth=2, embed_dim=16)
    model = TS2Vec(enc) if method == "ts2vec" else FrameProjections(enc, num_scales=6)
    assert model.augment is False
    x = padded_batch()
    losses = model({"views": [x, x], "index": torch.arange(4)})
    losses["loss"].backward()
    assert torch.isfinite(losses["loss"])
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_ts2vec_needs_a_per_step_encoder():
    with pytest.raises(ConfigError, match="encoder.name=dilated"):
        TS2Vec(CNN1d((1, 40)))


def test_fourier_view_is_orthonormal():
    x = torch.randn(3, 2, 64, dtype=torch.float64)
    view = fourier_view(x)
    amp = view[:, :2]
    energy = amp[..., 0] ** 2 + amp[..., -1] ** 2 + 2 * (amp[..., 1:-1] ** 2).sum(-1)
    assert torch.allclose(energy, (x**2).sum(-1))  # Parseval with norm="ortho"


def test_morlet_cwt_responds_at_the_matching_scale():
    cwt = MorletCWT(256, num_scales=24)
    scales = torch.logspace(0, math.log10(64), 24)
    period = 4 * math.pi * scales / (6 + math.sqrt(2 + 36))  # Fourier period of each scale
    for true_period in (8.0, 32.0):
        x = torch.sin(2 * math.pi * torch.arange(256) / true_period)[None, None].float()
        power = cwt(x)[0, :, 64:192].pow(2).mean(-1)
        found = float(period[power.argmax()])
        assert 0.75 < found / true_period < 1.33


def test_frameproj_keeps_time_encoder_plus_mappers():
    enc = DilatedConvEncoder((1, 40), width=8, depth=2, embed_dim=16)
    model = FrameProjections(enc, num_scales=4)
    assert model.encoder.embed_dim == 48
    assert model.encoder(torch.randn(5, 1, 40)).shape == (5, 48)


# ---------------------------------------------------------------- pipeline


def test_train_steps_overrides_epochs(tmp_path):
    cfg = {
        "data": {"name": "ucr", "dataset": "UnitTest"},
        "encoder": {"name": "dilated", "width": 8, "depth": 2, "embed_dim": 8},
        "method": {"name": "ts2vec"},
        "train": {"steps": 5, "batch_size": 8, "progress": False},
    }
    run = pretrain(cfg, tmp_path / "run")
    result = json.loads((run / "train_result.json").read_text())
    assert result["steps"] == 5 and result["epochs"] == 3  # 2 steps per epoch


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ts2vec", "frameproj", "simclr"])
def test_shipped_configs_run_on_variable_length_series(tmp_path, method):
    from discotok.config import load_config

    cfg = load_config(
        CONFIGS / f"ucr_{method}.yaml",
        [
            "data.dataset=PickupGestureWiimoteZ",
            "train.steps=3",
            "train.progress=false",
            "encoder.width=8",
            "encoder.depth=2",
        ],
    )
    run = pretrain(cfg, tmp_path / "run")
    emb = embed(run)
    assert emb["train"].shape[0] == 50 and np.isfinite(emb["train"]).all()
    frames = tokenize(run, {"name": "kmeans", "codes": 8}, level="frame")
    data = np.load(run / "frames.npz")
    lengths = valid_lengths(load_ucr("PickupGestureWiimoteZ").x_test)
    assert data["test_lengths"].tolist() == lengths.tolist()  # one frame per real step
    assert {"token_ued_jitter", "token_ued_time_warp"} <= set(frames)
    metrics = evaluate(run)
    assert 0.0 <= metrics["embedding"]["svm_acc"] <= 1.0


def test_cli_takes_a_ts_file_and_reports_what_loading_changed(tmp_path, capsys):
    from discotok.cli import main

    g = np.random.default_rng(0)
    lines = []
    for i in range(24):
        values = g.normal(size=int(g.integers(8, 16))).round(3)
        if i == 3:
            values = values.astype(object)
            values[2] = "?"  # aeon's missing-value mark inside a series
        lines.append(",".join(map(str, values)) + f":{'ab'[i % 2]}")
    header = "@problemName toy\n@missing true\n@univariate true\n@equalLength false\n"
    path = tmp_path / "toy.ts"
    path.write_text(header + "@classLabel true a b\n@data\n" + "\n".join(lines) + "\n")
    run = tmp_path / "run"
    args = ["--data", str(path), "--run-dir", str(run), "train.steps=2", "train.batch_size=8"]
    assert main(["pretrain", *args, "train.progress=false", "encoder.width=8"]) == 0
    out = capsys.readouterr().out
    assert "data: variable length (8-15 steps)" in out
    assert "data: 1 missing values inside series filled by interpolation" in out
