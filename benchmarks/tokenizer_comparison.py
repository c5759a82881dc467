"""Every tokenizer family on the same MNIST-1D embeddings, at matched bits (256 ids = 8 bits).

Pretrains the demo's SimCLR model (seed 0), embeds, then fits kmeans, vq, rvq (2 x 16),
fsq (4^4), lfq (8 bits), binary (8 bits) and sparse (256 features) on the train embeddings:
purity / NMI / PNMI against the digit labels on the test split, perplexity, dead codes,
reconstruction MSE (in the embedding's units, for every family), token agreement under
each augmentation, and fit time.

    python benchmarks/tokenizer_comparison.py [--codes 256] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import write_results

from discotok import compare_tokenizers, embed, pretrain
from discotok.config import RunConfig
from discotok.report import format_comparison

FAMILIES = ["kmeans", "vq", "rvq", "fsq", "lfq", "binary", "sparse"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=256)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    cfg = RunConfig().to_dict()
    cfg["train"]["progress"] = False
    if args.smoke:
        cfg["data"] = {"name": "mnist1d", "num_samples": 600}
        cfg["train"]["epochs"] = 1
        args.codes = 16
    with tempfile.TemporaryDirectory() as tmp:
        run = pretrain(cfg, Path(tmp) / "run")
        embed(run)
        results = compare_tokenizers(run, FAMILIES, args.codes)
    table = format_comparison(results)
    print(table)
    if not args.smoke:
        print(
            "wrote",
            write_results(
                "tokenizer_comparison",
                {
                    "codes": args.codes,
                    "config": cfg,
                    "results": results,
                    "table": table.splitlines(),
                },
            ),
        )


if __name__ == "__main__":
    main()
