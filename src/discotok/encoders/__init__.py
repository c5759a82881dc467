"""Encoders (backbones): small, configurable, one module per architecture."""

from discotok.encoders import cnn1d, cnn2d, mlp, resnet

DEFAULT_ENCODERS = {"signal": "cnn1d", "image": "cnn2d", "vector": "mlp"}

__all__ = ["DEFAULT_ENCODERS", "cnn1d", "cnn2d", "mlp", "resnet"]
