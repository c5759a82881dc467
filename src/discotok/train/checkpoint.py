"""Checkpoints: written atomically (temp file + rename), so a kill never leaves a torn file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from discotok.errors import DataError

FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format_version": FORMAT_VERSION, **state}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {str(path)!r} does not exist; train first (discotok pretrain)")
    if path.stat().st_size == 0:
        raise DataError(f"checkpoint {str(path)!r} is empty")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises many types for a torn or foreign file
        raise DataError(
            f"checkpoint {str(path)!r} is corrupt or not a checkpoint ({err})"
        ) from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"checkpoint {str(path)!r} was not written by this version of discotok "
            f"(format {state.get('format_version') if isinstance(state, dict) else '?'}, "
            f"expected {FORMAT_VERSION})"
        )
    return state
