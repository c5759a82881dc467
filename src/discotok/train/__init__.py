"""Training: the engine, schedules, checkpoints, logs and multi-process launch."""

from discotok.train.engine import TrainResult, fit

__all__ = ["TrainResult", "fit"]
