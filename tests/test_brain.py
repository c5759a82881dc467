"""EEG/MEG: sensors from MNE infos and users' files, the simulator, the sensor-aware
tokenizer, its training loop (checkpoint, resume, NaN guard), masked-token pretraining and
the evaluation functions."""

import json
import os
import signal

import mne
import numpy as np
import pytest
import torch

from discotok.brain.evaluate import band_power, probe, reconstruction, throughput, token_features
from discotok.brain.masked_tokens import masked_token_features, train_masked_tokens
from discotok.brain.sensors import read_recording, sensors_from_info
from discotok.brain.simulate import DEVICES, simulate
from discotok.brain.tokenizer import BrainTokenizer, pearson, reconstruction_losses
from discotok.brain.train import (
    BrainTrainSettings,
    hide_mask,
    load_tokenizer_checkpoint,
    train_tokenizer,
)
from discotok.errors import ConfigError, DataError, TrainingDiverged, TrainingInterrupted

SPACING = 30.0  # coarse source space: fast forward models in tests


@pytest.fixture(scope="module")
def eeg():
    return simulate("biosemi32", 48, spacing_mm=SPACING, strength=1.0)


@pytest.fixture(scope="module")
def meg():
    return simulate("neuromag", 24, spacing_mm=SPACING)


def test_simulated_devices_have_their_sensors(eeg, meg):
    assert eeg.windows.shape == (48, 32, 512) and meg.windows.shape == (24, 306, 512)
    assert set(eeg.sensors.kind) == {0} and np.allclose(eeg.sensors.ori, 0)
    assert np.bincount(meg.sensors.kind).tolist() == [0, 204, 102]  # grads and mags
    assert np.allclose(np.linalg.norm(meg.sensors.ori, axis=1), 1, atol=1e-4)
    # MEG sensors sit outside the head sphere (radius 9 cm around (0, 0, 4) cm)
    assert (np.linalg.norm(meg.sensors.pos - [0, 0, 0.04], axis=1) > 0.09).all()
    assert np.bincount(eeg.labels).tolist() == [24, 24] and "simulated" in eeg.notes[0]
    for kind in (1, 2):  # each kind scaled to a median channel std of 1
        assert np.median(meg.windows[:, meg.sensors.kind == kind].std(-1)) == pytest.approx(
            1, rel=0.1
        )


def test_conditions_are_decodable_from_band_power(eeg):
    x = band_power(eeg)
    assert probe(x[:32], eeg.labels[:32], x[32:], eeg.labels[32:]) > 0.7


def test_unknown_device_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="choose one of: biosemi32"):
        simulate("mindreader", 4)
    assert "ctf275" in DEVICES and "GSN-HydroCel-128" in DEVICES


def _raw_with(tmp_path, names, positions=True):
    info = mne.create_info(names, 512.0, "eeg")
    rng = np.random.default_rng(0)
    raw = mne.io.RawArray(rng.normal(size=(len(names), 512 * 5)) * 1e-5, info, verbose="error")
    if positions:
        raw.set_montage("standard_1020", verbose="error")
    return raw


def test_fif_recording_is_resampled_windowed_and_bad_channels_named(tmp_path):
    raw = _raw_with(tmp_path, ["Fz", "Cz", "Pz", "Oz", "C3", "C4"])
    data = raw.get_data()
    data[1] = 0.0  # flat
    data[2] = np.clip(data[2], -1e-6, 1e-6)  # saturated
    raw._data = data
    path = tmp_path / "rec_raw.fif"
    raw.save(path, verbose="error")
    rec = read_recording(path)
    assert rec.windows.shape == (2, 4, 512)  # 5 s at 256 Hz -> two 2 s windows
    text = " ".join(rec.notes)
    assert "resampled from 512 Hz to 256 Hz" in text
    assert "flat channel(s): Cz" in text and "saturated channel(s): Pz" in text
    assert rec.sensors.names == ["Fz", "Oz", "C3", "C4"]


def test_channels_without_positions_are_named_or_dropped(tmp_path):
    raw = _raw_with(tmp_path, ["Fz", "Cz", "Xx1"], positions=False)
    raw.set_montage("standard_1020", on_missing="ignore", verbose="error")
    path = tmp_path / "nopos_raw.fif"
    raw.save(path, verbose="error")
    with pytest.raises(DataError, match="1 channel\\(s\\) have no position: Xx1"):
        read_recording(path)
    rec = read_recording(path, drop_unlocated=True)
    assert rec.sensors.names == ["Fz", "Cz"] and "without a position: Xx1" in " ".join(rec.notes)


def test_edf_recording_with_a_montage(tmp_path):
    raw = _raw_with(tmp_path, ["Fz", "Cz", "Pz", "Oz"], positions=False)
    path = tmp_path / "rec.edf"
    mne.export.export_raw(path, raw, verbose="error")
    with pytest.raises(DataError, match="no position"):
        read_recording(path)
    rec = read_recording(path, montage="standard_1020")
    assert rec.windows.shape[1:] == (4, 512)


def write_bdf(path, data, names, rate):
    """A BioSemi BDF file (EDF layout, 24-bit samples) written by hand: MNE reads BDF but
    cannot write it. `data` in volts, one record per second."""
    seconds, rate = data.shape[1] // int(rate), int(rate)
    digital = np.round(data * 1e6 / 1000.0 * (2**23 - 1)).astype(np.int64)  # +-1000 uV range

    def field(value, width):
        return str(value).ljust(width)[:width].encode("ascii")

    n = len(names)
    header = (
        b"\xffBIOSEMI"
        + field("test subject", 80)
        + field("discotok test", 80)
        + field("01.01.26", 8)
        + field("00.00.00", 8)
        + field(256 * (n + 1), 8)
        + field("24BIT", 44)
        + field(seconds, 8)
        + field(1, 8)
        + field(n, 4)
    )
    columns = [
        [field(name, 16) for name in names],
        [field("active electrode", 80)] * n,
        [field("uV", 8)] * n,
        [field(-1000, 8)] * n,
        [field(1000, 8)] * n,
        [field(-(2**23 - 1), 8)] * n,
        [field(2**23 - 1, 8)] * n,
        [field("", 80)] * n,
        [field(rate, 8)] * n,
        [field("", 32)] * n,
    ]
    header += b"".join(b"".join(column) for column in columns)
    samples = digital[:, : seconds * rate].reshape(n, seconds, rate).transpose(1, 0, 2)
    little = (samples.reshape(-1, 1) >> np.array([0, 8, 16])) & 0xFF
    path.write_bytes(header + little.astype(np.uint8).tobytes())


def test_bdf_recording_with_a_montage(tmp_path):
    raw = _raw_with(tmp_path, ["Fz", "Cz", "Pz", "Oz"], positions=False)
    data = raw.get_data()
    path = tmp_path / "rec.bdf"
    write_bdf(path, data, raw.ch_names, 512)
    with pytest.raises(DataError, match="no position"):
        read_recording(path)
    rec = read_recording(path, montage="standard_1020")
    assert rec.windows.shape == (2, 4, 512) and rec.sensors.names == ["Fz", "Cz", "Pz", "Oz"]
    assert "resampled from 512 Hz" in " ".join(rec.notes)
    placed = sensors_from_info(_raw_with(tmp_path, rec.sensors.names).info)[0]
    assert np.allclose(rec.sensors.pos, placed.pos)
    truth = mne.io.RawArray(data, raw.info, verbose="error").resample(256, verbose="error")
    direct = truth.get_data()[:, :1024].reshape(4, 2, 512).transpose(1, 0, 2)
    r = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(rec.windows, direct)]
    assert min(r) > 0.999  # the samples survive the 24-bit round trip
    (tmp_path / "cut.bdf").write_bytes(path.read_bytes()[:700])
    with pytest.raises(DataError, match="not a readable .bdf recording"):
        read_recording(tmp_path / "cut.bdf")


def test_bad_recording_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_recording(tmp_path / "none.fif")
    (tmp_path / "empty.fif").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_recording(tmp_path / "empty.fif")
    (tmp_path / "junk.fif").write_bytes(b"not a recording")
    with pytest.raises(DataError, match="not a readable .fif recording"):
        read_recording(tmp_path / "junk.fif")
    (tmp_path / "x.txt").write_text("1 2 3")
    with pytest.raises(DataError, match="unsupported"):
        read_recording(tmp_path / "x.txt")
    raw = _raw_with(tmp_path, ["Fz", "Cz"])
    raw.crop(0, 1.0)
    raw.save(tmp_path / "short_raw.fif", verbose="error")
    with pytest.raises(DataError, match="shorter than one 2 s window"):
        read_recording(tmp_path / "short_raw.fif")


def test_nan_windows_are_dropped_and_counted(tmp_path):
    raw = _raw_with(tmp_path, ["Fz", "Cz", "Pz"])
    data = raw.get_data()
    data[0, 100:110] = np.nan
    raw._data = data
    raw.save(tmp_path / "nan_raw.fif", verbose="error")
    rec = read_recording(tmp_path / "nan_raw.fif")
    assert len(rec.windows) == 1 and "dropped 1 of 2 window(s) holding NaN" in " ".join(rec.notes)


def test_meg_sensors_move_to_the_head_frame():
    info = mne.channels.read_meg_canonical_info("neuromag")
    shift = np.eye(4)
    shift[2, 3] = 0.04
    with info._unlock():
        info["dev_head_t"] = mne.transforms.Transform("meg", "head", shift)
    sensors, picks, _ = sensors_from_info(info)
    assert len(sensors) == 306 and len(picks) == 306
    assert np.allclose(sensors.pos[0], info["chs"][0]["loc"][:3] + [0, 0, 0.04])


def test_tokenizer_maps_any_channel_count_to_the_same_latents(eeg, meg):
    torch.manual_seed(0)
    model = BrainTokenizer(dim=16, latents=4, quantizers=2, codebook=16).eval()
    for rec in (eeg, meg):
        x = torch.from_numpy(rec.windows[:4])
        f, k = torch.from_numpy(rec.sensors.features()), torch.from_numpy(rec.sensors.kind)
        z = model.encode(x, f, k)
        assert z.shape == (4, 32, 4, 16)
        x_hat, codes, _ = model(x, f, k)
        assert x_hat.shape == x.shape and codes.shape == (4, 32, 4, 2) and codes.max() < 16
        assert torch.allclose(model.codes_to_latents(codes), model.quantize(z)[0], atol=1e-5)
        # the code stream's bitrate: codes of one window x log2(codebook) / its seconds
        seconds = x.shape[-1] / 256.0
        assert model.bits_per_second(256.0) == codes[0].numel() * 4 / seconds
    with pytest.raises(ConfigError, match="multiple of 16"):
        model.encode(torch.zeros(1, 3, 100), torch.zeros(3, 6), torch.zeros(3, dtype=torch.long))


def test_hidden_channels_do_not_reach_the_latents(eeg):
    torch.manual_seed(0)
    model = BrainTokenizer(dim=16, latents=4, quantizers=2, codebook=16).eval()
    x = torch.from_numpy(eeg.windows[:2])
    f, k = torch.from_numpy(eeg.sensors.features()), torch.from_numpy(eeg.sensors.kind)
    hide = torch.zeros(2, 32, dtype=torch.bool)
    hide[:, :8] = True
    changed = x.clone()
    changed[:, :8] = torch.randn(2, 8, 512) * 100
    assert torch.allclose(model.encode(x, f, k, hide), model.encode(changed, f, k, hide), atol=1e-5)
    mask = hide_mask(3, 10, 0.25, torch.Generator().manual_seed(0))
    assert mask.sum(1).tolist() == [2, 2, 2]


def test_reconstruction_losses_are_zero_for_a_perfect_copy():
    x = torch.randn(2, 3, 64)
    losses = reconstruction_losses(x.clone(), x, torch.tensor(0.0))
    assert float(losses["loss"]) == pytest.approx(0.0, abs=1e-5)
    assert float(pearson(x, -x).mean()) == pytest.approx(-1.0)


def test_training_learns_resumes_and_stops_on_nan(eeg, meg, tmp_path):
    # 60 steps: after 30 the correlation gain was 0.02 on an AMD EPYC (0.14 after 60)
    settings = BrainTrainSettings(steps=60, batch_size=8, checkpoint_every=10)
    options = dict(dim=16, latents=4, quantizers=2, codebook=16)
    model, history = train_tokenizer([eeg, meg], tmp_path / "full", settings, **options)
    losses = [h["loss"] for h in history if "loss" in h]
    assert np.mean(losses[-6:]) < np.mean(losses[:6])
    torch.manual_seed(0)
    untrained = BrainTokenizer(**options).eval()
    before = reconstruction(untrained, eeg)["correlation"]
    assert reconstruction(model, eeg)["correlation"] > before + 0.05

    def ctrl_c_at_step_12(*args):
        if ctrl_c_at_step_12.calls == 12:
            os.kill(os.getpid(), signal.SIGINT)
        ctrl_c_at_step_12.calls += 1

    ctrl_c_at_step_12.calls = 0
    original = BrainTokenizer.forward

    def spy(self, *args, **kwargs):
        ctrl_c_at_step_12()
        return original(self, *args, **kwargs)

    BrainTokenizer.forward = spy
    try:
        # the signal lands inside step 12; training stops at the next step boundary
        with pytest.raises(TrainingInterrupted, match="interrupted at step 13/60"):
            train_tokenizer([eeg, meg], tmp_path / "cut", settings, **options)
    finally:
        BrainTokenizer.forward = original
    resumed, _ = train_tokenizer([eeg, meg], tmp_path / "cut", settings, **options)
    loaded = load_tokenizer_checkpoint(tmp_path / "cut" / "checkpoints" / "tokenizer.pt")
    for a, b in zip(resumed.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-4), name

    poisoned = simulate("biosemi32", 16, spacing_mm=SPACING)
    poisoned.windows[:] = np.nan
    with pytest.raises(TrainingDiverged, match="last good checkpoint"):
        train_tokenizer([poisoned], tmp_path / "nan", settings, **options)


def test_two_processes_train_the_tokenizer_and_the_masked_token_model(eeg, meg, tmp_path):
    options = dict(dim=16, latents=4, quantizers=2, codebook=16)
    with pytest.raises(ConfigError, match="batch_size=7 does not split over processes=2"):
        train_tokenizer([eeg], tmp_path / "odd", BrainTrainSettings(batch_size=7, processes=2))
    settings = BrainTrainSettings(steps=60, batch_size=8, checkpoint_every=10, processes=2)
    # each process trains on 4 of the 8 windows; the loop checks at its end that both
    # processes hold the same weights (RVQ codebooks included) and raises otherwise
    model, history = train_tokenizer([eeg, meg], tmp_path, settings, **options)
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) == 60 and np.mean(losses[-6:]) < np.mean(losses[:6])
    torch.manual_seed(0)
    before = reconstruction(BrainTokenizer(**options).eval(), eeg)["correlation"]
    assert reconstruction(model, eeg)["correlation"] > before + 0.05
    short = BrainTrainSettings(steps=4, batch_size=8, checkpoint_every=2, processes=2)
    mtp, history = train_masked_tokens(model, [eeg], tmp_path, short)
    assert [h["step"] for h in history if "step" in h] == [1, 2, 3, 4]
    assert masked_token_features(mtp, model, eeg).shape == (48, 32)


def test_masked_tokens_and_probes_run_end_to_end(eeg, tmp_path):
    settings = BrainTrainSettings(steps=6, batch_size=8, checkpoint_every=3)
    options = dict(dim=16, latents=4, quantizers=2, codebook=16)
    tok, _ = train_tokenizer([eeg], tmp_path / "run", settings, **options)
    model, history = train_masked_tokens(tok, [eeg], tmp_path / "run", settings)
    assert np.isfinite([h["loss"] for h in history if "loss" in h]).all()
    feats = masked_token_features(model, tok, eeg)
    assert feats.shape == (48, 32)
    assert token_features(tok, eeg).shape == (48, 2 * 4 * 16)
    assert throughput(tok, eeg) > 0
    index_model = BrainTokenizer(
        dim=16, latents=4, quantizers=2, codebook=16, sensor="index", max_channels=8
    )
    with pytest.raises(ConfigError, match="32 channels; this model knows 8"):
        index_model.encode(
            torch.from_numpy(eeg.windows[:1]),
            torch.from_numpy(eeg.sensors.features()),
            torch.from_numpy(eeg.sensors.kind),
        )


def test_command_line_trains_on_files_and_tokenizes_another_device(tmp_path, capsys):
    from discotok.cli import main

    info = mne.create_info(["Fz", "Cz", "Pz", "Oz", "C3", "C4"], 256.0, "eeg")
    signal_ = np.random.default_rng(0).normal(size=(6, 256 * 16)) * 1e-5
    raw = mne.io.RawArray(signal_, info, verbose="error")
    raw.set_montage("standard_1020", verbose="error")
    raw.save(tmp_path / "a_raw.fif", verbose="error")
    other = mne.io.RawArray(signal_[:4], mne.create_info(["F3", "F4", "O1", "O2"], 256.0, "eeg"))
    mne.export.export_raw(tmp_path / "b.edf", other, verbose="error")
    small = ["--dim", "8", "--latents", "2", "--quantizers", "2", "--codebook", "8"]
    run = ["--run-dir", str(tmp_path / "run"), "--batch-size", "4"]
    train = ["brain", "train", "--data", str(tmp_path / "a_raw.fif"), *run, *small]
    assert main([*train, "--steps", "6", "--masked-steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "8 windows x 6 channels" in out and "masked tokens: 2 steps" in out
    summary = json.loads((tmp_path / "run" / "brain.json").read_text())
    assert summary["devices"][str(tmp_path / "a_raw.fif")]["channels"] == 6
    tokens = tmp_path / "b.npz"
    tokenize = ["brain", "tokenize", "--run", str(tmp_path / "run"), "--out", str(tokens)]
    assert main([*tokenize, "--data", str(tmp_path / "b.edf"), "--montage", "standard_1020"]) == 0
    saved = np.load(tokens)
    assert saved["codes"].shape == (8, 32, 2, 2)
    assert list(saved["channels"]) == ["F3", "F4", "O1", "O2"]
    assert saved["codes"].max() < 8 and not saved["simulated"]
    # 16 steps/s x 2 latents x 2 levels x 3 bits
    assert float(saved["bits_per_second"]) == 192.0 and "192 bits/s" in capsys.readouterr().out
    # bad input: another model in the same run dir, an unknown simulated device
    assert main([*train, "--steps", "6", "--dim", "16"]) == 2
    assert "resume with the same options" in capsys.readouterr().err
    assert main([*train[:3], "sim:mindreader", *run]) == 2
    assert "choose from ('biosemi32'" in capsys.readouterr().err
    assert main([*train, "--steps", "6", "--dim", "16", "--fresh", "--masked-steps", "0"]) == 0
