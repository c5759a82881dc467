"""Training the brain tokenizer and the masked-token model over recordings of many devices.

Recordings have different channel counts, so a batch holds windows of one device; steps go
round-robin over the devices. Each window hides a random `hide` share of its channels from
the encoder, and every channel is reconstructed. Checkpoints (model, optimizer, step and
the random state) go to ``run_dir/checkpoints/<name>.pt`` every `checkpoint_every` steps
and at the end; a run that finds one resumes from it. Ctrl-C saves and raises
``TrainingInterrupted``; a NaN loss raises ``TrainingDiverged`` and keeps the last good
checkpoint. Single process: the varying channel counts are not wired into
torch.distributed yet (docs/brain.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from discotok.brain.sensors import Recording
from discotok.brain.tokenizer import BrainTokenizer, reconstruction_losses
from discotok.errors import DataError, TrainingDiverged, TrainingInterrupted, check_range
from discotok.train.checkpoint import load_checkpoint, save_checkpoint


@dataclass
class BrainTrainSettings:
    steps: int = 600
    batch_size: int = 16
    lr: float = 2e-3
    hide: float = 0.25
    checkpoint_every: int = 100
    seed: int = 0


def hide_mask(n: int, channels: int, share: float, generator: torch.Generator) -> torch.Tensor:
    """(n, channels) True for hidden channels: round(share * channels) per window, >= 1 kept."""
    count = min(int(round(share * channels)), channels - 1)
    order = torch.rand(n, channels, generator=generator).argsort(dim=1)
    return order < count


def fit_loop(
    model: nn.Module,
    step_loss: Callable[[int, torch.Generator], dict[str, torch.Tensor]],
    settings: BrainTrainSettings,
    checkpoint: Path,
) -> list[dict[str, float]]:
    """The shared loop: AdamW, checkpoint/resume, NaN guard, Ctrl-C -> checkpoint."""
    check_range("steps", settings.steps, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(settings.seed)
    step, history = 0, []
    if checkpoint.exists():
        state = load_checkpoint(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        step, history = state["step"], state["history"]

    def save() -> None:
        save_checkpoint(
            checkpoint,
            {
                "step": step,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "history": history,
                "hparams": getattr(model, "hparams", {}),
            },
        )

    model.train()
    t0 = time.perf_counter()
    at_start = (generator.get_state(), torch.get_rng_state())
    try:
        while step < settings.steps:
            # the random state at the step's start: an interrupted step is redone exactly
            at_start = (generator.get_state(), torch.get_rng_state())
            losses = step_loss(step, generator)
            if not torch.isfinite(losses["loss"]):
                raise TrainingDiverged(
                    f"the loss became {float(losses['loss'].detach())} at step {step}; the "
                    f"last good checkpoint is kept at {checkpoint}. Lower the learning rate."
                )
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            history.append({"step": step, **{k: float(v.detach()) for k, v in losses.items()}})
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                save()
    except KeyboardInterrupt:
        generator.set_state(at_start[0])
        torch.set_rng_state(at_start[1])
        save()
        raise TrainingInterrupted(
            f"interrupted at step {step}/{settings.steps}; checkpoint saved to {checkpoint}. "
            "Run the same command again to resume."
        ) from None
    history.append({"seconds": time.perf_counter() - t0})
    return history


def train_tokenizer(
    recordings: list[Recording],
    run_dir: str | Path,
    settings: BrainTrainSettings | None = None,
    **model_options: object,
) -> tuple[BrainTokenizer, list[dict[str, float]]]:
    """Train a ``BrainTokenizer`` on windows of every recording (device) in turn."""
    settings = settings or BrainTrainSettings()
    if not recordings:
        raise DataError("no recordings to train on")
    torch.manual_seed(settings.seed)
    model = BrainTokenizer(**model_options)
    data = [(torch.from_numpy(r.windows), *r.sensor_tensors()) for r in recordings]
    for r in recordings:
        if len(r.windows) < settings.batch_size:
            raise DataError(
                f"{r.sensors.device or 'a recording'} has {len(r.windows)} windows, fewer than "
                f"batch_size={settings.batch_size}"
            )

    def step_loss(step: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        x, features, kind = data[step % len(data)]
        idx = torch.randperm(len(x), generator=generator)[: settings.batch_size]
        batch = x[idx]
        hide = hide_mask(len(batch), batch.shape[1], settings.hide, generator)
        x_hat, _, commit = model(batch, features, kind, hide)
        return reconstruction_losses(x_hat, batch, commit)

    history = fit_loop(model, step_loss, settings, Path(run_dir) / "checkpoints" / "tokenizer.pt")
    return model.eval(), history


def load_tokenizer_checkpoint(path: str | Path) -> BrainTokenizer:
    """The trained tokenizer in a ``checkpoints/tokenizer.pt`` file, in eval mode."""
    state = load_checkpoint(path)
    model = BrainTokenizer(**state["hparams"])
    model.load_state_dict(state["model"])
    return model.eval()
