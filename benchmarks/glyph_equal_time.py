"""The glyph table's methods under the same wall-clock budget instead of the same epochs.

glyph_methods.py gives every method 100 epochs, so a slow objective (OBoW: 187 samples/s
here, SimCLR: 543) also gets ~3x the time. Here each method gets the same pretraining time,
BUDGET_SECONDS of training steps, on the same data, encoder, views, seeds and probes
(configs/glyphs_simclr.yaml). Its number of steps comes from its own speed, measured at the
start on this machine: two short runs of CALIBRATION steps (seed 0; a variant at a smaller
batch than the config's over proportionally more), and the difference of their step-loop
times over the difference of their steps gives the seconds per step without the fixed
start-up cost; steps = BUDGET_SECONDS / that (the cosine schedule follows the steps). The same
steps serve every seed; the table's "pretrain s" is the measured time of each whole
pretraining call (data loading and checkpoints included), the check that the budget held.
Each method runs in its best setting of glyph_bn_heads.py / glyph_tuning.py (chosen on
validation families at equal epochs): BatchNorm heads for SimCLR, G-SimCLR (temperature
0.2), SwAV (temperature 0.2), DINO and GroCo (40 hardest negatives); GEDI without (its
linear probe is lower with one); OBoW with its own heads. DINO and GroCo also train at their
own step sizes (OWN_TRAIN, from glyph_tuning.py: DINO at its paper's lr and weight decay,
GroCo at lr 0.001), which the calibration runs use too.

``--resume --variants NAME ...`` redoes those variants alone: their runs are dropped from the
results file and their steps calibrated again (the others keep theirs). OBoW was redone so
after its defaults became the authors' head (2026-11-27), which also steps faster; DINO and
GroCo after their own step sizes were found (2026-11-27).

    python benchmarks/glyph_equal_time.py [--seeds 0 1 2] [--resume [--variants NAME ...]]
                                          [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import RESULTS
from glyph_methods import glyph_benchmark, glyph_config
from glyph_tuning import TRAIN

from discotok import pretrain

NAME = "glyph_equal_time"  # results/<NAME>.json
BUDGET_SECONDS = 120.0
CALIBRATION = (4, 14)
VARIANTS = {
    "simclr": {"name": "simclr", "head_norm": "batch", "temperature": 0.2},
    "gsimclr": {"name": "gsimclr", "head_norm": "batch", "temperature": 0.2},
    "swav": {"name": "swav", "head_norm": "batch", "temperature": 0.2},
    "dino": {"name": "dino", "head_norm": "batch"},
    "obow": {"name": "obow"},
    "groco": {"name": "groco", "head_norm": "batch", "negatives": 40},
    "gedi": {"name": "gedi"},
}
# training settings of their own (validated in glyph_tuning.py), on top of the steps
OWN_TRAIN = {
    "dino": TRAIN["dino, the paper's lr and weight decay"],
    "groco": TRAIN["groco, 40 negatives, lr 0.001"],
}


def budget_steps(
    loop_seconds: Callable[[str, int], float],
    variants: dict[str, dict],
    budget: float = BUDGET_SECONDS,
    calibration: tuple[int, int] = CALIBRATION,
) -> dict[str, dict[str, float]]:
    """Per variant: its seconds per training step (from `loop_seconds(variant, steps)` at the
    two calibration lengths) and the steps that fill `budget` seconds (at least 1)."""
    short, long = calibration
    out = {}
    for variant in variants:
        per_step = (loop_seconds(variant, long) - loop_seconds(variant, short)) / (long - short)
        if per_step <= 0:
            raise RuntimeError(f"{variant}: calibration timed no positive step time ({per_step})")
        out[variant] = {"step_seconds": per_step, "steps": max(1, round(budget / per_step))}
    return out


def settings(variant: str, steps: int, own: dict[str, dict] | None = None) -> dict[str, float]:
    """A variant's training settings: `steps`, and its own (`own`, default OWN_TRAIN) if any."""
    return {"steps": steps, **(OWN_TRAIN if own is None else own).get(variant, {})}


def measure(method: dict, train: dict[str, float]) -> float:
    """The step-loop seconds of a fresh run of `method` with training settings `train` (its
    steps among them), seed 0."""
    cfg = glyph_config()  # a fresh dict each call
    cfg["method"] = method
    cfg["train"].update(train, progress=False, checkpoint_every=10**6)
    with tempfile.TemporaryDirectory() as tmp:
        run = pretrain(cfg, Path(tmp) / "run", resume=False)
        return json.loads((run / "train_result.json").read_text())["seconds"]


def calibrate(
    variants: dict[str, dict], own: dict[str, dict] | None = None
) -> dict[str, dict[str, float]]:
    """Each variant's training settings: its calibrated steps and its own settings (`own`,
    default OWN_TRAIN). A variant with a smaller batch than the config's is timed over
    proportionally more steps (the same samples), so that its short steps are not lost in
    the timer's noise."""
    batch = glyph_config()["train"]["batch_size"]
    timing = {}
    for variant in variants:
        scale = max(1, batch // settings(variant, 0, own).get("batch_size", batch))
        timing |= budget_steps(
            lambda v, n: measure(variants[v], settings(v, n, own)),
            [variant],
            calibration=(CALIBRATION[0] * scale, CALIBRATION[1] * scale),
        )
    for variant, t in timing.items():
        print(f"{variant}: {t['step_seconds']:.3f} s a step -> {t['steps']} steps", flush=True)
    return {v: settings(v, t["steps"], own) for v, t in timing.items()}


def steps_for_run(
    argv: list[str],
    name: str = NAME,
    variants: dict[str, dict] | None = None,
    own: dict[str, dict] | None = None,
) -> dict[str, dict[str, float]]:
    """Training settings per variant (default VARIANTS; steps, and `own`'s, default
    OWN_TRAIN): 2 steps under --smoke, results/<name>.json's under --resume (the guard against
    mixing configs compares them), else calibrated now. Under --resume with --variants those
    are redone: their runs leave the results file and their settings are calibrated again,
    written into the file with it, so its settings match its runs."""
    variants = VARIANTS if variants is None else variants
    parser = argparse.ArgumentParser(add_help=False)  # compare_methods parses them all
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--variants", nargs="+", default=[])
    args, _ = parser.parse_known_args(argv)
    if args.smoke:
        return {v: settings(v, 2, own) for v in variants}
    path = RESULTS / f"{name}.json"
    if not args.resume or not path.is_file():
        return calibrate(variants, own)
    saved = json.loads(path.read_text())
    redo = args.variants
    if redo and set(redo) <= set(variants):  # else compare_methods refuses, the file intact
        saved["runs"] = [r for r in saved["runs"] if r["variant"] not in redo]
        saved["variant_train"].update(calibrate({v: variants[v] for v in redo}, own))
        path.write_text(json.dumps(saved, indent=2) + "\n")
    return saved["variant_train"]


if __name__ == "__main__":
    glyph_benchmark(NAME, VARIANTS, __doc__, train=steps_for_run(sys.argv[1:]))
