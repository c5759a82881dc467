"""Encoders (backbones): small, configurable, one module per architecture.

Every encoder takes `input_shape` (one sample's shape) first and exposes `embed_dim` and
`input_shape`; image encoders also expose `feature_map(x)` and `feature_channels`.
"""

from discotok.encoders import cnn1d, cnn2d, dilated, mlp, resnet, speech

DEFAULT_ENCODERS = {"signal": "cnn1d", "series": "dilated", "image": "cnn2d", "vector": "mlp"}

__all__ = ["DEFAULT_ENCODERS", "cnn1d", "cnn2d", "dilated", "mlp", "resnet", "speech"]
