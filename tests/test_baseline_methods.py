"""BYOL, SimSiam, VICReg, Barlow Twins and MoCo v2/v3: the baselines users expect."""

import numpy as np
import pytest
import torch
from conftest import resumes_identically, tiny, two_processes_equal_one

from discotok.encoders.mlp import MLP
from discotok.errors import ConfigError
from discotok.methods.byol import BYOL
from discotok.methods.moco import MoCo
from discotok.methods.simsiam import SimSiam
from discotok.methods.vicreg import BarlowTwins, VICReg, barlow_twins_loss, vicreg_terms

BASELINES = [
    BYOL,
    SimSiam,
    VICReg,
    BarlowTwins,
    MoCo,
    lambda enc: MoCo(enc, version="v3"),
]


def encoder():
    return MLP((10,), width=16, depth=1, embed_dim=8)


@pytest.mark.parametrize("make", BASELINES)
def test_baselines_return_a_finite_loss_with_gradients(make):
    torch.manual_seed(0)
    method = make(encoder())
    x = torch.randn(16, 10)
    out = method({"views": [x, x + 0.1 * torch.randn_like(x)]})
    assert out["loss"].requires_grad and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert method.encoder.net[-1].weight.grad.abs().sum() > 0


def test_vicreg_terms_vanish_where_they_should():
    torch.manual_seed(0)
    white = torch.linalg.qr(torch.randn(512, 8))[0] * np.sqrt(511)  # std 1, uncorrelated
    white = white - white.mean(0)
    terms = vicreg_terms(white, white)
    assert terms["invariance"] == 0
    assert terms["variance"] < 0.01 and terms["covariance"] < 0.01
    collapsed = vicreg_terms(torch.zeros(512, 8), torch.zeros(512, 8))
    assert collapsed["variance"] > 0.9  # a constant embedding pays the full hinge
    assert barlow_twins_loss(white, white, 0.005) < 1e-3
    assert barlow_twins_loss(white, torch.randn(512, 8), 0.005) > 4


def test_byol_target_follows_the_online_network():
    method = BYOL(encoder(), momentum=0.5)
    x = torch.randn(16, 10)
    method({"views": [x, x]})["loss"].backward()
    torch.optim.SGD(method.parameters(), lr=1.0).step()
    before = method.target_encoder.net[-1].weight.clone()
    method.after_step(1, 100)
    after = method.target_encoder.net[-1].weight
    assert not torch.equal(before, after)
    assert not torch.equal(after, method.encoder.net[-1].weight)


def test_moco_v2_queue_wraps_around():
    method = MoCo(encoder(), queue_size=40)
    x = torch.randn(16, 10)
    for _ in range(2):
        method({"views": [x, x]})
    assert int(method.cursor) == 64 % 40
    assert torch.allclose(method.queue.norm(dim=1), torch.ones(40), atol=1e-5)


def test_statistics_losses_refuse_a_batch_of_one():
    x = torch.randn(1, 10)
    for method in (VICReg(encoder(), head_norm="none"), BarlowTwins(encoder(), head_norm="none")):
        with pytest.raises(ConfigError, match="at least 2"):
            method.eval()({"views": [x, x]})
    with pytest.raises(ConfigError, match="method.version"):
        MoCo(encoder(), version="v4")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["byol", "moco"])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, method):
    resumes_identically(tiny(method={"name": method}, train={"epochs": 2}), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "method",
    [
        {"name": "vicreg", "head_norm": "none", "proj_hidden": 32, "proj_dim": 32},
        {"name": "moco", "proj_hidden": 32, "proj_dim": 16, "queue_size": 64},
    ],
)
def test_two_processes_equal_one_with_the_global_batch(tmp_path, method):
    # SGD: with identical views some gradients are exactly 0 in one process and ~1e-9
    # (summation order) in two; Adam would scale that noise up to a full step
    two_processes_equal_one(method, tmp_path, optimizer="sgd")
