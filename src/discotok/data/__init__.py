"""Datasets: one module per source; each registers a loader returning a `Dataset`."""

from discotok.data import arrays, digits, glyphs, mnist1d, timeseries, toy2d
from discotok.data.base import Dataset

__all__ = ["Dataset", "arrays", "digits", "glyphs", "mnist1d", "timeseries", "toy2d"]
