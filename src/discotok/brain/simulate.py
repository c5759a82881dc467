"""Simulated EEG and MEG from MNE's offline tools (no recordings ship with any package here).

One head for every device: a spherical head model (``mne.make_sphere_model``, centre
(0, 0, 4) cm, radius 9 cm) and a volume source space inside it (one source every
`spacing_mm`), each source with a fixed random orientation (seeded). Each device's sensors
(EEG: a standard montage; MEG: MNE's canonical Neuromag 306 or CTF 275 helmet, its origin
placed 4 cm above the head origin) give a forward matrix through
``mne.make_forward_solution``, cached under ``$DISCOTOK_CACHE/brain``.

A window (2 s at 256 Hz) of condition c: the sources of a 2.5 cm patch around condition c's
centre oscillate at its rhythm (conditions 0/1: 10 Hz, left / right occipital; 2/3: 20 Hz,
left / right central; amplitude `strength` x 0.5-1.5, 0.15 by default, and a random phase
per window), 10 random sources carry 1/f background activity (standard deviation 0.6 each,
so the rhythm is a small part of the signal), and white sensor noise (10 % of each
channel's signal) is added; each kind (EEG, MEG gradiometers, magnetometers) is divided
by its median channel standard deviation. Two conditions differ only in *where* the
rhythm is: telling them apart needs the spatial pattern. Results on this data are labelled
"simulated".
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import numpy as np

from discotok.brain.sensors import RATE, Recording, Sensors, kind_scale, sensors_from_info
from discotok.data.glyphs import cache_dir
from discotok.errors import check_choice, check_range

EEG_DEVICES = ("biosemi32", "biosemi64", "biosemi128", "GSN-HydroCel-128", "easycap-M1")
MEG_DEVICES = ("neuromag", "ctf275")
DEVICES = EEG_DEVICES + MEG_DEVICES
CENTRES = np.array(
    [[-0.03, -0.06, 0.05], [0.03, -0.06, 0.05], [-0.04, 0.0, 0.08], [0.04, 0.0, 0.08]]
)
RHYTHMS = (10.0, 10.0, 20.0, 20.0)
SAMPLES = 512


@lru_cache(maxsize=4)
def _head(spacing_mm: float) -> tuple:
    import mne

    sphere = mne.make_sphere_model(r0=(0.0, 0.0, 0.04), head_radius=0.09, verbose="error")
    src = mne.setup_volume_source_space(sphere=sphere, pos=spacing_mm, mindist=5.0, verbose="error")
    return sphere, src


def _device_info(device: str) -> object:
    import mne

    if device in MEG_DEVICES:
        info = mne.channels.read_meg_canonical_info(device)
        shift = np.eye(4)
        shift[2, 3] = 0.04  # helmet origin above the head origin, sensors outside the scalp
        with info._unlock():
            info["dev_head_t"] = mne.transforms.Transform("meg", "head", shift)
        return info
    montage = mne.channels.make_standard_montage(device)
    info = mne.create_info(montage.ch_names, RATE, "eeg")
    info.set_montage(montage)
    return info


def device_forward(device: str, spacing_mm: float = 15.0) -> tuple[np.ndarray, Sensors, np.ndarray]:
    """(gain (channels, sources) with fixed orientations, sensors, source positions)."""
    check_choice("device", device, DEVICES)
    key = json.dumps([device, spacing_mm, 1])
    path = cache_dir() / "brain" / f"fwd-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
    info = _device_info(device)
    sensors, picks, _ = sensors_from_info(info, device)
    if path.is_file():
        try:
            with np.load(path) as f:
                return f["gain"], sensors, f["source_pos"]
        except (OSError, ValueError, KeyError):
            path.unlink()
    import mne

    sphere, src = _head(spacing_mm)
    fwd = mne.make_forward_solution(
        info,
        trans=None,
        src=src,
        bem=sphere,
        eeg=device in EEG_DEVICES,
        meg=device in MEG_DEVICES,
        verbose="error",
    )
    gain = fwd["sol"]["data"][picks]  # (channels, 3 * sources), free orientation
    source_pos = fwd["source_rr"]
    ori = np.random.default_rng(0).normal(size=(len(source_pos), 3))
    ori /= np.linalg.norm(ori, axis=1, keepdims=True)
    gain = np.einsum("cso,so->cs", gain.reshape(len(picks), -1, 3), ori).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, gain=gain, source_pos=source_pos)
    tmp.replace(path)
    return gain, sensors, source_pos


def _pink(rng: np.random.Generator, rows: int, samples: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal((rows, samples)), axis=1)
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.shape[1]), 1.0))
    x = np.fft.irfft(spectrum, samples, axis=1)
    return x / x.std(axis=1, keepdims=True)


def simulate(
    device: str,
    windows: int = 200,
    conditions: int = 2,
    seed: int = 0,
    spacing_mm: float = 15.0,
    background: int = 10,
    strength: float = 0.15,
) -> Recording:
    """`windows` simulated windows of `device`, balanced over `conditions` (2-4); `strength`
    scales the condition rhythm against the background."""
    check_range("windows", windows, 1)
    check_range("conditions", conditions, 2, 4)
    gain, sensors, source_pos = device_forward(device, spacing_mm)
    rng = np.random.default_rng([seed, DEVICES.index(device)])
    t = np.arange(SAMPLES) / RATE
    patches = [
        np.flatnonzero(np.linalg.norm(source_pos - c, axis=1) < 0.025) for c in CENTRES[:conditions]
    ]
    labels = np.arange(windows) % conditions
    rng.shuffle(labels)
    out = np.empty((windows, len(sensors), SAMPLES), dtype=np.float32)
    for i, c in enumerate(labels):
        patch = patches[c]
        amp = strength * rng.uniform(0.5, 1.5)
        phase = rng.uniform(0, 2 * np.pi)
        rhythm = (
            amp
            * np.sin(2 * np.pi * RHYTHMS[c] * t + phase)
            * (1 + 0.1 * rng.standard_normal(len(patch)))[:, None]
        )
        active = rng.choice(len(source_pos), background, replace=False)
        x = gain[:, patch] @ rhythm + gain[:, active] @ (0.6 * _pink(rng, background, SAMPLES))
        x += 0.1 * x.std(axis=1, keepdims=True) * rng.standard_normal(x.shape)
        out[i] = x
    note = (
        f"simulated {device}: {windows} windows of 2 s at 256 Hz, {conditions} conditions, "
        f"{len(sensors)} channels (MNE sphere model, {len(source_pos)} sources)"
    )
    return Recording(kind_scale(out, sensors.kind), sensors, [note], labels)
