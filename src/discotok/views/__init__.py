"""Views (augmentations): one module per modality, batched torch ops on the data's device."""

from discotok.views import image2d, signal1d, timeseries, vector

DEFAULT_VIEWS = {
    "signal": "signal1d",
    "series": "timeseries",
    "image": "image2d",
    "vector": "vector",
}

__all__ = ["DEFAULT_VIEWS", "image2d", "signal1d", "timeseries", "vector"]
