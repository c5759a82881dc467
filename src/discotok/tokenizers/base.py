"""The tokenizer interface: fit on vectors, encode to integer codes, decode back, save/load.

Files are ``.npz`` archives holding the tokenizer's arrays plus ``kind`` and
``format_version``; loading a file of another format version is refused with a clear error.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from discotok.errors import DataError

FORMAT_VERSION = 1


def check_vectors(x: np.ndarray, where: str, dim: int | None = None) -> np.ndarray:
    """Validate an (n, dim) float array: 2-D, non-empty, finite, and of the expected width."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise DataError(f"{where}: expected an (n, dim) array, got shape {x.shape}")
    if len(x) == 0:
        raise DataError(f"{where}: no vectors given")
    if dim is not None and x.shape[1] != dim:
        raise DataError(
            f"{where}: vectors have dimension {x.shape[1]}, the tokenizer expects {dim}"
        )
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise DataError(
            f"{where}: {len(bad)} rows hold NaN or inf (first: {bad[:5].tolist()}); "
            "drop or impute them first"
        )
    return np.ascontiguousarray(x, dtype=np.float32)


def check_codebook_size(codes: int, n: int) -> None:
    """Refuse a codebook larger than the data it is fitted on."""
    if codes > n:
        raise DataError(
            f"cannot fit {codes} codes to {n} vectors; lower tokenizer.codes to at most {n}"
        )


class Tokenizer:
    """Base class. Subclasses set ``kind`` and implement fit/encode/decode/_arrays/_restore."""

    kind: str = ""

    @property
    def num_codes(self) -> int:
        raise NotImplementedError

    def fit(self, x: np.ndarray) -> Tokenizer:
        raise NotImplementedError

    def encode(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def decode(self, codes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def check_codes(self, codes: np.ndarray) -> None:
        """Refuse ids outside [0, num_codes)."""
        if codes.size and (codes.min() < 0 or codes.max() >= self.num_codes):
            raise DataError(f"codes must lie in [0, {self.num_codes - 1}]")

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """``quantized, codes, mse = tok(x)``: the uniform quantizer interface."""
        codes = self.encode(x)
        quantized = self.decode(codes)
        return quantized, codes, self.reconstruction_mse(x, codes, quantized)

    def reconstruction_mse(
        self, x: np.ndarray, codes: np.ndarray, quantized: np.ndarray | None = None
    ) -> float:
        """Mean squared error of decode(codes) against x."""
        quantized = self.decode(codes) if quantized is None else quantized
        return float(np.mean((quantized - np.asarray(x)) ** 2))

    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _options(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def _restore(cls, options: dict[str, Any], arrays: dict[str, np.ndarray]) -> Tokenizer:
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"kind": self.kind, "format_version": FORMAT_VERSION, "options": self._options()}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, __meta__=np.array(json.dumps(meta)), **self._arrays())
        tmp.replace(path)
        return path


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load any tokenizer saved with ``Tokenizer.save``."""
    from discotok.registry import TOKENIZERS

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(f"tokenizer file {str(path)!r} is missing or empty")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
        meta = json.loads(str(arrays.pop("__meta__")))
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise DataError(f"tokenizer file {str(path)!r} is corrupt ({err})") from None
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(
            f"tokenizer file {str(path)!r} has format version {version}; this discotok reads "
            f"version {FORMAT_VERSION}. Refit the tokenizer with this version."
        )
    return TOKENIZERS.get(meta["kind"])._restore(meta["options"], arrays)
