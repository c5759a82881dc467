import numpy as np
import pytest
import torch
from conftest import tiny, weights

from discotok.encoders.cnn1d import CNN1d
from discotok.errors import ConfigError
from discotok.methods.gsimclr import GSimCLR, train_denoising_autoencoder
from discotok.methods.simclr import SimCLR
from discotok.pipeline import pretrain


def test_simclr_returns_named_losses_and_trains():
    method = SimCLR(CNN1d((1, 40), width=8, depth=2, embed_dim=8), proj_dim=8)
    x = torch.randn(16, 1, 40)
    out = method({"views": [x, x + 0.1 * torch.randn_like(x)]})
    assert set(out) == {"loss", "ntxent"} and out["loss"].requires_grad


@pytest.mark.parametrize("source", ["features", "autoencoder"])
def test_gsimclr_pseudo_labels_cover_the_data(source):
    method = GSimCLR(
        CNN1d((1, 40), width=8, depth=2, embed_dim=8), pseudo_labels_from=source, ae_epochs=1
    )
    x = torch.randn(120, 1, 40)
    labels = method.pseudo_labels(x, epoch=0, batch_size=16, seed=0, previous=None)
    assert labels.shape == (120,) and len(np.unique(labels)) == 16
    again = method.pseudo_labels(x, epoch=1, batch_size=16, seed=0, previous=labels)
    assert (again is labels) == (source == "autoencoder")  # features refresh every epoch


def test_denoising_autoencoder_codes_separate_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = torch.tensor(rng.normal(size=(200, 20)) + 3 * y[:, None], dtype=torch.float32)
    codes = train_denoising_autoencoder(x, bottleneck=4, epochs=3)
    from discotok.tokenizers.kmeans import faiss_kmeans

    _, clusters, _ = faiss_kmeans(codes, 2)
    assert max((clusters == y).mean(), (clusters != y).mean()) > 0.95


def test_gsimclr_trains_and_checkpoints_its_pseudo_labels(tmp_path):
    run = pretrain(tiny(method={"name": "gsimclr", "proj_hidden": 32, "proj_dim": 16}), tmp_path)
    state = weights(run)
    assert state["pseudo_labels"].shape == (320,)
    assert len(np.unique(state["pseudo_labels"])) == 64  # K = global batch size


def test_gsimclr_option_ranges():
    with pytest.raises(ConfigError, match="pseudo_labels_from='kmeans' is not valid"):
        GSimCLR(CNN1d((1, 40)), pseudo_labels_from="kmeans")
