"""Augmentation-invariant units (Gat et al., 2023): a quantizer head trained with CTC to emit,
from augmented audio, the deduplicated units of the clean audio; then again with itself as
the teacher.

The featurizer (e.g. a trained ``speech`` encoder layer) stays frozen. The head (two
convolutions over frames, then K + 1 logits; the last is CTC's blank) reads the features of
each training clip and of its augmented versions (every augmentation of
``speech.augment``, `copies` draws each) and is trained to emit the teacher's deduplicated
unit sequence of the *clean* clip. Iteration 1's teacher is the k-means quantizer; each
later iteration's teacher is the previous head on clean clips. Decoding: a clip's unit
sequence is the greedy CTC path (repeats collapsed, blanks dropped); a frame's unit, for
purity and PNMI, is the best non-blank logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_range
from discotok.evaluators.tokens import dedup
from discotok.speech.augment import AUGMENTATIONS, augment
from discotok.speech.units import Featurizer, Quantizer


class QuantizerHead(nn.Module):
    """Frame features (n, frames, dim) -> (n, frames, codes + 1) logits; blank is last."""

    def __init__(self, dim: int, codes: int, hidden: int = 128) -> None:
        super().__init__()
        self.codes = codes
        self.net = nn.Sequential(
            nn.Conv1d(dim, hidden, 5, padding=2),
            nn.GELU(),
            nn.Conv1d(hidden, hidden, 5, padding=2),
            nn.GELU(),
            nn.Conv1d(hidden, codes + 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)


def _pad(features: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(f) for f in features])
    out = torch.zeros(len(features), int(lengths.max()), features[0].shape[1])
    for i, f in enumerate(features):
        out[i, : len(f)] = torch.from_numpy(f)
    return out, lengths


@dataclass
class RobustUnits:
    """A trained head: ``frame_units`` per frame, ``sequences`` deduplicated per clip."""

    head: QuantizerHead

    @torch.no_grad()
    def _logits(self, features: list[np.ndarray]) -> list[np.ndarray]:
        self.head.eval()
        out = []
        for start in range(0, len(features), 256):
            x, lengths = _pad(features[start : start + 256])
            logits = self.head(x).numpy()
            out.extend(logits[i, :n] for i, n in enumerate(lengths.tolist()))
        return out

    def frame_units(self, features: list[np.ndarray]) -> list[np.ndarray]:
        return [lg[:, :-1].argmax(1) for lg in self._logits(features)]

    def sequences(self, features: list[np.ndarray]) -> list[np.ndarray]:
        blank = self.head.codes
        return [(d := dedup(lg.argmax(1)))[d != blank] for lg in self._logits(features)]


def train_robust_units(
    waves: list[np.ndarray],
    featurize: Featurizer,
    teacher: Quantizer,
    codes: int,
    *,
    iterations: int = 2,
    epochs: int = 15,
    copies: int = 1,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
) -> RobustUnits:
    """Train the CTC quantizer head on `waves` (clean + augmented); see the module doc."""
    check_range("iterations", iterations, 1)
    check_range("epochs", epochs, 1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    clean = featurize(waves)
    inputs, source = list(clean), list(range(len(waves)))
    for name in AUGMENTATIONS:
        for _ in range(copies):
            inputs += featurize([augment(w, name, rng) for w in waves])
            source += list(range(len(waves)))
    source_a = np.array(source)
    # never trained: every iteration builds its own head. This one's draws from torch's
    # generator are part of the seed stream behind benchmarks/results/speech_units.json;
    # drop it when that benchmark is next rerun.
    head = QuantizerHead(clean[0].shape[1], codes)
    units = RobustUnits(head)
    targets = [dedup(u) for u in teacher(clean)]
    for iteration in range(iterations):
        if iteration:
            targets = units.sequences(clean)
            targets = [t if len(t) else np.array([0]) for t in targets]
        head = QuantizerHead(clean[0].shape[1], codes)
        units = RobustUnits(head)
        optimizer = torch.optim.AdamW(head.parameters(), lr=lr)
        head.train()
        for _ in range(epochs):
            for batch in np.array_split(
                rng.permutation(len(inputs)), max(1, len(inputs) // batch_size)
            ):
                x, lengths = _pad([inputs[i] for i in batch])
                tgt = [torch.from_numpy(targets[source_a[i]]) for i in batch]
                log_probs = F.log_softmax(head(x), dim=-1).transpose(0, 1)
                loss = F.ctc_loss(
                    log_probs,
                    torch.cat(tgt),
                    lengths,
                    torch.tensor([len(t) for t in tgt]),
                    blank=codes,
                    zero_infinity=True,
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return units
