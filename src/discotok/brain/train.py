"""Training the brain tokenizer and the masked-token model over recordings of many devices.

Recordings have different channel counts, so a batch holds windows of one device; steps go
round-robin over the devices. Each window hides a random `hide` share of its channels from
the encoder, and every channel is reconstructed. Checkpoints (model, optimizer, step and
the random state) go to ``run_dir/checkpoints/<name>.pt`` every `checkpoint_every` steps
and at the end; a run that finds one resumes from it. Ctrl-C or SIGTERM stops at the next
step boundary, saves and raises ``TrainingInterrupted``; a NaN loss raises
``TrainingDiverged`` and keeps the last good checkpoint.

Several processes (``processes=N``; torch.distributed, gloo on CPU, nccl on CUDA): every
process draws the same global batch of `batch_size` windows of the step's device and trains
on its contiguous 1/N share; gradients are averaged in one all_reduce after each backward
pass (windows of one device per step, so no DDP bucket ever sees a changing channel count)
and the residual VQ's EMA codebooks and k-means init are synchronised by
vector-quantize-pytorch itself. Process 0 writes the checkpoints; every process checks at
the end that they all hold the same weights.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from discotok.brain.sensors import Recording
from discotok.brain.tokenizer import BrainTokenizer, reconstruction_losses
from discotok.errors import (
    ConfigError,
    DataError,
    TrainingDiverged,
    TrainingInterrupted,
    check_range,
)
from discotok.train.checkpoint import load_checkpoint, save_checkpoint
from discotok.train.distributed import (
    agree_max,
    average_gradients,
    is_distributed,
    launch,
    rank,
    same_on_every_process,
    world_size,
)
from discotok.train.engine import resolve_device, stop_on_signal


@dataclass
class BrainTrainSettings:
    steps: int = 600
    batch_size: int = 16  # the global batch: split over the processes
    lr: float = 2e-3
    hide: float = 0.25
    checkpoint_every: int = 100
    seed: int = 0
    processes: int = 1
    device: str = "cpu"  # cpu, cuda, cuda:N, or auto (CUDA when there is one)

    def check(self) -> None:
        check_range("steps", self.steps, 1)
        check_range("batch_size", self.batch_size, 1)
        check_range("processes", self.processes, 1)
        if self.batch_size % self.processes:
            raise ConfigError(
                f"batch_size={self.batch_size} does not split over processes={self.processes}; "
                "make it a multiple"
            )


def hide_mask(n: int, channels: int, share: float, generator: torch.Generator) -> torch.Tensor:
    """(n, channels) True for hidden channels: round(share * channels) per window, >= 1 kept."""
    count = min(int(round(share * channels)), channels - 1)
    order = torch.rand(n, channels, generator=generator).argsort(dim=1)
    return order < count


def my_share(x: torch.Tensor) -> torch.Tensor:
    """This process's contiguous 1/N share of a global batch (all of it in one process)."""
    size = len(x) // world_size()
    return x[rank() * size : (rank() + 1) * size]


def trained_in_processes(
    fn: Callable[..., Any],
    settings: BrainTrainSettings,
    args: tuple,
    checkpoint: Path,
    model_class: type[nn.Module],
) -> tuple[Any, list[dict[str, float]]]:
    """Run ``fn(*args)`` in `settings.processes` processes (one process group); the model
    and history that process 0 saved at `checkpoint` (CPU, eval mode)."""
    backend = "nccl" if resolve_device(settings.device).type == "cuda" else "gloo"
    launch(fn, settings.processes, args, backend=backend)
    state = load_checkpoint(checkpoint)
    return _from_state(state, model_class), state["history"]


def fit_loop(
    model: nn.Module,
    step_loss: Callable[[int, torch.Generator], dict[str, torch.Tensor]],
    settings: BrainTrainSettings,
    checkpoint: Path,
) -> list[dict[str, float]]:
    """The shared loop: AdamW, checkpoint/resume, NaN guard, Ctrl-C/SIGTERM -> checkpoint,
    gradients averaged over processes. `model` is on the settings' device."""
    settings.check()
    device = resolve_device(settings.device)
    if is_distributed() and device.type == "cpu":  # the processes share the cores
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size()))
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(settings.seed)
    step, history = 0, []
    if checkpoint.exists():
        state = load_checkpoint(checkpoint)
        if state["hparams"] != getattr(model, "hparams", {}):
            raise ConfigError(
                f"{checkpoint} holds a model with {state['hparams']}, not "
                f"{getattr(model, 'hparams', {})}; resume with the same options, or start "
                "fresh in another run directory"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        step, history = state["step"], state["history"]

    def save() -> None:
        if rank() == 0:
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
    with stop_on_signal() as flag:
        while step < settings.steps:
            if agree_max([float(flag["stop"])], device)[0]:  # at a step boundary
                save()
                raise TrainingInterrupted(
                    f"interrupted at step {step}/{settings.steps}; checkpoint saved to "
                    f"{checkpoint}. Run the same command again to resume."
                )
            losses = step_loss(step, generator)
            if agree_max([float(not torch.isfinite(losses["loss"]).item())], device)[0]:
                raise TrainingDiverged(
                    f"the loss became {float(losses['loss'].detach())} at step {step}; the "
                    f"last good checkpoint is kept at {checkpoint}. Lower the learning rate."
                )
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            average_gradients(model.parameters())
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            history.append({"step": step, **{k: float(v.detach()) for k, v in losses.items()}})
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                save()
    if not same_on_every_process(model):
        raise RuntimeError("the training processes ended with different weights (a bug)")
    history.append({"seconds": time.perf_counter() - t0})
    return history


def train_tokenizer(
    recordings: list[Recording],
    run_dir: str | Path,
    settings: BrainTrainSettings | None = None,
    **model_options: object,
) -> tuple[BrainTokenizer, list[dict[str, float]]]:
    """Train a ``BrainTokenizer`` on windows of every recording (device) in turn; in
    `settings.processes` processes when more than one. Returns it on the CPU, in eval mode."""
    settings = settings or BrainTrainSettings()
    settings.check()
    if not recordings:
        raise DataError("no recordings to train on")
    for r in recordings:
        if len(r.windows) < settings.batch_size:
            raise DataError(
                f"{r.sensors.device or 'a recording'} has {len(r.windows)} windows, fewer than "
                f"batch_size={settings.batch_size}"
            )
    checkpoint = Path(run_dir) / "checkpoints" / "tokenizer.pt"
    if settings.processes > 1 and not is_distributed():
        args = (recordings, checkpoint, settings, model_options)
        return trained_in_processes(_fit_tokenizer, settings, args, checkpoint, BrainTokenizer)
    return _fit_tokenizer(recordings, checkpoint, settings, model_options)


def _fit_tokenizer(
    recordings: list[Recording],
    checkpoint: Path,
    settings: BrainTrainSettings,
    model_options: dict[str, Any],
) -> tuple[BrainTokenizer, list[dict[str, float]]]:
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    model = BrainTokenizer(**model_options).to(device)
    data = [
        (torch.from_numpy(r.windows), *(t.to(device) for t in r.sensor_tensors()))
        for r in recordings
    ]

    def step_loss(step: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        x, features, kind = data[step % len(data)]
        idx = torch.randperm(len(x), generator=generator)[: settings.batch_size]
        hide = hide_mask(len(idx), x.shape[1], settings.hide, generator)
        batch = my_share(x[idx]).to(device)
        x_hat, _, commit = model(batch, features, kind, my_share(hide).to(device))
        return reconstruction_losses(x_hat, batch, commit)

    history = fit_loop(model, step_loss, settings, checkpoint)
    return model.cpu().eval(), history


def _from_state(state: dict[str, Any], model_class: type[nn.Module]) -> Any:
    model = model_class(**state["hparams"])
    model.load_state_dict(state["model"])
    return model.eval()


def load_trained(path: str | Path, model_class: type[nn.Module]) -> Any:
    """A model saved by ``fit_loop``: rebuilt from its hparams, weights loaded, CPU, eval."""
    return _from_state(load_checkpoint(path), model_class)


def load_tokenizer_checkpoint(path: str | Path) -> BrainTokenizer:
    """The trained tokenizer in a ``checkpoints/tokenizer.pt`` file, on the CPU, in eval mode."""
    return load_trained(path, BrainTokenizer)
