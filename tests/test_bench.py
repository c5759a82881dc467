"""discotok bench: grid files, the five aspects, the tidy table, resume, failed cells."""

import csv

import numpy as np
import pytest
import yaml
from conftest import TINY

from discotok import bench
from discotok.cli import main
from discotok.config import TrainConfig
from discotok.errors import ConfigError, DataError, TrainingInterrupted
from discotok.pipeline import embed, pretrain, pretraining_inputs


def write_grid(tmp_path, **keys):
    grid = {"overrides": TINY, "seeds": [0], "methods": ["simclr"], **keys}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    return path


def read_table(out):
    with (out / "results.csv").open() as f:
        return list(csv.DictReader(f))


def test_grid_files_are_checked_before_anything_runs(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        bench.load_grid(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="unknown grid key\\(s\\) \\['method'\\]; valid keys"):
        bench.load_grid(write_grid(tmp_path, method="simclr"))
    with pytest.raises(ConfigError, match="unknown aspect\\(s\\) \\['size'\\]; valid aspects"):
        bench.load_grid(write_grid(tmp_path, aspects={"size": [0.5]}))
    with pytest.raises(ConfigError, match="aspect 'noise' needs a non-empty list"):
        bench.load_grid(write_grid(tmp_path, aspects={"noise": 0.5}))
    bad_value = write_grid(tmp_path, aspects={"data_size": [1.5]})
    with pytest.raises(ConfigError, match="simclr/data_size=1.5/seed0: train.data_fraction"):
        bench.grid_cells(bench.load_grid(bad_value))
    bad_option = write_grid(tmp_path, methods=[{"name": "simclr", "temprature": 0.1}])
    with pytest.raises(ConfigError, match="base/seed0: .*temprature"):
        bench.grid_cells(bench.load_grid(bad_option))
    bad_encoder = write_grid(tmp_path, aspects={"model_size": [{"widht": 8}]})
    with pytest.raises(ConfigError, match="model_size=widht=8/seed0: .*widht"):
        bench.grid_cells(bench.load_grid(bad_encoder))
    grid = bench.load_grid(write_grid(tmp_path, seeds=[0, 1], aspects={"noise": [0.1, 0.2]}))
    cells = bench.grid_cells(grid)
    assert [c.id.split("/", 2)[2] for c in cells] == [
        "base/seed0",
        "noise=0.1/seed0",
        "noise=0.2/seed0",
        "base/seed1",
        "noise=0.1/seed1",
        "noise=0.2/seed1",
    ]
    assert cells[1].config["train"]["input_noise"] == 0.1


def test_pretraining_share_and_noise():
    x = np.random.default_rng(0).normal(size=(200, 5)).astype(np.float32)
    assert pretraining_inputs(x, TrainConfig(), 0) is x
    half = pretraining_inputs(x, TrainConfig(data_fraction=0.25), 0)
    assert half.shape == (50, 5) and {tuple(r) for r in half} <= {tuple(r) for r in x}
    noisy = pretraining_inputs(x, TrainConfig(input_noise=0.5), 0)
    assert noisy.dtype == np.float32 and np.std(noisy - x) == pytest.approx(0.5, rel=0.1)


def test_features_and_shift_options_refuse_what_cannot_work(tmp_path):
    cfg = {**TINY, "method": {"name": "dino"}, "evaluate": {**TINY["evaluate"]}}
    cfg["evaluate"]["features"] = "projector"
    cfg["train"] = {**TINY["train"], "epochs": 1}
    run = pretrain(cfg, tmp_path / "dino")
    with pytest.raises(ConfigError, match="method 'dino' has no projector head"):
        embed(run)
    cfg = {**TINY, "evaluate": {**TINY["evaluate"], "data": {"name": "moons"}}}
    with pytest.raises(ConfigError, match="evaluate.data 'moons' has samples of shape"):
        embed(pretrain({**cfg, "train": {**TINY["train"], "epochs": 1}}, tmp_path / "shift"))


def test_a_grid_runs_every_aspect_records_failures_and_resumes(tmp_path, monkeypatch, capsys):
    aspects = {
        "data_size": [0.5, 0.01],  # 0.01: 3 samples, fewer than a batch -> a failed cell
        "model_size": [{"width": 8}],
        "noise": [0.3],
        "features": ["projector"],
        "shift": [{"name": "mnist1d", "num_samples": 400, "test_fraction": 0.5}],
    }
    path = write_grid(tmp_path, aspects=aspects)
    out = tmp_path / "out"
    real = bench.run_cell
    calls = []

    def interrupted_at_the_third(cell, run_dir):
        calls.append(cell.id)
        if len(calls) == 3:
            raise TrainingInterrupted("interrupted at step 2/10.")
        return real(cell, run_dir)

    monkeypatch.setattr(bench, "run_cell", interrupted_at_the_third)
    with pytest.raises(TrainingInterrupted, match="grid stopped in cell .*data_size=0.01"):
        bench.run_grid(path, out)
    assert [r["cell"].split("/")[2] for r in read_table(out)] == ["base", "data_size=0.5"]
    monkeypatch.setattr(bench, "run_cell", real)
    capsys.readouterr()
    assert main(["bench", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "7 cells, 2 already recorded" in printed
    rows = {r["cell"].split("/")[2]: r for r in read_table(out)}
    assert len(rows) == 7
    failed = rows["data_size=0.01"]
    assert failed["status"] == "failed" and "more than the 3 training samples" in failed["error"]
    assert all(r["status"] == "ok" for k, r in rows.items() if k != "data_size=0.01")
    assert int(rows["data_size=0.5"]["pretrain_samples"]) < int(rows["base"]["pretrain_samples"])
    assert rows["base"]["session"] == "0" and rows["noise=0.3"]["session"] == "1"
    for row in rows.values():
        if row["status"] == "ok":
            assert 0.0 < float(row["linear_acc"]) <= 1.0 and float(row["wall_seconds"]) > 0
    report = (out / "report.md").read_text()
    for heading in ("### base", "### data_size", "### shift", "### features", "## Failed"):
        assert heading in report
    assert "| 0 (1 failed) |" in report
    assert all((out / f).is_file() for f in ("data_size.png", "noise.png", "compute.png"))
    assert len(yaml.safe_load((out / "sessions.json").read_text())) == 2
