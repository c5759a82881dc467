"""A spoken-word corpus synthesised with eSpeak NG, and the speech datasets.

Words are numbers written as digits ("0", "1", ...), which eSpeak NG reads as number words
in every language, so no word lists are needed and each word exists in each language. Every
(word, language, voice variant) is spoken `repeats` times, each with its own pitch and rate
drawn from a seeded generator; labels are word, language and voice, plus one phone label
per 20 ms encoder frame from the synthesiser's phoneme events. The corpus is deterministic
and cached under ``$DISCOTOK_CACHE/speech``. eSpeak NG's waveforms jitter by a few
milliseconds between calls (the last phone's length and the voicing phase vary even after
re-initialising the library; it is not seedable), so words, phones and settings are
deterministic and a built corpus is made exact by the cache. It is synthetic speech:
results on it say so.

Datasets (``data.name``): ``spoken_words`` (this corpus) and ``audio_folder`` (users'
wav/flac/ogg files; labels from sub-folder names). Both give NaN-padded, per-bin normalised
log-mel features (n, n_mels, frames) at a 10 ms hop, the input of the ``speech`` encoder.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from discotok.data.base import Dataset, split_train_test
from discotok.data.glyphs import cache_dir
from discotok.data.timeseries import pad_series
from discotok.errors import DataError, check_choice, check_range
from discotok.registry import DATASETS
from discotok.speech.audio import read_folder, resample
from discotok.speech.features import RATE, frame_centres, log_mel, num_frames
from discotok.speech.synth import NATIVE_RATE, synthesizer

SMALL = dict(words=20, languages=("en-us", "de", "fr"), voices=("m1", "f2", "m3"), repeats=2)
LARGE = dict(
    words=50,
    languages=("en-us", "de", "fr", "es"),
    voices=("m1", "f2", "m3", "f4", "m7"),
    repeats=2,
)
LABELS = ("word", "language", "voice")


@dataclass
class SpokenCorpus:
    """Clips at 16 kHz with word / language / voice labels and per-frame phone labels."""

    waves: list[np.ndarray]
    word: np.ndarray  # index into texts x languages: one class per spoken word
    text: np.ndarray  # the number spoken
    language: np.ndarray
    voice: np.ndarray
    phones: list[np.ndarray]  # one phone id per 20 ms encoder frame
    phone_names: list[str]
    language_names: list[str]
    voice_names: list[str]
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.waves)

    def labels(self, kind: str) -> np.ndarray:
        check_choice("data.label", kind, LABELS)
        return getattr(self, kind)


def _renditions(
    words: int, languages: tuple[str, ...], voices: tuple[str, ...], repeats: int, seed: int
) -> list[tuple[int, int, int, int, int]]:
    """(text, language, voice, pitch, rate) of every utterance, in a fixed order."""
    rng = np.random.default_rng(seed)
    out = []
    for li in range(len(languages)):
        for vi in range(len(voices)):
            for t in range(words):
                for _ in range(repeats):
                    pitch = int(rng.integers(30, 71))
                    rate = int(rng.integers(140, 211))
                    out.append((t, li, vi, pitch, rate))
    return out


def build_corpus(
    words: int = SMALL["words"],
    languages: tuple[str, ...] | list[str] = SMALL["languages"],
    voices: tuple[str, ...] | list[str] = SMALL["voices"],
    repeats: int = SMALL["repeats"],
    seed: int = 0,
    cache: bool = True,
) -> SpokenCorpus:
    """Synthesise (or load from the cache) the corpus of numbers 0 .. words - 1."""
    check_range("data.words", words, 1)
    check_range("data.repeats", repeats, 1)
    languages, voices = tuple(languages), tuple(voices)
    if not languages or not voices:
        raise DataError("the spoken-word corpus needs at least one language and one voice")
    key = json.dumps([words, languages, voices, repeats, seed, 1])
    path = cache_dir() / "speech" / f"words-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
    if cache and path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError) as err:
            path.unlink()  # a corrupt cache entry is rebuilt, not trusted
            print(f"rebuilding the speech cache ({err})")
    synth = synthesizer()
    waves, phone_seqs, rows = [], [], []
    phone_ids: dict[str, int] = {"sil": 0}
    for text, li, vi, pitch, rate in _renditions(words, languages, voices, repeats, seed):
        utt = synth.say(str(text), languages[li], voices[vi], pitch=pitch, rate=rate)
        wave = resample(utt.audio.astype(np.float32) / 32768.0, NATIVE_RATE, RATE)
        starts = np.array([s for s, _ in utt.phones], dtype=np.float64) * RATE / NATIVE_RATE
        ids = np.array([phone_ids.setdefault(p, len(phone_ids)) for _, p in utt.phones])
        centres = frame_centres(num_frames(len(wave)) // 2)
        at = np.searchsorted(starts, centres, side="right") - 1
        phone_seqs.append(np.where(at >= 0, ids[np.maximum(at, 0)] if len(ids) else 0, 0))
        waves.append(wave)
        rows.append((text, li, vi))
    rows_a = np.array(rows, dtype=np.int64)
    corpus = SpokenCorpus(
        waves=waves,
        word=rows_a[:, 1] * words + rows_a[:, 0],
        text=rows_a[:, 0],
        language=rows_a[:, 1],
        voice=rows_a[:, 2],
        phones=[p.astype(np.int64) for p in phone_seqs],
        phone_names=list(phone_ids),
        language_names=list(languages),
        voice_names=list(voices),
        notes=[
            f"synthetic speech (eSpeak NG): {len(waves)} clips, {words} words x "
            f"{len(languages)} languages x {len(voices)} voices x {repeats} renditions"
        ],
    )
    if cache:
        _save(corpus, path)
    return corpus


def _save(corpus: SpokenCorpus, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        audio=np.concatenate([np.round(w * 32767) for w in corpus.waves]).astype(np.int16),
        lengths=np.array([len(w) for w in corpus.waves]),
        phones=np.concatenate(corpus.phones),
        phone_lengths=np.array([len(p) for p in corpus.phones]),
        word=corpus.word,
        text=corpus.text,
        language=corpus.language,
        voice=corpus.voice,
        meta=np.array(
            json.dumps(
                {
                    "phone_names": corpus.phone_names,
                    "language_names": corpus.language_names,
                    "voice_names": corpus.voice_names,
                    "notes": corpus.notes,
                }
            )
        ),
    )
    tmp.replace(path)


def _load(path: Path) -> SpokenCorpus:
    with np.load(path, allow_pickle=False) as f:
        a = {k: f[k] for k in f.files}
    meta = json.loads(str(a["meta"]))
    waves = np.split(a["audio"].astype(np.float32) / 32767.0, np.cumsum(a["lengths"])[:-1])
    phones = np.split(a["phones"], np.cumsum(a["phone_lengths"])[:-1])
    return SpokenCorpus(
        waves=list(waves),
        word=a["word"],
        text=a["text"],
        language=a["language"],
        voice=a["voice"],
        phones=list(phones),
        **meta,
    )


def export_corpus(corpus: SpokenCorpus, out: str | Path) -> Path:
    """Write ``<language>-<word>/<voice>-<k>.wav`` (16 kHz) plus ``labels.csv`` (file, word,
    language, voice) and ``phones.csv`` (file, one phone per 20 ms frame, space-separated).

    The folder is an ``audio_folder`` dataset whose labels are the spoken words."""
    import csv

    import soundfile

    out = Path(out)
    seen: dict[str, int] = {}
    rows, phone_rows = [], []
    for i, wave in enumerate(corpus.waves):
        lang, voice = corpus.language_names[corpus.language[i]], corpus.voice_names[corpus.voice[i]]
        stem = f"{lang}-{corpus.text[i]}/{voice}"
        k = seen[stem] = seen.get(stem, -1) + 1
        name = f"{stem}-{k}.wav"
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(out / name), wave, RATE, subtype="PCM_16")
        rows.append([name, corpus.text[i], lang, voice])
        names = [corpus.phone_names[p] for p in corpus.phones[i]]
        phone_rows.append([name, " ".join(names)])
    with open(out / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "word", "language", "voice"], *rows])
    with open(out / "phones.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "phones_20ms"], *phone_rows])
    return out


def corpus_split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / test indices of a corpus of `n` clips."""
    idx = np.arange(n)
    train, test, _, _ = split_train_test(idx[:, None], None, test_fraction, seed)
    return train[:, 0], test[:, 0]


def features(waves: list[np.ndarray], n_mels: int = 40) -> list[np.ndarray]:
    """Log-mel (n_mels, frames) of each clip."""
    return [log_mel(torch.from_numpy(w), n_mels).numpy() for w in waves]


def feature_stats(feats: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and std over all frames of `feats` (the train split's)."""
    allf = np.concatenate(feats, axis=1)
    return allf.mean(axis=1, keepdims=True), allf.std(axis=1, keepdims=True) + 1e-5


def padded_features(
    feats: list[np.ndarray], stats: tuple[np.ndarray, np.ndarray], length: int
) -> np.ndarray:
    """Normalised features stacked into (n, n_mels, length), NaN-padded at the end."""
    mean, std = stats
    return pad_series([(f - mean) / std for f in feats], length, "speech features")


def _speech_dataset(
    name: str,
    feats: list[np.ndarray],
    y: np.ndarray | None,
    train: np.ndarray,
    test: np.ndarray,
    notes: list[str],
) -> Dataset:
    stats = feature_stats([feats[i] for i in train])
    length = max(f.shape[1] for f in feats)
    x = padded_features(feats, stats, length)
    return Dataset(
        name=name,
        modality="signal",
        x_train=x[train],
        x_test=x[test],
        y_train=None if y is None else y[train],
        y_test=None if y is None else y[test],
        padded=True,
        notes=notes,
    )


@DATASETS.register("spoken_words")
def load_spoken_words(
    words: int = SMALL["words"],
    languages: list[str] = list(SMALL["languages"]),  # noqa: B006 - read-only default
    voices: list[str] = list(SMALL["voices"]),  # noqa: B006
    repeats: int = SMALL["repeats"],
    label: str = "word",
    n_mels: int = 40,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> Dataset:
    """Spoken numbers synthesised by eSpeak NG (synthetic): log-mel features, word labels."""
    corpus = build_corpus(words, tuple(languages), tuple(voices), repeats)
    train, test = corpus_split(len(corpus), test_fraction, seed)
    return _speech_dataset(
        "spoken_words",
        features(corpus.waves, n_mels),
        corpus.labels(label),
        train,
        test,
        corpus.notes,
    )


@DATASETS.register("audio_folder")
def load_audio_folder(
    path: str = "",
    n_mels: int = 40,
    max_seconds: float = 4.0,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> Dataset:
    """Your wav/flac/ogg files (16 kHz mono after resampling); labels from sub-folder names."""
    if not path:
        raise DataError("data.path must name a folder of audio files")
    check_range("data.max_seconds", max_seconds, 0.05)
    clips, labels, _, notes = read_folder(path, max_seconds)
    names = sorted(set(labels))
    y = np.array([names.index(v) for v in labels]) if len(names) > 1 else None
    train, test = corpus_split(len(clips), test_fraction, seed)
    return _speech_dataset("audio_folder", features(clips, n_mels), y, train, test, notes)
