"""Seconds-long smoke runs of the benchmark scripts, so they keep working."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    [
        "demo_target.py",
        "gsimclr_vs_simclr.py",
        "clustering_methods.py",
        "glyph_methods.py",
        "glyph_bn_heads.py",
        "msm_protocol.py",
        "gedi_toy.py",
        "kmeans_speed.py",
        "tokenizer_comparison.py",
        "joint_tokens.py",
        "few_labels.py",
        "continual_schedules.py",
        "time_series.py",
        "graph_distillation.py",
        "speech_units.py",
        "throughput.py",
        "embed_tokenize_100k.py",
        "lightly_side_by_side.py",
    ],
)
def test_benchmark_script_smoke(script):
    out = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), out.stderr[-2000:]
