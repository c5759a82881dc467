"""Multi-process data parallel on torch.distributed: process launch and a gradient-correct gather.

We use torch.distributed directly (gloo on CPU, nccl on CUDA) rather than Lightning: the
engine is a few hundred lines and the methods never see the difference.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward sums each rank's gradient for the local rows.

    Every rank's loss depends on every rank's embeddings, so the gradient of the local rows is
    the sum over ranks of d(loss_r)/d(rows); a plain all_gather (or a backward that returns
    only the local gradient) loses the other ranks' terms and 1 vs N processes then differ.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        parts = [torch.zeros_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return tuple(parts)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> torch.Tensor:
        stacked = torch.stack(grads).contiguous()
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
        return stacked[dist.get_rank()]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from all ranks along dim 0, keeping gradients correct (identity if 1)."""
    if not is_distributed():
        return x
    return torch.cat(_GatherWithGrad.apply(x), dim=0)


def agree_max(values: list[float], device: torch.device) -> list[float]:
    """Max of each flag over processes, so every process stops at the same step."""
    if not is_distributed():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.tolist()


def average_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Data parallel by hand: every process's gradients replaced by their mean over
    processes, in one all_reduce (for loops that cannot use DDP; no-op in one process)."""
    if not is_distributed():
        return
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def same_on_every_process(module: torch.nn.Module) -> bool:
    """Whether every process holds the same parameters and buffers (two checksums compared
    by all_reduce MAX/MIN): a data-parallel loop's invariant, checked at its end."""
    if not is_distributed():
        return True
    state = [t.detach().double().reshape(-1) for t in module.state_dict().values()]
    flat = torch.cat(state)
    sums = torch.stack([flat.sum(), (flat * torch.arange(len(flat), device=flat.device)).sum()])
    high, low = sums.clone(), sums.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return bool(torch.equal(high, low))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _entry(
    local_rank: int,
    fn: Callable[..., Any],
    nprocs: int,
    port: int,
    backend: str,
    args: tuple,
    errors: Any,
) -> None:
    from discotok.errors import DiscotokError

    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(local_rank),
        LOCAL_RANK=str(local_rank),
        WORLD_SIZE=str(nprocs),
    )
    if backend == "nccl":  # each process owns one GPU before any collective runs
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend, rank=local_rank, world_size=nprocs)
    try:
        fn(*args)
        # Free what still holds the group (DDP's reducer sits in reference cycles), then wait
        # for every process: one that tears down its group while another is still in a
        # collective or saving can abort in gloo's threads ("terminate called ...", SIGABRT).
        gc.collect()
        dist.barrier()
    except DiscotokError as err:  # every process hits the same user error; report it once
        errors.put((local_rank, type(err).__name__, str(err)))
    finally:
        dist.destroy_process_group()


def launch(fn: Callable[..., Any], nprocs: int, args: tuple = (), backend: str = "gloo") -> None:
    """Run ``fn(*args)`` in `nprocs` processes joined in one process group on this machine.

    A user error raised in the workers (a DiscotokError) is raised again here with its own
    type and message. Ctrl-C reaches the workers from the terminal and SIGTERM sent to this
    process is forwarded to them, so they stop at a step boundary with a checkpoint.
    """
    from discotok import errors as errs

    queue = mp.get_context("spawn").SimpleQueue()
    context = mp.start_processes(
        _entry,
        args=(fn, nprocs, free_port(), backend, args, queue),
        nprocs=nprocs,
        join=False,
        start_method="spawn",
    )

    def forward(signum: int, frame: Any) -> None:
        for proc in context.processes:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)

    old = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
    }
    try:
        while not context.join():
            pass
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    reported = []
    while not queue.empty():
        reported.append(queue.get())
    if reported:
        _, kind, message = min(reported)
        raise getattr(errs, kind, errs.DiscotokError)(message)
