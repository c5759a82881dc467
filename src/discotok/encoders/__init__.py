"""Encoders (backbones): small, configurable, one module per architecture."""

from discotok.encoders import cnn1d, cnn2d, dilated, mlp, resnet, speech

DEFAULT_ENCODERS = {"signal": "cnn1d", "series": "dilated", "image": "cnn2d", "vector": "mlp"}

__all__ = ["DEFAULT_ENCODERS", "cnn1d", "cnn2d", "dilated", "mlp", "resnet", "speech"]
