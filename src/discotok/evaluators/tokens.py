"""How good a token sequence is: codebook usage, perplexity, and agreement with labels.

Also the sequence metrics of discrete speech units: run-length deduplication and the Unit Edit
Distance (Gat et al.), UED = Levenshtein(dedup(a), dedup(b)) / len(dedup(a)).
"""

from __future__ import annotations

import numpy as np


def token_metrics(
    codes: np.ndarray, num_codes: int, labels: np.ndarray | None = None
) -> dict[str, float]:
    """Usage, perplexity, bits and dead codes of `codes`; purity, NMI and PNMI with labels.

    purity: share of tokens whose code's majority class is their class.
    perplexity: exp of the entropy of the code distribution (num_codes when all are equally used).
    pnmi: I(label; code) / H(label), the share of label information the codes keep.
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
        "token_bits": float(np.log2(num_codes)),
    }
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        _, y = np.unique(labels, return_inverse=True)
        joint = np.zeros((num_codes, y.max() + 1))
        np.add.at(joint, (codes, y), 1)
        out["token_purity"] = float(joint.max(1).sum() / len(codes))
        out["token_nmi"] = float(normalized_mutual_info_score(y, codes))
        out["token_pnmi"] = pnmi(joint)
    return out


def pnmi(joint_counts: np.ndarray) -> float:
    """I(y; c) / H(y) from a (codes, labels) count table."""
    pxy = joint_counts / joint_counts.sum()
    px = pxy.sum(1, keepdims=True)
    py = pxy.sum(0, keepdims=True)
    nz = pxy > 0
    mutual = float((pxy[nz] * np.log(pxy[nz] / (px @ py)[nz])).sum())
    hy = float(-(py[py > 0] * np.log(py[py > 0])).sum())
    return mutual / hy if hy > 0 else 0.0


def dedup(sequence: np.ndarray) -> np.ndarray:
    """Collapse runs of a repeated token: [3, 3, 5, 5, 5, 3] -> [3, 5, 3]."""
    seq = np.asarray(sequence).reshape(-1)
    if len(seq) == 0:
        return seq
    keep = np.ones(len(seq), dtype=bool)
    keep[1:] = seq[1:] != seq[:-1]
    return seq[keep]


def levenshtein(a: np.ndarray, b: np.ndarray) -> int:
    """Edit distance (insertions, deletions, substitutions), one numpy row at a time."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0 or len(b) == 0:
        return int(max(len(a), len(b)))
    row = np.arange(len(b) + 1)
    for i, token in enumerate(a, start=1):
        diagonal = row[:-1] + (b != token)
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(diagonal, row[1:] + 1)
        # insertions need a running minimum along the row
        new = np.minimum.accumulate(new - np.arange(len(new))) + np.arange(len(new))
        row = new
    return int(row[-1])


def unit_edit_distance(clean: np.ndarray, augmented: np.ndarray) -> float:
    """UED: Levenshtein between the deduplicated sequences / length of the clean one."""
    a, b = dedup(clean), dedup(augmented)
    return levenshtein(a, b) / max(1, len(a))


def sequence_metrics(
    codes: np.ndarray, lengths: np.ndarray, num_codes: int, frame_rate: float | None = None
) -> dict[str, float]:
    """Run length, deduplicated length and bits per sample of concatenated token sequences.

    With `frame_rate` (tokens per second before deduplication), also bits per second: the
    deduplicated tokens of all sequences times log2(num_codes), over their total duration
    (the bitrate of a unit language, as in textless speech work; run lengths are not coded).
    """
    sequences = np.split(np.asarray(codes), np.cumsum(lengths)[:-1])
    dedup_lengths = np.array([len(dedup(s)) for s in sequences])
    bits = np.log2(num_codes)
    out = {
        "token_run_length": float(np.sum(lengths) / max(1, dedup_lengths.sum())),
        "token_dedup_length": float(dedup_lengths.mean()),
        "token_bits_per_sample": float(dedup_lengths.mean() * bits),
    }
    if frame_rate is not None:
        seconds = float(np.sum(lengths)) / frame_rate
        out["token_bits_per_second"] = float(dedup_lengths.sum() * bits / max(seconds, 1e-12))
    return out
