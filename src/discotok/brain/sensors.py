"""What BrainOmni's tokenizer needs to know about each channel: where it is, which way it
points and what it measures; and reading users' recordings (fif, edf, bdf) through MNE.

Positions are in MNE's head frame, in metres; MEG positions and orientations (the coil
normal) are moved from the device frame with the recording's device-to-head transform.
EEG electrodes have no orientation (zeros). Kinds: 0 EEG, 1 MEG gradiometer, 2 MEG
magnetometer. Channels of other kinds (EOG, ECG, stimulus, misc) are dropped and counted.

Recordings: signals in volts / tesla / tesla per metre are resampled to the model's rate
(256 Hz by default; the notes say from which rate), cut into windows, and per kind divided
by the median channel standard deviation of the recording, so EEG and MEG share a scale
and the topography (relative amplitudes) is kept. Checked and reported, never silent:
channels without positions (an error naming them; ``drop_unlocated=True`` drops them
instead, and says so), flat channels (zero variance: dropped and named), saturated ones
(a value repeated at the channel's extreme in >= 5 % of samples: dropped and named), NaN
samples (windows holding any are dropped and counted), recordings shorter than one window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from discotok.errors import DataError

KINDS = ("eeg", "grad", "mag")
RATE = 256.0
SUFFIXES = (".fif", ".edf", ".bdf")


@dataclass
class Sensors:
    """Per channel: name, position (3,), orientation (3,), kind (0 eeg, 1 grad, 2 mag)."""

    names: list[str]
    pos: np.ndarray
    ori: np.ndarray
    kind: np.ndarray
    device: str = ""

    def __len__(self) -> int:
        return len(self.names)

    def features(self) -> np.ndarray:
        """(channels, 6) position (decimetres) and orientation: the sensor encoder's input."""
        return np.concatenate([self.pos * 10.0, self.ori], axis=1).astype(np.float32)

    def subset(self, keep: np.ndarray) -> Sensors:
        """The channels selected by a boolean mask or an index array."""
        keep = np.asarray(keep)
        idx = np.flatnonzero(keep) if keep.dtype == bool else keep
        names = [self.names[i] for i in idx]
        return Sensors(names, self.pos[idx], self.ori[idx], self.kind[idx], self.device)


def sensors_from_info(
    info: Any, device: str = "", drop_unlocated: bool = False
) -> tuple[Sensors, np.ndarray, list[str]]:
    """Sensors of the EEG/MEG channels of an ``mne.Info``; returns (sensors, picks, notes)."""
    notes: list[str] = []
    types = info.get_channel_types()
    picks = [i for i, t in enumerate(types) if t in KINDS]
    other = len(types) - len(picks)
    if other:
        notes.append(f"dropped {other} non-EEG/MEG channel(s)")
    if not picks:
        raise DataError("the recording has no EEG or MEG channels")
    dev_head = info.get("dev_head_t")
    to_head = dev_head["trans"] if dev_head is not None else np.eye(4)
    pos, ori, kind, names, unlocated = [], [], [], [], []
    for i in picks:
        ch = info["chs"][i]
        loc = np.asarray(ch["loc"], dtype=np.float64)
        k = KINDS.index(types[i])
        p = loc[:3]
        if not np.isfinite(p).all() or np.allclose(p, 0.0):
            unlocated.append(ch["ch_name"])
            continue
        if k == 0:
            o = np.zeros(3)
        else:  # MEG: device frame -> head frame; the coil normal is the frame's z axis
            p = to_head[:3, :3] @ p + to_head[:3, 3]
            o = to_head[:3, :3] @ loc[9:12]
        pos.append(p)
        ori.append(o)
        kind.append(k)
        names.append(ch["ch_name"])
    keep = np.array([info["chs"][i]["ch_name"] not in unlocated for i in picks])
    if unlocated:
        shown = ", ".join(unlocated[:10]) + (" ..." if len(unlocated) > 10 else "")
        if not drop_unlocated:
            raise DataError(
                f"{len(unlocated)} channel(s) have no position: {shown}. Set a montage "
                "(raw.set_montage) or pass drop_unlocated=True to leave them out"
            )
        notes.append(f"dropped {len(unlocated)} channel(s) without a position: {shown}")
    if not names:
        raise DataError("no EEG/MEG channel has a position")
    sensors = Sensors(names, np.array(pos), np.array(ori), np.array(kind, dtype=np.int64), device)
    return sensors, np.asarray(picks)[keep], notes


@dataclass
class Recording:
    """Windows (n, channels, samples) of one device, its sensors and what loading did."""

    windows: np.ndarray
    sensors: Sensors
    notes: list[str] = field(default_factory=list)
    labels: np.ndarray | None = None

    def sensor_tensors(self) -> tuple[Any, Any]:
        """(features (channels, 6), kind (channels,)) as torch tensors: the tokenizer's
        description of this device."""
        import torch

        return torch.from_numpy(self.sensors.features()), torch.from_numpy(self.sensors.kind)


def kind_scale(x: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Divide each kind's channels by that kind's median channel standard deviation."""
    x = x.astype(np.float64).copy()
    std = x.std(axis=-1)
    for k in np.unique(kind):
        scale = np.median(std[..., kind == k])
        if scale > 0:
            x[..., kind == k, :] /= scale
    return x.astype(np.float32)


def bad_channels(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flat, saturated) masks over channels of a (channels, samples) recording."""
    finite = np.where(np.isfinite(data), data, np.nan)
    std = np.nanstd(finite, axis=1)
    flat = ~(std > 0)
    top = np.nanmax(np.abs(finite), axis=1, keepdims=True)
    saturated = (np.abs(finite) >= top * (1 - 1e-9)).mean(axis=1) >= 0.05
    return flat, saturated & ~flat


def read_recording(
    path: str | Path,
    window_seconds: float = 2.0,
    rate: float = RATE,
    drop_unlocated: bool = False,
    montage: str | None = None,
) -> Recording:
    """A user's .fif/.edf/.bdf file as scaled windows plus its sensors (see the module doc).

    EDF/BDF files carry no positions: name a standard montage (``montage="biosemi64"``) to
    place the channels by name.
    """
    import mne

    path = Path(path)
    if not path.is_file():
        raise DataError(f"recording {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise DataError(f"recording {str(path)!r} is empty")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{str(path)!r}: unsupported recording type; use one of {SUFFIXES}")
    reader = {".fif": mne.io.read_raw_fif, ".edf": mne.io.read_raw_edf, ".bdf": mne.io.read_raw_bdf}
    try:
        raw = reader[suffix](str(path), preload=True, verbose="error")
    except Exception as err:  # mne raises many types for a corrupt file
        raise DataError(f"{str(path)!r} is not a readable {suffix} recording ({err})") from None
    notes = []
    if montage:
        raw.set_montage(montage, on_missing="ignore", verbose="error")
    sensors, picks, more = sensors_from_info(raw.info, path.stem, drop_unlocated)
    notes += more
    native = raw.get_data(picks=picks)
    flat, saturated = bad_channels(native)  # at the file's own rate
    nan_seconds = np.flatnonzero(~np.isfinite(native).all(axis=0)) / raw.info["sfreq"]
    if len(nan_seconds):  # zero-filled for resampling; their windows are dropped below
        raw._data[:, ~np.isfinite(raw._data).all(axis=0)] = 0.0
    if raw.info["sfreq"] != rate:
        notes.append(f"resampled from {raw.info['sfreq']:g} Hz to {rate:g} Hz")
        raw.resample(rate, verbose="error")
    data = raw.get_data(picks=picks)
    for mask, what in ((flat, "flat"), (saturated, "saturated")):
        if mask.any():
            names = [sensors.names[i] for i in np.flatnonzero(mask)]
            notes.append(f"dropped {len(names)} {what} channel(s): {', '.join(names[:10])}")
    good = ~(flat | saturated)
    if not good.any():
        raise DataError(f"{str(path)!r}: every channel is flat or saturated")
    sensors, data = sensors.subset(good), data[good]
    size = int(round(window_seconds * rate))
    count = data.shape[1] // size
    if count == 0:
        raise DataError(
            f"{str(path)!r} holds {data.shape[1] / rate:.2f} s, shorter than one "
            f"{window_seconds:g} s window"
        )
    windows = data[:, : count * size].reshape(len(sensors), count, size).transpose(1, 0, 2)
    finite = ~np.isin(np.arange(count), (nan_seconds // window_seconds).astype(int))
    if not finite.all():
        notes.append(f"dropped {int((~finite).sum())} of {count} window(s) holding NaN")
        windows = windows[finite]
    if len(windows) == 0:
        raise DataError(f"{str(path)!r}: every window holds NaN samples")
    return Recording(kind_scale(windows, sensors.kind), sensors, notes)
