"""The collapse monitor: RankMe on every run, and a report that says when an embedding
collapsed."""

import numpy as np
import pytest
from conftest import tiny

from discotok import embed, evaluate, pretrain
from discotok.cli import main
from discotok.errors import DataError
from discotok.evaluators.collapse import collapsed, rankme


def test_rankme_measures_effective_rank():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(2000, 32))
    assert 28 < rankme(spread) <= 32
    line = np.outer(rng.normal(size=500), rng.normal(size=32))
    assert rankme(line) == pytest.approx(1.0, abs=0.01)
    two = np.concatenate([line, np.outer(rng.normal(size=500), rng.normal(size=32))], axis=1)
    assert rankme(two) == pytest.approx(2.0, abs=0.3)
    assert rankme(np.zeros((10, 4))) == 1.0
    with pytest.raises(DataError, match=r"\(n, dim\)"):
        rankme(np.zeros(5))


def test_collapse_threshold():
    assert collapsed(1.2, 128) and collapsed(2.5, 128)
    assert not collapsed(3.0, 128) and not collapsed(40.0, 128)


def test_every_run_reports_rankme_and_a_collapsed_one_says_so(tmp_path, capsys):
    run = pretrain(tiny(), tmp_path)
    embed(run)
    metrics = evaluate(run)
    assert metrics["embedding"]["rankme"] > 2 and metrics["raw"]["rankme"] > 2
    assert metrics["collapsed"] is False
    assert "collapse" not in (run / "report.md").read_text()

    with np.load(run / "embeddings.npz") as emb:
        arrays = dict(emb)
    rng = np.random.default_rng(0)
    direction = rng.normal(size=arrays["train"].shape[1])
    for split in ("train", "test"):
        arrays[split] = np.outer(rng.normal(size=len(arrays[split])), direction)
    np.savez(run / "embeddings.npz", **arrays)
    (run / "token_metrics.json").unlink()
    assert main(["evaluate", "--run", str(run)]) == 0
    assert "warning: collapse" in capsys.readouterr().out
    assert (
        "collapse: the embedding's effective rank (RankMe) is 1.0"
        in (run / "report.md").read_text()
    )
