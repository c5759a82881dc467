"""EEG/MEG (simulated): BrainOmni's sensor-aware tokenizer on seen and unseen devices.

Simulated data (discotok.brain.simulate: MNE sphere head, volume sources, 2 conditions that
differ only in where a 10 Hz rhythm sits). The joint model trains on biosemi64 (EEG) and
Neuromag 306 (MEG); the EEG-only model on biosemi64 alone. Devices never seen in training:
GSN-HydroCel-128 (EEG) and CTF 275 (MEG). Per device: 400 training windows (tokenizer and
probes) and 200 held-out test windows, 2 s at 256 Hz. Tokenizer: dim 64, 16 latents, RVQ
4 x 256, 25 % of channels hidden per window, AdamW lr 3e-3, batch 16, 400 steps (joint:
200 per device; each per-device baseline 200 steps); masked-token model:
2 layers, half the positions masked. Reported per device on the test windows: channel
correlation of the reconstruction (all channels visible, and hidden channels rebuilt from
the others), and balanced accuracy of a logistic-regression probe on the time-averaged
quantized latents, on the masked-token model's features, on log band power (the classic
baseline), and on a per-device tokenizer without the sensor encoder (a learned embedding
per channel index, trained on that device alone: the paper's ablation). Seed 0.

    python benchmarks/brain_tokens.py [--steps 400] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import write_results

from discotok.brain.evaluate import band_power, probe, reconstruction, throughput, token_features
from discotok.brain.masked_tokens import masked_token_features, train_masked_tokens
from discotok.brain.simulate import simulate
from discotok.brain.train import BrainTrainSettings, train_tokenizer
from discotok.report import _align

SEEN = ("biosemi64", "neuromag")
UNSEEN = ("GSN-HydroCel-128", "ctf275")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    n_train, n_test = (32, 16) if args.smoke else (400, 200)
    steps = 4 if args.smoke else args.steps
    settings = BrainTrainSettings(steps=steps, lr=3e-3, checkpoint_every=max(1, steps // 4))
    # the joint model sees each of its 2 devices for steps / 2 steps; so does each baseline
    per_device = BrainTrainSettings(steps=max(1, steps // 2), lr=3e-3, checkpoint_every=steps)
    t0 = time.perf_counter()
    spacing = 30.0 if args.smoke else 15.0  # source spacing (mm): coarse = fast smoke check
    train = {d: simulate(d, n_train, seed=0, spacing_mm=spacing) for d in SEEN + UNSEEN}
    test = {d: simulate(d, n_test, seed=1, spacing_mm=spacing) for d in SEEN + UNSEEN}
    simulate_seconds = time.perf_counter() - t0
    rows, seconds = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        joint, _ = train_tokenizer([train[d] for d in SEEN], Path(tmp) / "joint", settings)
        seconds["joint_tokenizer"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        eeg_only, _ = train_tokenizer([train["biosemi64"]], Path(tmp) / "eeg", settings)
        seconds["eeg_only_tokenizer"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        mtp, _ = train_masked_tokens(joint, [train[d] for d in SEEN], Path(tmp) / "joint", settings)
        seconds["masked_tokens"] = time.perf_counter() - t0
        for device in SEEN + UNSEEN:
            a, b = train[device], test[device]
            row = {"seen": device in SEEN, "channels": len(a.sensors)}
            row.update({f"joint_{k}": v for k, v in reconstruction(joint, b).items()})
            row["joint_probe"] = probe(
                token_features(joint, a), a.labels, token_features(joint, b), b.labels
            )
            row["masked_tokens_probe"] = probe(
                masked_token_features(mtp, joint, a),
                a.labels,
                masked_token_features(mtp, joint, b),
                b.labels,
            )
            row["band_power_probe"] = probe(band_power(a), a.labels, band_power(b), b.labels)
            if device != "neuromag" and device != "ctf275":
                row.update({f"eeg_only_{k}": v for k, v in reconstruction(eeg_only, b).items()})
                row["eeg_only_probe"] = probe(
                    token_features(eeg_only, a), a.labels, token_features(eeg_only, b), b.labels
                )
            t0 = time.perf_counter()
            own, _ = train_tokenizer([a], Path(tmp) / f"index-{device}", per_device, sensor="index")
            seconds[f"index_{device}"] = time.perf_counter() - t0
            row.update({f"index_{k}": v for k, v in reconstruction(own, b).items()})
            row["index_probe"] = probe(
                token_features(own, a), a.labels, token_features(own, b), b.labels
            )
            row["throughput_channel_seconds_per_second"] = throughput(joint, b)
            rows[device] = row
            print(
                device,
                {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()},
                flush=True,
            )
    print(table(rows))
    if not args.smoke:
        write_results(
            "brain_tokens",
            {
                "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
                "data": "simulated EEG/MEG (MNE sphere model)",
                "steps": steps,
                "simulate_seconds": simulate_seconds,
                "train_seconds": seconds,
                "devices": rows,
            },
        )


def table(rows: dict) -> str:
    head = [
        "device (simulated)",
        "seen",
        "corr.",
        "hidden corr.",
        "probe: tokens",
        "masked tokens",
        "band power",
        "index sensors",
        "EEG-only tokens",
    ]
    body = []
    for device, r in rows.items():
        body.append(
            [
                device,
                "yes" if r["seen"] else "no",
                f"{r['joint_correlation']:.3f}",
                f"{r['joint_hidden_correlation']:.3f}",
                f"{r['joint_probe']:.3f}",
                f"{r['masked_tokens_probe']:.3f}",
                f"{r['band_power_probe']:.3f}",
                f"{r['index_probe']:.3f}",
                f"{r['eeg_only_probe']:.3f}" if "eeg_only_probe" in r else "-",
            ]
        )
    return _align(head, body)


if __name__ == "__main__":
    main()
