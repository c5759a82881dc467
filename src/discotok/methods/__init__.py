"""Self-supervised objectives: one module per method; each returns a dict of named losses."""

from discotok.methods import dino, gsimclr, simclr, swav
from discotok.methods.base import SSLMethod

__all__ = ["SSLMethod", "dino", "gsimclr", "simclr", "swav"]
