"""MIM / cMIM: probabilistic auto-encoder, augmentation-free contrast, informative embeddings."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from discotok.data.base import Dataset
from discotok.encoders.mlp import MLP
from discotok.errors import ConfigError
from discotok.methods.cmim import CMIM


def digits():
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    return Dataset("digits", "vector", x[:1400], x[1400:], bunch.target[:1400], bunch.target[1400:])


def make(weight):
    torch.manual_seed(0)
    return CMIM(
        MLP((64,), width=64, depth=1, embed_dim=32), latent_dim=8, contrastive_weight=weight
    )


def test_mim_and_cmim_losses():
    x = torch.rand(32, 64)
    mim, cmim = make(0.0)({"views": [x]}), make(1.0)({"views": [x]})
    assert "contrastive" not in mim and "contrastive" in cmim
    for out in (mim, cmim):
        assert out["loss"].requires_grad and torch.isfinite(out["loss"])
    with pytest.raises(ConfigError, match="NaN"):
        make(1.0)({"views": [torch.full((4, 64), float("nan"))]})


def test_cmim_training_gives_features_that_probe_well(tmp_path):
    data = digits()
    method = make(1.0)
    opt = torch.optim.Adam(method.parameters(), lr=3e-3)
    x = torch.from_numpy(data.x_train)
    contrast = []
    for _ in range(150):
        batch = x[torch.randint(len(x), (128,))]
        out = method({"views": [batch]})
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        contrast.append(out["contrastive"].item())
    assert np.mean(contrast[-10:]) < 0.5 * np.mean(contrast[:10])  # mean finds its own sample
    found = method.evaluate_method(data, tmp_path, 0)
    assert set(found) == {
        "mu_linear_acc",
        "mu_knn_acc",
        "informative_linear_acc",
        "informative_knn_acc",
    }
    assert found["mu_knn_acc"] > 0.5 and found["informative_linear_acc"] > 0.5, found
