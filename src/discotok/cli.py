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
    from discotok.report import format_table, print_warnings

    metrics = evaluate(args.run)
    print(format_table(metrics))
    print_warnings(metrics)
    print(f"\nreport: {args.run}/report.md")


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
        settings=TrainSettings(
            epochs=args.epochs,
            lr=args.lr,
            student_steps=args.student_steps,
            batch_size=args.batch_size,
        ),
        seed=args.seed,
    )
    print(format_results(result))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"results: {args.out}")


def cmd_bench(args: argparse.Namespace) -> None:
    from discotok.bench import run_grid
    from discotok.bench_report import summary_tables

    out, rows = run_grid(args.grid, args.out, retry_failed=args.retry_failed)
    print("\n" + "\n".join(summary_tables(rows)))
    print(f"results: {out}/results.csv  report: {out}/report.md")


def cmd_demo(args: argparse.Namespace) -> None:
    from discotok.evaluation import evaluate
    from discotok.pipeline import embed, pretrain
    from discotok.report import format_table, print_warnings

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
    print_warnings(metrics)
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

    from discotok.fewlabels.cli import add_fewlabels_commands

    add_fewlabels_commands(sub)

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
    p.add_argument("--epochs", type=int, default=200, help="teacher epochs (full-batch)")
    p.add_argument("--student-steps", type=int, default=3000, help="mini-batch steps per MLP")
    p.add_argument("--batch-size", type=int, default=512, help="student mini-batch")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--ssl-epochs", type=int, default=0, help="contrastive GNN pretraining")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/graph/results.json")
    p.set_defaults(func=cmd_graph)

    from discotok.speech.cli import add_speech_commands

    add_speech_commands(sub)

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
