"""BrainOmni's sensor-aware tokenizer (Xiao et al. 2025), sized for CPUs.

Any channel count maps to the same latents:

1. the **sensor encoder** embeds each channel's position and orientation (an MLP) plus its
   kind (EEG, MEG gradiometer, magnetometer: a learned embedding);
2. a **per-channel patch encoder** (an MLP on each 16-sample patch: 62.5 ms; BrainOmni uses
   a convolutional encoder, too slow on 2 CPU cores for 306 channels) turns each channel's
   512 samples into 32 feature steps, and the sensor embedding is added;
3. at each step, `latents` learned **source queries** cross-attend to the channels (hidden
   channels are masked out of the keys), giving (steps, latents, dim) whatever the device;
4. **residual VQ** (vector-quantize-pytorch: k-means init, dead-code replacement) quantizes
   every latent: `quantizers` levels of `codebook` codes;
5. the **decoder** queries the quantized latents with each channel's sensor embedding, so
   it can rebuild any channel at any position, seen in training or not, then a patch MLP
   returns the samples.

Training loss (``reconstruction_losses``): time-domain MSE, spectral amplitude L1 and
amplitude-weighted phase error, 1 - Pearson correlation per channel, and the commitment
loss; a share of channels (`hide`) is hidden from the encoder and must be reconstructed.
``sensor="index"`` replaces the sensor encoder with a learned embedding per channel index:
the paper's ablation, a model tied to one device.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import ConfigError, check_choice, check_range

SENSOR_MODES = ("geometry", "index")


class SensorEncoder(nn.Module):
    """(channels, 6) position + orientation and (channels,) kind -> (channels, dim)."""

    def __init__(self, dim: int, mode: str = "geometry", max_channels: int = 512) -> None:
        super().__init__()
        check_choice("sensor", mode, SENSOR_MODES)
        self.mode = mode
        self.kind = nn.Embedding(3, dim)
        if mode == "geometry":
            self.mlp = nn.Sequential(nn.Linear(6, dim), nn.GELU(), nn.Linear(dim, dim))
        else:
            self.index = nn.Embedding(max_channels, dim)

    def forward(self, features: torch.Tensor, kind: torch.Tensor) -> torch.Tensor:
        if self.mode == "geometry":
            return self.mlp(features) + self.kind(kind)
        if len(features) > self.index.num_embeddings:
            raise ConfigError(
                f"{len(features)} channels; this model knows {self.index.num_embeddings}"
            )
        return self.index(torch.arange(len(features), device=features.device)) + self.kind(kind)


PATCH = 16  # samples per feature step: 62.5 ms at 256 Hz


class BrainTokenizer(nn.Module):
    """Sensor-aware EEG/MEG tokenizer: windows of any device -> RVQ codes -> any channel."""

    def __init__(
        self,
        dim: int = 64,
        latents: int = 16,
        quantizers: int = 4,
        codebook: int = 256,
        heads: int = 4,
        sensor: str = "geometry",
        max_channels: int = 512,
    ) -> None:
        super().__init__()
        from vector_quantize_pytorch import ResidualVQ

        check_range("dim", dim, 4)
        check_range("latents", latents, 1)
        check_range("quantizers", quantizers, 1)
        self.hparams = dict(
            dim=dim,
            latents=latents,
            quantizers=quantizers,
            codebook=codebook,
            heads=heads,
            sensor=sensor,
            max_channels=max_channels,
        )
        self.dim, self.latents, self.quantizers, self.codebook = dim, latents, quantizers, codebook
        self.sensor = SensorEncoder(dim, sensor, max_channels)
        self.channel_encoder = nn.Sequential(nn.Linear(PATCH, dim), nn.GELU(), nn.Linear(dim, dim))
        self.queries = nn.Parameter(torch.randn(latents, dim) * 0.02)
        self.encode_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.latent_ff = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim)
        )
        self.rvq = ResidualVQ(
            dim=dim,
            num_quantizers=quantizers,
            codebook_size=codebook,
            kmeans_init=True,
            kmeans_iters=10,
            threshold_ema_dead_code=2,
            decay=0.9,
        )
        self.decode_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.channel_decoder = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, PATCH))
        # sensor-conditioned scale and shift (FiLM) of each channel's features, on the way in
        # and out: attention weights are positive, the sign of a channel's contribution is not
        self.film_in = nn.Linear(dim, 2 * dim)
        self.film_out = nn.Linear(dim, 2 * dim)

    def encode(
        self,
        x: torch.Tensor,
        features: torch.Tensor,
        kind: torch.Tensor,
        hide: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(n, channels, samples) -> latents (n, steps, latents, dim); `hide` (n, channels)."""
        n, c, t = x.shape
        if t % PATCH:
            raise ConfigError(f"windows of {t} samples; the tokenizer needs a multiple of {PATCH}")
        s = self.sensor(features, kind)
        steps = t // PATCH
        scale, shift = self.film_in(s).chunk(2, dim=-1)
        h = self.channel_encoder(x.reshape(n, c, steps, PATCH)).transpose(1, 2)  # (n, steps, c, d)
        h = h * (1 + scale) + shift + s
        keys = h.reshape(n * steps, c, self.dim)
        mask = None if hide is None else hide.repeat_interleave(steps, dim=0)
        queries = self.queries.expand(n * steps, -1, -1)
        z, _ = self.encode_attention(queries, keys, keys, key_padding_mask=mask)
        z = z + self.latent_ff(z)
        return z.reshape(n, steps, self.latents, self.dim)

    def bits_per_second(self, rate: float) -> float:
        """Bits of the code stream per second of signal sampled at `rate` Hz, whatever the
        channel count: rate / PATCH steps, each `latents` x `quantizers` codes of
        log2(`codebook`) bits."""
        return rate / PATCH * self.latents * self.quantizers * math.log2(self.codebook)

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """latents -> (quantized latents, codes (n, steps, latents, quantizers), commitment)."""
        n, steps, L, d = z.shape
        with torch.autocast(z.device.type, enabled=False):  # fp32 quantization
            zq, codes, commit = self.rvq(z.reshape(n, steps * L, d).float())
        return zq.reshape(n, steps, L, d), codes.reshape(n, steps, L, -1), commit.sum()

    @torch.no_grad()
    def tokenize_windows(
        self, windows: np.ndarray, features: torch.Tensor, kind: torch.Tensor, batch: int = 32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantized latents and codes of every window, `batch` windows at a time."""
        parts = [
            self.quantize(self.encode(torch.from_numpy(windows[i : i + batch]), features, kind))
            for i in range(0, len(windows), batch)
        ]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def codes_to_latents(self, codes: torch.Tensor) -> torch.Tensor:
        n, steps, L, q = codes.shape
        return self.rvq.get_output_from_indices(codes.reshape(n, steps * L, q)).reshape(
            n, steps, L, self.dim
        )

    def decode(self, zq: torch.Tensor, features: torch.Tensor, kind: torch.Tensor) -> torch.Tensor:
        """Quantized latents -> (n, channels, samples) for the channels described."""
        n, steps, L, d = zq.shape
        s = self.sensor(features, kind)
        c = len(s)
        queries = s.expand(n * steps, -1, -1)
        kv = zq.reshape(n * steps, L, d)
        h, _ = self.decode_attention(queries, kv, kv)
        scale, shift = self.film_out(s).chunk(2, dim=-1)
        h = (h.reshape(n, steps, c, d) * (1 + scale) + shift).transpose(1, 2)  # (n, c, steps, d)
        return self.channel_decoder(h).reshape(n, c, steps * PATCH)

    def forward(
        self,
        x: torch.Tensor,
        features: torch.Tensor,
        kind: torch.Tensor,
        hide: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction of every channel, codes, commitment loss)."""
        zq, codes, commit = self.quantize(self.encode(x, features, kind, hide))
        return self.decode(zq, features, kind), codes, commit


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Correlation along the last axis."""
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp(min=1e-8)


def reconstruction_losses(
    x_hat: torch.Tensor, x: torch.Tensor, commit: torch.Tensor
) -> dict[str, torch.Tensor]:
    """BrainOmni's training loss: time, spectral amplitude and phase, correlation, commitment."""
    spec, spec_hat = torch.fft.rfft(x), torch.fft.rfft(x_hat)
    amp, amp_hat = spec.abs(), spec_hat.abs()
    weight = amp / amp.sum(-1, keepdim=True).clamp(min=1e-8)
    phase = (weight * (1 - torch.cos(spec_hat.angle() - spec.angle()))).sum(-1).mean()
    losses = {
        "time": F.mse_loss(x_hat, x),
        "amplitude": (amp_hat - amp).abs().mean() / amp.mean().clamp(min=1e-8),
        "phase": phase,
        "correlation": (1 - pearson(x_hat, x)).mean(),
        "commitment": commit,
    }
    losses["loss"] = (
        losses["time"]
        + losses["amplitude"]
        + 0.5 * losses["phase"]
        + losses["correlation"]
        + losses["commitment"]
    )
    return losses
