"""Tokens trained with the encoder against tokens fitted afterwards (MNIST-1D, SimCLR).

For each seed, the demo's SimCLR configuration is pretrained three times:
* ``posthoc``: plain SimCLR (``train.token_weight=0``); FSQ and VQ tokenizers (256 ids, 8
  bits) are fitted on its final embeddings, as ``discotok tokenize`` always did;
* ``joint fsq`` / ``joint vq``: SimCLR with the tokenizer trained alongside
  (``train.token_weight``, default 1.0): its loss (reconstruction + quantizer) flows into the
  encoder. Its tokens are measured as trained (``joint``) and, on the same encoder, with a
  tokenizer of the same family fitted afresh on the final embeddings (``refit``).
Reported on the test split: linear and kNN accuracy of the encoder (does the token loss cost
the continuous representation anything?), and the tokens' purity / NMI / PNMI against the
digit labels, perplexity, usage, reconstruction MSE and agreement under the augmentations.

    python benchmarks/joint_tokens.py [--seeds 0 1 2] [--weight 1.0] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from common import SMOKE_DATA, group_mean_std, run_pipeline, write_results

from discotok import tokenize
from discotok.config import RunConfig

FAMILIES = ("fsq", "vq")
PROBES = ("linear_acc", "knn_acc")
TOKENS = (
    "token_purity",
    "token_nmi",
    "token_pnmi",
    "token_perplexity",
    "token_usage",
    "token_mse",
    "token_agreement",
)


def config(seed: int, family: str, weight: float, codes: int, smoke: bool) -> dict[str, Any]:
    cfg = RunConfig().to_dict()
    cfg["seed"] = seed
    cfg["train"]["progress"] = False
    cfg["train"]["token_weight"] = weight
    cfg["tokenizer"] = {"name": family, "codes": codes}
    cfg["evaluate"].update(include_raw=False, map="pca")
    if smoke:
        cfg["data"] = dict(SMOKE_DATA)
        cfg["train"]["epochs"] = 1
    return cfg


def keep(metrics: dict[str, Any], names: tuple[str, ...]) -> dict[str, float]:
    return {k: float(metrics[k]) for k in names}


def one_seed(seed: int, weight: float, codes: int, smoke: bool, tmp: Path) -> list[dict]:
    rows = []
    run = tmp / f"posthoc-{seed}"
    found = run_pipeline(config(seed, FAMILIES[0], 0.0, codes, smoke), run)
    probes = keep(found["embedding"], PROBES)
    for family in FAMILIES:
        tokens = tokenize(run, {"name": family, "codes": codes})
        rows.append(dict(seed=seed, encoder="simclr", tokens=f"{family} post hoc", **probes))
        rows[-1].update(keep(tokens, TOKENS), pretrain_seconds=found["pretrain_seconds"])
    for family in FAMILIES:
        run = tmp / f"joint-{family}-{seed}"
        found = run_pipeline(config(seed, family, weight, codes, smoke), run)
        probes = keep(found["embedding"], PROBES)
        for label, refit in (("joint", False), ("refit", True)):
            tokens = tokenize(run, refit=refit)
            assert tokens["token_joint"] == float(not refit)
            rows.append(
                dict(seed=seed, encoder=f"simclr + {family}", tokens=f"{family} {label}", **probes)
            )
            rows[-1].update(keep(tokens, TOKENS), pretrain_seconds=found["pretrain_seconds"])
        print(f"seed {seed}: {rows[-2]}", flush=True)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    return group_mean_std(rows, ("encoder", "tokens"), PROBES + TOKENS + ("pretrain_seconds",))


def table(summary: list[dict]) -> str:
    names = PROBES + TOKENS
    lines = ["| encoder | tokens | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for s in summary:
        cells = [f"{s[m]['mean']:.3f} ± {s[m]['std']:.3f}" for m in names]
        lines.append(f"| {s['encoder']} | {s['tokens']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("--codes", type=int, default=256)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.codes = [0], 16
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            rows += one_seed(seed, args.weight, args.codes, args.smoke, Path(tmp))
    summary = summarise(rows)
    print(table(summary))
    if not args.smoke:
        payload = {
            "args": vars(args),
            "config": config(args.seeds[0], "fsq", args.weight, args.codes, False),
            "runs": rows,
            "summary": summary,
            "table": table(summary).splitlines(),
        }
        print("wrote", write_results("joint_tokens", payload))


if __name__ == "__main__":
    main()
