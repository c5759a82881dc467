"""discotok: self-supervised representations and discrete tokens for any modality.

>>> import discotok
>>> run = discotok.pretrain({"train": {"epochs": 1}}, "runs/quick")  # doctest: +SKIP
>>> discotok.embed(run); discotok.tokenize(run)                       # doctest: +SKIP
>>> metrics = discotok.evaluate(run)                                  # doctest: +SKIP
"""

from discotok import data, encoders, evaluators, methods, tokenizers, views
from discotok.config import RunConfig, load_config
from discotok.errors import ConfigError, DataError, DiscotokError, TrainingDiverged
from discotok.evaluation import evaluate
from discotok.fewlabels import discover, label_shift, self_train
from discotok.pipeline import embed, load_encoder, pretrain
from discotok.registry import DATASETS, ENCODERS, EVALUATORS, METHODS, TOKENIZERS, VIEWS
from discotok.speech import corpus as _speech_datasets  # noqa: F401 - registers the datasets
from discotok.tokenization import compare_tokenizers, tokenize
from discotok.tokenizers import load_tokenizer

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "ENCODERS",
    "EVALUATORS",
    "METHODS",
    "TOKENIZERS",
    "VIEWS",
    "ConfigError",
    "DataError",
    "DiscotokError",
    "RunConfig",
    "TrainingDiverged",
    "data",
    "compare_tokenizers",
    "discover",
    "embed",
    "encoders",
    "evaluate",
    "evaluators",
    "label_shift",
    "load_config",
    "load_encoder",
    "load_tokenizer",
    "methods",
    "pretrain",
    "self_train",
    "tokenize",
    "tokenizers",
    "views",
]
