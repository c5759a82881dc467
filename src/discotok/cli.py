"""The command line: ``discotok pretrain|embed|tokenize|evaluate|self-train|discover|
label-shift|continual|graph|speech|speech-corpus|brain|bench|demo|list``.

Every training command takes ``--config FILE.yaml`` and ``section.key=value`` overrides,
e.g. ``discotok pretrain train.epochs=5 method.name=gsimclr``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from discotok.errors import DiscotokError, TrainingInterrupted

DEMO_DIR = "runs/demo"


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = list(args.overrides)
    if getattr(args, "data", None):
        kind = "series" if Path(args.data).suffix in (".ts", ".csv") else "arrays"
        extra = [f"data.name={kind}", f"data.path={args.data}", *extra]
    return extra


def _config(args: argparse.Namespace):  # noqa: ANN202 - returns RunConfig
    from discotok.config import load_config

    return load_config(args.config, _overrides(args))


def cmd_pretrain(args: argparse.Namespace) -> None:
    import json

    from discotok.pipeline import pretrain

    cfg = _config(args)
    source = cfg.data.get("path") or cfg.data.get("dataset") or cfg.data["name"]
    run_dir = args.run_dir or f"runs/{Path(source).stem}-{cfg.method['name']}-seed{cfg.seed}"
    pretrain(cfg, run_dir, resume=not args.fresh)
    env = json.loads((Path(run_dir) / "environment.json").read_text())
    for note in env.get("data_notes", []):
        print(f"data: {note}")
    print(f"checkpoint: {run_dir}/checkpoints/last.pt")


def cmd_embed(args: argparse.Namespace) -> None:
    from discotok.pipeline import embed

    out = embed(args.run, batch_size=args.batch_size, device=args.device)
    print(
        f"embeddings: {args.run}/embeddings.npz  train {out['train'].shape}, "
        f"test {out['test'].shape}"
    )


def cmd_tokenize(args: argparse.Namespace) -> None:
    from discotok.config import parse_overrides
    from discotok.report import format_comparison
    from discotok.tokenization import compare_tokenizers, tokenize, tokens_prefix

    level = "frame" if args.frames else "sample"
    prefix = tokens_prefix(level)
    if args.compare:
        names = [n.strip() for n in args.compare.split(",") if n.strip()]
        results = compare_tokenizers(args.run, names, args.codes, level=level)
        print(format_comparison(results))
        print(f"\ncomparison: {args.run}/{prefix}token_comparison.json")
        return
    from discotok.pipeline import read_config

    spec = dict(read_config(args.run).tokenizer)
    if args.tokenizer and args.tokenizer != spec["name"]:
        spec = {"name": args.tokenizer}
    if args.codes:
        spec["codes"] = args.codes
    spec.update(parse_overrides(args.overrides).get("tokenizer", {}))
    metrics = tokenize(args.run, spec, level=level, refit=args.refit)
    name = spec["name"] + (" (trained with the encoder)" if metrics["token_joint"] else "")
    print(format_comparison({name: metrics}))
    print(f"\ntokens: {args.run}/{prefix}tokens.npz  tokenizer: {args.run}/{prefix}tokenizer.npz")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from discotok.evaluation import evaluate
    from discotok.report import collapse_warning, format_table

    metrics = evaluate(args.run)
    print(format_table(metrics))
    if metrics.get("collapsed"):
        print(f"\nwarning: {collapse_warning(metrics)}")
    print(f"\nreport: {args.run}/report.md")


def _label_file(args: argparse.Namespace, name: str, what: str):  # noqa: ANN202
    path = getattr(args, name)
    if not path:
        return None
    from discotok.fewlabels.workflows import read_label_file
    from discotok.pipeline import read_embeddings

    return read_label_file(path, len(read_embeddings(args.run)["train"]), what)


def cmd_self_train(args: argparse.Namespace) -> None:
    from discotok.fewlabels import self_train
    from discotok.report import format_few_labels

    result = self_train(
        args.run,
        labels=_label_file(args, "labels", "labels"),
        label_fraction=args.label_fraction,
        policy=args.policy,
        pseudo=args.pseudo,
        head=args.head,
        rounds=args.rounds,
        threshold=args.threshold,
        finetune_epochs=args.finetune_epochs,
        seed=args.seed,
    )
    print(format_few_labels("self_train", result))
    print(f"\nresults: {args.run}/self_train.json  predictions: {args.run}/self_train.npz")


def cmd_discover(args: argparse.Namespace) -> None:
    from discotok.fewlabels import discover
    from discotok.report import format_few_labels

    result = discover(
        args.run,
        labels=_label_file(args, "labels", "labels"),
        known=args.known,
        label_fraction=args.label_fraction,
        k_init=args.k_init,
        seed=args.seed,
    )
    print(format_few_labels("discovery", result))
    print(f"\nresults: {args.run}/discovery.json  clusters: {args.run}/discovery.npz")


def cmd_label_shift(args: argparse.Namespace) -> None:
    from discotok.fewlabels import label_shift
    from discotok.report import format_few_labels

    result = label_shift(
        args.run,
        domains=_label_file(args, "domains", "domains"),
        classes=args.classes,
        num_domains=args.num_domains,
        alpha=args.alpha,
        seed=args.seed,
    )
    print(format_few_labels("label_shift", result))
    print(f"\nresults: {args.run}/label_shift.json  components: {args.run}/label_shift.npz")


def cmd_continual(args: argparse.Namespace) -> None:
    from discotok.continual import continual

    cfg = _config(args)
    result = continual(
        cfg,
        args.run_dir,
        plan=args.plan,
        classes_per_task=args.classes_per_task,
        epochs_per_task=args.epochs_per_task,
    )
    print(f"continual pre-training, plan {result['plan']}: splits {result['tasks']}")
    for t, row in enumerate(result["accuracy"]):
        cells = "  ".join(f"{a:.3f}" for a in row)
        print(f"after split {t}: average {result['average_accuracy'][t]:.3f}  per split: {cells}")
    print(
        f"mean forgetting {result['mean_forgetting']:.3f}; results: {args.run_dir}/continual.json"
    )


def cmd_graph(args: argparse.Namespace) -> None:
    import json

    from discotok.graphs.node_classification import format_results, node_classification, open_graph
    from discotok.graphs.vqgraph import TrainSettings

    graph = open_graph(args.data, args.edges or "", args.labels or "")
    for note in graph.notes:
        print(f"data: {note}")
    result = node_classification(
        graph,
        train=args.train,
        val=args.val,
        inductive=args.inductive,
        hidden=args.hidden,
        codes=args.codes,
        conv=args.conv,
        ssl_epochs=args.ssl_epochs,
        settings=TrainSettings(epochs=args.epochs, lr=args.lr),
        seed=args.seed,
    )
    print(format_results(result))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"results: {args.out}")


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


def cmd_bench(args: argparse.Namespace) -> None:
    from discotok.bench import run_grid
    from discotok.bench_report import summary_tables

    out, rows = run_grid(args.grid, args.out, retry_failed=args.retry_failed)
    print("\n" + "\n".join(summary_tables(rows)))
    print(f"results: {out}/results.csv  report: {out}/report.md")


def cmd_demo(args: argparse.Namespace) -> None:
    from discotok.evaluation import evaluate
    from discotok.pipeline import embed, pretrain
    from discotok.report import collapse_warning, format_table

    cfg = _config(args)
    run_dir = Path(args.run_dir)
    print(
        f"discotok demo: {cfg.method['name']} on {cfg.data['name']} "
        f"({cfg.train.epochs} epochs, batch {cfg.train.batch_size}) -> {run_dir}"
    )
    t0 = time.perf_counter()
    ckpt = run_dir / "checkpoints" / "last.pt"
    before = ckpt.stat().st_mtime_ns if ckpt.exists() and not args.fresh else None
    pretrain(cfg, run_dir, resume=not args.fresh)
    t1 = time.perf_counter()
    if before == ckpt.stat().st_mtime_ns:
        print(f"(reused the finished run in {run_dir}; --fresh trains again)")
    embed(run_dir)
    metrics = evaluate(run_dir)
    print()
    print(format_table(metrics))
    if metrics.get("collapsed"):
        print(f"\nwarning: {collapse_warning(metrics)}")
    trained = metrics.get("train", {})
    print(
        f"\npretraining {t1 - t0:.0f} s ({trained.get('steps', '?')} steps), "
        f"evaluation {time.perf_counter() - t1:.0f} s; tokens: k-means K="
        f"{metrics['tokenizer']['codes']} on the embedding and on the raw input"
    )
    print(f"run directory: {run_dir}/ (report.md, metrics.json, checkpoints/, config.yaml)")


def cmd_list(args: argparse.Namespace) -> None:
    from discotok.registry import ALL

    for kind, registry in ALL.items():
        print(f"{kind}:")
        for name in registry.names():
            print(f"  {name:<12} {registry.summary(name)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="discotok",
        description="Self-supervised representations and discrete tokens for any modality.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help="YAML config file")
        p.add_argument(
            "--data",
            help="your own file: .npy/.npz (data.name=arrays) or .ts/.csv series (series)",
        )
        p.add_argument("--fresh", action="store_true", help="discard an earlier run in the dir")
        p.add_argument("overrides", nargs="*", help="section.key=value, e.g. train.epochs=5")

    p = sub.add_parser("pretrain", help="train a self-supervised encoder")
    with_config(p)
    p.add_argument("--run-dir", help="default: runs/<data>-<method>-seed<seed>")
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("embed", help="embed the run's data with its trained encoder")
    p.add_argument("--run", required=True, help="run directory")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--device", default="auto")
    p.add_argument("--frames", action="store_true", help="frame-level features (frames.npz)")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("tokenize", help="fit a tokenizer on the embeddings and encode them")
    p.add_argument("--run", required=True, help="run directory")
    p.add_argument("--tokenizer", help="tokenizer name (see discotok list)")
    p.add_argument("--codes", type=int, help="number of token ids (codebook size)")
    p.add_argument(
        "--compare",
        help="comma-separated families to fit side by side, e.g. kmeans,vq,fsq; prints one table",
    )
    p.add_argument(
        "--frames",
        action="store_true",
        help="tokenize frame-level features: one token sequence per sample",
    )
    p.add_argument(
        "--refit",
        action="store_true",
        help="a run pretrained with train.token_weight > 0 holds its tokenizer; fit a fresh "
        "one on the final embeddings instead",
    )
    p.add_argument("overrides", nargs="*", help="tokenizer.key=value")
    p.set_defaults(func=cmd_tokenize)

    p = sub.add_parser("evaluate", help="probe embeddings and tokens; write metrics and report")
    p.add_argument("--run", required=True, help="run directory")
    p.set_defaults(func=cmd_evaluate)

    from discotok.fewlabels.selftrain import POLICIES, PSEUDO

    p = sub.add_parser("self-train", help="few labels: self-train a classifier on embeddings")
    p.add_argument("--run", required=True, help="run directory")
    p.add_argument("--labels", help=".npy, one label per train sample, -1 = unlabelled")
    p.add_argument(
        "--label-fraction",
        type=float,
        default=0.01,
        help="without --labels: share of each class kept labelled (the rest is hidden)",
    )
    p.add_argument("--policy", default="dynamic", choices=POLICIES)
    p.add_argument("--pseudo", default="hard", choices=PSEUDO)
    p.add_argument("--head", default="linear", choices=("linear", "mlp"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threshold", type=float, default=0.95, help="confidence bar of --policy fixed")
    p.add_argument(
        "--finetune-epochs",
        type=int,
        default=0,
        help="then fine-tune the encoder on labels + pseudo-labels for this many epochs",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_self_train)

    p = sub.add_parser("discover", help="category discovery with an unknown number of classes")
    p.add_argument("--run", required=True, help="run directory")
    p.add_argument("--labels", help=".npy, one label per train sample, -1 = unlabelled")
    p.add_argument("--known", type=int, help="without --labels: old classes (default: half)")
    p.add_argument("--label-fraction", type=float, default=0.5)
    p.add_argument("--k-init", type=int, help="clusters to start from (default: 2 x old)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("label-shift", help="classes from unlabelled domains (DDFA)")
    p.add_argument("--run", required=True, help="run directory")
    p.add_argument("--domains", help=".npy, one domain id per train sample")
    p.add_argument("--classes", type=int, help="number of classes (default: from labels)")
    p.add_argument("--num-domains", type=int, default=20, help="without --domains")
    p.add_argument("--alpha", type=float, default=0.5, help="Dirichlet alpha of simulated domains")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_label_shift)

    p = sub.add_parser("continual", help="pre-train over class splits in turn; probe each")
    with_config(p)
    p.add_argument("--run-dir", default="runs/continual")
    p.add_argument("--plan", default="infinite", choices=("infinite", "cosine"))
    p.add_argument("--classes-per-task", type=int, default=2)
    p.add_argument("--epochs-per-task", type=int, default=12)
    p.set_defaults(func=cmd_continual)

    p = sub.add_parser("graph", help="node classification: GNN teacher, VQGraph MLP students")
    p.add_argument("--data", required=True, help="karate, sbm, a graph .npz, dumpavail .txt")
    p.add_argument("--edges", help="edge list (.csv/.npy) when --data is a node-feature file")
    p.add_argument("--labels", help="node labels (.csv/.npy, -1 = unknown) with --edges")
    p.add_argument("--train", type=float, default=0.1, help="share of labelled nodes")
    p.add_argument("--val", type=float, default=0.1)
    p.add_argument("--inductive", type=float, default=0.0, help="share of test nodes hidden")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--codes", type=int, default=512, help="codebook size")
    p.add_argument("--conv", default="sage", choices=("sage", "gcn"))
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--ssl-epochs", type=int, default=0, help="contrastive GNN pretraining")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/graph/results.json")
    p.set_defaults(func=cmd_graph)

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

    from discotok.brain.cli import add_brain_commands

    add_brain_commands(sub)

    p = sub.add_parser("bench", help="a grid: methods x datasets x seeds x the five aspects")
    p.add_argument("grid", help="grid YAML file (see docs/bench.md)")
    p.add_argument("--out", help="output folder (default: runs/bench/<grid name>)")
    p.add_argument("--retry-failed", action="store_true", help="rerun the cells that failed")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("demo", help="pretrain, embed, tokenize and evaluate on MNIST-1D")
    with_config(p)
    p.add_argument("--run-dir", default=DEMO_DIR)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("list", help="show registered datasets, methods, encoders, ...")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except TrainingInterrupted as err:
        print(f"discotok: {err}", file=sys.stderr)
        return 130
    except DiscotokError as err:
        print(f"discotok: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("discotok: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
