import numpy as np
import pytest

from discotok.evaluators.tokens import (
    dedup,
    levenshtein,
    pnmi,
    sequence_metrics,
    token_metrics,
    unit_edit_distance,
)


def reference_levenshtein(a, b):
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    return d[-1][-1]


def test_levenshtein_matches_the_textbook_recurrence():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = rng.integers(0, 4, rng.integers(0, 9))
        b = rng.integers(0, 4, rng.integers(0, 9))
        assert levenshtein(a, b) == reference_levenshtein(list(a), list(b))


def test_dedup_and_ued():
    assert dedup(np.array([3, 3, 5, 5, 5, 3])).tolist() == [3, 5, 3]
    assert dedup(np.array([])).tolist() == []
    # a time-stretched copy has the same deduplicated units: UED 0
    assert unit_edit_distance(np.array([1, 1, 2, 3]), np.array([1, 1, 1, 2, 2, 3, 3])) == 0
    assert unit_edit_distance(np.array([1, 2, 3, 4]), np.array([1, 9, 3, 4])) == 0.25


def test_pnmi_and_bits():
    perfect = token_metrics(np.array([0, 1, 2, 3] * 5), 4, np.array([0, 1, 2, 3] * 5))
    assert perfect["token_pnmi"] == pytest.approx(1.0) and perfect["token_bits"] == 2.0
    useless = token_metrics(np.zeros(20, int), 4, np.array([0, 1] * 10))
    assert useless["token_pnmi"] == pytest.approx(0.0)
    # more codes than classes can keep all label information: PNMI 1, purity 1
    split = token_metrics(np.array([0, 1, 2, 3] * 5), 4, np.array([0, 0, 1, 1] * 5))
    assert split["token_pnmi"] == pytest.approx(1.0)
    assert pnmi(np.array([[5.0, 0.0], [0.0, 5.0]])) == pytest.approx(1.0)


def test_bits_per_second_count_deduplicated_tokens():
    codes = np.array([1, 1, 2, 2, 2, 3, 0, 0])  # two sequences: 1 1 2 2 2 3 | 0 0
    out = sequence_metrics(codes, np.array([6, 2]), 4, frame_rate=50.0)
    # 3 + 1 deduplicated tokens of 2 bits over 8 frames of 20 ms
    assert out["token_bits_per_second"] == pytest.approx(8 / 0.16)
    assert out["token_bits_per_sample"] == pytest.approx(2 * 2.0)
    assert "token_bits_per_second" not in sequence_metrics(codes, np.array([6, 2]), 4)
