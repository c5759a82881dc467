"""Datasets: one module per source; each registers a loader returning a `Dataset`."""

from discotok.data import arrays, digits, glyphs, mnist1d, timeseries
from discotok.data.base import Dataset
from discotok.speech import corpus as speech_corpus

__all__ = ["Dataset", "arrays", "digits", "glyphs", "mnist1d", "speech_corpus", "timeseries"]
