"""``discotok brain train|tokenize``: the sensor-aware tokenizer from the command line.

Recordings are files (.fif, .edf, .bdf; ``--montage`` places EDF/BDF channels by name) or
simulated devices written ``sim:DEVICE`` or ``sim:DEVICE:WINDOWS`` (e.g. ``sim:neuromag:400``,
labelled "simulated" in every output). ``train`` fits the tokenizer, then the masked-token
model, in ``--run-dir`` (resumed when run again, ``--fresh`` starts over; Ctrl-C keeps a
checkpoint) and writes ``brain.json``; ``tokenize`` writes one recording's codes as an npz file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from discotok.brain.sensors import RATE, Recording
from discotok.errors import ConfigError

SIMULATED = "sim:"


def load_recordings(specs: list[str], montage: str | None, seed: int) -> list[Recording]:
    """Each spec as a Recording: a file read through MNE, or ``sim:DEVICE[:WINDOWS]``."""
    from discotok.brain.sensors import read_recording
    from discotok.brain.simulate import DEVICES, simulate

    out = []
    for k, spec in enumerate(specs):
        if not spec.startswith(SIMULATED):
            out.append(read_recording(spec, montage=montage))
            continue
        device, _, count = spec[len(SIMULATED) :].partition(":")
        if device not in DEVICES:
            raise ConfigError(f"unknown simulated device {device!r}; choose from {DEVICES}")
        if count and not count.isdigit():
            raise ConfigError(f"{spec!r}: the window count after the device must be a number")
        out.append(simulate(device, int(count or 200), seed=seed + k))
    return out


def _settings(args: argparse.Namespace, steps: int):  # noqa: ANN202 - BrainTrainSettings
    from discotok.brain.train import BrainTrainSettings

    return BrainTrainSettings(
        steps=steps,
        batch_size=args.batch_size,
        lr=args.lr,
        checkpoint_every=max(1, min(100, steps // 4)),
        seed=args.seed,
        processes=args.processes,
        device=args.device,
    )


def cmd_train(args: argparse.Namespace) -> None:
    from discotok.brain.evaluate import reconstruction
    from discotok.brain.masked_tokens import train_masked_tokens
    from discotok.brain.train import train_tokenizer

    recordings = load_recordings(args.data, args.montage, args.seed)
    for spec, rec in zip(args.data, recordings):
        print(f"{spec}: {len(rec.windows)} windows x {len(rec.sensors)} channels")
        for note in rec.notes:
            print(f"  {note}")
    options = dict(
        dim=args.dim, latents=args.latents, quantizers=args.quantizers, codebook=args.codebook
    )
    run_dir = Path(args.run_dir)
    if args.fresh:
        for name in ("tokenizer.pt", "masked_tokens.pt"):
            (run_dir / "checkpoints" / name).unlink(missing_ok=True)
    tokenizer, history = train_tokenizer(
        recordings, run_dir, _settings(args, args.steps), **options
    )
    losses = [h["loss"] for h in history if "loss" in h]
    tail = max(2, len(losses) // 10)  # both devices' steps in each mean
    first, last = float(np.mean(losses[:tail])), float(np.mean(losses[-tail:]))
    print(f"tokenizer: {len(losses)} steps, mean loss {first:.3f} (first {tail}) -> {last:.3f}")
    summary = {"data": args.data, "model": options, "tokenizer_loss": last, "devices": {}}
    for spec, rec in zip(args.data, recordings):
        r = reconstruction(tokenizer, rec)
        summary["devices"][spec] = {"windows": len(rec.windows), "channels": len(rec.sensors), **r}
        print(
            f"  {spec}: reconstruction correlation {r['correlation']:.3f}, hidden channels "
            f"{r['hidden_correlation']:.3f} (training windows)"
        )
    if args.masked_steps:
        _, history = train_masked_tokens(
            tokenizer, recordings, run_dir, _settings(args, args.masked_steps)
        )
        last = [h for h in history if "loss" in h][-1]
        summary["masked_tokens"] = {"loss": last["loss"], "accuracy": last["accuracy"]}
        print(
            f"masked tokens: {last['step']} steps, loss {last['loss']:.3f}, "
            f"masked-code accuracy {last['accuracy']:.3f}"
        )
    if any(spec.startswith(SIMULATED) for spec in args.data):
        summary["note"] = "sim: recordings are simulated (MNE sphere head model)"
    (run_dir / "brain.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"checkpoints: {run_dir}/checkpoints/tokenizer.pt, masked_tokens.pt")
    print(f"summary: {run_dir}/brain.json")


def cmd_tokenize(args: argparse.Namespace) -> None:
    from discotok.brain.evaluate import reconstruction
    from discotok.brain.train import load_tokenizer_checkpoint

    tokenizer = load_tokenizer_checkpoint(Path(args.run) / "checkpoints" / "tokenizer.pt")
    (rec,) = load_recordings([args.data], args.montage, args.seed)
    _, codes = tokenizer.tokenize_windows(rec.windows, *rec.sensor_tensors())
    r = reconstruction(tokenizer, rec)
    bits = tokenizer.bits_per_second(RATE)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        codes=codes.numpy().astype(np.int32),
        channels=np.array(rec.sensors.names),
        labels=rec.labels if rec.labels is not None else np.array([], dtype=np.int64),
        correlation=r["correlation"],
        simulated=args.data.startswith(SIMULATED),
        bits_per_second=bits,
    )
    n, steps, latents, levels = codes.shape
    raw = len(rec.sensors) * RATE * 32  # float32 samples
    print(
        f"{args.data}: {n} windows x {len(rec.sensors)} channels -> codes ({n}, {steps}, "
        f"{latents}, {levels}) [window, step, latent, RVQ level]; reconstruction "
        f"correlation {r['correlation']:.3f}; {bits:.0f} bits/s ({raw / bits:.0f}x fewer "
        "than the float32 samples)"
    )
    print(f"tokens: {out}")


def add_brain_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``discotok brain train`` and ``discotok brain tokenize``."""
    brain = sub.add_parser("brain", help="EEG/MEG: train the sensor-aware tokenizer, tokenize")
    steps = brain.add_subparsers(dest="brain_command", required=True)

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--montage", help="place EDF/BDF channels by a standard MNE montage")
        p.add_argument("--seed", type=int, default=0)

    p = steps.add_parser("train", help="tokenizer, then masked-token model, on recordings")
    p.add_argument(
        "--data", nargs="+", required=True, help="files .fif/.edf/.bdf or sim:DEVICE[:WINDOWS]"
    )
    data_args(p)
    p.add_argument("--run-dir", default="runs/brain")
    p.add_argument("--fresh", action="store_true", help="discard the run's checkpoints first")
    p.add_argument("--steps", type=int, default=600, help="tokenizer steps")
    p.add_argument("--masked-steps", type=int, default=600, help="0 skips the second stage")
    p.add_argument("--batch-size", type=int, default=16, help="windows per step, all processes")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--processes", type=int, default=1, help="torch.distributed processes")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--latents", type=int, default=16, help="latent sources per time step")
    p.add_argument("--quantizers", type=int, default=4, help="RVQ levels")
    p.add_argument("--codebook", type=int, default=256, help="codes per RVQ level")
    p.set_defaults(func=cmd_train)

    p = steps.add_parser("tokenize", help="one recording's codes with a trained tokenizer")
    p.add_argument("--run", required=True, help="a run directory of discotok brain train")
    p.add_argument("--data", required=True, help="a file .fif/.edf/.bdf or sim:DEVICE[:WINDOWS]")
    data_args(p)
    p.add_argument("--out", required=True, help="output .npz (codes, channels, labels)")
    p.set_defaults(func=cmd_tokenize)
