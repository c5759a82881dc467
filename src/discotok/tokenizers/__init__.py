"""Tokenizers: one module per family, one interface (fit / encode / decode / save / load)."""

from discotok.tokenizers import binary, bow, kmeans, sparse, vq
from discotok.tokenizers.base import Tokenizer, load_tokenizer

__all__ = ["Tokenizer", "binary", "bow", "kmeans", "load_tokenizer", "sparse", "vq"]
