import copy
import os
import tempfile

# Under pytest-xdist (`-n auto`, make test) each worker gets one of the machine's cores: one
# thread per worker and per benchmark subprocess it starts, so the workers do not fight.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

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


def blobs(n_per, k, d, spread, seed):
    """`k` Gaussian classes of `n_per` points in `d` dims, centres `spread` apart-ish."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * spread
    y = np.repeat(np.arange(k), n_per)
    return (centres[y] + rng.normal(size=(len(y), d))).astype(np.float32), y


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


def resumes_identically(cfg, tmp_path):
    """Train `cfg` in full, and again stopped by Ctrl-C at step 3 and resumed: the final
    weights (teachers, queues and buffers included) must be equal."""
    import signal

    from discotok.errors import TrainingInterrupted
    from discotok.pipeline import pretrain

    def ctrl_c_at_step_3(record):
        if record["step"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    full = pretrain(cfg, tmp_path / "full")
    with pytest.raises(TrainingInterrupted):
        pretrain(cfg, tmp_path / "cut", callbacks=(ctrl_c_at_step_3,))
    pretrain(cfg, tmp_path / "cut")
    a, b = weights(full)["model"], weights(tmp_path / "cut")["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def two_processes_equal_one(method, tmp_path, optimizer="adamw"):
    """`method` on 160 random vectors: 1 process with batch 32 and 2 (gloo) with 16 each end
    with the same weights."""
    from test_distributed import vector_config

    from discotok.pipeline import pretrain

    rng = np.random.default_rng(0)
    data = tmp_path / "vectors.npz"
    np.savez(data, x=rng.normal(size=(160, 10)).astype(np.float32), y=rng.integers(0, 3, 160))
    runs = []
    for batch, procs in ((32, 1), (16, 2)):
        cfg = vector_config(data, batch, procs)
        cfg["method"] = method
        cfg["train"]["optimizer"] = optimizer
        runs.append(weights(pretrain(cfg, tmp_path / f"p{procs}"))["model"])
    for key in runs[0]:
        assert torch.allclose(runs[0][key], runs[1][key], atol=1e-5), key
