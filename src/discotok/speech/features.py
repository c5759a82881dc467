"""Speech front end in torch: log-mel filterbanks and MFCCs at a 10 ms hop.

Our own ~30 lines rather than librosa (its first call JIT-compiles for ~40 s) or torchaudio
(it pins a different torch build than the one discotok installs). Frame j of a clip is
centred on sample j * hop (``torch.stft`` with ``center=True``); a clip of n samples has
n // hop + 1 frames. The speech encoder halves the rate, so its frame i covers input frames
2i and 2i + 1 and is labelled by the phone at sample (2i + 0.5) * hop (``frame_centres``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

RATE = 16000
HOP = 160  # 10 ms
WINDOW = 400  # 25 ms
N_FFT = 512


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(n_mels: int, rate: int = RATE, n_fft: int = N_FFT) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) triangular filters, evenly spaced on the HTK mel scale."""
    edges = _mel_to_hz(torch.linspace(0.0, float(_hz_to_mel(torch.tensor(rate / 2.0))), n_mels + 2))
    bins = torch.linspace(0.0, rate / 2.0, n_fft // 2 + 1)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - low) / (centre - low)
    falling = (high - bins[None]) / (high - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


def num_frames(num_samples: int) -> int:
    """Input frames (10 ms) of a clip of `num_samples` samples."""
    return num_samples // HOP + 1


def log_mel(wave: torch.Tensor | np.ndarray, n_mels: int = 40, rate: int = RATE) -> torch.Tensor:
    """Log-mel energies (n_mels, frames) of a mono clip (samples,) in [-1, 1]."""
    wave = torch.as_tensor(
        np.asarray(wave, dtype=np.float32) if isinstance(wave, np.ndarray) else wave
    )
    spec = torch.stft(
        wave.float(),
        N_FFT,
        hop_length=HOP,
        win_length=WINDOW,
        window=torch.hann_window(WINDOW),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    power = spec.abs() ** 2
    return torch.log(mel_filterbank(n_mels, rate) @ power + 1e-6)


def _deltas(x: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Regression deltas over +-width frames along the last axis (edges repeated)."""
    flat = x.reshape(-1, 1, x.shape[-1])
    padded = torch.nn.functional.pad(flat, (width, width), mode="replicate").reshape(
        *x.shape[:-1], x.shape[-1] + 2 * width
    )
    n = x.shape[-1]
    num = sum(
        k * (padded[..., width + k : width + k + n] - padded[..., width - k : width - k + n])
        for k in range(1, width + 1)
    )
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def cepstra(log_mels: torch.Tensor, n_mfcc: int = 13) -> torch.Tensor:
    """MFCCs with deltas and delta-deltas (..., 3 * n_mfcc, frames) from (..., bins, frames)
    log-mels: DCT-II over the bins."""
    n_mels = log_mels.shape[-2]
    k = torch.arange(n_mfcc, dtype=torch.float32)[:, None]
    m = torch.arange(n_mels, dtype=torch.float32)[None, :]
    dct = torch.cos(torch.pi * k * (m + 0.5) / n_mels) * np.sqrt(2.0 / n_mels)
    dct[0] /= np.sqrt(2.0)
    c = dct.to(log_mels) @ log_mels
    d = _deltas(c)
    return torch.cat([c, d, _deltas(d)], dim=-2)


def mfcc(wave: torch.Tensor | np.ndarray, n_mfcc: int = 13, n_mels: int = 40) -> torch.Tensor:
    """MFCCs with deltas and delta-deltas (3 * n_mfcc, frames) of a mono clip."""
    return cepstra(log_mel(wave, n_mels), n_mfcc)


def frame_centres(num_encoder_frames: int) -> np.ndarray:
    """Sample index at the centre of each 20 ms encoder frame."""
    return ((2 * np.arange(num_encoder_frames) + 0.5) * HOP).astype(np.int64)


def pair_frames(x: torch.Tensor) -> torch.Tensor:
    """(..., frames) 10 ms features -> (..., frames // 2) 20 ms features by averaging pairs.

    Used to put frame features (e.g. the MFCC baseline) on the encoder's 20 ms grid.
    """
    n = x.shape[-1] // 2
    return 0.5 * (x[..., 0 : 2 * n : 2] + x[..., 1 : 2 * n : 2])
