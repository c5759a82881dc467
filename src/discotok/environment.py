"""What a run ran on: versions, machine, device, seed, command; saved as environment.json."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "discotok",
    "torch",
    "numpy",
    "faiss-cpu",
    "scikit-learn",
    "kornia",
    "mnist1d",
    "aeon",
    "torch-geometric",
    "espeakng-loader",
    "soundfile",
    "mne",
    "vector-quantize-pytorch",
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str, cwd: Path = Path(__file__).parent) -> str | None:
    """stdout of a git command in `cwd` (default: this package's checkout); None without git."""
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state(cwd: Path = Path(__file__).parent) -> dict[str, Any]:
    """The checkout's commit, and the tracked files changed since it (a result computed from
    uncommitted code says so); both None outside a git checkout."""
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    changed = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return {
        "git_commit": commit.strip() if commit else None,
        "git_uncommitted": None if changed is None else [line[3:] for line in changed.splitlines()],
    }


def describe_environment(**extra: Any) -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "packages": {name: _version(name) for name in PACKAGES},
        **git_state(),
        "command": " ".join(sys.argv),
        **extra,
    }
