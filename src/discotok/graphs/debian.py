"""The Debian package graph: packages are nodes, ``Depends`` are edges, ``Section`` is the
label, and the description text (TF-IDF reduced by truncated SVD) gives node features.

Build it from ``apt-cache dumpavail`` output (after ``apt-get update``), once: the archive
changes with point releases, so the built file records how many packages it came from.

    python -m discotok.graphs.debian --out debian_graph.npz     # reads apt-cache dumpavail
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import numpy as np

from discotok.errors import DataError
from discotok.graphs.graph import Graph, make_graph, save_graph

_NAME = re.compile(r"^\s*([a-z0-9][a-z0-9+.\-]*)")


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """Debian control stanzas (blank-line separated ``Field: value`` blocks; continuation
    lines start with a space) -> a dict per package."""
    packages = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields:
            packages.append(fields)
    return packages


def dependency_names(depends: str) -> list[str]:
    """Package names in a Depends field: alternatives (a | b) all count; versions and
    architecture qualifiers (``:any``) are dropped."""
    names = []
    for part in re.split(r"[,|]", depends):
        match = _NAME.match(part)
        if match:
            names.append(match.group(1).split(":")[0])
    return names


def text_features(texts: list[str], dim: int = 128, seed: int = 0) -> np.ndarray:
    """TF-IDF (sublinear, English stop words, terms in >= 2 documents) -> truncated SVD."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(
        max_features=30000, min_df=2, stop_words="english", sublinear_tf=True
    ).fit_transform(texts)
    dim = min(dim, tfidf.shape[1] - 1, len(texts) - 1)
    if dim < 1:
        raise DataError("the descriptions hold too few distinct words for text features")
    svd = TruncatedSVD(n_components=dim, random_state=seed)
    x = svd.fit_transform(tfidf)
    return (x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12)).astype(np.float32)


def debian_graph(text: str, dim: int = 128, seed: int = 0) -> Graph:
    """The graph from dumpavail-format text. Depends on packages that are not in the text
    (virtual packages, other architectures) are dropped and counted."""
    stanzas = parse_stanzas(text)
    if not stanzas:
        raise DataError("no package stanzas found (expected apt-cache dumpavail output)")
    seen: dict[str, dict[str, str]] = {}
    for st in stanzas:  # several versions of a package: keep the first
        seen.setdefault(st["Package"], st)
    names = list(seen)
    index = {name: i for i, name in enumerate(names)}
    sections = [seen[n].get("Section", "unknown").split("/")[-1] for n in names]
    classes = sorted(set(sections))
    y = np.array([classes.index(s) for s in sections], dtype=np.int64)
    src, dst, dangling = [], [], 0
    for name in names:
        for dep in dependency_names(seen[name].get("Depends", "")):
            if dep in index:
                src.append(index[name])
                dst.append(index[dep])
            else:
                dangling += 1
    texts = [f"{n} {seen[n].get('Description', '')}" for n in names]
    graph = make_graph(
        "debian", text_features(texts, dim, seed), np.array([src, dst]), y, classes, names
    )
    graph.notes.insert(0, f"{dangling} Depends on packages outside the graph dropped")
    graph.notes.insert(0, f"{len(stanzas)} stanzas, {len(names)} packages")
    return graph


def dumpavail() -> str:
    """This machine's package list (needs apt's lists: run apt-get update first)."""
    try:
        out = subprocess.run(
            ["apt-cache", "dumpavail"], capture_output=True, text=True, check=True, timeout=300
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise DataError(f"apt-cache dumpavail failed ({err}); is this a Debian system?") from None
    if not out.strip():
        raise DataError("apt-cache dumpavail printed nothing; run apt-get update first")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="debian_graph.npz")
    parser.add_argument("--input", help="a saved dumpavail text file (default: run apt-cache)")
    parser.add_argument("--dim", type=int, default=128)
    args = parser.parse_args(argv)
    text = Path(args.input).read_text() if args.input else dumpavail()
    graph = debian_graph(text, args.dim)
    path = save_graph(graph, args.out)
    edges = graph.edge_index.shape[1] // 2
    print(f"{path}: {graph.num_nodes} nodes, {edges} edges, {graph.num_classes} sections")
    print("; ".join(graph.notes))


if __name__ == "__main__":
    main()
