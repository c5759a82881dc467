"""Frame projections: learning without augmenting (METHODS.md section 1).

Three views of the same raw series, none of them augmented: the time signal; its orthonormal
Fourier transform (rfft, norm="ortho"; amplitude and phase stacked as channels); and an
overcomplete frame, the magnitude of a continuous wavelet transform with complex Morlet
wavelets at geometrically spaced scales (scales x channels become channels). Each view has
its own encoder (the configured encoder, rebuilt for that view's shape) and projector.

Loss: NT-Xent(time, cwt) + NT-Xent(time, fourier) + NT-Xent(cwt, fourier) plus the L1 error
of two small mappers that predict the Fourier and CWT embeddings from the time embedding
(their targets are detached: the mappers follow the branches, they do not pull them).
The kept encoder outputs [map_ft(h_t), h_t, map_cwt(h_t)]: only the time encoder runs at
inference. Padding (NaN) is zero-filled for both transforms; the CWT is NaN again on padded
steps so a padding-aware encoder masks it. Series longer than ``max_length`` are trained on
one random window of that length per batch (the CWT branch is the costly one on a CPU).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.methods.ntxent_loss import NTXentLoss
from discotok.registry import METHODS
from discotok.views.timeseries import random_window


def fourier_view(x: torch.Tensor) -> torch.Tensor:
    """(n, c, length) -> (n, 2c, length // 2 + 1): amplitude and phase of the orthonormal rfft."""
    spec = torch.fft.rfft(torch.nan_to_num(x, nan=0.0), dim=-1, norm="ortho")
    return torch.cat([spec.abs(), spec.angle()], dim=1)


class MorletCWT(nn.Module):
    """|CWT| with analytic complex Morlet wavelets (omega0 = 6), computed by FFT."""

    def __init__(self, length: int, num_scales: int = 24, omega0: float = 6.0) -> None:
        super().__init__()
        self.length = length
        self.n_fft = 1 << max(1, (2 * length - 1).bit_length())  # no circular wrap-around
        s_min, s_max = 1.0, max(2.0, length / 4)
        scales = torch.logspace(math.log10(s_min), math.log10(s_max), num_scales)
        omega = 2 * math.pi * torch.fft.fftfreq(self.n_fft)  # radians per sample
        arg = scales[:, None] * omega[None, :]
        bank = math.pi**-0.25 * torch.exp(-0.5 * (arg - omega0) ** 2) * (omega > 0)
        self.register_buffer("bank", bank * torch.sqrt(2 * math.pi * scales)[:, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, length = x.shape
        spec = torch.fft.fft(torch.nan_to_num(x, nan=0.0), n=self.n_fft, dim=-1)
        coeffs = torch.fft.ifft(spec[:, :, None, :] * self.bank, dim=-1)[..., :length]
        out = coeffs.abs().reshape(n, c * self.bank.shape[0], length)
        padded = ~torch.isfinite(x).any(dim=1, keepdim=True)
        return out.masked_fill(padded, float("nan"))


class MappedTimeEncoder(nn.Module):
    """The kept encoder: time embedding plus the two mappers' predictions, concatenated."""

    def __init__(self, time: nn.Module, map_ft: nn.Module, map_cwt: nn.Module) -> None:
        super().__init__()
        self.time = time
        self.map_ft = map_ft
        self.map_cwt = map_cwt
        self.embed_dim = 3 * time.embed_dim
        self.masks_padding = getattr(time, "masks_padding", False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.time(x)
        return torch.cat([self.map_ft(h), h, self.map_cwt(h)], dim=1)

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        return self.time.frames(x)

    def frame_lengths(self, x: torch.Tensor) -> torch.Tensor:
        return self.time.frame_lengths(x)


def _mapper(dim: int, hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


@METHODS.register("frameproj")
class FrameProjections(SSLMethod):
    """Frame projections: time, Fourier and wavelet views of one series, no augmentation."""

    augment = False  # the three projections are the views

    def __init__(
        self,
        encoder: nn.Module,
        temperature: float = 0.15,
        proj_hidden: int = 256,
        proj_dim: int = 128,
        num_scales: int = 24,
        mapper_hidden: int = 256,
        mapper_weight: float = 1.0,
        max_length: int = 512,
    ) -> None:
        if not hasattr(encoder, "hparams") or not hasattr(encoder, "input_shape"):
            raise ConfigError(
                "method 'frameproj' rebuilds the encoder for each view; use encoder "
                "dilated or cnn1d"
            )
        check_range("method.num_scales", num_scales, 2)
        check_range("method.mapper_hidden", mapper_hidden, 1)
        check_range("method.mapper_weight", mapper_weight, 0.0)
        check_range("method.max_length", max_length, 2)
        channels, length = encoder.input_shape
        length = min(length, max_length)
        dim = encoder.embed_dim
        kind = type(encoder)
        wrapped = MappedTimeEncoder(
            encoder, _mapper(dim, mapper_hidden), _mapper(dim, mapper_hidden)
        )
        super().__init__(wrapped)
        self.fourier_encoder = kind(input_shape=(2 * channels, length // 2 + 1), **encoder.hparams)
        self.cwt_encoder = kind(input_shape=(channels * num_scales, length), **encoder.hparams)
        self.cwt = MorletCWT(length, num_scales)
        self.proj_time = ProjectionHead(dim, proj_hidden, proj_dim)
        self.proj_ft = ProjectionHead(dim, proj_hidden, proj_dim)
        self.proj_cwt = ProjectionHead(dim, proj_hidden, proj_dim)
        self.criterion = NTXentLoss(temperature)
        self.mapper_weight = mapper_weight
        self.max_length = max_length

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = random_window(batch["views"][0], self.max_length)
        h_t = self.encoder.time(x)
        h_ft = self.fourier_encoder(fourier_view(x))
        h_cwt = self.cwt_encoder(self.cwt(x))
        z_t, z_ft, z_cwt = self.proj_time(h_t), self.proj_ft(h_ft), self.proj_cwt(h_cwt)
        contrast = (
            self.criterion(z_t, z_cwt) + self.criterion(z_t, z_ft) + self.criterion(z_cwt, z_ft)
        )
        mapping = (self.encoder.map_ft(h_t) - h_ft.detach()).abs().mean() + (
            self.encoder.map_cwt(h_t) - h_cwt.detach()
        ).abs().mean()
        loss = contrast + self.mapper_weight * mapping
        return {"loss": loss, "ntxent": contrast.detach(), "mapper_l1": mapping.detach()}
