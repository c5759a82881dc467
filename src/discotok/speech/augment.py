"""Audio augmentations in torch for robustness tests and robust-unit training.

Each takes a mono clip (samples,) and a ``numpy`` generator for its random strength, and
returns a new clip. Strengths follow Gat et al.'s augmentation-invariance study, scaled to
short words: time stretch by 0.8-1.25 (phase vocoder, pitch kept), pitch shift by +-1-3
semitones (stretch + resample, duration kept), reverberation with a synthetic exponentially
decaying room response (RT60 0.2-0.6 s), and pink noise at 5-15 dB SNR.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from discotok.errors import check_choice
from discotok.speech.features import RATE

N_FFT, HOP = 512, 128


def time_stretch(wave: torch.Tensor, rate: float) -> torch.Tensor:
    """Phase-vocoder time stretch: `rate` > 1 is faster (shorter), pitch unchanged."""
    n = len(wave)
    window = torch.hann_window(N_FFT)
    spec = torch.stft(wave, N_FFT, HOP, window=window, return_complex=True)  # (bins, frames)
    bins, frames = spec.shape
    spec = torch.cat([spec, torch.zeros(bins, 1, dtype=spec.dtype)], dim=1)
    steps = torch.arange(0, frames, rate, dtype=torch.float64)
    i = steps.floor().long()
    alpha = (steps - i).float()[None]
    magnitude = (1 - alpha) * spec[:, i].abs() + alpha * spec[:, i + 1].abs()
    advance = torch.linspace(0, np.pi * HOP, bins)[:, None]  # expected phase per hop
    delta = spec[:, i + 1].angle() - spec[:, i].angle() - advance
    delta = delta - 2 * np.pi * torch.round(delta / (2 * np.pi))
    phase = spec[:, :1].angle() + torch.cumsum(
        torch.cat([torch.zeros(bins, 1), (advance + delta)[:, :-1]], dim=1), dim=1
    )
    out = torch.polar(magnitude, phase)
    return torch.istft(out, N_FFT, HOP, window=window, length=max(1, int(round(n / rate))))


def _resample_length(wave: torch.Tensor, length: int) -> torch.Tensor:
    return F.interpolate(wave[None, None], size=length, mode="linear", align_corners=False)[0, 0]


def pitch_shift(wave: torch.Tensor, semitones: float) -> torch.Tensor:
    """Shift pitch by `semitones`, keeping the duration (stretch, then resample back)."""
    factor = 2.0 ** (semitones / 12.0)
    return _resample_length(time_stretch(wave, 1.0 / factor), len(wave))


def reverberate(wave: torch.Tensor, rt60: float, rng: np.random.Generator) -> torch.Tensor:
    """Convolve with a synthetic room response (direct path + decaying noise tail)."""
    t = np.arange(int(rt60 * RATE)) / RATE
    rir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60) * 0.3
    rir[0] = 1.0
    rir = torch.from_numpy(rir / np.sqrt((rir**2).sum())).float()
    size = len(wave) + len(rir) - 1
    out = torch.fft.irfft(torch.fft.rfft(wave, size) * torch.fft.rfft(rir, size), size)[: len(wave)]
    return out * (wave.norm() / out.norm().clamp(min=1e-8))


def add_noise(wave: torch.Tensor, snr_db: float, rng: np.random.Generator) -> torch.Tensor:
    """Add pink (1/f) noise at `snr_db` dB signal-to-noise ratio."""
    white = torch.from_numpy(rng.standard_normal(len(wave))).float()
    spectrum = torch.fft.rfft(white)
    f = torch.arange(len(spectrum), dtype=torch.float32).clamp(min=1.0)
    pink = torch.fft.irfft(spectrum / f.sqrt(), len(wave))
    power = wave.pow(2).mean().clamp(min=1e-10)
    pink = pink * torch.sqrt(power / (10 ** (snr_db / 10)) / pink.pow(2).mean().clamp(min=1e-12))
    return wave + pink


Augmentation = Callable[[torch.Tensor, np.random.Generator], torch.Tensor]

AUGMENTATIONS: dict[str, Augmentation] = {
    "time_stretch": lambda w, rng: time_stretch(w, float(rng.choice([0.8, 1.25]))),
    "pitch_shift": lambda w, rng: pitch_shift(w, float(rng.choice([-1, 1]) * rng.uniform(1, 3))),
    "reverb": lambda w, rng: reverberate(w, float(rng.uniform(0.2, 0.6)), rng),
    "noise": lambda w, rng: add_noise(w, float(rng.uniform(5, 15)), rng),
}


def augment(wave: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    """Apply augmentation `name` (one of AUGMENTATIONS) to a numpy clip."""
    check_choice("augmentation", name, tuple(AUGMENTATIONS))
    return AUGMENTATIONS[name](torch.from_numpy(np.asarray(wave, np.float32)), rng).numpy()
