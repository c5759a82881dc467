import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny, weights

from discotok import embed, evaluate, load_tokenizer, pretrain, tokenize
from discotok.cli import main
from discotok.errors import DataError
from discotok.registry import METHODS


def test_stages_write_the_run_directory(tmp_path):
    run = pretrain(tiny(), tmp_path / "run")
    emb = embed(run)
    assert emb["train"].shape == (320, 16) and emb["test"].shape == (80, 16)
    metrics = tokenize(run)
    assert 0 < metrics["token_perplexity"] <= 8 and 0 <= metrics["token_purity"] <= 1
    codes = np.load(run / "tokens.npz")["test_codes"]
    assert np.array_equal(codes, load_tokenizer(run / "tokenizer.npz").encode(emb["test"]))
    result = evaluate(run)
    for name in (
        "config.yaml",
        "environment.json",
        "train_log.csv",
        "metrics.json",
        "report.md",
        "loss.png",
        "embedding_map.png",
    ):
        assert (run / name).exists(), name
    assert json.loads((run / "metrics.json").read_text()) == result
    assert set(result["raw"]) >= {"linear_acc", "knn_acc", "kmeans_nmi", "token_purity"}
    env = json.loads((run / "environment.json").read_text())
    assert env["seed"] == 0 and env["packages"]["torch"].startswith("2.13")


def test_evaluate_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(DataError, match="not a run directory"):
        evaluate(tmp_path)
    (tmp_path / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(DataError, match="checkpoint .* does not exist"):
        embed(tmp_path)


def test_cli_on_the_users_own_unlabelled_npy(tmp_path, capsys):
    data = tmp_path / "mine.npy"
    np.save(data, np.random.default_rng(0).normal(size=(120, 2, 32)).astype(np.float32))
    run = tmp_path / "run"
    args = [
        "--data",
        str(data),
        "--run-dir",
        str(run),
        "train.epochs=1",
        "train.batch_size=32",
        "train.progress=false",
        "tokenizer.codes=4",
        "encoder.width=8",
    ]
    assert main(["pretrain", *args]) == 0
    assert main(["embed", "--run", str(run)]) == 0
    assert main(["tokenize", "--run", str(run), "--codes", "6"]) == 0
    assert main(["evaluate", "--run", str(run)]) == 0
    out = capsys.readouterr().out
    assert "embeddings:" in out and "codebook perplexity" in out and "perplexity" in out
    assert np.load(run / "tokens.npz")["train_codes"].max() < 6


def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys):
    assert main(["pretrain", "--run-dir", str(tmp_path), "method.name=simclrr"]) == 2
    err = capsys.readouterr().err
    valid = ", ".join(METHODS.names())
    assert err.startswith(f"discotok: error: unknown method 'simclrr'; valid choices: {valid}")
    assert "simclr, simsiam" in valid
    assert "Traceback" not in err
    assert main(["pretrain", "--data", str(tmp_path / "none.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("datasets:", "mnist1d", "methods:", "gsimclr", "tokenizers:", "evaluators:"):
        assert word in out


def _start(run_dir, *extra):
    cmd = [
        sys.executable,
        "-m",
        "discotok.cli",
        "pretrain",
        "--run-dir",
        str(run_dir),
        "data.num_samples=2000",
        "train.epochs=16",
        "train.batch_size=32",
        "train.checkpoint_every=10",
        "train.progress=false",
        "encoder.width=16",
        *extra,
    ]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _wait_for_checkpoint(run_dir, proc, timeout=60):
    ckpt = Path(run_dir) / "checkpoints" / "last.pt"
    deadline = time.time() + timeout
    while not ckpt.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.1)


@pytest.mark.slow
def test_ctrl_c_on_the_cli_saves_and_says_how_to_resume(tmp_path):
    proc = _start(tmp_path)
    _wait_for_checkpoint(tmp_path, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "checkpoint saved" in err and "Run the same command again to resume" in err
    assert 10 <= weights(tmp_path)["step"] < 800  # stopped before the end


@pytest.mark.slow
def test_killed_run_keeps_its_checkpoint_and_resumes_to_the_same_weights(tmp_path):
    proc = _start(tmp_path / "killed")
    _wait_for_checkpoint(tmp_path / "killed", proc)
    proc.kill()  # SIGKILL: no chance to save; the last periodic checkpoint must be whole
    proc.wait()
    step = weights(tmp_path / "killed")["step"]
    assert step % 10 == 0 and step < 800
    for run in ("killed", "straight"):
        finisher = _start(tmp_path / run)
        _, err = finisher.communicate(timeout=300)
        assert finisher.returncode == 0, err
    a, b = weights(tmp_path / "killed"), weights(tmp_path / "straight")
    assert a["step"] == b["step"] == 800
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key


def test_evaluate_keeps_the_users_tokens_and_stale_files_are_cleared(tmp_path):
    run = pretrain(tiny(), tmp_path / "run")
    tokenize(run, {"name": "kmeans", "codes": 5})
    metrics = evaluate(run)
    assert metrics["tokenizer"]["codes"] == 5  # not replaced by the config's 8
    assert np.load(run / "tokens.npz")["train_codes"].max() < 5
    embed(run)  # new embeddings make the old tokens stale
    assert not (run / "tokens.npz").exists() and not (run / "token_metrics.json").exists()
    pretrain(tiny(), run, resume=False)
    assert not (run / "embeddings.npz").exists()


def test_config_file_in_the_repo_is_the_demo_config():
    from discotok.config import load_config
    from discotok.pipeline import build_method, load_dataset

    shipped = load_config(Path(__file__).parent.parent / "configs" / "mnist1d_simclr.yaml")
    demo = load_config()
    for cfg in (shipped, demo):  # resolves views/encoder/method with every default filled in
        build_method(cfg, load_dataset(cfg))
    for section in ("data", "views", "encoder", "method", "tokenizer", "train", "seed"):
        assert getattr(shipped, section) == getattr(demo, section), section


def test_glyph_config_in_the_repo_builds():
    from discotok.config import load_config
    from discotok.pipeline import build_method, load_dataset

    cfg = load_config(Path(__file__).parent.parent / "configs" / "glyphs_simclr.yaml")
    dataset = load_dataset(cfg)
    method, _ = build_method(cfg, dataset)
    assert dataset.name == "glyphs" and cfg.encoder["name"] == "cnn2d"
    assert method.encoder(torch.as_tensor(dataset.x_test[:4])).shape == (4, 128)


@pytest.mark.parametrize(
    "data", [{"name": "digits"}, {"name": "glyphs", "charset": "digits", "system_fonts": False}]
)
def test_image_pipeline(tmp_path, data):
    cfg = tiny(
        encoder={"name": "auto", "width": 8, "depth": 2, "embed_dim": 16},
        train={"epochs": 1, "batch_size": 128},
    )
    cfg["data"] = data
    run = pretrain(cfg, tmp_path)
    metrics = evaluate(run)
    assert metrics["encoder"] == "cnn2d"
    assert 0.1 <= metrics["embedding"]["linear_acc"] <= 1.0
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))


def test_demo_command_prints_the_table_and_reuses_a_finished_run(tmp_path, capsys):
    args = [
        "demo",
        "--run-dir",
        str(tmp_path),
        "data.num_samples=400",
        "train.epochs=1",
        "train.batch_size=64",
        "train.progress=false",
        "encoder.width=8",
        "tokenizer.codes=8",
        "evaluate.map=pca",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    for row in (
        "linear probe accuracy",
        "kNN accuracy",
        "k-means NMI",
        "token purity",
        "codebook perplexity",
        "dead codes",
        "raw input",
        "simclr embedding",
    ):
        assert row in out
    assert main(args) == 0
    assert "reused the finished run" in capsys.readouterr().out
