"""Self-supervised objectives: one module per method; each returns a dict of named losses."""

from discotok.methods import dino, frameproj, gsimclr, simclr, swav, ts2vec
from discotok.methods.base import SSLMethod

__all__ = ["SSLMethod", "dino", "frameproj", "gsimclr", "simclr", "swav", "ts2vec"]
