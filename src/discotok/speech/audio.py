"""Reading users' audio: wav/flac/ogg through soundfile, mono, resampled to 16 kHz.

What is not speech-shaped is handled, never silently: an unreadable or non-audio file is a
``DataError`` naming it; another sample rate is resampled (polyphase, scipy) and reported in
the dataset notes; a folder loader skips silent clips and clips shorter than one encoder
frame, and says how many it skipped and which.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from discotok.errors import DataError
from discotok.speech.features import HOP, RATE, WINDOW

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
MIN_SAMPLES = WINDOW + HOP  # two input frames: one 20 ms encoder frame
SILENCE_RMS = 1e-4


def resample(wave: np.ndarray, source: int, target: int = RATE) -> np.ndarray:
    """Polyphase resampling of a mono clip from `source` Hz to `target` Hz."""
    if source == target:
        return wave.astype(np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(source), int(target))
    return resample_poly(wave, target // g, source // g).astype(np.float32)


def read_audio(path: str | Path, rate: int = RATE) -> tuple[np.ndarray, int]:
    """A mono float32 clip at `rate` and the file's own sample rate."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise DataError(f"audio file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise DataError(f"audio file {str(path)!r} is empty")
    try:
        wave, source = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as err:
        raise DataError(f"{str(path)!r} is not a readable audio file ({err})") from None
    return resample(wave.mean(axis=1), source, rate), int(source)


def clip_problem(wave: np.ndarray) -> str | None:
    """Why a clip cannot be used ('too short', 'silent'), or None."""
    if len(wave) < MIN_SAMPLES:
        return f"shorter than one frame ({len(wave)} < {MIN_SAMPLES} samples)"
    if not np.isfinite(wave).all():
        return "holds NaN or inf samples"
    if float(np.sqrt(np.mean(wave.astype(np.float64) ** 2))) < SILENCE_RMS:
        return "silent"
    return None


def read_folder(
    root: str | Path, max_seconds: float = 4.0
) -> tuple[list[np.ndarray], list[str], list[str], list[str]]:
    """Every audio file under `root`: (clips, labels = parent folder names, file names, notes).

    Clips longer than `max_seconds` are cut into consecutive pieces of that length (each
    keeps its file's label); nothing is dropped except unusable clips, which the notes list.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"audio folder {str(root)!r} does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise DataError(f"no {'/'.join(AUDIO_SUFFIXES)} files under {str(root)!r}")
    clips, labels, names, notes = [], [], [], []
    resampled: dict[int, int] = {}
    skipped: list[str] = []
    piece = int(max_seconds * RATE)
    for path in files:
        wave, source = read_audio(path)
        if source != RATE:
            resampled[source] = resampled.get(source, 0) + 1
        problem = clip_problem(wave)
        if problem:
            skipped.append(f"{path.relative_to(root)} ({problem})")
            continue
        for start in range(0, len(wave), piece):
            part = wave[start : start + piece]
            if start and clip_problem(part):
                continue  # a too-short or silent tail of a long clip
            clips.append(part)
            labels.append(path.parent.name if path.parent != root else "")
            names.append(str(path.relative_to(root)))
    for source, count in sorted(resampled.items()):
        notes.append(f"resampled {count} file(s) from {source} Hz to {RATE} Hz")
    if skipped:
        notes.append(f"skipped {len(skipped)} unusable clip(s): {'; '.join(skipped[:10])}")
    if len(clips) < len(names) or len(set(names)) < len(clips):
        notes.append(f"clips longer than {max_seconds} s were cut into pieces")
    if not clips:
        raise DataError(f"no usable clip under {str(root)!r}: {'; '.join(skipped[:10])}")
    return clips, labels, names, notes
