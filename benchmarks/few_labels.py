"""Few labels on MNIST-1D embeddings: self-training, category discovery, latent label shift.

For each seed, the demo's SimCLR model is pretrained (seed s; an existing finished run in
--work-dir with the same config is reused) and its 128-d train/test embeddings are used for:

* self-training with 1 % of the train labels (stratified: 8 per class): every threshold
  policy x hard/soft pseudo-labels, against the same linear head on the labels alone and
  scikit-learn's SelfTrainingClassifier; then the encoder fine-tuned (10 epochs) on labels +
  pseudo-labels against the encoder fine-tuned on the labels alone for as many steps;
  test accuracy;
* generalized category discovery: classes 0-4 old (50 % of their points labelled), 5-9 new;
  GPC started from K = 5 (half) and K = 20 (double); estimated K and All/Old/New accuracy on
  the unlabelled points, against faiss k-means given the true K = 10; GPC with the
  weakest prior (strength 0) instead of the one calibrated on the labelled classes; and GPC
  followed by prototypical contrastive fine-tuning of the encoder (5 epochs) and a second
  fit on the new embeddings (``discover(finetune_epochs=5)``);
* latent label shift: 20 domains with Dirichlet(alpha) class proportions, alpha 0.5 / 3 / 10;
  DDFA's Hungarian accuracy and its p(y|d) error (SPA and NMF factorisations), against
  k-means with the true K.

``--data glyphs`` runs the same on SimCLR glyph embeddings (configs/glyphs_simclr.yaml; 62
classes: 1 % labels is one per class, discovery starts from 31 and 124, classes 0-30 old).
Latent label shift is left out there: 62 classes need at least 62 domains, and ~1500 train
glyphs cannot fill them (results in few_labels_glyphs.json). A glyph class has 24 train
points, 12 of them labelled: too few for GPC's split test, so its prior strength is chosen on
held-out classes (``prior_calibration`` in the results; MNIST-1D's is the split test).

    python benchmarks/few_labels.py [--data mnist1d|glyphs] [--seeds 0,1,2] [--work-dir DIR]
                                    [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import mean_std, pretrained_embeddings, write_results

from discotok.config import RunConfig, load_config
from discotok.evaluators.clustering import hungarian_accuracy
from discotok.fewlabels import (
    DDFA,
    POLICIES,
    SelfTraining,
    SemiSupervisedGMM,
    discover,
    discovery_accuracy,
    discovery_split,
    label_shift_domains,
    label_shift_scores,
    label_subset,
    self_train,
    sklearn_self_training,
)
from discotok.fewlabels.splits import class_proportions
from discotok.report import _align
from discotok.tokenizers.kmeans import faiss_kmeans


def self_training(
    emb: dict, seed: int, fraction: float, head_epochs: int = 300
) -> dict[str, float]:
    """Test accuracy of each self-training variant; `head_epochs`: full-batch steps of each
    head fit (SelfTraining's default 300)."""
    x, y, xt, yt = emb["train"], emb["y_train"], emb["test"], emb["y_test"]
    known = label_subset(y, fraction, seed=seed)
    args = (x[known], y[known], x[~known])

    def acc(model: object) -> float:
        return float((model.predict(xt) == yt).mean())

    def fit(**kwargs: object) -> SelfTraining:
        return SelfTraining(**kwargs, head_epochs=head_epochs, seed=seed).fit(*args)

    out = {
        "labels only (linear)": acc(fit(rounds=0)),
        "labels only (mlp)": acc(fit(rounds=0, head="mlp")),
        "sklearn SelfTrainingClassifier": acc(sklearn_self_training(*args, seed=seed)),
    }
    for policy in POLICIES:
        for pseudo in ("hard", "soft"):
            out[f"{policy} / {pseudo}"] = acc(fit(policy=policy, pseudo=pseudo))
    out["dynamic / hard (mlp)"] = acc(fit(head="mlp"))
    return out


def fine_tuned(run: Path, seed: int, fraction: float, epochs: int) -> dict[str, float]:
    """The encoder fine-tuned on labels + dynamic/hard pseudo-labels, and on labels alone."""
    result = self_train(run, label_fraction=fraction, finetune_epochs=epochs, seed=seed)
    return {
        "encoder fine-tuned, labels only": result["test_acc"]["labels_only_finetuned"],
        "encoder fine-tuned, dynamic / hard": result["test_acc"]["self_training_finetuned"],
    }


def discovery(
    emb: dict, seed: int, starts: tuple[int, ...], run: Path, finetune_epochs: int
) -> dict[str, dict[str, float]]:
    x, y = emb["train"], emb["y_train"]
    k = len(np.unique(y))
    labelled, old = discovery_split(y, k // 2, 0.5, seed=seed)
    u = ~labelled
    out = {}
    for strength, label in ((None, ""), (0.0, ", weakest prior")):
        for k_init in starts:
            t0 = time.perf_counter()
            gmm = SemiSupervisedGMM(k_init, prior_strength=strength, seed=seed)
            gmm.fit(x, y, labelled)
            out[f"GPC from K={k_init}{label}"] = {
                "k": gmm.k_,
                **discovery_accuracy(y[u], gmm.labels_[u], old),
                "prior_strength": gmm.strength_,
                "prior_calibration": gmm.calibration_,
                "seconds": time.perf_counter() - t0,
            }
    for k_init in starts:  # the same split: discover() draws it from the same seed
        t0 = time.perf_counter()
        found = discover(run, k_init=k_init, finetune_epochs=finetune_epochs, seed=seed)
        out[f"GPC from K={k_init}, prototypical fine-tuning"] = {
            "k": found["k_estimate"],
            **found["gpc"],
            "prior_strength": found["settings"]["prior_strength"],
            "prior_calibration": found["settings"]["prior_calibration"],
            "seconds": time.perf_counter() - t0,
        }
    _, clusters, _ = faiss_kmeans(np.ascontiguousarray(x[u]), k, seed=seed, nredo=5)
    out[f"k-means, true K={k}"] = {"k": k, **discovery_accuracy(y[u], clusters, old)}
    return out


def label_shift(emb: dict, seed: int, alphas: tuple[float, ...]) -> dict[str, dict[str, float]]:
    x, y = emb["train"], emb["y_train"]
    if not alphas:
        return {}
    k = len(np.unique(y))
    _, clusters, _ = faiss_kmeans(np.ascontiguousarray(x), k, seed=seed, nredo=5)
    out = {}
    for alpha in alphas:
        domain, _ = label_shift_domains(y, 20, alpha, seed=seed)
        for factorization in ("spa", "nmf"):
            t0 = time.perf_counter()
            model = DDFA(k, factorization=factorization, seed=seed).fit(x, domain)
            code = np.unique(domain, return_inverse=True)[1]
            truth = class_proportions(code, y, len(model.domains_), k)
            scores = label_shift_scores(y, model.labels_, model.p_y_given_d_, truth)
            out[f"alpha={alpha}, {factorization}"] = {
                **scores,
                "p_y_given_d_mae": scores["p_y_given_d_l1"] / k,
                "kmeans_acc": hungarian_accuracy(y, clusters),
                "seconds": time.perf_counter() - t0,
            }
    return out


def summarise(per_seed: list[dict]) -> dict:
    """Mean and std over seeds of every number, keeping the nesting."""
    first = per_seed[0]
    if isinstance(first, str):  # a setting's name: the distinct values
        return " / ".join(dict.fromkeys(per_seed))
    if isinstance(first, dict):
        return {key: summarise([s[key] for s in per_seed]) for key in first}
    return mean_std([float(v) for v in per_seed])


def pm(stat: dict[str, float], digits: int = 3) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def tables(summary: dict) -> dict[str, str]:
    st = summary["self_training"]
    out = {"self_training": _align(["1 % labels", "test acc"], [[k, pm(v)] for k, v in st.items()])}
    rows = [
        [name, pm(v["k"], 1), pm(v["all_acc"]), pm(v["old_acc"]), pm(v["new_acc"])]
        for name, v in summary["discovery"].items()
    ]
    out["discovery"] = _align(["method", "K", "all", "old", "new"], rows)
    rows = [
        [a, pm(v["acc"]), pm(v["kmeans_acc"]), pm(v["p_y_given_d_l1"]), pm(v["p_y_given_d_mae"])]
        for a, v in summary["label_shift"].items()
    ]
    header = ["20 domains, factorisation", "DDFA acc", "k-means acc", "L1 p(y|d)", "MAE p(y|d)"]
    if rows:
        out["label_shift"] = _align(header, rows)
    return out


def encoder_args() -> argparse.ArgumentParser:
    """The command line of the benchmarks on these encoders: --seeds, --work-dir (where
    finished encoder runs are reused) and --smoke."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--work-dir", default="/tmp/discotok-few-labels")
    parser.add_argument("--smoke", action="store_true")
    return parser


def encoder_config(data: str) -> dict:
    """The pretraining config of the encoders (seed set by the caller): the demo's on
    MNIST-1D, configs/glyphs_simclr.yaml on glyphs."""
    cfg = RunConfig().to_dict()
    if data == "glyphs":
        cfg = load_config(Path(__file__).parent.parent / "configs" / "glyphs_simclr.yaml")
        cfg = cfg.to_dict()
    cfg["train"]["progress"] = False
    return cfg


def main() -> None:
    parser = encoder_args()
    parser.add_argument("--data", choices=("mnist1d", "glyphs"), default="mnist1d")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    fraction, starts, alphas, finetune_epochs = 0.01, (5, 20), (0.5, 3.0, 10.0), 10
    prototype_epochs, head_epochs = 5, 300
    cfg = encoder_config(args.data)
    if args.data == "glyphs":  # 62 classes: start from 31 and 124; no label shift (see doc)
        starts, alphas = (31, 124), ()
    if args.smoke:
        if args.data == "mnist1d":
            cfg["data"] = {"name": "mnist1d", "num_samples": 1000}
        cfg["train"]["epochs"] = 1
        seeds, fraction, finetune_epochs, prototype_epochs = seeds[:1], 0.05, 1, 1
        head_epochs = 20
        starts, alphas = starts[:1], alphas[:1]
        args.work_dir = tempfile.mkdtemp(prefix="discotok-few-labels-smoke-")
    per_seed = []
    for seed in seeds:
        cfg["seed"] = seed
        run, emb = pretrained_embeddings(cfg, Path(args.work_dir) / f"{args.data}-seed{seed}")
        per_seed.append(
            {
                "self_training": {
                    **self_training(emb, seed, fraction, head_epochs),
                    **fine_tuned(run, seed, fraction, finetune_epochs),
                },
                "discovery": discovery(emb, seed, starts, run, prototype_epochs),
                "label_shift": label_shift(emb, seed, alphas),
            }
        )
        print(f"seed {seed} done", flush=True)
    summary = summarise(per_seed)
    printed = tables(summary)
    for name, table in printed.items():
        print(f"\n{name}:\n{table}")
    if not args.smoke:
        payload = {
            "seeds": seeds,
            "torch_threads": torch.get_num_threads(),
            "label_fraction": fraction,
            "finetune_epochs": finetune_epochs,
            "prototype_finetune_epochs": prototype_epochs,
            "config": cfg,
            "per_seed": per_seed,
            "summary": summary,
            "tables": {name: table.splitlines() for name, table in printed.items()},
        }
        name = "few_labels" if args.data == "mnist1d" else f"few_labels_{args.data}"
        print("wrote", write_results(name, payload))


if __name__ == "__main__":
    main()
