import json

import numpy as np
import pytest
import torch
from conftest import tiny

from discotok import compare_tokenizers, embed, pretrain, tokenize
from discotok.cli import main
from discotok.errors import ConfigError
from discotok.evaluators.robustness import token_agreement
from discotok.tokenizers.kmeans import KMeansTokenizer
from discotok.views.signal1d import SignalViews


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run = pretrain(tiny(), tmp_path_factory.mktemp("tok") / "run")
    embed(run)
    return run


def test_token_agreement_is_one_without_change_and_drops_with_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1, 20)).astype(np.float32)

    def flat(v):
        return v.reshape(len(v), -1), np.ones(len(v), dtype=np.int64)

    tok = KMeansTokenizer(codes=8).fit(flat(x)[0])
    still = SignalViews(max_shift=0, time_scale=0, crop_min=1.0, amplitude=0, noise=0, mask_max=0)
    loud = SignalViews(max_shift=0, time_scale=0, crop_min=1.0, amplitude=0, noise=3.0, mask_max=0)
    out = token_agreement(flat, tok, x, {"none": still, "noise": loud})
    assert out["token_agreement_none"] == 1.0
    assert out["token_agreement_noise"] < 0.6
    assert out["token_agreement"] == pytest.approx((1.0 + out["token_agreement_noise"]) / 2)


def test_signal_variants_switch_on_one_augmentation_each():
    variants = SignalViews().variants()
    assert set(variants) == {"shift", "time_scale", "crop", "amplitude", "noise", "mask"}
    x = torch.randn(4, 1, 40)
    assert not torch.equal(variants["noise"](x), x)
    assert variants["amplitude"].noise == 0 and variants["amplitude"].max_shift == 0


def test_tokens_file_format_and_robustness_metrics(run):
    metrics = tokenize(run)
    with np.load(run / "tokens.npz") as f:
        assert int(f["format"]) == 1 and int(f["num_codes"]) == 8
        assert f["test_codes"].shape == f["test_ids"].shape == f["test_lengths"].shape == (80,)
        assert (f["train_lengths"] == 1).all() and f["y_test"].shape == (80,)
    for key in ("token_pnmi", "token_bits", "token_agreement_shift", "token_agreement"):
        assert key in metrics
    assert metrics["token_bits"] == 3.0


def test_compare_leaves_the_run_tokens_alone(run, capsys):
    tokenize(run)
    before = (run / "tokens.npz").read_bytes()
    assert (
        main(["tokenize", "--run", str(run), "--compare", "kmeans,fsq,binary", "--codes", "4"]) == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["tokenizer", "bits", "purity"]
    assert {line.split()[0] for line in out.splitlines()[2:5]} == {"kmeans", "fsq", "binary"}
    assert (run / "tokens.npz").read_bytes() == before
    saved = json.loads((run / "token_comparison.json").read_text())
    assert saved["fsq"]["token_bits"] == 2.0


def test_compare_rejects_unknown_family_before_fitting(run):
    with pytest.raises(ConfigError, match="unknown tokenizer 'pq'; valid choices: binary, bow"):
        compare_tokenizers(run, ["kmeans", "pq"])


def test_frame_level_tokens_are_sequences_with_ued(run, capsys):
    frames = embed(run, frames=True)
    assert frames["train"].shape == (320 * 20, 16) and (frames["train_lengths"] == 20).all()
    metrics = tokenize(run, level="frame")
    with np.load(run / "frame_tokens.npz") as f:
        assert f["test_codes"].shape == (1600,) and f["test_ids"][:21].tolist() == [0] * 20 + [1]
    assert 1.0 <= metrics["token_run_length"] <= 20.0
    assert metrics["token_bits_per_sample"] == pytest.approx(metrics["token_dedup_length"] * 3)
    assert 0.0 <= metrics["token_ued_shift"] and "token_ued" in metrics
    assert (run / "tokens.npz").exists()  # the sample-level tokens are untouched
    assert (
        main(["tokenize", "--run", str(run), "--frames", "--compare", "kmeans,vq", "--codes", "8"])
        == 0
    )
    assert "UED" in capsys.readouterr().out


def test_frames_need_an_encoder_with_a_time_axis(tmp_path):
    cfg = tiny(encoder={"name": "mlp", "width": 8, "depth": 1, "embed_dim": 8})
    cfg["encoder"] = {"name": "mlp", "width": 8, "depth": 1, "embed_dim": 8}
    run = pretrain(cfg, tmp_path)
    with pytest.raises(ConfigError, match="has no frame-level output"):
        embed(run, frames=True)
