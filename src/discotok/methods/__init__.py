"""Self-supervised objectives: one module per method; each returns a dict of named losses."""

from discotok.methods import (
    dino,
    frameproj,
    gsimclr,
    hubert,
    masked_frames,
    simclr,
    swav,
    ts2vec,
    wav2vec,
)
from discotok.methods.base import SSLMethod

__all__ = [
    "SSLMethod",
    "dino",
    "frameproj",
    "gsimclr",
    "hubert",
    "masked_frames",
    "simclr",
    "swav",
    "ts2vec",
    "wav2vec",
]
