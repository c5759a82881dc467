"""Latent label shift on glyph embeddings: DDFA on the ten digits of the glyph set.

The full glyph set (62 classes) cannot be run with 20 domains: DDFA's factorisation needs at
least as many domains as classes. Its ten digits can: the embeddings of few_labels.py's
glyph SimCLR encoders (seeds 0-2; an existing finished run in --work-dir with the same
config is reused), train and test glyphs of the digits together (320 glyphs, 32 styles of
each), cut into 20 domains with Dirichlet(alpha) class proportions (16 glyphs a domain on
average). 16 points a domain are too few to learn a domain discriminator from, so the set is
also run with more images of the same glyphs (``--copies``, default 1, 10 and 30): each
glyph and copies - 1 views of it drawn by the encoder run's own augmentations (the image2d
views it was pretrained with; fixed by the seed), all embedded by the frozen encoder, then
cut into the same 20 domains (160 and 480 images a domain). No new glyph styles: the 32 of
each digit stay the only ones. Rows, Hungarian accuracy and the L1 error of p(y|d) summed
over classes:

* DDFA at its defaults (linear head on the frozen embedding, 2 folds), SPA and NMF;
* DDFA with the setting that met the target on MNIST-1D, less its encoder fine-tuning
  (5 folds, 5 refit rounds): fine-tuning needs the encoder's data pipeline, which serves
  all 62 classes;
* ``EM on supervised p(y|x)`` (uses the labels: a bound, not a method): a linear head fit on
  the class labels, cross-fitted over 5 folds, then Saerens' EM from its class counts.

    python benchmarks/ddfa_glyph_digits.py [--seeds 0,1,2] [--copies 1,10,30] [--work-dir DIR]
        [--smoke]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import pretrained_embeddings, write_results
from ddfa_discriminators import supervised_em
from few_labels import encoder_args, encoder_config, pm, summarise

from discotok.encoders.inference import encode_with_views
from discotok.fewlabels import DDFA, label_shift_domains, label_shift_scores
from discotok.fewlabels.ddfa import cross_fit
from discotok.fewlabels.finetune import encoder_and_views
from discotok.fewlabels.splits import class_proportions
from discotok.report import _align

ALPHAS = (0.5, 3.0, 10.0)
DDFA_ROWS = {
    "DDFA, spa": {},
    "DDFA, nmf": {"factorization": "nmf"},
    "DDFA, 5 folds, spa + 5 refit rounds": {"folds": 5, "refit_rounds": 5},
}


def digits(emb: dict) -> tuple[np.ndarray, np.ndarray]:
    """Train and test rows of the digits (classes 0-9 of the alnum charset): embeddings, or
    images when given the dataset's arrays under the same keys."""
    x = np.concatenate([emb["train"], emb["test"]])
    y = np.concatenate([emb["y_train"], emb["y_test"]])
    return x[y < 10], y[y < 10]


def label_shift(x: np.ndarray, y: np.ndarray, seed: int, alphas: tuple[float, ...]) -> dict:
    out = {}
    for alpha in alphas:
        domain, _ = label_shift_domains(y, 20, alpha, seed=seed)
        code = np.unique(domain, return_inverse=True)[1]
        truth = class_proportions(code, y, code.max() + 1, 10)
        for name, kwargs in DDFA_ROWS.items():
            t0 = time.perf_counter()
            model = DDFA(10, seed=seed, **kwargs).fit(x, domain)
            scores = label_shift_scores(y, model.labels_, model.p_y_given_d_, truth)
            out[f"alpha={alpha}, {name}"] = {**scores, "seconds": time.perf_counter() - t0}
        t0 = time.perf_counter()
        p_y_x = cross_fit(len(x), DDFA(10, seed=seed).discriminator(x, y), seed, 5)
        p_y_d, posterior = supervised_em(p_y_x, code)
        out[f"alpha={alpha}, EM on supervised p(y|x)"] = {
            **label_shift_scores(y, posterior.argmax(1), p_y_d, truth),
            "seconds": time.perf_counter() - t0,
        }
    return out


def main() -> None:
    parser = encoder_args()
    parser.add_argument("--copies", default="1,10,30", help="images of each glyph, per run")
    args = parser.parse_args()
    seeds, alphas = [int(s) for s in args.seeds.split(",")], ALPHAS
    copies = [int(c) for c in args.copies.split(",")]
    cfg = encoder_config("glyphs")
    if args.smoke:
        seeds, alphas, copies = seeds[:1], alphas[:1], copies[:2]
        cfg["train"]["epochs"] = 1
        args.work_dir = tempfile.mkdtemp(prefix="discotok-ddfa-glyphs-smoke-")
    per_seed = []
    for seed in seeds:
        cfg["seed"] = seed
        run, _ = pretrained_embeddings(cfg, Path(args.work_dir) / f"glyphs-seed{seed}")
        encoder, views, data = encoder_and_views(run)
        arrays = {"train": data.x_train, "test": data.x_test}
        images, y = digits(arrays | {"y_train": data.y_train, "y_test": data.y_test})
        rows = {}
        for c in copies:
            x = encode_with_views(encoder, views, images, c, seed)
            for name, row in label_shift(x, np.tile(y, c), seed, alphas).items():
                rows[f"{len(x)} images, {name}"] = row
            print(f"seed {seed}, {c} copies done", flush=True)
        per_seed.append(rows)
    summary = summarise(per_seed)
    rows = [[name, pm(v["acc"]), pm(v["p_y_given_d_l1"])] for name, v in summary.items()]
    table = _align(["glyph digits, 20 domains", "acc", "L1 p(y|d)"], rows)
    print(table)
    if not args.smoke:
        payload = {
            "seeds": seeds,
            "copies": copies,
            "torch_threads": torch.get_num_threads(),
            "per_seed": per_seed,
            "summary": summary,
            "table": table.splitlines(),
        }
        print("wrote", write_results("ddfa_glyph_digits", payload))


if __name__ == "__main__":
    main()
