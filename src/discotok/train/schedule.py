"""Learning-rate schedules as multiplicative factors of the base rate (for LambdaLR)."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, final: float = 0.0) -> float:
    """Linear warmup to 1, then cosine decay to `final` at `total_steps`."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_constant(step: int, total_steps: int, warmup_steps: int) -> float:
    """Linear warmup to 1, then constant."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    return 1.0


def warmup_infinite(
    step: int,
    total_steps: int,
    warmup_steps: int,
    cooldown_steps: int,
    constant: float,
    anneal_steps: int = 0,
    anneal_to: float = 0.01,
) -> float:
    """The infinite schedule for continual pre-training (Ibrahim et al. 2024): linear warmup
    to 1, a cosine cooldown to `constant` over `cooldown_steps`, then constant for as long as
    training goes on -- so more data can follow without re-warming -- and, when a final
    checkpoint is wanted, an exponential anneal to `anneal_to` over the last `anneal_steps`.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    since = step - warmup_steps
    if since < cooldown_steps:
        return constant + (1.0 - constant) * 0.5 * (
            1.0 + math.cos(math.pi * since / cooldown_steps)
        )
    anneal_start = total_steps - anneal_steps
    if anneal_steps > 0 and step >= anneal_start:
        progress = min(1.0, (step - anneal_start + 1) / anneal_steps)
        return constant * (anneal_to / constant) ** progress
    return constant
