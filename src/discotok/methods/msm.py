"""Masked deep-feature reconstruction from a momentum teacher (Masked Scene Modeling style).

The student sees the image with patches masked (zeroed, as in `mae`) and predicts, through a
1x1 convolution, the teacher's L2-normalised feature map of the full image at the masked
locations; the teacher is an EMA of the student. Predicting features rather than pixels
spends no capacity on texture detail.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_range
from discotok.methods.base import SSLMethod, require_feature_map
from discotok.methods.mae import check_mask_ratio, patch_mask
from discotok.methods.momentum import cosine_momentum, ema_update, frozen_copy
from discotok.registry import METHODS


@METHODS.register("msm")
class MaskedFeatures(SSLMethod):
    """Masked feature prediction against an EMA teacher's feature map."""

    num_views = 1

    def __init__(
        self, encoder: nn.Module, mask_ratio: float = 0.6, patch: int = 4, momentum: float = 0.99
    ) -> None:
        super().__init__(encoder)
        require_feature_map(encoder, "msm")
        check_mask_ratio(mask_ratio)
        check_range("method.patch", patch, 1)
        check_range("method.momentum", momentum, 0, 1)
        channels = encoder.feature_channels
        self.predictor = nn.Conv2d(channels, channels, 1)
        self.teacher = frozen_copy(encoder)
        self.mask_ratio, self.patch, self.momentum = mask_ratio, patch, momentum

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = batch["views"][0]
        mask = patch_mask(x, self.patch, self.mask_ratio)
        with torch.no_grad():
            target = F.normalize(self.teacher.feature_map(x), dim=1)
        prediction = F.normalize(self.predictor(self.encoder.feature_map(x * (1 - mask))), dim=1)
        where = F.adaptive_max_pool2d(mask, target.shape[-2:])  # locations that saw a mask
        error = (prediction - target).pow(2).sum(1, keepdim=True) * where
        loss = error.sum() / where.sum().clamp_min(1)
        return {"loss": loss, "masked_locations": where.mean()}

    def after_step(self, step: int, total_steps: int) -> None:
        ema_update(self.teacher, self.encoder, cosine_momentum(self.momentum, step, total_steps))
