"""Evaluators: probes, clustering and token metrics, each usable on any feature arrays."""

from discotok.evaluators import clustering, probes
from discotok.evaluators.tokens import token_metrics

__all__ = ["clustering", "probes", "token_metrics"]
