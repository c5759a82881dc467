"""BrainOmni's second stage: masked-token pretraining on the frozen tokenizer's codes.

A window's tokens are (steps, latents) positions, each with one code per RVQ level. The
input of a position is the sum of its levels' code embeddings plus a step and a latent
position embedding; half of the positions are replaced by a mask embedding, a transformer
reads the sequence, and one linear head per RVQ level predicts that level's code at every
masked position (cross-entropy, averaged over levels). The mean and standard deviation of
the transformer's outputs over positions are the window's representation for probes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.brain.sensors import Recording
from discotok.brain.tokenizer import BrainTokenizer
from discotok.brain.train import (
    BrainTrainSettings,
    fit_loop,
    load_trained,
    my_share,
    trained_in_processes,
)
from discotok.errors import DataError, check_range
from discotok.train.distributed import is_distributed
from discotok.train.engine import resolve_device


class MaskedTokenModel(nn.Module):
    """Transformer over (steps x latents) token positions that predicts every RVQ level."""

    def __init__(
        self,
        quantizers: int,
        codebook: int,
        latents: int,
        steps: int = 32,
        dim: int = 64,
        depth: int = 2,
        heads: int = 4,
    ) -> None:
        super().__init__()
        self.hparams = dict(
            quantizers=quantizers,
            codebook=codebook,
            latents=latents,
            steps=steps,
            dim=dim,
            depth=depth,
            heads=heads,
        )
        self.code_embedding = nn.ModuleList(nn.Embedding(codebook, dim) for _ in range(quantizers))
        self.step_position = nn.Parameter(torch.randn(steps, 1, dim) * 0.02)
        self.latent_position = nn.Parameter(torch.randn(1, latents, dim) * 0.02)
        self.mask_embedding = nn.Parameter(torch.randn(dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim, heads, 2 * dim, 0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.heads = nn.ModuleList(nn.Linear(dim, codebook) for _ in range(quantizers))

    def forward(self, codes: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """codes (n, steps, latents, levels) -> outputs (n, steps * latents, dim)."""
        n, steps, L, _ = codes.shape
        h = sum(emb(codes[..., q]) for q, emb in enumerate(self.code_embedding))
        if mask is not None:
            h = torch.where(mask[..., None], self.mask_embedding, h)
        h = h + self.step_position[:steps] + self.latent_position
        return self.transformer(h.reshape(n, steps * L, -1))

    def loss(self, codes: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self(codes, mask)[mask.reshape(len(codes), -1)]
        targets = codes.reshape(len(codes), -1, codes.shape[-1])[mask.reshape(len(codes), -1)]
        per_level = [F.cross_entropy(head(out), targets[:, q]) for q, head in enumerate(self.heads)]
        accuracy = torch.stack(
            [
                (head(out).argmax(1) == targets[:, q]).float().mean()
                for q, head in enumerate(self.heads)
            ]
        )
        return {
            "loss": torch.stack(per_level).mean(),
            "level1_accuracy": accuracy[0],
            "accuracy": accuracy.mean(),
        }


def window_codes(tokenizer: BrainTokenizer, rec: Recording, batch: int = 32) -> torch.Tensor:
    """(windows, steps, latents, levels) codes of every window of `rec`."""
    return tokenizer.tokenize_windows(rec.windows, *rec.sensor_tensors(), batch)[1]


def train_masked_tokens(
    tokenizer: BrainTokenizer,
    recordings: list[Recording],
    run_dir: str | Path,
    settings: BrainTrainSettings | None = None,
    mask_share: float = 0.5,
    depth: int = 2,
) -> tuple[MaskedTokenModel, list[dict[str, float]]]:
    """Masked-token pretraining on the codes of every recording (the tokenizer is frozen and
    tokenizes once, here); in `settings.processes` processes when more than one."""
    settings = settings or BrainTrainSettings()
    settings.check()
    check_range("mask_share", mask_share, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    codes = torch.cat([window_codes(tokenizer, r) for r in recordings])
    if len(codes) < settings.batch_size:
        raise DataError(f"{len(codes)} windows, fewer than batch_size={settings.batch_size}")
    hparams = dict(
        quantizers=tokenizer.quantizers,
        codebook=tokenizer.codebook,
        latents=tokenizer.latents,
        steps=codes.shape[1],
        dim=tokenizer.dim,
        depth=depth,
    )
    checkpoint = Path(run_dir) / "checkpoints" / "masked_tokens.pt"
    if settings.processes > 1 and not is_distributed():
        args = (codes, hparams, checkpoint, settings, mask_share)
        return trained_in_processes(_fit_masked, settings, args, checkpoint, MaskedTokenModel)
    return _fit_masked(codes, hparams, checkpoint, settings, mask_share)


def _fit_masked(
    codes: torch.Tensor,
    hparams: dict[str, int],
    checkpoint: Path,
    settings: BrainTrainSettings,
    mask_share: float,
) -> tuple[MaskedTokenModel, list[dict[str, float]]]:
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    model = MaskedTokenModel(**hparams).to(device)

    def step_loss(step: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        idx = torch.randperm(len(codes), generator=generator)[: settings.batch_size]
        mask = torch.rand((len(idx), *codes.shape[1:3]), generator=generator) < mask_share
        return model.loss(my_share(codes[idx]).to(device), my_share(mask).to(device))

    history = fit_loop(model, step_loss, settings, checkpoint)
    return model.cpu().eval(), history


def load_masked_tokens_checkpoint(path: str | Path) -> MaskedTokenModel:
    """The masked-token model in a ``checkpoints/masked_tokens.pt`` file (CPU, eval mode)."""
    return load_trained(path, MaskedTokenModel)


@torch.no_grad()
def masked_token_features(
    model: MaskedTokenModel, tokenizer: BrainTokenizer, rec: Recording
) -> np.ndarray:
    """(windows, 2 * dim): mean and std of the transformer's outputs over positions."""
    codes = window_codes(tokenizer, rec)
    out = [model(codes[i : i + 64]) for i in range(0, len(codes), 64)]
    return torch.cat([torch.cat([h.mean(1), h.std(1)], dim=1) for h in out]).numpy()
