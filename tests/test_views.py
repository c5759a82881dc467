import pytest
import torch

from discotok.errors import ConfigError
from discotok.views.image2d import ImageViews
from discotok.views.signal1d import SignalViews
from discotok.views.vector import VectorViews


def test_signal_views_keep_shape_and_vary():
    x = torch.randn(8, 2, 40)
    views = SignalViews()
    a, b = views(x), views(x)
    assert a.shape == x.shape and not torch.allclose(a, b)


def test_signal_views_are_reproducible_under_a_seed():
    x = torch.randn(4, 1, 40)
    views = SignalViews()
    torch.manual_seed(5)
    a = views(x)
    torch.manual_seed(5)
    assert torch.equal(a, views(x))


def test_signal_warp_without_strength_is_identity():
    x = torch.randn(3, 1, 40)
    views = SignalViews(max_shift=0, time_scale=0, crop_min=1.0, amplitude=0, noise=0, mask_max=0)
    assert torch.allclose(views(x), x, atol=1e-5)


def test_signal_shift_moves_a_spike():
    x = torch.zeros(64, 1, 101)
    x[:, 0, 50] = 1.0
    views = SignalViews(max_shift=0.3, time_scale=0, crop_min=1.0, amplitude=0, noise=0, mask_max=0)
    peaks = views(x)[:, 0].argmax(1)
    assert peaks.float().std() > 5  # the peak lands in many places


def test_masking_zeroes_a_segment():
    x = torch.ones(32, 1, 50)
    views = SignalViews(
        max_shift=0, time_scale=0, crop_min=1.0, amplitude=0, noise=0, mask_max=0.5, mask_prob=1.0
    )
    zeros = (views(x) == 0).sum(-1).float()
    assert zeros.mean() > 3 and (zeros <= 25).all()


def test_image_views_shape_and_randomness():
    x = torch.rand(6, 1, 16, 16)
    views = ImageViews()
    a, b = views(x), views(x)
    assert a.shape == x.shape and not torch.allclose(a, b)


def test_vector_views():
    x = torch.ones(10, 50)
    out = VectorViews(noise=0.0, drop=0.5)(x)
    assert 0.2 < (out == 0).float().mean() < 0.8


def test_view_option_ranges():
    with pytest.raises(ConfigError, match="views.crop_min"):
        SignalViews(crop_min=0)
    with pytest.raises(ConfigError, match="views.drop"):
        VectorViews(drop=1.0)
