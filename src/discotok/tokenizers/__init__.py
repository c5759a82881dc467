"""Tokenizers: one module per family, one interface (fit / encode / decode / save / load)."""

from discotok.tokenizers import kmeans
from discotok.tokenizers.base import Tokenizer, load_tokenizer

__all__ = ["Tokenizer", "kmeans", "load_tokenizer"]
