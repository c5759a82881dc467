import numpy as np
import pytest

from discotok.errors import ConfigError, DataError
from discotok.registry import TOKENIZERS
from discotok.tokenizers import load_tokenizer

FAMILIES = ["kmeans", "kmeans_minibatch", "bow", "vq", "rvq", "fsq", "lfq", "binary", "sparse"]


def blobs(n=400, k=4, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centers = rng.normal(0, 6, (k, dim))
    return (centers[y] + rng.normal(0, 0.5, (n, dim))).astype(np.float32), y


def make(name, **options):
    spec = {"name": name, "codes": 16, **options}
    if name == "kmeans_minibatch":
        spec["nredo"] = 3
    elif name not in ("kmeans", "bow"):
        spec.setdefault("epochs", 15)
        spec.setdefault("batch_size", 64)
    return TOKENIZERS.build(spec, seed=0)


@pytest.mark.parametrize("name", FAMILIES)
def test_family_interface_roundtrip_and_determinism(name, tmp_path):
    x, y = blobs()
    tok = make(name).fit(x)
    codes = tok.encode(x)
    assert codes.shape == (400,) and codes.dtype == np.int64
    assert 0 <= codes.min() and codes.max() < tok.num_codes == 16
    quantized, codes2, mse = tok(x)
    assert np.array_equal(codes, codes2) and quantized.shape == x.shape
    assert mse < x.var()  # decoding the tokens explains part of the signal
    loaded = load_tokenizer(tok.save(tmp_path / f"{name}.npz"))
    assert np.array_equal(loaded.encode(x), codes)
    assert np.allclose(loaded.decode(codes), tok.decode(codes), atol=1e-5)
    assert np.array_equal(make(name).fit(x).encode(x), codes)  # same seed, same tokens


@pytest.mark.parametrize("name", FAMILIES)
def test_family_tokens_follow_the_clusters(name):
    from discotok.evaluators.tokens import token_metrics

    x, y = blobs(n=600)
    metrics = token_metrics(make(name).fit(x).encode(x), 16, y)
    assert metrics["token_purity"] > 0.9, metrics


@pytest.mark.parametrize("name", ["fsq", "lfq", "binary"])
def test_power_of_two_families_refuse_other_sizes(name):
    with pytest.raises(ConfigError, match="tokenizer.codes=24 must be a power of two"):
        TOKENIZERS.build({"name": name, "codes": 24}, seed=0)


def test_rvq_codes_must_split_evenly_into_levels():
    with pytest.raises(ConfigError, match="codes=20 is not a whole power of levels=2"):
        TOKENIZERS.build({"name": "rvq", "codes": 20}, seed=0)


@pytest.mark.parametrize("name", ["vq", "binary", "sparse"])
def test_trainable_families_reject_bad_input(name):
    x, _ = blobs(n=40)
    with pytest.raises(DataError, match="cannot fit 64 codes to 40 vectors; lower tokenizer.codes"):
        make(name, codes=64).fit(x)
    bad = x.copy()
    bad[2] = np.inf
    with pytest.raises(DataError, match="rows hold NaN or inf"):
        make(name).fit(bad)
    tok = make(name).fit(x)
    with pytest.raises(DataError, match="dimension 3, the tokenizer expects 8"):
        tok.encode(x[:, :3])
    with pytest.raises(DataError, match=r"codes must lie in \[0, 15\]"):
        tok.decode(np.array([16]))
    with pytest.raises(DataError, match="not fitted"):
        make(name).encode(x)


def test_sparse_active_set_starts_with_the_code():
    x, _ = blobs()
    tok = make("sparse").fit(x)
    top = tok.active_set(x, k=3)
    assert top.shape == (400, 3) and np.array_equal(top[:, 0], tok.encode(x))


def test_bag_of_words_histograms():
    x, y = blobs(n=600)
    tok = make("bow").fit(x)
    soft = tok.soft_assign(x[:5])
    assert np.allclose(soft.sum(1), 1) and np.array_equal(soft.argmax(1), tok.encode(x[:5]))
    sets = x[:60].reshape(20, 3, 8)
    hist = tok.bag_of_words(sets)
    assert hist.shape == (20, 16) and np.allclose(hist.sum(1), 1)
    same = tok.bag_of_words(x[:60], lengths=np.full(20, 3))
    assert np.allclose(hist, same)
    # a set of one blob's points puts its mass on that blob's words
    one_blob = x[y == 0][:10][None]
    words_of_blob = set(tok.encode(x[y == 0]))
    assert tok.bag_of_words(one_blob)[0, sorted(words_of_blob)].sum() > 0.9
    with pytest.raises(DataError, match="lengths sum to 5 but 60 features"):
        tok.bag_of_words(x[:60], lengths=np.array([5]))
