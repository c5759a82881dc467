"""A small classifier over frozen features, trained on soft targets with per-sample weights.

The L2 penalty follows scikit-learn's logistic regression: `c` is the inverse strength, and
the penalty shrinks as (weighted) points are added -- without it a head fit to a handful of
labels is confidently wrong, and self-training amplifies its mistakes.

scikit-learn's classifiers take hard labels only; self-training with soft pseudo-labels needs
cross-entropy against a distribution, so the head is a few lines of torch (full-batch AdamW).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from discotok.errors import check_choice, check_range
from discotok.evaluators.probes import fit_standardizer

HEADS = ("linear", "mlp")


class Head:
    """Linear or one-hidden-layer MLP classifier on standardized features."""

    def __init__(
        self,
        kind: str = "linear",
        *,
        hidden: int = 256,
        epochs: int = 300,
        lr: float = 0.01,
        c: float = 1.0,
        seed: int = 0,
    ) -> None:
        check_choice("head", kind, HEADS)
        check_range("head epochs", epochs, 1)
        self.kind, self.hidden, self.epochs = kind, hidden, epochs
        check_range("head c", c, 0, low_inclusive=False)
        self.lr, self.c, self.seed = lr, c, seed
        self.net: nn.Module | None = None

    def _build(self, dim: int, k: int) -> nn.Module:
        if self.kind == "linear":
            return nn.Linear(dim, k)
        return nn.Sequential(nn.Linear(dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, k))

    def fit(self, x: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None) -> Head:
        """Minimise the weighted cross-entropy to `targets` (n x classes, rows sum to 1)."""
        torch.manual_seed(self.seed)
        xt = torch.as_tensor(x, dtype=torch.float32)
        tt = torch.as_tensor(targets, dtype=torch.float32)
        wt = torch.ones(len(x)) if weights is None else torch.as_tensor(weights).float()
        penalty = 0.5 / (self.c * float(wt.sum()))  # scikit-learn's C, per unit of weight
        wt = wt / wt.sum()
        self.net = self._build(x.shape[1], targets.shape[1])
        decayed = [p for name, p in self.net.named_parameters() if name.endswith("weight")]
        opt = torch.optim.Adam(self.net.parameters(), self.lr)
        for _ in range(self.epochs):
            opt.zero_grad(set_to_none=True)
            loss = -(wt * (tt * torch.log_softmax(self.net(xt), 1)).sum(1)).sum()
            loss = loss + penalty * sum((p**2).sum() for p in decayed)
            loss.backward()
            opt.step()
        return self

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("fit the head before predicting")
        logits = self.net(torch.as_tensor(x, dtype=torch.float32))
        return torch.softmax(logits, 1).numpy()

    def unscaled_linear(
        self, mean: np.ndarray, std: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(weight, bias) of a linear head fit on (x - mean) / std, as a classifier of the
        raw x -- the standardisation folded in; None for an MLP head. A fine-tuned encoder's
        classifier starts from it."""
        if not isinstance(self.net, nn.Linear):
            return None
        w = self.net.weight.detach().numpy() / np.asarray(std, dtype=np.float32)[None]
        b = self.net.bias.detach().numpy() - w @ np.asarray(mean, dtype=np.float32)
        return w, b


def fit_scaled_head(
    x: np.ndarray, targets: np.ndarray, kind: str = "linear", *, epochs: int = 300, seed: int = 0
) -> tuple[Head, np.ndarray, np.ndarray]:
    """A head fit on `x` standardized by its own mean and std; returns (head, mean, std)."""
    mean, std = fit_standardizer(x)
    head = Head(kind, epochs=epochs, seed=seed).fit((x - mean) / std, targets)
    return head, mean, std


def one_hot(codes: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(codes), k), dtype=np.float32)
    out[np.arange(len(codes)), codes] = 1
    return out
