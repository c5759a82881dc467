"""Speech: the synthesised corpus, audio loading, features, augmentations, the speech encoder
and its three objectives, unit metrics (purity, PNMI, ABX, UED), robust CTC units, the CLI."""

import json
import os
import signal

import numpy as np
import pytest
import soundfile
import torch

from discotok import pretrain
from discotok.cli import main
from discotok.data.base import Dataset
from discotok.encoders.cnn1d import CNN1d
from discotok.encoders.speech import SpeechEncoder, span_mask
from discotok.errors import ConfigError, DataError, TrainingInterrupted
from discotok.evaluators.tokens import dedup, levenshtein
from discotok.methods.hubert import HuBERT
from discotok.methods.masked_frames import MaskedFrames
from discotok.methods.wav2vec import Wav2Vec, sample_distractors
from discotok.pipeline import load_dataset
from discotok.speech.audio import read_audio, read_folder
from discotok.speech.augment import AUGMENTATIONS, add_noise, augment, pitch_shift, time_stretch
from discotok.speech.corpus import build_corpus, export_corpus, load_spoken_words
from discotok.speech.features import RATE, log_mel, mel_filterbank, mfcc, num_frames
from discotok.speech.robust import train_robust_units
from discotok.speech.synth import synthesizer
from discotok.speech.units import (
    abx_error,
    abx_triplets,
    fit_kmeans_units,
    mfcc_featurizer,
    robustness,
    unit_quality,
)
from discotok.speech.workflow import SpeechEval

TINY_CORPUS = dict(words=4, languages=("en-us", "de"), voices=("m1", "f2"), repeats=2)


def speech_config(method, **train):
    """A seconds-long speech run: 12 clips (3 words, 2 voices), a small speech encoder."""
    return {
        "data": {
            "name": "spoken_words",
            "words": 3,
            "languages": ["en-us"],
            "voices": ["m1", "f2"],
        },
        "views": {"name": "none"},
        "encoder": {"name": "speech", "width": 32, "depth": 2},
        "method": method,
        "tokenizer": {"name": "kmeans", "codes": 4},
        "train": {"progress": False, **train},
    }


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(**TINY_CORPUS)


def test_synthesiser_gives_audio_and_phone_events():
    utt = synthesizer().say("7", "en-us", "m1")
    assert utt.rate == 22050 and len(utt.audio) > 2000
    phones = [p for _, p in utt.phones]
    assert phones[:5] == ["s", "E", "v", "@", "n"]  # "seven", stress marks dropped
    starts = [s for s, _ in utt.phones]
    assert starts == sorted(starts) and starts[-1] <= len(utt.audio)


def test_unknown_language_or_voice_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="valid choices: .*en-us"):
        synthesizer().say("1", "klingon")
    with pytest.raises(ConfigError, match="valid choices: .*m1"):
        synthesizer().say("1", "en-us", "nobody")


def test_corpus_is_deterministic_labelled_and_cached(corpus):
    assert len(corpus) == 4 * 2 * 2 * 2
    cached = build_corpus(**TINY_CORPUS)  # the cache makes a built corpus exact
    assert all(np.array_equal(a, b) for a, b in zip(corpus.phones, cached.phones))
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(corpus.waves, cached.waves))
    # eSpeak NG itself jitters by milliseconds between calls; the phones and labels do not
    again = build_corpus(**TINY_CORPUS, cache=False)
    assert np.array_equal(corpus.word, again.word) and corpus.phone_names == again.phone_names
    for a, b, wa, wb in zip(corpus.phones, again.phones, corpus.waves, again.waves):
        assert np.array_equal(dedup(a[a != 0]), dedup(b[b != 0]))
        assert abs(len(wa) - len(wb)) < 0.1 * len(wa)
    for wave, phones in zip(corpus.waves, corpus.phones):
        assert len(phones) == num_frames(len(wave)) // 2  # one label per 20 ms encoder frame
    assert np.mean([p[-1] == 0 for p in corpus.phones]) > 0.5  # most clips end in silence
    # word ids: one per (language, number); the two renditions differ in pitch or rate
    assert len(np.unique(corpus.word)) == 8
    first = np.flatnonzero(corpus.word == 0)
    assert len(first) == 4 and len({len(corpus.waves[i]) for i in first}) > 1


def test_corrupt_corpus_cache_is_rebuilt(corpus, capsys):
    cache = os.path.join(os.environ["DISCOTOK_CACHE"], "speech")
    for name in os.listdir(cache):
        with open(os.path.join(cache, name), "wb") as f:
            f.write(b"not an npz")
    rebuilt = build_corpus(**TINY_CORPUS)
    assert "rebuilding" in capsys.readouterr().out
    assert len(rebuilt) == len(corpus)


def test_log_mel_peaks_at_a_tones_frequency():
    t = np.arange(RATE) / RATE
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    mels = log_mel(tone)
    assert mels.shape == (40, num_frames(RATE))
    bank = mel_filterbank(40)
    expected = int(bank[:, round(1000 / (RATE / 2) * 256)].argmax())
    assert int(mels[:, 50].argmax()) == expected
    assert mfcc(tone).shape == (39, num_frames(RATE))


def test_augmentations_do_what_they_say(corpus):
    wave = torch.from_numpy(corpus.waves[0])
    assert abs(len(time_stretch(wave, 1.25)) - len(wave) / 1.25) <= 1
    assert len(pitch_shift(wave, 2.0)) == len(wave)
    rng = np.random.default_rng(0)
    noisy = add_noise(wave, 10.0, rng)
    snr = 10 * torch.log10(wave.pow(2).mean() / (noisy - wave).pow(2).mean())
    assert abs(float(snr) - 10.0) < 0.1
    for name in AUGMENTATIONS:
        out = augment(corpus.waves[0], name, np.random.default_rng(1))
        assert np.isfinite(out).all() and not np.allclose(out[: len(wave) // 2], 0)
    with pytest.raises(ConfigError, match="choose one of: time_stretch"):
        augment(corpus.waves[0], "echo", rng)


def test_audio_files_are_resampled_and_bad_ones_named(tmp_path, corpus):
    wave = corpus.waves[0]
    soundfile.write(tmp_path / "a8k.wav", wave[::2], 8000)
    read, source = read_audio(tmp_path / "a8k.wav")
    assert source == 8000 and abs(len(read) - 2 * len(wave[::2])) <= 2
    (tmp_path / "text.wav").write_text("this is not audio")
    with pytest.raises(DataError, match="not a readable audio file"):
        read_audio(tmp_path / "text.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_audio(tmp_path / "empty.wav")


def test_audio_folder_skips_silent_and_short_clips_and_says_so(tmp_path, corpus):
    for label in ("yes", "no"):
        (tmp_path / label).mkdir()
        for i in range(3):
            soundfile.write(tmp_path / label / f"{i}.wav", corpus.waves[i], RATE)
    soundfile.write(tmp_path / "yes" / "silent.wav", np.zeros(RATE, np.float32), RATE)
    soundfile.write(tmp_path / "no" / "click.wav", corpus.waves[0][:200], RATE)
    soundfile.write(tmp_path / "no" / "loud44k.flac", corpus.waves[1][::1], 44100)
    clips, labels, _, notes = read_folder(tmp_path)
    assert len(clips) == 7 and sorted(set(labels)) == ["no", "yes"]
    text = " ".join(notes)
    assert "skipped 2 unusable" in text and "silent" in text and "shorter than one frame" in text
    assert "from 44100 Hz to 16000 Hz" in text
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no .wav"):
        read_folder(tmp_path / "empty")
    with pytest.raises(DataError, match="does not exist"):
        read_folder(tmp_path / "none")


def test_exported_corpus_loads_as_an_audio_folder(tmp_path, corpus):
    export_corpus(corpus, tmp_path / "c")
    rows = (tmp_path / "c" / "labels.csv").read_text().splitlines()
    assert len(rows) == len(corpus) + 1 and rows[0] == "file,word,language,voice"
    ds = load_dataset_config({"name": "audio_folder", "path": str(tmp_path / "c")})
    assert ds.padded and ds.num_classes == 8 and len(ds.x_train) + len(ds.x_test) == len(corpus)


def load_dataset_config(data):
    from discotok.config import RunConfig

    return load_dataset(RunConfig.from_dict({"data": data}))


def test_spoken_words_dataset_is_padded_and_normalised():
    ds = load_spoken_words(
        **{k: list(v) if isinstance(v, tuple) else v for k, v in TINY_CORPUS.items()}
    )
    assert isinstance(ds, Dataset) and ds.padded and ds.x_train.shape[1] == 40
    valid = np.isfinite(ds.x_train).all(axis=1)
    mean = np.nanmean(np.where(valid[:, None], ds.x_train, np.nan), axis=(0, 2))
    assert np.abs(mean).max() < 1e-3  # per-bin normalisation on the train frames
    with pytest.raises(ConfigError, match="choose one of: word, language, voice"):
        load_spoken_words(label="speaker")


def test_speech_encoder_ignores_padding_and_checks_layers():
    enc = SpeechEncoder((40, 60), width=32, depth=2, heads=4).eval()
    x = torch.randn(2, 40, 60)
    longer = torch.cat([x, torch.full((2, 40, 20), float("nan"))], dim=2)
    assert torch.allclose(enc(x), enc(longer), atol=1e-5)
    assert enc.frames(longer).shape == (2, 40, 32)
    assert torch.equal(enc.frame_lengths(longer), torch.tensor([30, 30]))
    assert torch.all(enc.frames(longer)[:, 30:] == 0)
    with pytest.raises(ConfigError, match="outside 1..2"):
        enc.frames(x, layer=3)


def test_span_mask_and_distractors():
    valid = torch.arange(50)[None].repeat(3, 1) < torch.tensor([[50], [20], [5]])
    mask = span_mask(valid, 0.1, 5)
    assert not (mask & ~valid).any() and mask.any(1).all()
    rows, cols = mask.nonzero(as_tuple=True)
    neg = sample_distractors(valid, rows, cols, 10)
    lengths = valid.sum(1)[rows]
    assert (neg != cols[:, None]).all() and (neg < lengths[:, None]).all() and (neg >= 0).all()


@pytest.mark.parametrize("cls", [MaskedFrames, Wav2Vec, HuBERT])
def test_speech_objectives_learn(cls):
    torch.manual_seed(0)
    enc = SpeechEncoder((40, 60), width=32, depth=2, heads=4)
    method = cls(enc)
    x = torch.randn(16, 40, 60).cumsum(dim=2) * 0.2  # smooth, predictable "speech"
    x[8:, :, 50:] = float("nan")
    if cls is HuBERT:
        method.codes = 8
        method.unit_embedding = torch.nn.Parameter(torch.randn(8, 32) * 0.02)
        method.prepare(x, epoch=0)
        assert method.targets.shape == (16, 30) and (method.targets[8:, 25:] == -1).all()
    opt = torch.optim.Adam(method.parameters(), lr=3e-3)
    batch = {"views": [x], "index": torch.arange(16)}
    losses = []
    for _ in range(30):
        torch.manual_seed(1)  # the same masks each step: the loss must fall
        loss = method(batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.isfinite(losses).all() and losses[-1] < 0.8 * losses[0]


def test_unit_evaluation_uses_the_runs_own_split():
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in TINY_CORPUS.items()}
    ds = load_spoken_words(**options, seed=1)
    ev = SpeechEval.from_data_config({"name": "spoken_words", **options}, split_seed=1)
    assert np.array_equal(ev.word[ev.test], ds.y_test)
    assert np.array_equal(ev.word[ev.train], ds.y_train)


def test_speech_objectives_need_the_speech_encoder():
    with pytest.raises(ConfigError, match="needs encoder 'speech'"):
        HuBERT(CNN1d((40, 60)))


def test_hubert_reclusters_its_own_features_and_resumes(tmp_path):
    cfg = {
        "data": {
            "name": "spoken_words",
            **{k: list(v) if isinstance(v, tuple) else v for k, v in TINY_CORPUS.items()},
        },
        "views": {"name": "none"},
        "encoder": {"name": "speech", "width": 32, "depth": 2},
        "method": {"name": "hubert", "codes": 8, "iterations": 2, "epochs_per_iteration": 2},
        "tokenizer": {"name": "kmeans", "codes": 8},
        "train": {
            "epochs": 4,
            "batch_size": 8,
            "checkpoint_every": 3,
            "log_every": 1,
            "progress": False,
        },
    }
    pretrain(cfg, tmp_path / "run")
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=False)
    assert int(state["model"]["iteration"]) == 1  # the second iteration's targets
    targets = state["model"]["targets"]
    assert targets.shape[0] == 24 and targets.max() < 8
    log = (tmp_path / "run" / "train_log.csv").read_text().splitlines()
    header = log[0].split(",")
    iterations = {float(r.split(",")[header.index("iteration")]) for r in log[1:]}
    assert iterations == {0.0, 1.0}

    # interrupted after the re-clustering, the run resumes with the targets it had
    def ctrl_c_at_step_8(record):
        if record["step"] == 8:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted, match="interrupted at step 8/12"):
        pretrain(cfg, tmp_path / "cut", callbacks=(ctrl_c_at_step_8,))
    pretrain(cfg, tmp_path / "cut")
    resumed = torch.load(tmp_path / "cut" / "checkpoints" / "last.pt", weights_only=False)
    assert torch.equal(resumed["model"]["targets"], targets)
    for key, value in state["model"].items():
        assert torch.allclose(value.float(), resumed["model"][key].float(), atol=1e-6), key


def test_unit_metrics_on_known_units():
    phones = [np.array([0, 0, 1, 1, 2, 2]), np.array([2, 2, 1, 1, 0, 0])]
    perfect = unit_quality(phones, phones, 3)
    assert perfect["phone_purity"] == 1.0 and perfect["cluster_purity"] == 1.0
    assert perfect["pnmi"] == pytest.approx(1.0) and perfect["run_length"] == 2.0
    # 6 deduplicated units of log2(3) bits over 12 frames of 20 ms
    assert perfect["bitrate"] == pytest.approx(6 * np.log2(3) / 0.24)
    constant = unit_quality([np.zeros(6, int), np.zeros(6, int)], phones, 3)
    assert constant["pnmi"] == pytest.approx(0.0) and constant["cluster_purity"] == 1.0
    assert constant["phone_purity"] == pytest.approx(1 / 3)


def test_abx_separates_words_and_respects_the_conditions():
    word = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    language = np.array([0] * 8 + [1] * 4)
    voice = np.array([0, 0, 1, 1] * 3)
    for mode in ("within", "across"):
        trip = abx_triplets(word, language, voice, mode, 50)
        a, b, x = trip.T
        assert len(trip) == 50
        assert (word[a] == word[x]).all() and (word[a] != word[b]).all() and (a != x).all()
        assert (language[a] == language[b]).all() and (voice[a] == voice[b]).all()
        assert ((voice[a] == voice[x]) == (mode == "within")).all()
    units = [np.array([w, w + 3, w]) for w in word]  # each word its own units
    trip = abx_triplets(word, language, voice, "across", 40)
    assert abx_error(units, trip, 6) == 0.0
    same = [np.array([1, 1, 1]) for _ in word]  # one unit for everything: all ties
    assert abx_error(same, trip, 6) == 0.5


def test_unit_pipeline_and_robust_units_on_mfcc(corpus):
    featurize = mfcc_featurizer(corpus.waves)
    frames = featurize(corpus.waves)
    quantize = fit_kmeans_units(frames, 12)
    units = quantize(frames)
    assert [len(u) for u in units] == [len(p) for p in corpus.phones]
    quality = unit_quality(units, corpus.phones, 12)
    assert 0.2 < quality["pnmi"] < 1.0
    identity = robustness(corpus.waves[:4], featurize, quantize, names=("noise",))
    assert 0.0 < identity["ued_noise"] <= 2.0
    robust = train_robust_units(corpus.waves, featurize, quantize, 12, iterations=1, epochs=25)
    # the CTC head reproduces the teacher's deduplicated units of the clean clips
    teacher = [dedup(u) for u in units]
    decoded = robust.sequences(frames)
    ued = np.mean([levenshtein(t, d) / len(t) for t, d in zip(teacher, decoded)])
    assert ued < 0.5
    per_frame = robust.frame_units(frames)
    assert [len(u) for u in per_frame] == [len(u) for u in units] and max(map(max, per_frame)) < 12


def test_speech_cli_reports_units_and_writes_the_corpus(tmp_path, capsys):
    args = ["--words", "3", "--languages", "en-us,de", "--voices", "m1,f2", "--repeats", "2"]
    assert main(["speech", "--codes", "8", "--triplets", "20", "--ued-clips", "4", *args]) == 0
    out = capsys.readouterr().out
    assert "ABX across" in out and "mfcc" in out and "UED mean" in out
    assert main(["speech-corpus", "--out", str(tmp_path / "c"), *args]) == 0
    assert len(list((tmp_path / "c").rglob("*.wav"))) == 24
    assert main(["speech-corpus", "--out", str(tmp_path / "d"), "--languages", "elvish"]) == 2
    assert "unknown language 'elvish'" in capsys.readouterr().err


def test_speech_cli_on_a_trained_run(tmp_path, capsys, monkeypatch):
    cfg = {**speech_config({"name": "masked_frames"}, epochs=2, batch_size=4), "seed": 3}
    pretrain(cfg, tmp_path / "run")
    run = str(tmp_path / "run")
    split_seeds = []
    original = SpeechEval.from_data_config.__func__

    def spy(cls, data, split_seed=0):
        split_seeds.append(split_seed)
        return original(cls, data, split_seed)

    monkeypatch.setattr(SpeechEval, "from_data_config", classmethod(spy))
    assert (
        main(
            [
                "speech",
                "--run",
                run,
                "--codes",
                "6",
                "--triplets",
                "10",
                "--ued-clips",
                "2",
                "--robust",
                "--robust-epochs",
                "2",
                "--layer",
                "last",
                "--no-mfcc",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "masked_frames robust" in out and "masked_frames-L" not in out  # --layer last
    saved = json.loads((tmp_path / "run" / "speech_units.json").read_text())
    assert {r["quantizer"] for r in saved["rows"]} == {"kmeans", "robust"}
    assert split_seeds == [3]  # units are measured on the run's own test clips


@pytest.mark.slow
def test_hubert_trains_on_two_processes(tmp_path):
    method = {"name": "hubert", "codes": 6, "iterations": 2, "epochs_per_iteration": 1}
    cfg = speech_config(method, epochs=2, batch_size=2, num_processes=2)
    pretrain(cfg, tmp_path / "run")
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=False)
    assert state["step"] == 2 * (9 // 4) and int(state["model"]["iteration"]) == 1
    targets = state["model"]["targets"]
    assert targets.shape[0] == 9 and 0 <= targets.max() < 6


def test_frame_tokens_of_a_speech_run(tmp_path):
    from discotok import tokenize

    cfg = speech_config({"name": "wav2vec"}, epochs=1, batch_size=4)
    pretrain(cfg, tmp_path / "run")
    metrics = tokenize(tmp_path / "run", {"name": "kmeans", "codes": 8}, level="frame")
    with np.load(tmp_path / "run" / "frame_tokens.npz") as f:
        lengths = f["train_lengths"]
    corpus = build_corpus(3, ("en-us",), ("m1", "f2"), 2)
    assert len(lengths) == 9 and set(lengths.tolist()) <= {len(p) for p in corpus.phones}
    assert metrics["token_run_length"] >= 1.0
