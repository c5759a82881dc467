"""Self-supervised objectives: one module per method; each returns a dict of named losses."""

from discotok.methods import gsimclr, simclr
from discotok.methods.base import SSLMethod

__all__ = ["SSLMethod", "gsimclr", "simclr"]
