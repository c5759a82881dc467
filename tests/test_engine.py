import os
import signal
from functools import partial

import numpy as np
import pytest
import torch
import yaml
from conftest import tiny, weights

from discotok.errors import ConfigError, DataError, TrainingDiverged, TrainingInterrupted
from discotok.pipeline import pretrain
from discotok.train.batches import distinct_cluster_order, epoch_order
from discotok.train.logger import read_log
from discotok.train.schedule import warmup_constant, warmup_cosine, warmup_infinite


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_interrupted_run_resumes_to_identical_weights(tmp_path):
    cfg = tiny(train={"epochs": 3})
    full = pretrain(cfg, tmp_path / "full")

    def ctrl_c_at_step_5(record):
        if record["step"] == 5:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted, match="interrupted at step 5/15; checkpoint saved"):
        pretrain(cfg, tmp_path / "cut", callbacks=(ctrl_c_at_step_5,))
    assert weights(tmp_path / "cut")["step"] == 5
    pretrain(cfg, tmp_path / "cut")
    assert_same_weights(weights(full)["model"], weights(tmp_path / "cut")["model"])
    steps = [r["step"] for r in read_log(tmp_path / "cut")]
    assert steps == list(range(1, 16))  # no step logged twice after the resume


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    def poison_after_step_3(record):
        if record["step"] == 3:
            method_params[0].data.fill_(float("nan"))

    from discotok import pipeline

    method_params = []
    original = pipeline.fit

    def spy_fit(method, *args, **kwargs):
        method_params.extend(method.parameters())
        return original(method, *args, **kwargs)

    pipeline.fit = spy_fit
    try:
        with pytest.raises(
            TrainingDiverged, match="loss became nan at step 3.*last good checkpoint"
        ):
            pretrain(tiny(), tmp_path, callbacks=(poison_after_step_3,))
    finally:
        pipeline.fit = original
    kept = weights(tmp_path)
    assert kept["step"] == 2
    assert all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())


def test_huge_learning_rate_diverges_cleanly(tmp_path):
    cfg = tiny(train={"lr": 1e38, "optimizer": "sgd", "checkpoint_every": 1})
    with pytest.raises(TrainingDiverged, match="Lower train.lr"):
        pretrain(cfg, tmp_path)


def test_batch_larger_than_data_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="256 x 1 process.*more than the 80 training samples"):
        pretrain(tiny(data={"num_samples": 100}, train={"batch_size": 256}), tmp_path)


def test_finished_run_is_not_retrained_and_other_config_is_refused(tmp_path):
    pretrain(tiny(), tmp_path)
    before = os.path.getmtime(tmp_path / "checkpoints" / "last.pt")
    pretrain(tiny(train={"progress": True}), tmp_path)  # runtime-only change: same run
    assert os.path.getmtime(tmp_path / "checkpoints" / "last.pt") == before
    # a run written before a setting existed (here: the optimizer) resumes at its default
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    del saved["train"]["optimizer"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    pretrain(tiny(), tmp_path)
    assert os.path.getmtime(tmp_path / "checkpoints" / "last.pt") == before
    with pytest.raises(ConfigError, match=r"another config \(train.lr: 0.004 -> 0.1\)"):
        pretrain(tiny(train={"lr": 0.1}), tmp_path)
    pretrain(tiny(train={"lr": 0.1}), tmp_path, resume=False)  # --fresh


def test_schedules():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10) == pytest.approx(0.5)
    assert warmup_cosine(100, 100, 10) == pytest.approx(0.0)
    assert warmup_constant(50, 100, 10) == 1.0


def test_infinite_schedule_phases():
    f = partial(warmup_infinite, total_steps=100, warmup_steps=10, cooldown_steps=20)
    assert f(0, constant=0.25) == pytest.approx(0.1)
    assert f(9, constant=0.25) == pytest.approx(1.0)  # warmed up
    assert f(10, constant=0.25) == pytest.approx(1.0)  # cooldown starts at the top
    assert f(20, constant=0.25) == pytest.approx(0.625)  # halfway down the cosine
    assert f(30, constant=0.25) == f(99, constant=0.25) == pytest.approx(0.25)  # constant
    # with an anneal over the last 10 steps: exponential from 0.25 down to 0.01
    assert f(89, constant=0.25, anneal_steps=10) == pytest.approx(0.25)
    assert f(94, constant=0.25, anneal_steps=10) == pytest.approx(0.25 * 0.04**0.5)
    assert f(99, constant=0.25, anneal_steps=10) == pytest.approx(0.01)


def test_engine_follows_the_infinite_schedule(tmp_path):
    cfg = tiny(
        train={
            "epochs": 4,
            "schedule": "infinite",
            "warmup_epochs": 1,
            "cooldown_epochs": 1,
            "constant_lr_ratio": 0.5,
            "anneal_epochs": 1,
            "lr": 0.01,
        }
    )
    run = pretrain(cfg, tmp_path)
    lr = {int(r["step"]): r["lr"] for r in read_log(run)}
    # 5 steps per epoch; the log holds the rate after each step
    assert lr[5] == pytest.approx(0.01)  # warmup done, cooldown at the top
    assert lr[10] == pytest.approx(0.005) and lr[14] == pytest.approx(0.005)  # constant
    assert lr[20] == pytest.approx(0.0001, rel=1e-3)  # annealed to 1 % at the end
    with pytest.raises(ConfigError, match="train.anneal_lr_ratio"):
        pretrain(tiny(train={"constant_lr_ratio": 0.1, "anneal_lr_ratio": 0.2}), tmp_path / "x")


def test_epoch_order_is_a_permutation_and_depends_on_epoch():
    a, b = epoch_order(50, 0, 0), epoch_order(50, 0, 1)
    assert sorted(a) == list(range(50)) and not np.array_equal(a, b)
    assert np.array_equal(a, epoch_order(50, 0, 0))


def test_distinct_cluster_order_puts_one_sample_per_cluster_in_a_batch():
    labels = np.repeat(np.arange(8), 10)  # 8 equal clusters
    order = distinct_cluster_order(labels, seed=0)
    assert sorted(order) == list(range(80))
    for start in range(0, 80, 8):
        assert len(set(labels[order[start : start + 8]])) == 8


@pytest.mark.parametrize("plan", ["infinite", "cosine"])
def test_continual_pretraining_over_class_splits(tmp_path, plan):
    import json

    from discotok.continual import continual

    cfg = tiny(train={"lr": 0.01, "warmup_epochs": 2, "cooldown_epochs": 1})
    result = continual(cfg, tmp_path, plan=plan, classes_per_task=5, epochs_per_task=4)
    assert result["tasks"] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert [len(row) for row in result["accuracy"]] == [1, 2]
    assert result["forgetting"] == [result["accuracy"][0][0] - result["accuracy"][1][0]]
    env = json.loads((tmp_path / "task1" / "environment.json").read_text())
    assert env["init_from"].endswith("task0/checkpoints/last.pt")
    lr = [r["lr"] for r in read_log(tmp_path / "task1")]
    if plan == "infinite":  # no re-warming: the constant 0.25 x lr throughout
        assert lr == pytest.approx([0.0025] * len(lr))
    else:  # warms up again, then decays to zero
        assert max(lr) == pytest.approx(0.01) and lr[0] < 0.01 and lr[-1] == pytest.approx(0)


def test_init_from_a_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="init_from checkpoint"):
        pretrain(tiny(), tmp_path, init_from=tmp_path / "nope.pt")
