"""``discotok self-train | discover | label-shift``: few labels on a run's embeddings."""

from __future__ import annotations

import argparse


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
        finetune_epochs=args.finetune_epochs,
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
        finetune_epochs=args.finetune_epochs,
        folds=args.folds,
        refit_rounds=args.refit_rounds,
        copies=args.copies,
        seed=args.seed,
    )
    print(format_few_labels("label_shift", result))
    print(f"\nresults: {args.run}/label_shift.json  components: {args.run}/label_shift.npz")


def add_fewlabels_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``discotok self-train``, ``discover`` and ``label-shift``."""
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
    p.add_argument(
        "--finetune-epochs",
        type=int,
        default=0,
        help="then fine-tune the encoder on the clusters' prototypes and cluster again",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("label-shift", help="classes from unlabelled domains (DDFA)")
    p.add_argument("--run", required=True, help="run directory")
    p.add_argument("--domains", help=".npy, one domain id per train sample")
    p.add_argument("--classes", type=int, help="number of classes (default: from labels)")
    p.add_argument("--num-domains", type=int, default=20, help="without --domains")
    p.add_argument("--alpha", type=float, default=0.5, help="Dirichlet alpha of simulated domains")
    p.add_argument(
        "--finetune-epochs",
        type=int,
        default=0,
        help="train the domain discriminator end to end: fine-tune the encoder this many epochs",
    )
    p.add_argument("--folds", type=int, default=2, help="cross-fitting folds of the discriminator")
    p.add_argument(
        "--refit-rounds",
        type=int,
        default=0,
        help="then refit a head to DDFA's labels and re-run EM, this many rounds",
    )
    p.add_argument(
        "--copies",
        type=int,
        default=1,
        help="fit on each sample and copies-1 augmented views of it (for small domains)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_label_shift)
