"""SimCLR side by side: discotok against lightly, the most used SSL library.

Same data (glyphs, configs/glyphs_simclr.yaml's split: test = unseen font families), same
backbone (discotok's cnn2d, width 32, depth 3, 128-d, with the same initial weights), same
batch (256), epochs, optimizer and schedule (AdamW lr 0.004, weight decay 1e-4, 1 warmup
epoch then cosine), same evaluation (our kNN, k = 20, and linear probe on the backbone's
features of clean glyphs). What differs is each library's recommended SimCLR recipe:
- discotok: `discotok pretrain` with its kornia image views (batched, in the training
  process) and NT-Xent at temperature 0.2, the glyph config (its projection head has no
  BatchNorm); again with a BatchNorm in the head (`method.head_norm=batch`), as lightly's
  head has: the matched comparison, where the views and the loss are what differ; and at
  lightly's temperature, 0.5;
- lightly: `SimCLRTransform` (torchvision on PIL images, per sample, in a DataLoader;
  their CIFAR-10 settings: input 32, no blur; normalisation off so both backbones see the
  same [0, 1] inputs), `SimCLRProjectionHead` (128 -> 256 -> 64, our head's sizes) and
  `NTXentLoss` at its default temperature 0.5; DataLoader workers 0 and 2.
Samples/second: training samples over the wall-clock time of the training loop (data
loading and augmentation included; evaluation excluded).

lightly needs torchvision, a multi-GB install kept out of the default setup and of CI. Run
it in its own venv, where discotok runs too (same torch for both sides):

    python -m venv /tmp/lightly-venv
    /tmp/lightly-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 lightly==1.6.0
    /tmp/lightly-venv/bin/pip install -e . --no-deps    # then discotok's other dependencies
    /tmp/lightly-venv/bin/python benchmarks/lightly_side_by_side.py [--epochs 20] [--smoke]

Without lightly installed (the smoke test in CI), only discotok's side runs and the lightly
side is reported as not installed.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from common import write_results

from discotok.config import RunConfig, merge
from discotok.encoders.inference import encode_array
from discotok.pipeline import as_config, build_method, load_dataset, load_encoder, pretrain
from discotok.registry import EVALUATORS
from discotok.train.schedule import warmup_cosine

CONFIG = Path(__file__).parents[1] / "configs" / "glyphs_simclr.yaml"


def probes(encoder: torch.nn.Module, data: Any, seed: int) -> dict[str, float]:
    """kNN and linear accuracy of the backbone's features of clean glyphs."""
    train, test = encode_array(encoder, data.x_train), encode_array(encoder, data.x_test)
    out = {}
    for name in ("knn", "linear"):
        out.update(EVALUATORS.get(name)(train, data.y_train, test, data.y_test, seed=seed))
    return out


def ours(cfg: dict[str, Any], tmp: Path) -> dict[str, Any]:
    run = pretrain(cfg, tmp / "discotok", resume=False)
    result = yaml.safe_load((run / "train_result.json").read_text())
    encoder, config, data = load_encoder(run)
    return {
        "samples_per_second": result["samples_per_second"],
        "train_seconds": result["seconds"],
        **probes(encoder, data, config.seed),
    }


def theirs(cfg: dict[str, Any], workers: int) -> dict[str, Any]:
    from lightly.loss import NTXentLoss
    from lightly.models.modules import SimCLRProjectionHead
    from lightly.transforms import SimCLRTransform
    from PIL import Image

    config = as_config(cfg)
    data = load_dataset(config)
    method, _ = build_method(config, data)  # the same initial backbone weights as ours
    backbone = method.encoder
    head = SimCLRProjectionHead(backbone.embed_dim, 256, 64)
    transform = SimCLRTransform(input_size=32, gaussian_blur=0.0, normalize=None)
    images = [Image.fromarray((g[0] * 255).round().astype(np.uint8), "L") for g in data.x_train]

    class Views(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i: int) -> list[torch.Tensor]:
            return transform(images[i])

    batch, epochs = config.train.batch_size, config.train.epochs
    loader = torch.utils.data.DataLoader(
        Views(),
        batch_size=batch,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(config.seed),
    )
    params = [*backbone.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=config.train.lr, weight_decay=1e-4)
    total = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: warmup_cosine(s, total_steps=total, warmup_steps=len(loader)),
    )
    criterion = NTXentLoss()
    backbone.train()
    head.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x0, x1 in loader:
            loss = criterion(head(backbone(x0)), head(backbone(x1)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    seconds = time.perf_counter() - t0
    if not math.isfinite(float(loss.detach())):
        raise RuntimeError("lightly's run diverged")
    return {
        "samples_per_second": total * batch / seconds,
        "train_seconds": seconds,
        **probes(backbone.eval(), data, config.seed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    cfg = merge(RunConfig().to_dict(), yaml.safe_load(CONFIG.read_text()))
    cfg = merge(cfg, {"seed": args.seed, "train": {"epochs": args.epochs, "progress": False}})
    if args.smoke:
        cfg = merge(cfg, {"data": {"charset": "digits"}, "train": {"epochs": 1, "batch_size": 32}})
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["discotok (kornia views, NT-Xent 0.2)"] = ours(cfg, Path(tmp))
        if not args.smoke:
            # lightly's head has BatchNorm (Linear-BN-ReLU-Linear); ours, by default, none
            matched = merge(cfg, {"method": {"head_norm": "batch"}})
            rows["discotok (kornia views, NT-Xent 0.2, BN head)"] = ours(matched, Path(tmp) / "bn")
            # lightly's loss temperature: leaves the views and the loop as the differences
            at_half = merge(cfg, {"method": {"temperature": 0.5}})
            rows["discotok (kornia views, NT-Xent 0.5)"] = ours(at_half, Path(tmp) / "t05")
    try:
        import lightly
    except ImportError:
        print("lightly is not installed here: discotok's side only (see this script's doc)")
        lightly = None
    if lightly is not None:
        for workers in [0] if args.smoke else args.workers:
            name = f"lightly {lightly.__version__} (SimCLRTransform, {workers} workers)"
            rows[name] = theirs(cfg, workers)
    lines = ["| library | samples/s | train s | kNN | linear |", "|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['samples_per_second']:.0f} | {r['train_seconds']:.0f} "
            f"| {r['knn_acc']:.3f} | {r['linear_acc']:.3f} |"
        )
    print(
        f"glyphs, cnn2d, batch {cfg['train']['batch_size']}, {cfg['train']['epochs']} epochs,"
        f" seed {args.seed}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print("\n".join(lines))
    if not args.smoke and len(rows) > 1:
        ref = next(iter(rows.values()))["samples_per_second"]
        ratios = {n: ref / r["samples_per_second"] for n, r in rows.items()}  # vs the first
        payload = {"config": cfg, "runs": rows, "speed_ratio_discotok_over": ratios}
        print("wrote", write_results("lightly_side_by_side", {**payload, "table": lines}))


if __name__ == "__main__":
    main()
