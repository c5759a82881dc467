"""Two CPU processes (gloo) with batch B must equal one process with batch 2B."""

import numpy as np
import pytest
import torch
from conftest import weights

from discotok.encoders.mlp import MLP
from discotok.errors import ConfigError
from discotok.methods.simclr import SimCLR
from discotok.pipeline import pretrain
from discotok.train.distributed import (
    average_gradients,
    launch,
    rank,
    same_on_every_process,
)


def make_model():
    torch.manual_seed(0)
    return SimCLR(
        MLP((12,), width=16, depth=1, embed_dim=8, norm="none"),
        proj_hidden=16,
        proj_dim=8,
        temperature=0.3,
    )


def make_views():
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 12, generator=g), torch.randn(8, 12, generator=g)


def _ddp_worker(out_dir):
    model = torch.nn.parallel.DistributedDataParallel(make_model())
    v1, v2 = make_views()
    half = slice(4 * rank(), 4 * rank() + 4)
    loss = model({"views": [v1[half], v2[half]]})["loss"]
    loss.backward()
    grads = {n: p.grad for n, p in model.module.named_parameters()}
    torch.save({"loss": loss.detach(), "grads": grads}, f"{out_dir}/rank{rank()}.pt")


def _by_hand_worker(out_dir):
    model = make_model()
    v1, v2 = make_views()
    half = slice(4 * rank(), 4 * rank() + 4)
    model({"views": [v1[half], v2[half]]})["loss"].backward()
    average_gradients(model.parameters())
    same = same_on_every_process(model)
    with torch.no_grad():
        next(model.parameters()).add_(float(rank()))
    grads = {n: p.grad for n, p in model.named_parameters()}
    result = {"grads": grads, "same": same, "after_change": same_on_every_process(model)}
    torch.save(result, f"{out_dir}/rank{rank()}.pt")


def test_gradients_averaged_by_hand_and_the_same_weights_check(tmp_path):
    model = make_model()
    v1, v2 = make_views()
    model({"views": [v1, v2]})["loss"].backward()
    launch(_by_hand_worker, 2, (str(tmp_path),))
    for r in range(2):
        out = torch.load(tmp_path / f"rank{r}.pt")
        assert out["same"] and not out["after_change"]
        for name, p in model.named_parameters():
            assert torch.allclose(out["grads"][name], p.grad, atol=1e-6), name


def test_gathered_ntxent_gives_single_process_loss_and_gradients(tmp_path):
    model = make_model()
    v1, v2 = make_views()
    loss = model({"views": [v1, v2]})["loss"]
    loss.backward()
    launch(_ddp_worker, 2, (str(tmp_path),))
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    # each process averages over its own anchors; the global loss is their mean
    assert torch.allclose((ranks[0]["loss"] + ranks[1]["loss"]) / 2, loss, atol=1e-6)
    for name, p in model.named_parameters():
        for r in ranks:  # DDP averaged the gradients: every process holds the global gradient
            assert torch.allclose(r["grads"][name], p.grad, atol=1e-6), name


def vector_config(path, batch, procs):
    return {
        "data": {"name": "arrays", "path": str(path), "modality": "vector"},
        "views": {"name": "vector", "noise": 0.0, "drop": 0.0},  # deterministic views
        "encoder": {"name": "mlp", "width": 32, "depth": 2, "embed_dim": 16, "norm": "none"},
        "method": {"name": "simclr", "proj_hidden": 32, "proj_dim": 16},
        "train": {
            "epochs": 2,
            "batch_size": batch,
            "num_processes": procs,
            "progress": False,
            "checkpoint_every": 1000,
        },
    }


def test_two_process_training_ends_with_single_process_weights(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "vectors.npz"
    np.savez(data, x=rng.normal(size=(160, 10)).astype(np.float32), y=rng.integers(0, 3, 160))
    one = pretrain(vector_config(data, 32, 1), tmp_path / "one")
    two = pretrain(vector_config(data, 16, 2), tmp_path / "two")
    a, b = weights(one), weights(two)
    assert a["step"] == b["step"] == 8
    for key in a["model"]:
        assert torch.allclose(a["model"][key], b["model"][key], atol=1e-5), key


def test_worker_errors_reach_the_caller_as_themselves(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "vectors.npz"
    np.savez(data, x=rng.normal(size=(40, 10)).astype(np.float32))
    with pytest.raises(ConfigError, match="32 x 2 process"):
        pretrain(vector_config(data, 32, 2), tmp_path / "run")
