"""Frame-level speech units and how good and how robust they are.

A *featurizer* turns clips into one feature vector per 20 ms frame (MFCCs for the baseline,
any layer of a trained ``speech`` encoder otherwise); k-means (faiss, ``tokenizers.kmeans``)
turns those into units. Metrics, on the frame grid of the corpus's phone labels:

- phone purity (each unit's majority phone), cluster purity (each phone's majority unit) and
  PNMI (share of phone information the units keep), as in HuBERT's paper;
- codebook perplexity and the average run length of repeated units;
- word-level ABX error within and across voices: A and X are the same word (same language),
  B another word of that language; within: all three share a voice (A and X are two
  renditions); across: A and B share a voice, X has another. Distance: DTW between one-hot
  unit sequences (0 for the same unit, 1 otherwise) averaged along the path (aeon's DTW);
- robustness: the Unit Edit Distance between the deduplicated units of a clip and of its
  augmented version (``speech.augment``), per augmentation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from discotok.evaluators.tokens import dedup, levenshtein, sequence_metrics, token_metrics
from discotok.speech.augment import AUGMENTATIONS, augment
from discotok.speech.corpus import feature_stats, padded_features
from discotok.speech.features import log_mel, mfcc, pair_frames
from discotok.tokenizers.kmeans import KMeansTokenizer

Featurizer = Callable[[list[np.ndarray]], list[np.ndarray]]
UNIT_RATE = 50.0  # units per second: one per 20 ms frame
Quantizer = Callable[[list[np.ndarray]], list[np.ndarray]]


def mfcc_featurizer(train_waves: list[np.ndarray]) -> Featurizer:
    """MFCC + deltas (39-dim) on the 20 ms grid, standardised with the train clips' stats."""

    def raw(waves: list[np.ndarray]) -> list[np.ndarray]:
        return [pair_frames(mfcc(torch.from_numpy(w))).numpy() for w in waves]

    mean, std = feature_stats(raw(train_waves))

    def featurize(waves: list[np.ndarray]) -> list[np.ndarray]:
        return [((f - mean) / std).T.astype(np.float32) for f in raw(waves)]

    return featurize


def encoder_featurizer(
    encoder: nn.Module,
    stats: tuple[np.ndarray, np.ndarray],
    layer: int | None = None,
    n_mels: int = 40,
    batch_size: int = 64,
) -> Featurizer:
    """Layer `layer` (None = last) of a trained ``speech`` encoder, per 20 ms frame."""
    encoder.eval()

    @torch.no_grad()
    def featurize(waves: list[np.ndarray]) -> list[np.ndarray]:
        mels = [log_mel(torch.from_numpy(w), n_mels).numpy() for w in waves]
        order = np.argsort([m.shape[1] for m in mels])
        out: list[np.ndarray] = [np.empty(0)] * len(waves)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            length = max(mels[i].shape[1] for i in part)
            x = torch.from_numpy(padded_features([mels[i] for i in part], stats, length)).float()
            h = encoder.frames(x, layer=layer).numpy()
            for row, i in enumerate(part):
                out[i] = h[row, : mels[i].shape[1] // 2]
        return out

    return featurize


def fit_kmeans_units(frames: list[np.ndarray], codes: int, seed: int = 0) -> Quantizer:
    """k-means (faiss, k-means++ seeds) on all frames; returns clips -> unit sequences."""
    tokenizer = KMeansTokenizer(codes=codes, seed=seed).fit(np.concatenate(frames))

    def quantize(features: list[np.ndarray]) -> list[np.ndarray]:
        return [tokenizer.encode(f) if len(f) else np.zeros(0, np.int64) for f in features]

    return quantize


def unit_quality(
    units: list[np.ndarray], phones: list[np.ndarray] | None, num_codes: int
) -> dict[str, float]:
    """Perplexity, run length and bitrate (bits per second of the deduplicated units) of
    frame units; with `phones`, also phone purity, cluster purity and PNMI."""
    codes = np.concatenate(units)
    labels = None if phones is None else np.concatenate(phones)
    m = token_metrics(codes, num_codes, labels)
    lengths = np.array([len(u) for u in units])
    seq = sequence_metrics(codes, lengths, num_codes, frame_rate=UNIT_RATE)
    out = {
        "perplexity": m["token_perplexity"],
        "run_length": seq["token_run_length"],
        "bitrate": seq["token_bits_per_second"],
    }
    if labels is not None:
        joint = np.zeros((num_codes, labels.max() + 1))
        np.add.at(joint, (codes, labels), 1)
        out["phone_purity"] = m["token_purity"]
        out["cluster_purity"] = float(joint.max(0).sum() / len(codes))
        out["pnmi"] = m["token_pnmi"]
    return out


def _dtw(a: np.ndarray, b: np.ndarray, num_codes: int) -> float:
    """Path-averaged DTW between unit sequences with a 0/1 frame cost."""
    from aeon.distances import dtw_alignment_path

    onehot = np.eye(num_codes)
    path, cost = dtw_alignment_path(onehot[a].T.copy(), onehot[b].T.copy())
    return cost / 2.0 / len(path)  # squared distance of two different one-hots is 2


def abx_triplets(
    word: np.ndarray,
    language: np.ndarray,
    voice: np.ndarray,
    mode: str,
    count: int,
    seed: int = 0,
) -> np.ndarray:
    """(count, 3) indices (A, B, X): A and X the same word, B another word of A's language
    and voice; X in A's voice (``within``, another rendition) or in another (``across``)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(len(word))
    out: list[tuple[int, int, int]] = []
    for _ in range(count * 20):
        if len(out) == count:
            break
        a = int(rng.integers(len(word)))
        same_voice = voice == voice[a]
        x_pool = idx[
            (word == word[a]) & (idx != a) & (same_voice if mode == "within" else ~same_voice)
        ]
        b_pool = idx[(language == language[a]) & (word != word[a]) & same_voice]
        if len(x_pool) and len(b_pool):
            out.append((a, int(rng.choice(b_pool)), int(rng.choice(x_pool))))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def abx_error(units: list[np.ndarray], triplets: np.ndarray, num_codes: int) -> float:
    """Share of triplets where X is closer to B than to A (ties count half)."""
    if len(triplets) == 0:
        return float("nan")
    errors = 0.0
    for a, b, x in triplets:
        dax, dbx = _dtw(units[a], units[x], num_codes), _dtw(units[b], units[x], num_codes)
        errors += 1.0 if dax > dbx else 0.5 if dax == dbx else 0.0
    return errors / len(triplets)


def robustness(
    waves: list[np.ndarray],
    featurize: Featurizer,
    quantize: Quantizer | None,
    names: tuple[str, ...] = tuple(AUGMENTATIONS),
    seed: int = 0,
    sequences: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None,
) -> dict[str, float]:
    """Mean UED between the deduplicated units of each clip and of its augmented versions.

    `sequences` maps features to deduplicated unit sequences (default: dedup of `quantize`);
    the robust quantizer decodes its CTC output there instead.
    """
    if sequences is None and quantize is None:
        raise ValueError("robustness needs a quantizer or a sequence decoder")
    to_seq = sequences or (lambda feats: [dedup(u) for u in quantize(feats)])
    clean = to_seq(featurize(waves))
    out = {}
    for k, name in enumerate(names):
        rng = np.random.default_rng(seed + k)
        augmented = to_seq(featurize([augment(w, name, rng) for w in waves]))
        ued = [levenshtein(a, b) / max(1, len(a)) for a, b in zip(clean, augmented)]
        out[f"ued_{name}"] = float(np.mean(ued))
    out["ued_mean"] = float(np.mean([out[f"ued_{n}"] for n in names]))
    # a quantizer that emits (almost) nothing would score a perfect UED: show the length
    out["dedup_length"] = float(np.mean([len(s) for s in clean]))
    return out
