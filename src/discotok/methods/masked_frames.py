"""Generative speech SSL: reconstruct masked log-mel frames (the review's "generative" family;
Mockingjay / TERA-style masked acoustic modelling on the ``speech`` encoder).

Spans of 20 ms frames are hidden behind the mask embedding (wav2vec 2.0 span masking); a
linear head predicts the two 10 ms input frames under each masked frame, L1 loss on masked,
valid frames only.
"""

from __future__ import annotations

import torch
from torch import nn

from discotok.encoders.speech import span_mask
from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.speech_common import input_pairs, require_speech_encoder
from discotok.registry import METHODS


@METHODS.register("masked_frames")
class MaskedFrames(SSLMethod):
    """Masked frame reconstruction (generative speech SSL): L1 on hidden log-mel frames."""

    num_views = 1
    augment = False

    def __init__(self, encoder: nn.Module, mask_prob: float = 0.08, mask_span: int = 5) -> None:
        super().__init__(encoder)
        require_speech_encoder(encoder, "masked_frames")
        check_range("method.mask_prob", mask_prob, 0.0, 1.0)
        check_range("method.mask_span", mask_span, 1)
        self.mask_prob, self.mask_span = mask_prob, mask_span
        self.head = nn.Linear(encoder.width, 2 * encoder.input_shape[0])

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = batch["views"][0]
        local = self.encoder.local_features(x)
        mask = span_mask(local[1], self.mask_prob, self.mask_span)
        h = self.encoder.frames(x, mask=mask, local=local)
        error = (self.head(h) - input_pairs(x)).abs().mean(-1)
        loss = error[mask].mean()
        return {"loss": loss, "masked_share": mask.sum() / local[1].sum()}
