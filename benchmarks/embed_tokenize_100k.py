"""Embedding and tokenizing 100k samples: samples/second and peak memory of each stage.

100,000 MNIST-1D signals (generated offline, 125,000 with the 20 % test share) through the
demo's encoder (configs/mnist1d_simclr.yaml: cnn1d, width 64, depth 4, 128-d; untrained
weights, which do not change the speed), batch 1024, then tokenizers fit on the 100k x 128
embeddings and encoding all of them: faiss k-means (K = 256), FSQ (256 codes, its small
autoencoder trained for the tokenizer's default epochs) and binary latents (8 bits). Peak
memory is the process's resident-set high-water mark during the stage (Linux VmHWM, reset
before each stage), and its rise over the resident set at the stage's start.

    python benchmarks/embed_tokenize_100k.py [--samples 100000] [--smoke]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
import yaml
from common import write_results

from discotok.data.mnist1d import load_mnist1d
from discotok.encoders.inference import encode_array
from discotok.registry import ENCODERS, TOKENIZERS

CONFIG = Path(__file__).parents[1] / "configs" / "mnist1d_simclr.yaml"
TOKENIZER_SPECS = {
    "kmeans": {"name": "kmeans", "codes": 256},
    "fsq": {"name": "fsq", "codes": 256},
    "binary": {"name": "binary", "codes": 256},
}


def _memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _stage(fn: Any) -> tuple[Any, dict[str, float]]:
    """Run fn(); wall seconds, peak resident memory and its rise over the start (MB)."""
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    start = _memory_mb("VmRSS")
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = _memory_mb("VmHWM")
    return out, {"seconds": seconds, "peak_rss_mb": peak, "peak_rise_mb": peak - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    n = 2000 if args.smoke else args.samples
    cfg = yaml.safe_load(CONFIG.read_text())
    t0 = time.perf_counter()
    data = load_mnist1d(num_samples=int(round(n / 0.8)))
    x = data.x_train[:n]
    generate_seconds = time.perf_counter() - t0
    torch.manual_seed(0)
    encoder = ENCODERS.build(
        ENCODERS.resolve(cfg["encoder"], ("input_shape",)), input_shape=data.sample_shape
    )
    emb, stats = _stage(lambda: encode_array(encoder, x, batch_size=1024))
    rows = {"embed": {**stats, "samples_per_second": n / stats["seconds"], "dim": emb.shape[1]}}
    for name, spec in TOKENIZER_SPECS.items():
        if args.smoke:
            spec = {**spec, "codes": 16}
        tokenizer = TOKENIZERS.build(TOKENIZERS.resolve(spec, ("seed",)), seed=0)
        _, fit = _stage(lambda t=tokenizer: t.fit(emb))
        codes, enc = _stage(lambda t=tokenizer: t.encode(emb))
        assert len(codes) == n
        rows[f"{name} fit"] = {**fit, "samples_per_second": n / fit["seconds"]}
        rows[f"{name} encode"] = {**enc, "samples_per_second": n / enc["seconds"]}
    lines = [
        f"{n} MNIST-1D samples ({generate_seconds:.1f} s to generate), {torch.get_num_threads()}"
        " threads",
        "",
        "| stage | seconds | samples/s | peak RSS MB | rise MB |",
        "|---|---|---|---|---|",
    ]
    for stage, r in rows.items():
        lines.append(
            f"| {stage} | {r['seconds']:.2f} | {r['samples_per_second']:,.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['peak_rise_mb']:.0f} |"
        )
    print("\n".join(lines))
    if not args.smoke:
        payload = {"samples": n, "generate_seconds": generate_seconds, "stages": rows}
        print("wrote", write_results("embed_tokenize_100k", {**payload, "table": lines}))


if __name__ == "__main__":
    main()
