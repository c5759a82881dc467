"""Every tokenizer family on the same MNIST-1D features, at matched bits.

Pretrains the demo's SimCLR model (seed 0), then fits every family on
* the pooled 128-d embeddings, 256 ids (8 bits): kmeans, kmeans_minibatch, vq, rvq (2 x 16),
  fsq (4^4), lfq, binary, sparse (256 features); and
* the encoder's frame-level features (10 frames of 64-d per signal), 64 ids (6 bits): one
  token sequence per signal, as for speech units.
Reported on the test split: purity / NMI / PNMI against the digit labels (frames carry their
signal's label), perplexity, dead codes, reconstruction MSE (in the input's units),
token agreement (pooled) or Unit Edit Distance (frames) under each augmentation, fit time.

    python benchmarks/tokenizer_comparison.py [--codes 256] [--frame-codes 64] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import write_results

from discotok import compare_tokenizers, embed, pretrain
from discotok.config import RunConfig
from discotok.report import format_comparison

FAMILIES = ["kmeans", "kmeans_minibatch", "vq", "rvq", "fsq", "lfq", "binary", "sparse"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=256)
    parser.add_argument("--frame-codes", type=int, default=64)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    cfg = RunConfig().to_dict()
    cfg["train"]["progress"] = False
    if args.smoke:
        cfg["data"] = {"name": "mnist1d", "num_samples": 600}
        cfg["train"]["epochs"] = 1
        args.codes = args.frame_codes = 16
    with tempfile.TemporaryDirectory() as tmp:
        run = pretrain(cfg, Path(tmp) / "run")
        embed(run)
        embed(run, frames=True)
        pooled = compare_tokenizers(run, FAMILIES, args.codes)
        frames = compare_tokenizers(run, FAMILIES, args.frame_codes, level="frame")
    tables = {"pooled": format_comparison(pooled), "frames": format_comparison(frames)}
    for level, table in tables.items():
        print(f"\n{level}:\n{table}")
    if not args.smoke:
        payload = {
            "codes": args.codes,
            "frame_codes": args.frame_codes,
            "config": cfg,
            "pooled": pooled,
            "frames": frames,
            "tables": {level: table.splitlines() for level, table in tables.items()},
        }
        print("wrote", write_results("tokenizer_comparison", payload))


if __name__ == "__main__":
    main()
