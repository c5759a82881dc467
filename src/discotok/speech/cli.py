"""``discotok speech | speech-corpus``: frame units of a run (or MFCCs) and the corpus."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _corpus_options(args: argparse.Namespace) -> dict:
    from discotok.speech.corpus import LARGE, SMALL

    base = dict(LARGE if args.large else SMALL)
    if args.words:
        base["words"] = args.words
    if args.languages:
        base["languages"] = tuple(args.languages.split(","))
    if args.voices:
        base["voices"] = tuple(args.voices.split(","))
    if args.repeats:
        base["repeats"] = args.repeats
    return base


def cmd_speech(args: argparse.Namespace) -> None:
    import json

    from discotok.speech.workflow import format_report, speech_report

    layer = args.layer if args.layer in ("best", "last") else int(args.layer)
    data, encoder, source = {"name": "spoken_words", **_corpus_options(args)}, None, ""
    split_seed = args.seed
    if args.run:  # the run's own split: units are measured on clips it never trained on
        from discotok.pipeline import load_encoder

        encoder, cfg, _ = load_encoder(args.run)
        data, source, split_seed = cfg.data, cfg.method["name"], cfg.seed
    report = speech_report(
        data,
        encoder,
        source,
        codes=tuple(args.codes),
        layer=None if layer == "last" else layer,
        robust=args.robust,
        mfcc=not args.no_mfcc,
        triplets=args.triplets,
        ued_clips=args.ued_clips,
        robust_epochs=args.robust_epochs,
        seed=args.seed,
        split_seed=split_seed,
    )
    print(f"{report['clips']} clips, units measured on {report['test_clips']} test clips")
    print(format_report(report))
    if args.run:
        out = Path(args.run) / "speech_units.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results: {out}")


def cmd_speech_corpus(args: argparse.Namespace) -> None:
    from discotok.speech.corpus import build_corpus, export_corpus

    t0 = time.perf_counter()
    corpus = build_corpus(**_corpus_options(args))
    export_corpus(corpus, args.out)
    print(f"{corpus.notes[0]}; built in {time.perf_counter() - t0:.1f} s -> {args.out}")


def add_speech_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``discotok speech`` and ``discotok speech-corpus``."""

    def corpus_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--large", action="store_true", help="the 2000-clip benchmark corpus")
        p.add_argument("--words", type=int, help="numbers 0..N-1 (default 20; large 50)")
        p.add_argument("--languages", help="comma-separated eSpeak NG languages, e.g. en-us,de")
        p.add_argument("--voices", help="comma-separated voice variants, e.g. m1,f2")
        p.add_argument("--repeats", type=int, help="renditions per word and voice")

    p = sub.add_parser("speech", help="speech units (MFCC or a trained run) and their metrics")
    p.add_argument("--run", help="a run trained on spoken_words or audio_folder data")
    p.add_argument("--codes", type=int, nargs="+", default=[50, 100], help="k-means sizes")
    p.add_argument("--layer", default="best", help="encoder layer: best (by train PNMI), last, N")
    p.add_argument("--robust", action="store_true", help="also train CTC robust units")
    p.add_argument("--robust-epochs", type=int, default=15, help="epochs per robust iteration")
    p.add_argument("--no-mfcc", action="store_true", help="skip the MFCC + k-means baseline")
    p.add_argument("--triplets", type=int, default=2000, help="ABX triplets per condition")
    p.add_argument("--ued-clips", type=int, default=200, help="test clips augmented for UED")
    p.add_argument("--seed", type=int, default=0)
    corpus_args(p)
    p.set_defaults(func=cmd_speech)

    p = sub.add_parser("speech-corpus", help="write the synthesised spoken-word corpus as wavs")
    p.add_argument("--out", required=True, help="folder for <lang>-<word>/<voice>-<k>.wav")
    corpus_args(p)
    p.set_defaults(func=cmd_speech_corpus)
