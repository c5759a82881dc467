"""How good a token sequence is: codebook usage, perplexity, and agreement with labels."""

from __future__ import annotations

import numpy as np


def token_metrics(
    codes: np.ndarray, num_codes: int, labels: np.ndarray | None = None
) -> dict[str, float]:
    """Usage, perplexity and dead codes of `codes`; purity and NMI when labels are given.

    purity: share of tokens whose code's majority class is their class.
    perplexity: exp of the entropy of the code distribution (num_codes when all are equally used).
    """
    from sklearn.metrics import normalized_mutual_info_score

    codes = np.asarray(codes).reshape(-1)
    counts = np.bincount(codes, minlength=num_codes).astype(np.float64)
    p = counts / counts.sum()
    nz = p[p > 0]
    out = {
        "token_perplexity": float(np.exp(-(nz * np.log(nz)).sum())),
        "token_usage": float((counts > 0).mean()),
        "token_dead_codes": float((counts == 0).sum()),
    }
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        _, y = np.unique(labels, return_inverse=True)
        joint = np.zeros((num_codes, y.max() + 1))
        np.add.at(joint, (codes, y), 1)
        out["token_purity"] = float(joint.max(1).sum() / len(codes))
        out["token_nmi"] = float(normalized_mutual_info_score(y, codes))
    return out
