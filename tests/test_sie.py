"""SIE: split invariant / equivariant halves, hypernetwork predictor, equivariance metrics."""

import math

import pytest
import torch
from conftest import tiny

from discotok.encoders.cnn2d import CNN2d
from discotok.encoders.mlp import MLP
from discotok.errors import ConfigError
from discotok.methods.sie import SIE, relative, transform
from discotok.pipeline import load_method, pretrain


def test_transform_is_exact_for_identity_and_quarter_turns():
    x = torch.rand(3, 1, 8, 8)
    zero, one = torch.zeros(3), torch.ones(3)
    assert torch.allclose(transform(x, zero, one, zero), x, atol=1e-6)
    quarter = transform(x, torch.full((3,), math.pi / 2), one, zero)
    turned = [torch.rot90(x, k, dims=(2, 3)) for k in (1, 3)]
    assert any(torch.allclose(quarter, t, atol=1e-5) for t in turned)
    brighter = transform(x, zero, one, torch.tensor([0.1, 0.2, 0.3]))
    assert torch.allclose((brighter - x).mean((1, 2, 3)), torch.tensor([0.1, 0.2, 0.3]))


def test_relative_transformation_of_a_view_to_itself_is_the_identity():
    a = {
        "angle": torch.tensor([0.3]),
        "scale": torch.tensor([1.2]),
        "brightness": torch.tensor([0.1]),
    }
    assert torch.allclose(relative(a, a), torch.tensor([[1.0, 0.0, 0.0, 0.0]]))


def test_sie_loss_and_bad_input():
    method = SIE(CNN2d((1, 8, 8), width=8, depth=2, embed_dim=16), proj_dim=8)
    out = method({"views": [torch.rand(16, 1, 8, 8)]})
    assert out["loss"].requires_grad and torch.isfinite(out["loss"])
    assert set(out) == {"loss", "invariance", "equivariance"}
    with pytest.raises(ConfigError, match="images"):
        SIE(MLP((10,), width=8, depth=1, embed_dim=8))({"views": [torch.randn(4, 10)]})
    with pytest.raises(ConfigError, match="method.scale_range"):
        SIE(CNN2d((1, 8, 8), width=8, depth=2, embed_dim=16), scale_range=1.0)


@pytest.mark.slow
def test_equivariant_half_knows_the_transformation_and_the_invariant_half_does_not(tmp_path):
    cfg = tiny(
        encoder={"name": "cnn2d", "width": 16, "depth": 2, "embed_dim": 32},
        views={"name": "image2d"},
        method={"name": "sie", "proj_dim": 32, "proj_hidden": 64},
        train={"epochs": 8, "batch_size": 128},
    )
    cfg["data"] = {"name": "digits"}  # no mnist1d options
    run = pretrain(cfg, tmp_path)
    method, _, data = load_method(run)
    found = method.evaluate_method(data, tmp_path, 0)
    assert found["equivariant_transform_r2"] > 0.3, found
    assert found["equivariant_transform_r2"] > found["invariant_transform_r2"] + 0.05, found
    assert found["invariant_linear_acc"] > 0.5, found
    for half in ("equivariant", "invariant"):  # per transformation; angle weighs two columns
        parts = [found[f"{half}_r2_{p}"] for p in ("angle", "angle", "scale", "brightness")]
        assert sum(parts) / 4 == pytest.approx(found[f"{half}_transform_r2"]), found
