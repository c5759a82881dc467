"""Self-supervised objectives: one module per method; each returns a dict of named losses."""

from discotok.methods import (
    byol,
    dino,
    frameproj,
    gedi,
    groco,
    gsimclr,
    hubert,
    masked_frames,
    moco,
    obow,
    sie,
    simclr,
    simsiam,
    swav,
    ts2vec,
    vicreg,
    wav2vec,
)
from discotok.methods.base import SSLMethod

__all__ = [
    "SSLMethod",
    "byol",
    "dino",
    "frameproj",
    "gedi",
    "groco",
    "gsimclr",
    "hubert",
    "masked_frames",
    "moco",
    "obow",
    "sie",
    "simclr",
    "simsiam",
    "swav",
    "ts2vec",
    "vicreg",
    "wav2vec",
]
