"""MSM's multi-level evaluation protocol on glyphs: every level against the last one.

The glyph protocol (configs/glyphs_simclr.yaml: cnn2d of three stages, 32/64/128 channels at
32x32/16x16/8x8, 100 epochs) trains SimCLR, MAE and MSM; each encoder, and the same
encoder untrained (random weights, the floor), is probed with evaluators/dense.py on an 8x8
grid, from all three levels concatenated (224 channels) and from the last level only (128):
per image (linear, kNN on the pooled map) and per location (linear; a cell with at least
25 % ink is labelled with its glyph's character, the others background).

    python benchmarks/msm_protocol.py [--seeds 0 1 2] [--epochs 100] [--resume] [--smoke]

--resume keeps the seeds already in results/msm_protocol.json (same config, grid and
epochs) and runs the others; the file is rewritten after every seed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import yaml
from common import earlier_results, group_mean_std, write_results

from discotok import pretrain
from discotok.config import RunConfig, resolve
from discotok.evaluators.dense import LEVELS, probe_encoder
from discotok.pipeline import build_method, load_encoder, load_eval_dataset

CONFIG = Path(__file__).parents[1] / "configs" / "glyphs_simclr.yaml"
METHODS = {"simclr": {"name": "simclr", "temperature": 0.2}, "mae": {"name": "mae"}}
METHODS["msm"] = {"name": "msm"}
METRICS = ("image_linear_acc", "image_knn_acc", "dense_acc", "dense_fg_acc", "dense_miou")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--grid", type=int, default=8)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--resume", action="store_true", help="keep the seeds already run")
    args = parser.parse_args()
    base = yaml.safe_load(CONFIG.read_text())
    base["train"].update(epochs=args.epochs, progress=False)
    if args.smoke:
        base["data"] = {"name": "glyphs", "charset": "digits"}
        base["train"].update(epochs=1, batch_size=64)
        args.seeds, args.grid = args.seeds[:1], 4
    rows: list[dict] = []
    earlier: list[dict] = []
    if args.resume and not args.smoke:
        rows, earlier = kept_runs(base, args.grid)
    locations = 2000 if args.smoke else 20000
    encoders = {"random init": None, **METHODS}
    if args.smoke:  # every code path once: an untrained and a trained encoder
        encoders = {"random init": None, "msm": METHODS["msm"]}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            if any(r["seed"] == seed for r in rows):
                print(f"seed {seed}: kept from the earlier results", flush=True)
                continue
            for name, method in encoders.items():
                cfg = {**base, "seed": seed, "method": method or METHODS["simclr"]}
                t0 = time.perf_counter()
                if method is None:  # the same encoder with its initial weights
                    run_cfg = resolve(RunConfig.from_dict(cfg))
                    data = load_eval_dataset(run_cfg)
                    encoder = build_method(run_cfg, data)[0].encoder
                else:
                    encoder, _, data = load_encoder(pretrain(cfg, Path(tmp) / f"{name}-{seed}"))
                seconds = time.perf_counter() - t0
                for levels in LEVELS:
                    with torch.no_grad():
                        found = probe_encoder(
                            encoder, data, args.grid, levels, seed=seed, max_locations=locations
                        )
                    rows.append(dict(method=name, seed=seed, pretrain_seconds=seconds, **found))
                    print({k: rows[-1][k] for k in ("method", "levels", *METRICS)}, flush=True)
            if not args.smoke:
                save(args, base, rows, earlier)
    for s in group_mean_std(rows, ("method", "levels"), METRICS):
        cells = " | ".join(f"{s[m]['mean']:.3f} ± {s[m]['std']:.3f}" for m in METRICS)
        print(f"| {s['method']} | {s['levels']} | {cells} | {s['seeds']} |")


def save(args: argparse.Namespace, base: dict, rows: list[dict], earlier: list[dict]) -> None:
    summary = group_mean_std(rows, ("method", "levels"), METRICS)
    payload = {"args": vars(args), "config": base, "runs": rows, "summary": summary}
    if earlier:
        payload["earlier_environments"] = earlier
    print("wrote", write_results("msm_protocol", payload), flush=True)


def kept_runs(base: dict, grid: int) -> tuple[list[dict], list[dict]]:
    """The runs of results/msm_protocol.json and its environments, for --resume; refuse a
    file written under another config or grid."""
    old, environments = earlier_results(
        "msm_protocol", lambda old: old["config"] == base and old["args"]["grid"] == grid
    )
    return (old["runs"] if old else []), environments


if __name__ == "__main__":
    main()
