"""A tokenizer trained jointly with the encoder (train.token_weight > 0)."""

import csv

import numpy as np
import pytest
import torch
from conftest import resumes_identically, tiny, weights

from discotok import embed, pretrain, tokenize
from discotok.cli import main
from discotok.errors import ConfigError
from discotok.pipeline import load_method
from discotok.tokenizers import load_tokenizer

JOINT = {"tokenizer": {"name": "fsq", "codes": 16}, "train": {"token_weight": 1.0, "epochs": 3}}


@pytest.fixture(scope="module")
def joint_run(tmp_path_factory):
    run = pretrain(tiny(**JOINT), tmp_path_factory.mktemp("joint") / "run")
    embed(run)
    return run


def test_token_loss_is_logged_and_falls(joint_run):
    rows = list(csv.DictReader((joint_run / "train_log.csv").open()))
    assert {"token_loss", "token_mse", "token_used"} <= set(rows[0])
    first, last = float(rows[0]["token_loss"]), float(rows[-1]["token_loss"])
    assert last < 0.8 * first
    # loss = method's loss + weight * token loss
    assert float(rows[-1]["loss"]) == pytest.approx(
        float(rows[-1]["ntxent"]) + float(rows[-1]["token_loss"]), rel=1e-5
    )


def test_the_token_loss_reaches_the_encoder(joint_run, tmp_path):
    plain = weights(pretrain(tiny(**{**JOINT, "train": {"epochs": 3}}), tmp_path / "plain"))
    joint = weights(joint_run)
    key = next(k for k in plain["model"] if k.startswith("encoder.") and "weight" in k)
    assert not torch.equal(plain["model"][key], joint["model"][key])
    assert any(k.startswith("joint_tokens.net.") for k in joint["model"])
    assert not any(k.startswith("joint_tokens.") for k in plain["model"])


def test_tokenize_takes_the_trained_tokenizer_unless_refit(joint_run):
    metrics = tokenize(joint_run)
    assert metrics["token_joint"] == 1.0 and metrics["token_fit_seconds"] == 0.0
    # the written tokenizer is the jointly trained net, standardizing with the train split's
    # statistics
    method, _, _ = load_method(joint_run)
    emb = np.load(joint_run / "embeddings.npz")
    mean, std = emb["train"].mean(0), emb["train"].std(0)
    with torch.no_grad():
        expected = method.joint_tokens.net(torch.from_numpy((emb["test"] - mean) / std))[1]
    expected = expected.numpy()
    tok = load_tokenizer(joint_run / "tokenizer.npz")
    np.testing.assert_array_equal(tok.encode(emb["test"]), expected)
    with np.load(joint_run / "tokens.npz") as f:
        np.testing.assert_array_equal(f["test_codes"], expected)
    refit = tokenize(joint_run, refit=True)
    assert refit["token_joint"] == 0.0 and refit["token_fit_seconds"] > 0
    # another tokenizer than the run's is always fitted on the embeddings
    assert tokenize(joint_run, {"name": "kmeans", "codes": 8})["token_joint"] == 0.0


def test_cli_names_the_joint_tokenizer(joint_run, capsys):
    main(["tokenize", "--run", str(joint_run)])
    assert "fsq (trained with the encoder)" in capsys.readouterr().out
    main(["tokenize", "--run", str(joint_run), "--refit"])
    assert "trained with the encoder" not in capsys.readouterr().out


def test_joint_run_resumes_identically(tmp_path):
    resumes_identically(tiny(**JOINT), tmp_path)


def test_joint_tokens_need_a_trainable_family_and_a_pooled_embedding(tmp_path):
    cfg = tiny(tokenizer={"name": "kmeans", "codes": 8}, train={"token_weight": 1.0})
    with pytest.raises(ConfigError, match="trainable family.*fsq"):
        pretrain(cfg, tmp_path / "kmeans")
    with pytest.raises(ConfigError, match="train.token_weight"):
        pretrain(tiny(train={"token_weight": -1.0}), tmp_path / "negative")
    ts2vec = {
        "data": {"name": "ucr", "dataset": "UnitTest"},
        "encoder": {"name": "dilated", "width": 8, "depth": 2, "embed_dim": 8},
        "method": {"name": "ts2vec"},
        "tokenizer": {"name": "fsq", "codes": 16},
        "train": {"steps": 2, "batch_size": 8, "progress": False, "token_weight": 1.0},
    }
    with pytest.raises(ConfigError, match="never computes a pooled embedding"):
        pretrain(ts2vec, tmp_path / "ts2vec")


def test_joint_tokens_train_in_two_processes(tmp_path, family="vq"):
    # VQ: its codebook's k-means init and EMA updates are synchronised across processes
    from test_distributed import vector_config

    rng = np.random.default_rng(0)
    data = tmp_path / "vectors.npz"
    np.savez(data, x=rng.normal(size=(320, 10)).astype(np.float32), y=rng.integers(0, 3, 320))
    cfg = vector_config(data, 32, 2)
    cfg["tokenizer"] = {"name": family, "codes": 16, "latent_dim": 8}
    cfg["train"]["token_weight"] = 1.0
    run = pretrain(cfg, tmp_path / "run")
    assert weights(run)["step"] == 8  # 256 training vectors, global batch 64
    embed(run)
    metrics = tokenize(run)
    assert metrics["token_joint"] == 1.0 and metrics["token_usage"] > 1 / 16  # not one code for all
