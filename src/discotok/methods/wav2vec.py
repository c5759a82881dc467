"""Contrastive speech SSL (CPC / wav2vec 2.0 style): find the true local feature of each
masked frame among distractors from the same clip.

Spans of 20 ms frames are masked in the transformer's input; at each masked frame, the
projected context output must pick the projected (unmasked) local feature of that frame
out of `distractors` other frames of the same clip (cosine similarity / temperature, cross-
entropy). Continuous targets, as in CPC: wav2vec 2.0's Gumbel quantizer is left out on CPUs
(docs/speech.md); the distractors keep the targets from collapsing to a constant.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.encoders.speech import span_mask
from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.speech_common import require_speech_encoder
from discotok.registry import METHODS


def sample_distractors(
    valid: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, k: int
) -> torch.Tensor:
    """For each (row, col) pair, `k` other valid frame indices of the same row: (m, k)."""
    lengths = valid.sum(1)[rows]
    draw = (torch.rand(len(rows), k, device=valid.device) * (lengths[:, None] - 1)).long()
    return draw + (draw >= cols[:, None]).long()  # skip the positive itself


@METHODS.register("wav2vec")
class Wav2Vec(SSLMethod):
    """Masked contrastive prediction of local features among same-clip distractors."""

    num_views = 1
    augment = False

    def __init__(
        self,
        encoder: nn.Module,
        mask_prob: float = 0.08,
        mask_span: int = 5,
        distractors: int = 20,
        temperature: float = 0.1,
        proj_dim: int = 64,
    ) -> None:
        super().__init__(encoder)
        require_speech_encoder(encoder, "wav2vec")
        check_range("method.mask_prob", mask_prob, 0.0, 1.0)
        check_range("method.distractors", distractors, 1)
        check_range("method.temperature", temperature, 1e-4)
        self.mask_prob, self.mask_span = mask_prob, mask_span
        self.distractors, self.temperature = distractors, temperature
        self.context_proj = nn.Linear(encoder.width, proj_dim)
        self.target_proj = nn.Linear(encoder.width, proj_dim)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = batch["views"][0]
        local, valid = self.encoder.local_features(x)
        mask = span_mask(valid, self.mask_prob, self.mask_span)
        mask &= valid.sum(1, keepdim=True) > 1  # a one-frame clip has no distractor
        c = F.normalize(
            self.context_proj(self.encoder.frames(x, mask=mask, local=(local, valid))), dim=-1
        )
        q = F.normalize(self.target_proj(local), dim=-1)
        rows, cols = mask.nonzero(as_tuple=True)
        negatives = sample_distractors(valid, rows, cols, self.distractors)
        candidates = torch.cat([cols[:, None], negatives], dim=1)  # positive first
        targets = q[rows[:, None], candidates]  # (m, 1 + k, dim)
        logits = (c[rows, cols][:, None, :] * targets).sum(-1) / self.temperature
        loss = F.cross_entropy(logits, torch.zeros(len(rows), dtype=torch.long, device=x.device))
        accuracy = (logits.argmax(1) == 0).float().mean()
        return {"loss": loss, "accuracy": accuracy}
