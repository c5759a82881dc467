"""A wav2vec 2.0 / HuBERT-shaped frame encoder, sized for CPUs: conv front end + transformer.

Input: log-mel features (n, n_mels, frames) at a 10 ms hop, NaN-padded at the end (the
``spoken_words`` and ``audio_folder`` datasets). A convolution and a stride-2 convolution
make one ``width``-dim local feature per 20 ms (input frames 2i and 2i + 1 -> frame i); a
depthwise convolution adds relative position; ``depth`` pre-norm transformer layers, which
never attend to padding, give the contextual frames. ``frames(x, mask=..., layer=...)``
replaces masked local features with a learned embedding (the masked-prediction objectives)
and returns any layer's output; ``forward`` mean-pools the valid frames of the last layer.
"""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.registry import ENCODERS


def span_mask(valid: torch.Tensor, prob: float, span: int) -> torch.Tensor:
    """wav2vec 2.0 masking: each valid frame starts a masked span of `span` frames with
    probability `prob` (spans overlap); at least one frame per sequence is masked."""
    n, t = valid.shape
    starts = (torch.rand(n, t, device=valid.device) < prob) & valid
    lengths = valid.sum(1)
    forced = (torch.rand(n, device=valid.device) * lengths.clamp(min=1)).long()
    starts[torch.arange(n, device=valid.device), forced.clamp(max=t - 1)] = True
    kernel = torch.ones(1, 1, span, device=valid.device)
    spread = torch.nn.functional.conv1d(starts[:, None].float(), kernel, padding=span - 1)
    return (spread[:, 0, :t] > 0) & valid


@ENCODERS.register("speech")
class SpeechEncoder(nn.Module):
    """Conv + transformer frame encoder at 20 ms frames (wav2vec 2.0 / HuBERT shape)."""

    masks_padding = True

    def __init__(
        self,
        input_shape: tuple[int, ...],
        width: int = 128,
        depth: int = 4,
        heads: int = 4,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if len(input_shape) != 2:
            raise ConfigError(
                f"encoder 'speech' needs features of shape (n_mels, frames); got {input_shape}"
            )
        check_range("encoder.width", width, 1)
        check_range("encoder.depth", depth, 1)
        if width % heads:
            raise ConfigError(f"encoder.width={width} must be a multiple of encoder.heads={heads}")
        self.hparams = dict(width=width, depth=depth, heads=heads, dropout=dropout)
        self.input_shape = tuple(input_shape)
        self.embed_dim = self.width = width
        self.input_shape = tuple(input_shape)
        self.depth = depth
        self.front = nn.Sequential(
            nn.Conv1d(input_shape[0], width, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(width, width, 2, stride=2),
            nn.GELU(),
        )
        self.front_norm = nn.LayerNorm(width)
        self.mask_embedding = nn.Parameter(torch.randn(width) * 0.02)
        self.position = nn.Conv1d(width, width, 15, padding=7, groups=width)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                width,
                heads,
                2 * width,
                dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(depth)
        )
        self.final_norm = nn.LayerNorm(width)

    def frame_valid(self, x: torch.Tensor) -> torch.Tensor:
        """(n, frames // 2) True for encoder frames made of two real input frames."""
        lengths = self.frame_lengths(x)
        return torch.arange(x.shape[2] // 2, device=x.device)[None] < lengths[:, None]

    def frame_lengths(self, x: torch.Tensor) -> torch.Tensor:
        """Valid 20 ms frames per clip."""
        return torch.isfinite(x).any(dim=1).sum(dim=1) // 2

    def local_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Conv features before the transformer (n, frames // 2, width) and their validity."""
        valid = self.frame_valid(x)
        h = self.front(torch.nan_to_num(x, nan=0.0)).transpose(1, 2)
        return self.front_norm(h) * valid[..., None], valid

    def frames(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        layer: int | None = None,
        local: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Output of transformer layer `layer` (1..depth; None = last, normalised) per frame.

        `mask` (n, frames // 2) hides those frames behind the mask embedding; `local` reuses
        ``local_features(x)`` when the caller already has it. Padded frames are zero.
        """
        if layer is not None and not 1 <= layer <= self.depth:
            raise ConfigError(f"layer={layer} is outside 1..{self.depth} for this encoder")
        h, valid = self.local_features(x) if local is None else local
        if mask is not None:
            h = torch.where(mask[..., None], self.mask_embedding.to(h.dtype), h)
        h = h + torch.nn.functional.gelu(self.position(h.transpose(1, 2))).transpose(1, 2)
        h = h * valid[..., None]
        pad = ~valid
        for i, block in enumerate(self.layers, start=1):
            h = block(h, src_key_padding_mask=pad)
            if i == layer:
                return h * valid[..., None]
        return self.final_norm(h) * valid[..., None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        valid = self.frame_valid(x)
        h = self.frames(x)
        return h.sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
