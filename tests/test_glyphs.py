"""The glyph dataset: rendered characters, split by font family, cached on disk."""

import numpy as np
import pytest

from discotok.data import glyphs
from discotok.data.glyphs import glyph_set, load_glyphs, render, split_families, usable_fonts
from discotok.errors import ConfigError, DataError


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DISCOTOK_CACHE", str(tmp_path / "cache"))
    glyph_set.cache_clear()
    yield tmp_path / "cache"
    glyph_set.cache_clear()


def test_glyphs_are_split_by_font_family(fresh_cache):
    data = load_glyphs()
    assert data.modality == "image" and data.sample_shape == (1, 32, 32)
    assert set(np.unique(data.y_train)) == set(range(62)) == set(np.unique(data.y_test))
    every = glyph_set("alnum", 32, True, ())
    test = split_families(every["family"], 0.25, 0)
    assert not set(every["family"][test]) & set(every["family"][~test])
    assert len(data.x_test) == test.sum() and len(data.x_train) == (~test).sum()
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    # the same seed gives the same split, another seed another one
    np.testing.assert_array_equal(load_glyphs().x_test, data.x_test)
    other = split_families(every["family"], 0.25, 1)
    assert not np.array_equal(other, test)
    # validation: the test families are gone, and held-out training families stand in
    val = load_glyphs(validation=True)
    families, images = every["family"][~test], every["images"][~test]
    held = split_families(families, 0.25, 0)
    assert 0 < held.sum() < len(held)
    np.testing.assert_array_equal(val.x_test[:, 0], images[held])
    np.testing.assert_array_equal(val.x_train[:, 0], images[~held])


def test_bundled_fonts_alone_cover_several_families(fresh_cache):
    fonts = usable_fonts(glyphs.CHARSETS["alnum"], system_fonts=False)
    families = {family for _, family, _ in fonts}
    assert {"DejaVu Sans", "DejaVu Serif", "STIXGeneral", "Computer Modern Roman"} <= families
    assert not any("cmex" in path.name or "STIXSiz" in path.name for path, _, _ in fonts)
    data = load_glyphs(system_fonts=False, charset="digits")
    assert set(np.unique(data.y_train)) == set(range(10))
    # unseen characters: the letters of the test families, never digits, never train fonts
    every = glyph_set("alnum", 32, False, ())
    digits = glyph_set("digits", 32, False, ())
    test_families = np.unique(digits["family"][split_families(digits["family"], 0.25, 0)])
    letters = every["images"][np.isin(every["family"], test_families) & (every["labels"] >= 10)]
    np.testing.assert_array_equal(data.x_ood[:, 0], letters)
    symbols = load_glyphs(system_fonts=False).x_ood
    assert symbols.shape[1:] == (1, 32, 32) and len(symbols) > 0


def test_rendering_keeps_case_and_baseline():
    path = usable_fonts("oOpa", system_fonts=False)[0][0]
    o, big_o, p, a = render(path, "oOpa")

    def rows(img):
        return np.flatnonzero(img.max(1) > 0.2)

    assert len(rows(o)) < 0.85 * len(rows(big_o))  # 'o' is shorter than 'O'
    assert rows(p)[-1] > rows(a)[-1] + 2  # 'p' descends below the baseline of 'a'


def test_cache_is_reused_and_a_corrupt_cache_is_rendered_again(fresh_cache, monkeypatch):
    first = load_glyphs(system_fonts=False)
    files = sorted(fresh_cache.glob("glyphs-alnum-*.npz"))
    assert len(files) == 1 and len(list(fresh_cache.glob("glyphs-symbols-*.npz"))) == 1
    glyph_set.cache_clear()

    def fail(*args, **kwargs):
        raise AssertionError("rendered although cached")

    monkeypatch.setattr(glyphs, "render", fail)
    cached = load_glyphs(system_fonts=False)
    np.testing.assert_array_equal(cached.x_train, first.x_train)
    np.testing.assert_array_equal(cached.x_ood, first.x_ood)
    glyph_set.cache_clear()
    files[0].write_bytes(b"garbage")
    monkeypatch.undo()
    monkeypatch.setenv("DISCOTOK_CACHE", str(fresh_cache))
    np.testing.assert_array_equal(load_glyphs(system_fonts=False).x_train, first.x_train)


def test_user_font_folder_with_a_broken_file_is_skipped(fresh_cache, tmp_path):
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / "broken.ttf").write_bytes(b"not a font")
    fonts = usable_fonts("abc", system_fonts=False, extra_dirs=(str(folder),))
    assert fonts and all(path.name != "broken.ttf" for path, _, _ in fonts)


def test_glyph_bad_input():
    with pytest.raises(ConfigError, match="alnum, digits"):
        load_glyphs(charset="greek")
    with pytest.raises(DataError, match="only one font family"):
        split_families(np.array(["A", "A"]), 0.5, 0)
