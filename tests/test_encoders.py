import pytest
import torch

from discotok.encoders.cnn1d import CNN1d
from discotok.encoders.cnn2d import CNN2d
from discotok.encoders.mlp import MLP
from discotok.encoders.resnet import ResNet
from discotok.errors import ConfigError


@pytest.mark.parametrize(
    "encoder, shape",
    [
        (CNN1d((3, 40), width=8, depth=3, embed_dim=12), (5, 3, 40)),
        (CNN1d((1, 7), width=8, depth=2, embed_dim=12), (5, 1, 7)),
        (CNN2d((1, 8, 8), width=8, depth=3, embed_dim=12), (5, 1, 8, 8)),
        (CNN2d((3, 32, 32), width=4, depth=4, embed_dim=12, norm="layer"), (5, 3, 32, 32)),
        (MLP((40,), width=16, depth=2, embed_dim=12, norm="none"), (5, 40)),
        (ResNet((1, 32, 32), width=4, depth=3, blocks=2, embed_dim=12), (5, 1, 32, 32)),
        (ResNet((3, 8, 8), width=4, depth=1, embed_dim=12, norm="layer"), (5, 3, 8, 8)),
    ],
)
def test_encoders_embed_to_embed_dim(encoder, shape):
    out = encoder(torch.randn(shape))
    assert out.shape == (5, 12) and encoder.embed_dim == 12
    out.sum().backward()


def test_resnet_downsamples_per_stage_and_has_skips():
    net = ResNet((1, 32, 32), width=4, depth=3, blocks=2)
    assert net.features(torch.randn(2, 1, 32, 32)).shape == (2, 16, 8, 8)
    blocks = [m for m in net.modules() if m.__class__.__name__ == "BasicBlock"]
    assert len(blocks) == 6
    assert sum(not isinstance(b.skip, torch.nn.Identity) for b in blocks) == 2  # projections


def test_encoders_reject_inputs_they_cannot_take():
    with pytest.raises(ConfigError, match="cnn1d' needs signals"):
        CNN1d((1, 8, 8))
    with pytest.raises(ConfigError, match="8x8 is too small"):
        CNN2d((1, 8, 8), depth=5)
    with pytest.raises(ConfigError, match="resnet' needs images"):
        ResNet((1, 40))
    with pytest.raises(ConfigError, match="8x8 is too small"):
        ResNet((1, 8, 8), depth=5)
    with pytest.raises(ConfigError, match="encoder.norm='group' is not valid"):
        MLP((4,), norm="group")


def test_encode_with_views_gives_the_samples_then_their_views():
    import numpy as np

    from discotok.encoders.inference import encode_with_views

    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    jitter = torch.nn.Module()
    jitter.forward = lambda x: x + torch.randn_like(x)
    images = np.random.default_rng(0).normal(size=(5, 1, 4, 4)).astype(np.float32)
    x = encode_with_views(encoder, jitter, images, 3, seed=0, batch_size=2)
    assert x.shape == (15, 3)
    plain = encoder(torch.as_tensor(images)).detach().numpy()
    np.testing.assert_allclose(x[:5], plain, rtol=1e-6)  # the samples themselves first
    assert not np.allclose(x[5:10], plain) and not np.allclose(x[5:10], x[10:])
    again = encode_with_views(encoder, jitter, images, 3, seed=0, batch_size=2)
    np.testing.assert_array_equal(x, again)  # the seed fixes the views
    with pytest.raises(ConfigError, match="copies must be at least 1"):
        encode_with_views(encoder, jitter, images, 0)
