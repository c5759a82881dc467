"""Rendered glyphs: the characters [0-9A-Za-z] drawn with Pillow from the font files on this
machine into 32x32 grayscale images. The class is the character, the nuisance is the typeface.

Fonts come from matplotlib's bundled set (always there: DejaVu, STIX, Computer Modern) plus,
when ``system_fonts`` is on, every .ttf/.otf under the usual font folders (Debian's font
packages add about 160 styles; see docs/your-data.md). A font is used only if its character
map covers the whole character set, and symbol fonts are left out. Train and test are split
by **font family**: a test family is never seen in training (Computer Modern's roman, bold,
italic and math italic count as one family). Rendering is deterministic; the images are
cached on disk under ``$DISCOTOK_CACHE`` (default ``~/.cache/discotok``).
"""

from __future__ import annotations

import hashlib
import os
import string
from functools import lru_cache
from pathlib import Path

import numpy as np

from discotok.data.base import Dataset
from discotok.errors import DataError, check_choice, check_range
from discotok.registry import DATASETS

CHARSETS = {
    "alnum": string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "digits": string.digits,
    "symbols": "#$%&*+<=>?@",  # no look-alikes of letters or digits: the OOD set of alnum
}
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
)
SYMBOL_FONTS = (
    "cmex10",
    "cmsy10",
    "d050000l",
    "standard symbols",
    "noto sans symbols",
    "nushu",
    "biolinum keyboard",
    "lastresort",
    "stixsiz",
    "stixnonuni",
)
COMPUTER_MODERN = {"cmr": "Roman", "cmb": "Roman", "cmti": "Roman", "cmmi": "Roman"}
COMPUTER_MODERN |= {"cmss": "Sans", "cmtt": "Typewriter"}
RENDER_VERSION = 2  # bump when the rendering changes: old caches are then ignored


def font_files(system_fonts: bool = True, extra_dirs: tuple[str, ...] = ()) -> list[Path]:
    """matplotlib's bundled fonts, then system and extra folders (sorted, deterministic)."""
    import matplotlib

    folders = [Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
    if system_fonts:
        folders += [Path(d).expanduser() for d in SYSTEM_FONT_DIRS]
    folders += [Path(d).expanduser() for d in extra_dirs]
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))
    return files


def _family_and_style(path: Path) -> tuple[str, str] | None:
    """(family, style) from the font's name table, or None for an unreadable file."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            names = font["name"]
            family = names.getDebugName(16) or names.getDebugName(1) or path.stem
            style = names.getDebugName(17) or names.getDebugName(2) or ""
    except (TTLibError, OSError, KeyError, AssertionError):
        return None
    stem = path.stem.lower()
    cm = stem.rstrip("0123456789")
    if cm in COMPUTER_MODERN:  # one design family, files named by variant (cmr10, cmb10, ...)
        family, style = f"Computer Modern {COMPUTER_MODERN[cm]}", path.stem
    return family, style


def _covers(path: Path, chars: str) -> bool:
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, KeyError, AssertionError):
        return False
    return all(ord(c) in cmap for c in chars)


def usable_fonts(
    chars: str, system_fonts: bool = True, extra_dirs: tuple[str, ...] = ()
) -> list[tuple[Path, str, str]]:
    """(file, family, style) of every font that covers `chars`, one file per family+style."""
    seen: set[tuple[str, str]] = set()
    fonts = []
    for path in font_files(system_fonts, extra_dirs):
        if any(s in path.stem.lower() for s in SYMBOL_FONTS):
            continue
        named = _family_and_style(path)
        if named is None or named in seen or not _covers(path, chars):
            continue
        if any(s in named[0].lower() for s in SYMBOL_FONTS):
            continue
        seen.add(named)
        fonts.append((path, *named))
    return fonts


def render(path: Path, chars: str, size: int = 32) -> np.ndarray:
    """Each character of `chars` in one font, on one scale per font: the tallest extent
    (ascender to descender over the whole set) fits (size - 4) pixels, each character keeps
    its height and baseline, so 'o' stays smaller than 'O' and 'p' hangs below 'a'.
    Returns (len(chars), size, size) float32 in [0, 1]; a blank glyph is all zeros."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(path), 64)
    boxes = [font.getbbox(ch) for ch in chars]
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    widest = max(b[2] - b[0] for b in boxes)
    scale = (size - 4) / max(bottom - top, widest, 1)
    out = np.zeros((len(chars), size, size), dtype=np.float32)
    for i, (ch, (left, _, right, _)) in enumerate(zip(chars, boxes)):
        if right <= left:
            continue
        canvas = Image.new("L", (right - left + 4, bottom - top + 4), 0)
        ImageDraw.Draw(canvas).text((2 - left, 2 - top), ch, fill=255, font=font)
        ink = canvas.getbbox()
        if ink is None:
            continue
        glyph = canvas.crop((ink[0], 0, ink[2], canvas.size[1]))  # full height: keep baseline
        w = max(1, round(glyph.size[0] * scale))
        h = min(size, max(1, round(glyph.size[1] * scale)))
        glyph = glyph.resize((min(w, size), h), Image.Resampling.LANCZOS)
        tile = Image.new("L", (size, size), 0)
        tile.paste(glyph, ((size - glyph.size[0]) // 2, (size - h) // 2))
        out[i] = np.asarray(tile, dtype=np.float32) / 255.0
    return out


def cache_dir() -> Path:
    return Path(os.environ.get("DISCOTOK_CACHE", "~/.cache/discotok")).expanduser()


def _cache_key(fonts: list[tuple[Path, str, str]], chars: str, size: int) -> str:
    h = hashlib.sha256(f"{RENDER_VERSION}|{chars}|{size}".encode())
    for path, family, style in fonts:
        stat = path.stat()
        h.update(f"|{path}|{stat.st_size}|{stat.st_mtime_ns}|{family}|{style}".encode())
    return h.hexdigest()[:16]


@lru_cache(maxsize=4)
def glyph_set(
    charset: str, size: int, system_fonts: bool, extra_dirs: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """All glyphs: images (n, size, size), labels, and family/style per image (cached)."""
    chars = CHARSETS[charset]
    fonts = usable_fonts(chars, system_fonts, extra_dirs)
    if not fonts:
        raise DataError("no font on this machine covers the glyph set; see docs/your-data.md")
    path = cache_dir() / f"glyphs-{charset}-{size}-{_cache_key(fonts, chars, size)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as cached:
                return {k: cached[k] for k in cached.files}
        except (OSError, ValueError):
            pass  # a corrupt cache is rendered again
    images = np.concatenate([render(p, chars, size) for p, _, _ in fonts])
    result = {
        "images": images,
        "labels": np.tile(np.arange(len(chars)), len(fonts)),
        "family": np.repeat([f for _, f, _ in fonts], len(chars)),
        "style": np.repeat([s for _, _, s in fonts], len(chars)),
    }
    keep = images.reshape(len(images), -1).max(1) > 0  # drop blank renders
    result = {k: v[keep] for k, v in result.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **result)
    tmp.replace(path)
    return result


def split_families(families: np.ndarray, test_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the test images: whole families, about `test_fraction` of them."""
    names = np.unique(families)
    if len(names) < 2:
        raise DataError(
            f"only one font family ({names[0]}) covers the glyph set: cannot split by family"
        )
    n_test = min(len(names) - 1, max(1, round(test_fraction * len(names))))
    test = np.random.default_rng(seed).choice(names, n_test, replace=False)
    return np.isin(families, test)


@DATASETS.register("glyphs")
def load_glyphs(
    charset: str = "alnum",
    size: int = 32,
    test_fraction: float = 0.25,
    system_fonts: bool = True,
    font_dirs: list[str] | None = None,
    validation: bool = False,
    seed: int = 0,
) -> Dataset:
    """Characters rendered from this machine's fonts (1 x size x size); test = unseen
    font families. ``charset``: alnum (62 classes), digits (10) or symbols (11). Characters
    outside the charset, from the test families, are the dataset's ``x_ood``.
    ``validation``: for tuning -- the seed's test families are left out altogether and the
    test split is drawn, the same way, from its training families (so settings chosen on
    it never saw the test families)."""
    check_choice("data.charset", charset, tuple(CHARSETS))
    check_range("data.size", size, 8, 256)
    check_range(
        "data.test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    dirs = tuple(font_dirs or ())
    glyphs = glyph_set(charset, size, system_fonts, dirs)
    test = split_families(glyphs["family"], test_fraction, seed)
    if validation:
        glyphs = {k: v[~test] for k, v in glyphs.items()}
        test = split_families(glyphs["family"], test_fraction, seed)
    x = glyphs["images"][:, None]
    y = glyphs["labels"].astype(np.int64)
    ood = unseen_characters(charset, size, system_fonts, dirs, np.unique(glyphs["family"][test]))
    return Dataset("glyphs", "image", x[~test], x[test], y[~test], y[test], x_ood=ood)


def unseen_characters(
    charset: str, size: int, system_fonts: bool, dirs: tuple[str, ...], families: np.ndarray
) -> np.ndarray | None:
    """Characters outside `charset` in the test font `families` (1 x size x size): letters
    for digits, symbols for alnum and for symbols digits. None if no such font covers them."""
    other = {"digits": "alnum", "alnum": "symbols", "symbols": "digits"}[charset]
    try:
        glyphs = glyph_set(other, size, system_fonts, dirs)
    except DataError:
        return None
    keep = np.isin(glyphs["family"], families)
    if charset == "digits":  # alnum holds the digits too: keep its letters
        keep &= glyphs["labels"] >= len(CHARSETS["digits"])
    return glyphs["images"][keep][:, None] if keep.any() else None
