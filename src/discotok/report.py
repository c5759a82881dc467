"""The results table (terminal and markdown) and the run report with its plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from discotok.config import RunConfig
from discotok.data.base import Dataset
from discotok.train.logger import read_log

ROWS = (
    ("linear_acc", "linear probe accuracy"),
    ("knn_acc", "kNN accuracy"),
    ("svm_acc", "RBF-SVM probe accuracy"),
    ("kmeans_nmi", "k-means NMI"),
    ("kmeans_ari", "k-means ARI"),
    ("kmeans_acc", "k-means accuracy (Hungarian)"),
    ("token_purity", "token purity"),
    ("token_nmi", "token NMI"),
    ("token_pnmi", "token PNMI"),
    ("token_perplexity", "codebook perplexity"),
    ("token_dead_codes", "dead codes"),
    ("token_agreement", "token kept under augmentation"),
    ("rankme", "effective rank (RankMe)"),
)
COMPARE = (
    ("token_bits", "bits", "{:.0f}"),
    ("token_purity", "purity", "{:.3f}"),
    ("token_nmi", "NMI", "{:.3f}"),
    ("token_pnmi", "PNMI", "{:.3f}"),
    ("token_perplexity", "perplexity", "{:.1f}"),
    ("token_dead_codes", "dead", "{:.0f}"),
    ("token_mse", "recon. MSE", "{:.3f}"),
    ("token_agreement", "kept under aug.", "{:.3f}"),
    ("token_run_length", "run length", "{:.2f}"),
    ("token_ued", "UED", "{:.3f}"),
    ("token_fit_seconds", "fit s", "{:.1f}"),
)


def table_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    columns = [c for c in ("raw", "embedding") if metrics.get(c)]
    names = {"raw": "raw input", "embedding": f"{metrics['method']} embedding"}
    rows = []
    for key, label in ROWS:
        if not any(key in metrics[c] for c in columns):
            continue
        cells = []
        for c in columns:
            value = metrics[c].get(key)
            wide = ("token_perplexity", "token_dead_codes", "rankme")
            fmt = "{:.1f}" if key in wide else "{:.3f}"
            cells.append("-" if value is None else fmt.format(value))
        rows.append([label, *cells])
    return ["metric", *[names[c] for c in columns]], rows


def format_table(metrics: dict[str, Any], markdown: bool = False) -> str:
    """The raw-vs-learned table, aligned for a terminal or as a markdown table."""
    header, rows = table_rows(metrics)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    return _align(header, rows)


def _align(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def format_comparison(results: dict[str, dict[str, float]]) -> str:
    """One row per tokenizer family, for `discotok tokenize --compare`."""
    columns = [c for c in COMPARE if any(c[0] in m for m in results.values())]
    header = ["tokenizer", *[label for _, label, _ in columns]]
    rows = [
        [name, *[fmt.format(m[key]) if key in m else "-" for key, _, fmt in columns]]
        for name, m in results.items()
    ]
    return _align(header, rows)


def format_few_labels(kind: str, result: dict[str, Any]) -> str:
    """The printed summary of ``self-train``, ``discover`` or ``label-shift``."""
    settings = ", ".join(f"{k} {v}" for k, v in result["settings"].items())
    lines = [f"{kind}: {settings}"]
    if kind == "self_train":
        last = result["history"][-1]
        lines.append(
            f"pseudo-labelled after {last['round']} rounds: {last['pseudo_labelled']}"
            + (f" (accuracy {last['pseudo_label_acc']:.3f})" if "pseudo_label_acc" in last else "")
        )
        if "test_acc" in result:
            rows = [[name, f"{acc:.3f}"] for name, acc in result["test_acc"].items()]
            lines += ["", _align(["classifier", "test acc"], rows)]
    elif kind == "discovery":
        truth = f" (true {result['true_k']})" if "true_k" in result else ""
        first = result.get("before_finetune", result)
        path = f"{first['k_history'][0]} -> {first['k_estimate']}"
        if "before_finetune" in result:
            path += f" -> fine-tuned -> {result['k_estimate']}"
        lines.append(f"clusters: {path}{truth}")
        if "gpc" in result:
            named = [
                ("GPC (K estimated)", result, "gpc"),
                ("k-means, true K", result, "kmeans_true_k"),
            ]
            if "before_finetune" in result:
                b = result["before_finetune"]
                named[0:0] = [
                    ("before fine-tuning: GPC", b, "gpc"),
                    ("  k-means, true K", b, "kmeans_true_k"),
                ]
            parts = ("all_acc", "old_acc", "new_acc")
            rows = [[name, *[f"{r[key][part]:.3f}" for part in parts]] for name, r, key in named]
            lines += ["", _align(["unlabelled points", "all", "old", "new"], rows)]
    else:
        if result.get("refit_label_changes"):
            changes = ", ".join(f"{c:.3f}" for c in result["refit_label_changes"])
            lines.append(f"labels changed by each refit round: {changes}")
        if "ddfa" in result:
            rows = [
                ["DDFA", f"{result['ddfa']['acc']:.3f}", f"{result['ddfa']['p_y_given_d_l1']:.3f}"],
                ["k-means", f"{result['kmeans_acc']:.3f}", "-"],
            ]
            lines += ["", _align(["method", "hungarian acc", "L1 p(y|d)"], rows)]
    return "\n".join(lines)


def _map_2d(x: np.ndarray, how: str, seed: int) -> np.ndarray:
    if how == "pca":
        from sklearn.decomposition import PCA

        return PCA(2, random_state=seed).fit_transform(x)
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(x) - 1) / 3)  # t-SNE needs perplexity < n
    return TSNE(
        2, init="pca", random_state=seed, perplexity=perplexity, max_iter=500
    ).fit_transform(x)


def plot_loss(run_dir: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = read_log(run_dir)
    if not log:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([r["step"] for r in log], [r["loss"] for r in log])
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = run_dir / "loss.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_embedding_map(
    run_dir: Path, data: Dataset, emb: dict[str, np.ndarray], cfg: RunConfig
) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(cfg.evaluate.map_points, len(emb["test"]))
    pick = np.random.default_rng(cfg.seed).choice(len(emb["test"]), n, replace=False)
    panels = [("learned embedding", emb["test"][pick])]
    if cfg.evaluate.include_raw:
        panels.insert(0, ("raw input", np.nan_to_num(data.x_test[pick].reshape(n, -1))))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.2), squeeze=False)
    colours = data.y_test[pick] if data.y_test is not None else None
    for ax, (title, x) in zip(axes[0], panels):
        xy = _map_2d(x, cfg.evaluate.map, cfg.seed)
        style = {"c": colours, "cmap": "tab10"} if colours is not None else {}
        sc = ax.scatter(xy[:, 0], xy[:, 1], s=4, **style)
        ax.set_title(f"{title} ({cfg.evaluate.map}, test split)")
        ax.set_xticks([])
        ax.set_yticks([])
    if colours is not None:
        fig.colorbar(sc, ax=axes[0].tolist(), label="class")
    path = run_dir / "embedding_map.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def collapse_warning(metrics: dict[str, Any]) -> str:
    rank = metrics["embedding"]["rankme"]
    return (
        f"collapse: the embedding's effective rank (RankMe) is {rank:.1f}; the encoder maps "
        "samples to a few directions. Lower the learning rate or check the method's settings."
    )


def run_warnings(metrics: dict[str, Any]) -> list[str]:
    """What the user should read about a finished run: a collapsed embedding, and the
    warnings the method's own evaluation gave (``evaluate_method``)."""
    texts = [collapse_warning(metrics)] if metrics.get("collapsed") else []
    return texts + list(metrics.get("method_metrics", {}).get("warnings", []))


def print_warnings(metrics: dict[str, Any]) -> None:
    """Print the run's warnings after its table."""
    for text in run_warnings(metrics):
        print(f"\nwarning: {text}")


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


SHOWN_APART = ("figures", "warnings")  # method metrics the report shows in their own place


def write_report(
    run_dir: Path,
    metrics: dict[str, Any],
    data: Dataset,
    emb: dict[str, np.ndarray],
    cfg: RunConfig,
) -> Path:
    """Write ``report.md`` with the metrics table, the loss curve and the 2-D map."""
    loss_png = plot_loss(run_dir)
    map_png = plot_embedding_map(run_dir, data, emb, cfg)
    train = metrics.get("train", {})
    lines = [
        f"# discotok run: {metrics['method']} on {metrics['dataset']}",
        "",
        f"- encoder: {metrics['encoder']}, seed {metrics['seed']}, "
        f"{metrics['num_train']} train / {metrics['num_test']} test samples",
        f"- tokenizer: {metrics['tokenizer']}",
    ]
    if train:
        lines.append(
            f"- training: {train['steps']} steps, {train['seconds']:.1f} s, "
            f"{train['samples_per_second']:.0f} samples/s (this invocation)"
        )
    lines += [f"- data: {note}" for note in metrics.get("data_notes", [])]
    lines += [f"- **warning: {text}**" for text in run_warnings(metrics)]
    lines += ["", format_table(metrics, markdown=True), ""]
    extra = metrics.get("method_metrics", {})
    if extra:
        lines += [f"## What {metrics['method']} itself measures", ""]
        lines += [f"- {k}: {_fmt(v)}" for k, v in extra.items() if k not in SHOWN_APART]
        lines += ["", *[f"![{name}]({name})" for name in extra.get("figures", [])], ""]
    if loss_png:
        lines += ["## Training loss", "", f"![loss]({loss_png.name})", ""]
    if map_png:
        lines += ["## Embedding map", "", f"![map]({map_png.name})", ""]
    lines += ["Config: `config.yaml`; environment: `environment.json`; metrics: `metrics.json`."]
    path = run_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
