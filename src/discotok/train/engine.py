"""The training engine: one loop for every method, on one or many processes.

Determinism and resume: the epoch order is a function of (seed, epoch) and the augmentation
RNG is reseeded from (seed, step, rank) before every step, so a run resumed from a
checkpoint replays exactly what an uninterrupted run would have done (bit-identical on CPU).
Ctrl-C / SIGTERM are turned into a stop at the next step boundary, with a checkpoint.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from discotok.config import TrainConfig
from discotok.errors import ConfigError, TrainingDiverged, TrainingInterrupted
from discotok.train.batches import epoch_order
from discotok.train.checkpoint import load_checkpoint, save_checkpoint
from discotok.train.distributed import agree_max, is_distributed, rank, world_size
from discotok.train.logger import RunLogger
from discotok.train.schedule import warmup_constant, warmup_cosine, warmup_infinite

if TYPE_CHECKING:  # the engine trains any method; it needs the type only for hints
    from discotok.methods.base import SSLMethod

StepCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrainResult:
    steps: int
    epochs: int
    last_loss: float
    seconds: float
    resumed_from_step: int
    samples_per_second: float


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name!r} but no CUDA device is available; use cpu")
    return torch.device(name)


def make_optimizer(params: Iterator[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def step_seed(seed: int, step: int, process: int) -> int:
    return (seed * 2_654_435_761 + step * 97_531 + process * 7_777_777 + 12_345) % (2**63)


@contextmanager
def stop_on_signal() -> Iterator[dict[str, bool]]:
    """Record SIGINT/SIGTERM in a flag instead of raising mid-step (main thread only)."""
    flag = {"stop": False}
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        flag["stop"] = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def fit(
    method: SSLMethod,
    views: nn.Module,
    x_train: np.ndarray,
    cfg: TrainConfig,
    run_dir: str | Path,
    *,
    seed: int = 0,
    resume: bool = True,
    callbacks: tuple[StepCallback, ...] = (),
    extra_state: dict[str, Any] | None = None,
) -> TrainResult:
    """Train `method` on `x_train`; checkpoints go to ``run_dir/checkpoints/last.pt``.

    `callbacks` receive each step's record (step, epoch, lr, losses) after the optimizer step.
    """
    run_dir = Path(run_dir)
    device = resolve_device(cfg.device)
    me, procs = rank(), world_size()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    elif procs > 1 and device.type == "cpu":  # N processes share the cores; spinning threads
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // procs))  # would fight
    global_batch = cfg.batch_size * procs
    n = len(x_train)
    if n < global_batch:
        raise ConfigError(
            f"train.batch_size={cfg.batch_size} x {procs} process(es) = {global_batch} is more "
            f"than the {n} training samples; lower train.batch_size"
        )
    steps_per_epoch = n // global_batch
    total_steps = cfg.steps or steps_per_epoch * cfg.epochs
    warmup_steps = int(round(cfg.warmup_epochs * steps_per_epoch))

    method.to(device)
    model: nn.Module = method
    if procs > 1:
        if cfg.sync_batchnorm and device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    optimizer = make_optimizer(method.parameters(), cfg)
    shape = {
        "cosine": warmup_cosine,
        "constant": warmup_constant,
        "infinite": partial(
            warmup_infinite,
            cooldown_steps=int(round(cfg.cooldown_epochs * steps_per_epoch)),
            constant=cfg.constant_lr_ratio,
            anneal_steps=int(round(cfg.anneal_epochs * steps_per_epoch)),
            anneal_to=cfg.anneal_lr_ratio,
        ),
    }[cfg.schedule]
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, partial(shape, total_steps=total_steps, warmup_steps=warmup_steps)
    )

    ckpt_path = run_dir / "checkpoints" / "last.pt"
    step, labels = 0, None
    if resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        method.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, labels = int(state["step"]), state.get("pseudo_labels")
    start_step = step

    def save(at_step: int) -> None:
        if me == 0:
            save_checkpoint(
                ckpt_path,
                {
                    "step": at_step,
                    "epoch": at_step // steps_per_epoch,
                    "total_steps": total_steps,
                    "model": method.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "pseudo_labels": labels,
                    **(extra_state or {}),
                },
            )

    data = torch.from_numpy(x_train)
    if device.type != "cpu":
        data = data.to(device)
    logger = RunLogger(run_dir, start_step) if me == 0 else None
    bar = tqdm(
        total=total_steps,
        initial=start_step,
        desc="pretrain",
        unit="step",
        disable=not (cfg.progress and me == 0),
        dynamic_ncols=True,
    )
    t0, last_loss = time.perf_counter(), float("nan")
    method.train()
    try:
        with stop_on_signal() as flag:
            while step < total_steps:
                epoch, first = divmod(step, steps_per_epoch)
                if first == 0 or step == start_step:
                    method.prepare(data, epoch)
                if first == 0 or labels is None:
                    labels = _pseudo_labels(method, data, epoch, global_batch, seed, labels, device)
                order = epoch_order(n, seed, epoch, labels)
                for i in range(first, min(steps_per_epoch, first + total_steps - step)):
                    start = i * global_batch + me * cfg.batch_size
                    idx = torch.from_numpy(order[start : start + cfg.batch_size])
                    if agree_max([float(flag["stop"])], device)[0]:  # before any forward pass
                        save(step)
                        raise TrainingInterrupted(
                            f"interrupted at step {step}/{total_steps}; checkpoint saved to "
                            f"{ckpt_path}. Run the same command again to resume."
                        )
                    torch.manual_seed(step_seed(seed, step, me))
                    batch = data[idx].to(device, non_blocking=True)
                    with torch.no_grad():
                        views_list = [
                            views(batch) if method.augment else batch
                            for _ in range(method.num_views)
                        ]
                    losses = model({"views": views_list, "index": idx})
                    loss = losses["loss"]
                    if agree_max([float(not torch.isfinite(loss).item())], device)[0]:
                        raise TrainingDiverged(
                            f"the loss became {loss.item()} at step {step} (epoch {epoch}); "
                            f"training stopped. The last good checkpoint is kept at {ckpt_path}"
                            f"{'' if ckpt_path.exists() else ' (none was written yet)'}. "
                            "Lower train.lr or check the input for extreme values."
                        )
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    step += 1
                    method.after_step(step, total_steps)
                    last_loss = float(loss.item())
                    record = {
                        "step": step,
                        "epoch": epoch,
                        "lr": optimizer.param_groups[0]["lr"],
                        **{k: float(v.detach()) for k, v in losses.items()},
                    }
                    if logger and (step % cfg.log_every == 0 or step == total_steps):
                        logger.log(record)
                    for callback in callbacks:
                        callback(record)
                    if step % cfg.checkpoint_every == 0 or step == total_steps:
                        save(step)
                    bar.update(1)
                    bar.set_postfix(loss=f"{last_loss:.3f}", refresh=False)
    finally:
        bar.close()
        if logger:
            logger.close()
    seconds = time.perf_counter() - t0
    trained = step - start_step
    return TrainResult(
        steps=step,
        epochs=-(-total_steps // steps_per_epoch),
        last_loss=last_loss,
        seconds=seconds,
        resumed_from_step=start_step,
        samples_per_second=trained * global_batch / seconds if seconds > 0 else 0.0,
    )


def _pseudo_labels(
    method: SSLMethod,
    data: torch.Tensor,
    epoch: int,
    global_batch: int,
    seed: int,
    previous: np.ndarray | None,
    device: torch.device,
) -> np.ndarray | None:
    """Ask the method for this epoch's pseudo-labels on process 0 and share them."""
    labels = None
    if rank() == 0:
        labels = method.pseudo_labels(
            data, epoch=epoch, batch_size=global_batch, seed=seed, previous=previous
        )
    if not is_distributed():
        return labels
    box = [labels]
    dist.broadcast_object_list(box, src=0)
    return box[0]
