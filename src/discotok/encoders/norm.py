"""The normalisation choice shared by the encoders."""

from __future__ import annotations

from torch import nn

from discotok.errors import check_choice

NORMS = ("batch", "layer", "none")


def make_norm(kind: str, channels: int, dims: int) -> nn.Module:
    """BatchNorm, a channel-wise LayerNorm (GroupNorm with one group), or nothing.

    `layer`/`none` make a model's output independent of the rest of its batch, which keeps
    multi-process training on CPU exactly equal to one process (SyncBatchNorm needs a GPU).
    """
    check_choice("encoder.norm", kind, NORMS)
    if kind == "none":
        return nn.Identity()
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if dims == 0:
        return nn.BatchNorm1d(channels)
    return {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}[dims](channels)
