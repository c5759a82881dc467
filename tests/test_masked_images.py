"""Masked image modelling: MAE-style pixels and MSM-style teacher features."""

import pytest
import torch
from sklearn.datasets import load_digits

from discotok.encoders.cnn2d import CNN2d
from discotok.encoders.mlp import MLP
from discotok.errors import ConfigError
from discotok.methods.mae import MAE, patch_mask
from discotok.methods.msm import MaskedFeatures


def digits(n=256):
    x = load_digits().images[:n] / 16.0
    return torch.tensor(x, dtype=torch.float32)[:, None]


def encoder():
    return CNN2d((1, 8, 8), width=16, depth=2, embed_dim=16)


def test_patch_mask_masks_the_asked_fraction_in_whole_patches():
    x = torch.zeros(32, 3, 16, 16)
    mask = patch_mask(x, 4, 0.5)
    assert mask.shape == (32, 1, 16, 16)
    assert torch.all(mask.sum((1, 2, 3)) == 8 * 16)  # 8 of 16 cells of 4x4 pixels
    cells = mask[:, :, ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3)
    assert torch.equal(cells, mask)
    assert torch.all(patch_mask(x, 4, 0.01).sum((1, 2, 3)) == 16)  # at least one cell
    with pytest.raises(ConfigError, match="does not divide"):
        patch_mask(x, 5, 0.5)


def test_mae_learns_to_fill_in_masked_patches():
    torch.manual_seed(0)
    method = MAE(encoder(), mask_ratio=0.5, patch=2)
    x = digits()
    assert method.reconstruct(x).shape == x.shape
    opt = torch.optim.Adam(method.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = method({"views": [x]})["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5, losses[::10]


def test_msm_predicts_teacher_features_and_the_teacher_follows():
    torch.manual_seed(0)
    method = MaskedFeatures(encoder(), patch=2)
    out = method({"views": [digits(32)]})
    assert out["loss"].requires_grad and 0 < out["masked_locations"] <= 1
    out["loss"].backward()
    torch.optim.SGD(method.parameters(), lr=1.0).step()
    before = method.teacher.features[0].weight.clone()
    method.after_step(1, 10)
    assert not torch.equal(before, method.teacher.features[0].weight)


@pytest.mark.parametrize("ratio", [0.0, 1.0, 1.5])
def test_mask_ratio_outside_zero_one_is_refused(ratio):
    for cls in (MAE, MaskedFeatures):
        with pytest.raises(ConfigError, match="method.mask_ratio"):
            cls(encoder(), mask_ratio=ratio)


def test_masked_modelling_needs_a_feature_map():
    with pytest.raises(ConfigError, match="cnn2d or resnet"):
        MAE(MLP((10,), width=8, depth=1, embed_dim=8))
