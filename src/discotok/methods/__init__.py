"""Self-supervised objectives: one module per method; each returns a dict of named losses."""

from discotok.methods import (
    dino,
    frameproj,
    gedi,
    groco,
    gsimclr,
    hubert,
    masked_frames,
    obow,
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
    "gedi",
    "groco",
    "gsimclr",
    "hubert",
    "masked_frames",
    "obow",
    "simclr",
    "swav",
    "ts2vec",
    "wav2vec",
]
