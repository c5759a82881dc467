"""``discotok speech``: units from a trained speech encoder (or MFCCs) and their full report.

For a run on ``spoken_words`` the corpus and its train/test split are rebuilt from the
run's config, so units are fitted on train clips and measured on test clips with their phone
labels. Layer ``best`` picks, per codebook size, the encoder layer whose units have the
highest PNMI on the *train* clips (the test clips never choose). For ``audio_folder`` runs
there are no phone or word labels: only perplexity, run length and UED are reported, on the
last layer unless ``layer`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from discotok.errors import ConfigError
from discotok.registry import DATASETS
from discotok.speech.corpus import (
    build_corpus,
    corpus_split,
    feature_stats,
    features,
)
from discotok.speech.units import (
    Featurizer,
    abx_error,
    abx_triplets,
    encoder_featurizer,
    fit_kmeans_units,
    mfcc_featurizer,
    robustness,
    unit_quality,
)

COLUMNS = (
    ("phone_purity", "phone pur."),
    ("cluster_purity", "cluster pur."),
    ("pnmi", "PNMI"),
    ("perplexity", "perplexity"),
    ("run_length", "run len."),
    ("bitrate", "bits/s"),
    ("abx_within", "ABX within"),
    ("abx_across", "ABX across"),
    ("ued_mean", "UED mean"),
    ("dedup_length", "units/clip"),
)


@dataclass
class SpeechEval:
    """Clips, split and (when known) labels for unit evaluation."""

    waves: list[np.ndarray]
    train: np.ndarray
    test: np.ndarray
    n_mels: int = 40
    phones: list[np.ndarray] | None = None
    word: np.ndarray | None = None
    language: np.ndarray | None = None
    voice: np.ndarray | None = None

    @classmethod
    def from_data_config(cls, data: dict[str, Any], split_seed: int = 0) -> SpeechEval:
        """Rebuild a ``spoken_words`` or ``audio_folder`` dataset's clips and split; the
        dataset's own defaults fill what `data` leaves out, and `split_seed` is the seed the
        dataset was loaded with (a run's ``seed``)."""
        name = data.get("name")
        if name not in ("spoken_words", "audio_folder"):
            raise ConfigError(
                f"discotok speech needs a run on spoken_words or audio_folder data, not {name!r}"
            )
        data = DATASETS.resolve(data, ("seed",))
        if name == "spoken_words":
            corpus = build_corpus(
                data["words"], tuple(data["languages"]), tuple(data["voices"]), data["repeats"]
            )
            train, test = corpus_split(len(corpus), data["test_fraction"], split_seed)
            return cls(
                corpus.waves,
                train,
                test,
                data["n_mels"],
                corpus.phones,
                corpus.word,
                corpus.language,
                corpus.voice,
            )
        from discotok.speech.audio import read_folder

        clips, *_ = read_folder(data["path"], data["max_seconds"])
        train, test = corpus_split(len(clips), data["test_fraction"], split_seed)
        return cls(clips, train, test, data["n_mels"])

    def pick(self, items: list[Any], split: str) -> list[Any]:
        return [items[i] for i in getattr(self, split)]

    @property
    def labelled(self) -> bool:
        return self.phones is not None


def evaluate_units(
    data: SpeechEval,
    featurize: Featurizer,
    codes: int,
    *,
    robust: bool = False,
    triplets: int = 2000,
    ued_clips: int = 200,
    robust_epochs: int = 15,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """k-means units (and, with `robust`, CTC robust units on top) and all their metrics."""
    frames = featurize(data.waves)
    quantize = fit_kmeans_units(data.pick(frames, "train"), codes, seed)
    ued_waves = data.pick(data.waves, "test")[:ued_clips]
    found = {"kmeans": _metrics(data, quantize(frames), codes, triplets, seed)}
    found["kmeans"].update(robustness(ued_waves, featurize, quantize, seed=seed))
    if robust:
        from discotok.speech.robust import train_robust_units

        units = train_robust_units(
            data.pick(data.waves, "train"),
            featurize,
            quantize,
            codes,
            epochs=robust_epochs,
            seed=seed,
        )
        found["robust"] = _metrics(data, units.frame_units(frames), codes, triplets, seed)
        found["robust"].update(
            robustness(ued_waves, featurize, None, seed=seed, sequences=units.sequences)
        )
    return found


def _metrics(
    data: SpeechEval, units: list[np.ndarray], codes: int, triplets: int, seed: int
) -> dict[str, float]:
    phones = data.pick(data.phones, "test") if data.labelled else None
    out = unit_quality(data.pick(units, "test"), phones, codes)
    if not data.labelled:
        return out
    for mode in ("within", "across"):
        trip = abx_triplets(data.word, data.language, data.voice, mode, triplets, seed)
        out[f"abx_{mode}"] = abx_error(units, trip, codes)
    return out


def best_layer(data: SpeechEval, encoder: Any, stats: Any, codes: int, seed: int = 0) -> int:
    """The layer whose k-means units keep the most phone information (PNMI) on train clips."""
    train_waves = data.pick(data.waves, "train")
    train_phones = data.pick(data.phones, "train")
    scores = {}
    for layer in range(1, encoder.depth + 1):
        frames = encoder_featurizer(encoder, stats, layer, data.n_mels)(train_waves)
        units = fit_kmeans_units(frames, codes, seed)(frames)
        scores[layer] = unit_quality(units, train_phones, codes)["pnmi"]
    return max(scores, key=scores.get)


def speech_report(
    data_config: dict[str, Any] | None = None,
    encoder: Any = None,
    source: str = "encoder",
    codes: tuple[int, ...] = (50, 100),
    layer: str | int | None = "best",
    robust: bool = False,
    mfcc: bool = True,
    triplets: int = 2000,
    ued_clips: int = 200,
    robust_epochs: int = 15,
    seed: int = 0,
    split_seed: int = 0,
) -> dict[str, Any]:
    """Rows ``{source, layer, codes, quantizer, metrics}`` for MFCC and/or a trained
    ``speech`` `encoder` (named `source`) on the data `data_config` describes (the run's
    ``data`` section; default: the small spoken-word corpus). `split_seed` must be the seed
    the encoder's run split its data with (its ``seed``), so units are measured on clips it
    never trained on; `seed` drives k-means, ABX triplets and augmentations."""
    if encoder is not None and not hasattr(encoder, "local_features"):
        raise ConfigError(
            "discotok speech needs a run with the speech encoder (encoder.name=speech)"
        )
    data = SpeechEval.from_data_config(data_config or {"name": "spoken_words"}, split_seed)
    rows = []
    train_waves = data.pick(data.waves, "train")
    sources: list[tuple[str, Any]] = []  # (name, encoder); no encoder: the MFCC baseline
    if mfcc:
        sources.append(("mfcc", None))
    if encoder is not None:
        sources.append((source, encoder))
    # both depend on the train clips only: computed once for every codebook size
    mfcc_features = mfcc_featurizer(train_waves) if mfcc else None
    stats = feature_stats(features(train_waves, data.n_mels)) if encoder is not None else None
    for k in codes:
        for name, enc in sources:
            if enc is None:
                featurize, used = mfcc_features, None
            else:
                used = layer
                if layer == "best":
                    used = best_layer(data, enc, stats, k, seed) if data.labelled else None
                featurize = encoder_featurizer(enc, stats, used, data.n_mels)
            found = evaluate_units(
                data,
                featurize,
                k,
                robust=robust,
                triplets=triplets,
                ued_clips=ued_clips,
                robust_epochs=robust_epochs,
                seed=seed,
            )
            for quantizer, metrics in found.items():
                rows.append(
                    dict(source=name, layer=used, codes=k, quantizer=quantizer, metrics=metrics)
                )
    return {"clips": len(data.waves), "test_clips": len(data.test), "rows": rows}


def format_report(report: dict[str, Any]) -> str:
    """One line per (source, layer, codes, quantizer)."""
    present = [(k, h) for k, h in COLUMNS if any(k in r["metrics"] for r in report["rows"])]
    augs = sorted(
        {
            k
            for r in report["rows"]
            for k in r["metrics"]
            if k.startswith("ued_") and k != "ued_mean"
        }
    )
    head = ["units", "K"] + [h for _, h in present] + [a[4:] for a in augs]
    lines = []
    for r in report["rows"]:
        name = (
            r["source"]
            + (f"-L{r['layer']}" if r["layer"] else "")
            + (" robust" if r["quantizer"] == "robust" else "")
        )
        m = r["metrics"]
        cells = [name, str(r["codes"])]
        cells += [f"{m[k]:.3f}" if k in m else "-" for k, _ in present]
        cells += [f"{m[a]:.3f}" if a in m else "-" for a in augs]
        lines.append(cells)
    from discotok.report import _align

    return _align(head, lines)
