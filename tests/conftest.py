import copy
import os
import tempfile

import numpy as np
import pytest
import torch

# Rendered datasets cache here during tests, never in the user's ~/.cache.
os.environ.setdefault("DISCOTOK_CACHE", tempfile.mkdtemp(prefix="discotok-test-cache-"))

TINY = {
    "data": {"name": "mnist1d", "num_samples": 400},
    "encoder": {"name": "cnn1d", "width": 16, "depth": 2, "embed_dim": 16},
    "method": {"name": "simclr", "proj_hidden": 32, "proj_dim": 16},
    "tokenizer": {"name": "kmeans", "codes": 8},
    "train": {
        "epochs": 2,
        "batch_size": 64,
        "checkpoint_every": 2,
        "log_every": 1,
        "progress": False,
    },
    "evaluate": {"map": "pca", "map_points": 100},
}


def tiny(**sections):
    """The tiny test config with some sections merged in."""
    cfg = copy.deepcopy(TINY)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


@pytest.fixture
def tiny_config():
    return tiny


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


def weights(run_dir):
    from discotok.train.checkpoint import load_checkpoint

    return load_checkpoint(run_dir / "checkpoints" / "last.pt")
