"""Training throughput per modality, the share of this machine's peak matmul FLOP/s it
reaches, and where a step's time goes.

For each modality's shipped config (the method, encoder, views and batch size its runs
use): the engine's own samples/second over a short real `pretrain` (train.steps=STEPS),
then the same step taken apart and timed phase by phase: gathering the batch, making the
views (augmentation), forward + loss, backward, optimizer step. Model FLOPs per step
(forward + backward, matmuls and convolutions) are counted with torch's FlopCounterMode;
the peak is the best of several fp32 2048 x 2048 matmuls on this machine, same threads.
The EEG/MEG tokenizer (its own loop) is timed the same way on simulated biosemi64 windows.

    python benchmarks/throughput.py [--steps 30] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml
from common import write_results
from torch.utils.flop_counter import FlopCounterMode

from discotok.config import RunConfig, merge
from discotok.pipeline import as_config, build_method, load_dataset, pretrain
from discotok.train.engine import make_optimizer

CONFIGS = Path(__file__).parents[1] / "configs"
MODALITIES = {  # modality -> (config file, overrides)
    "signal (MNIST-1D)": ("mnist1d_simclr.yaml", {}),
    "image (glyphs)": ("glyphs_simclr.yaml", {}),
    "time series (UCR GunPoint)": ("ucr_ts2vec.yaml", {}),
    "speech (spoken words)": ("speech_hubert.yaml", {}),
}
SMOKE = {  # small enough for the test suite: seconds per modality
    "signal (MNIST-1D)": {"data": {"num_samples": 400}, "train": {"batch_size": 32}},
    "image (glyphs)": {"data": {"charset": "digits"}, "train": {"batch_size": 32}},
    "time series (UCR GunPoint)": {},
    "speech (spoken words)": {"data": {"words": 4, "repeats": 1}, "train": {"batch_size": 8}},
}


def peak_matmul_flops(size: int = 2048, repeats: int = 5) -> float:
    """Best fp32 matmul FLOP/s of this machine (same torch threads as training)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best


def _phases(config: dict[str, Any], steps: int) -> dict[str, Any]:
    """The engine's step taken apart: seconds per step in each phase, and FLOPs per step."""
    cfg = as_config(config)
    data = load_dataset(cfg)
    method, views = build_method(cfg, data)
    method.train()
    optimizer = make_optimizer(method.parameters(), cfg.train)
    x = torch.from_numpy(data.x_train)
    method.prepare(x, 0)
    batch = cfg.train.batch_size
    times = {"batch": 0.0, "views": 0.0, "forward": 0.0, "backward": 0.0, "optimizer": 0.0}

    def step(k: int, timed: bool) -> None:
        t = [time.perf_counter()]
        idx = torch.randint(len(x), (batch,), generator=torch.Generator().manual_seed(k))
        b = x[idx]
        t.append(time.perf_counter())
        with torch.no_grad():
            vs = [views(b) if method.augment else b for _ in range(method.num_views)]
        t.append(time.perf_counter())
        loss = method({"views": vs, "index": idx})["loss"]
        t.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t.append(time.perf_counter())
        optimizer.step()
        t.append(time.perf_counter())
        if timed:
            for name, (a, c) in zip(times, zip(t, t[1:])):
                times[name] += c - a

    for k in range(3):  # warm-up
        step(k, False)
    for k in range(steps):
        step(100 + k, True)
    counter = FlopCounterMode(display=False)
    with counter:
        step(1000, False)
    per_step = {k: v / steps for k, v in times.items()}
    total = sum(per_step.values())
    return {
        "seconds_per_step": per_step,
        "share": {k: v / total for k, v in per_step.items()},
        "samples_per_second": batch / total,
        "flops_per_step": counter.get_total_flops(),
        "batch_size": batch,
        "method": cfg.method["name"],
        "encoder": cfg.encoder["name"],
        "views": cfg.views["name"],
    }


def _engine(config: dict[str, Any], steps: int, tmp: Path) -> float:
    """samples/second of the real engine (`pretrain`, train.steps=steps)."""
    cfg = merge(config, {"train": {"steps": steps, "checkpoint_every": 10 * steps}})
    run = pretrain(cfg, tmp / "run", resume=False)
    return json.loads((run / "train_result.json").read_text())["samples_per_second"]


def _brain(steps: int, smoke: bool) -> dict[str, Any]:
    from discotok.brain.simulate import simulate
    from discotok.brain.tokenizer import BrainTokenizer, reconstruction_losses
    from discotok.brain.train import hide_mask

    rec = simulate("biosemi64", 32 if smoke else 200, spacing_mm=30.0 if smoke else 15.0)
    model = BrainTokenizer(**({"dim": 16, "latents": 4} if smoke else {})).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    features, kind = rec.sensor_tensors()
    x = torch.from_numpy(rec.windows)
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        idx = torch.randperm(len(x), generator=generator)[:16]
        hide = hide_mask(16, x.shape[1], 0.25, generator)
        x_hat, _, commit = model(x[idx], features, kind, hide)
        loss = reconstruction_losses(x_hat, x[idx], commit)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - t0) / steps
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return {
        "samples_per_second": 16 / seconds,
        "seconds_per_step": {"step": seconds},
        "flops_per_step": counter.get_total_flops(),
        "batch_size": 16,
        "method": "brainomni tokenizer",
        "encoder": "sensor-aware",
        "views": "hide 25 % of channels",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    steps = 2 if args.smoke else args.steps
    peak = peak_matmul_flops(512 if args.smoke else 2048)
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for modality, (name, overrides) in MODALITIES.items():
            config = merge(RunConfig().to_dict(), yaml.safe_load((CONFIGS / name).read_text()))
            config = merge(config, {"train": {"progress": False}, **overrides})
            if args.smoke:
                config = merge(config, SMOKE[modality])
            row = _phases(config, steps)
            row["engine_samples_per_second"] = _engine(config, steps, Path(tmp) / modality[:5])
            row["config"] = name
            rows[modality] = row
        rows["EEG (biosemi64, simulated)"] = _brain(steps, args.smoke)
    lines = [
        f"peak fp32 matmul: {peak / 1e9:.1f} GFLOP/s ({torch.get_num_threads()} threads)",
        "",
        "| modality | method / encoder / views | batch | engine samples/s | model GFLOP/step "
        "| achieved GFLOP/s | of peak | batch / views / forward / backward / optimizer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for modality, r in rows.items():
        engine = r.get("engine_samples_per_second", r["samples_per_second"])
        achieved = r["flops_per_step"] * engine / r["batch_size"]  # the real loop's rate
        r["achieved_flops_per_second"] = achieved
        r["fraction_of_peak"] = achieved / peak
        shares = r.get("share")
        split = " / ".join(f"{100 * v:.0f} %" for v in shares.values()) if shares else "-"
        lines.append(
            f"| {modality} | {r['method']} / {r['encoder']} / {r['views']} | {r['batch_size']} "
            f"| {engine:.0f} | {r['flops_per_step'] / 1e9:.2f} | {achieved / 1e9:.1f} "
            f"| {100 * r['fraction_of_peak']:.1f} % | {split} |"
        )
    print("\n".join(lines))
    if not args.smoke:
        payload = {"steps": steps, "peak_flops_per_second": peak, "modalities": rows}
        print("wrote", write_results("throughput", {**payload, "table": lines}))


if __name__ == "__main__":
    main()
