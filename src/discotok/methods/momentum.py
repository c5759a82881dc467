"""Momentum (EMA) teachers, the distributed mean they need, and the FIFO queues of past
teacher outputs: shared by DINO, BYOL, OBoW, MoCo and any method with a slowly moving copy
of the student."""

from __future__ import annotations

import copy
import math

import torch
import torch.distributed as dist
from torch import nn

from discotok.train.distributed import is_distributed, world_size


def frozen_copy(module: nn.Module) -> nn.Module:
    """A copy of `module` that takes no gradients (the teacher starts equal to the student)."""
    teacher = copy.deepcopy(module)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def cosine_momentum(base: float, step: int, total_steps: int) -> float:
    """The EMA momentum from `base` up to 1 along a half cosine (BYOL/DINO schedule)."""
    return 1 - (1 - base) * (math.cos(math.pi * step / max(total_steps, 1)) + 1) / 2


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
        t.mul_(momentum).add_(s.detach(), alpha=1 - momentum)
    for t, s in zip(teacher.buffers(), student.buffers(), strict=True):
        t.copy_(s)  # BatchNorm running statistics follow the student


def global_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over dim 0 of `x` across every process of the run."""
    total = x.sum(0)
    count = torch.tensor(float(x.shape[0]), device=x.device)
    if is_distributed() and world_size() > 1:
        dist.all_reduce(total)
        dist.all_reduce(count)
    return total / count


@torch.no_grad()
def push_fifo(queue: torch.Tensor, cursor: torch.Tensor, rows: torch.Tensor) -> None:
    """Write `rows` (at most len(queue)) into the ring buffer `queue` from `cursor` on, and
    advance `cursor` (a 0-d tensor buffer) past them; both change in place."""
    slots = (cursor + torch.arange(len(rows), device=rows.device)) % len(queue)
    queue[slots] = rows
    cursor.copy_((cursor + len(rows)) % len(queue))
