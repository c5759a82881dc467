"""How good brain tokens are: reconstruction, condition decoding, throughput.

- ``reconstruction``: mean Pearson correlation between each channel of a held-out window
  and its reconstruction from the tokens (all channels visible), and on a hidden `hide`
  share of channels rebuilt from the others (the sensor-aware decoder's job).
- ``token_features``: mean and standard deviation over time of the quantized latents,
  flattened (2 x latents x dim; the deviation carries rhythm power, which a mean over an
  oscillation cancels): the input of a linear probe (logistic regression, balanced accuracy).
- ``band_power``: log power in the delta-gamma bands per channel, the classic baseline.
- ``throughput``: channels x seconds of signal tokenized per second of wall time.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from discotok.brain.sensors import Recording
from discotok.brain.tokenizer import BrainTokenizer, pearson
from discotok.brain.train import hide_mask

BANDS = ((1, 4), (4, 8), (8, 13), (13, 30), (30, 45))


@torch.no_grad()
def reconstruction(
    model: BrainTokenizer, rec: Recording, hide: float = 0.25, batch: int = 32, seed: int = 0
) -> dict[str, float]:
    """Mean channel correlation: all channels visible, and hidden channels only."""
    features, kind = rec.sensor_tensors()
    generator = torch.Generator().manual_seed(seed)
    full, hidden = [], []
    for i in range(0, len(rec.windows), batch):
        x = torch.from_numpy(rec.windows[i : i + batch])
        x_hat, _, _ = model(x, features, kind)
        full.append(pearson(x_hat, x).mean(1))
        mask = hide_mask(len(x), x.shape[1], hide, generator)
        x_hat, _, _ = model(x, features, kind, mask)
        hidden.append((pearson(x_hat, x) * mask).sum(1) / mask.sum(1).clamp(min=1))
    return {
        "correlation": float(torch.cat(full).mean()),
        "hidden_correlation": float(torch.cat(hidden).mean()),
    }


def token_features(model: BrainTokenizer, rec: Recording, batch: int = 32) -> np.ndarray:
    """(windows, 2 * latents * dim): mean and std over time of the quantized latents."""
    zq, _ = model.tokenize_windows(rec.windows, *rec.sensor_tensors(), batch)
    return torch.cat([zq.mean(1).flatten(1), zq.std(1).flatten(1)], dim=1).numpy()


def band_power(rec: Recording, rate: float = 256.0) -> np.ndarray:
    """(windows, channels * bands) log band power."""
    spec = np.abs(np.fft.rfft(rec.windows, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(rec.windows.shape[-1], 1 / rate)
    cols = [np.log(spec[..., (freqs >= lo) & (freqs < hi)].mean(-1) + 1e-8) for lo, hi in BANDS]
    return np.stack(cols, axis=-1).reshape(len(rec.windows), -1)


def probe(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray
) -> float:
    """Balanced accuracy of a standardised logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    clf.fit(train_x, train_y)
    return float(balanced_accuracy_score(test_y, clf.predict(test_x)))


@torch.no_grad()
def throughput(
    model: BrainTokenizer, rec: Recording, batch: int = 32, rate: float = 256.0
) -> float:
    """Channels x seconds of signal encoded to codes per wall-clock second."""
    features, kind = rec.sensor_tensors()
    x = torch.from_numpy(rec.windows[:batch])
    model.quantize(model.encode(x, features, kind))  # warm-up
    t0 = time.perf_counter()
    model.quantize(model.encode(x, features, kind))
    seconds = time.perf_counter() - t0
    return float(x.shape[0] * x.shape[1] * x.shape[2] / rate / seconds)
