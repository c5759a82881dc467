"""Speech: discrete units from the three speech SSL families against MFCC + k-means, and
augmentation-invariant (robust) units, on synthetic speech.

Corpus: eSpeak NG spoken numbers 0-49 in en-us, de, fr and es, voices m1, f2, m3, f4 and
m7, two renditions each (random pitch 30-70, rate 140-210 wpm): 2000 clips, 16 kHz,
synthetic. 75 % train / 25 % test clips (seeded). Each method (configs/speech_<method>.yaml:
speech encoder width 128, depth 4; 30 epochs of batch 32, AdamW lr 5e-4; HuBERT 2
iterations of 15 epochs, 50 units, re-clustering layer 3) is pretrained on the train clips.
Units: faiss k-means (K = 50 and 100) on train-clip frames of the layer with the best
train-clip PNMI; metrics on test clips (phone purity, cluster purity, PNMI against eSpeak's
phone events; perplexity, run length), word ABX within and across voices (2000 triplets
each, all clips), and UED under time stretch, pitch shift, reverberation and pink noise
(200 test clips). Robust units (Gat et al.): CTC quantizer head, 2 iterations of 15
epochs, trained on train clips and one augmented copy per augmentation, on MFCC and on
HuBERT features. Seed 0.

    python benchmarks/speech_units.py [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml
from common import write_results

from discotok import load_encoder, pretrain
from discotok.speech.corpus import LARGE, build_corpus
from discotok.speech.workflow import format_report, speech_report

CONFIGS = Path(__file__).parent.parent / "configs"
METHODS = ("masked_frames", "wav2vec", "hubert")
ROBUST_ON = ("mfcc", "hubert")


def corpus_options(smoke: bool) -> dict:
    if smoke:
        return dict(words=3, languages=["en-us", "de"], voices=["m1", "f2"], repeats=2)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in LARGE.items()}


def train(method: str, run: Path, smoke: bool) -> float:
    cfg = yaml.safe_load((CONFIGS / f"speech_{method}.yaml").read_text())
    cfg["data"].update(corpus_options(smoke))
    cfg["train"]["progress"] = False
    if smoke:
        cfg["encoder"].update(width=32, depth=2)
        cfg["train"].update(epochs=2, batch_size=4)
        if method == "hubert":
            cfg["method"].update(codes=4, epochs_per_iteration=1)
    t0 = time.perf_counter()
    pretrain(cfg, run, resume=False)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no results")
    args = parser.parse_args()
    options = corpus_options(args.smoke)
    codes = (6,) if args.smoke else (50, 100)
    small = dict(triplets=20, ued_clips=4, robust_epochs=2) if args.smoke else {}
    t0 = time.perf_counter()
    build_corpus(**options, cache=False)
    corpus_seconds = time.perf_counter() - t0
    print(f"corpus built in {corpus_seconds:.1f} s", flush=True)
    rows, seconds = [], {}
    data = {"name": "spoken_words", **options}
    report = speech_report(data, codes=codes, robust=True, **small)
    rows += report["rows"]
    print(format_report(report), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for method in METHODS:
            run = Path(tmp) / method
            seconds[method] = train(method, run, args.smoke)
            encoder, cfg, _ = load_encoder(run)
            robust = method in ROBUST_ON
            found = speech_report(
                cfg.data,
                encoder,
                method,
                codes,
                robust=robust,
                mfcc=False,
                split_seed=cfg.seed,
                **small,
            )
            rows += found["rows"]
            print(f"{method}: pretrained in {seconds[method]:.0f} s", flush=True)
            print(format_report(found), flush=True)
    full = {"clips": report["clips"], "test_clips": report["test_clips"], "rows": rows}
    print(format_report(full))
    checks = targets(rows, codes)
    for line in checks["lines"]:
        print(line)
    if not args.smoke:
        write_results(
            "speech_units",
            {
                "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
                "data": "synthetic speech (eSpeak NG)",
                "corpus": {**options, "clips": report["clips"], "build_seconds": corpus_seconds},
                "pretrain_seconds": seconds,
                "rows": rows,
                "targets": checks,
            },
        )


def targets(rows: list[dict], codes: tuple[int, ...]) -> dict:
    """The issue's targets, checked on the rows: learned vs MFCC, robust vs k-means."""

    def get(source: str, k: int, quantizer: str = "kmeans") -> dict:
        return next(
            r["metrics"]
            for r in rows
            if r["source"] == source and r["codes"] == k and r["quantizer"] == quantizer
        )

    lines, out = [], {"beats_mfcc": {}, "robust": {}}
    for k in codes:
        mfcc = get("mfcc", k)
        for method in METHODS:
            m = get(method, k)
            ok = {
                "pnmi": m["pnmi"] > mfcc["pnmi"],
                "abx_within": m["abx_within"] <= mfcc["abx_within"],
                "abx_across": m["abx_across"] < mfcc["abx_across"],
            }
            out["beats_mfcc"][f"{method}_K{k}"] = ok
            lines.append(
                f"K={k} {method} vs MFCC: "
                + ", ".join(f"{a} {'yes' if b else 'no'}" for a, b in ok.items())
            )
        for source in ROBUST_ON:
            base, rob = get(source, k), get(source, k, "robust")
            drop = 1 - rob["ued_mean"] / base["ued_mean"]
            kept = rob["pnmi"] / base["pnmi"]
            out["robust"][f"{source}_K{k}"] = {"ued_reduction": drop, "pnmi_ratio": kept}
            lines.append(
                f"K={k} robust {source}: mean UED {base['ued_mean']:.3f} -> {rob['ued_mean']:.3f} "
                f"({drop:.0%} lower; target >= 30%), PNMI {base['pnmi']:.3f} -> {rob['pnmi']:.3f} "
                f"({kept:.0%} kept; target >= 90%)"
            )
    out["lines"] = lines
    return out


if __name__ == "__main__":
    main()
