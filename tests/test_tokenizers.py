import json

import numpy as np
import pytest

from discotok.errors import ConfigError, DataError
from discotok.tokenizers import load_tokenizer
from discotok.tokenizers.kmeans import KMeansTokenizer, faiss_kmeans


def blobs(n=300, k=4, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 10, (k, dim))
    y = rng.integers(0, k, n)
    return (centers[y] + rng.normal(0, 0.5, (n, dim))).astype(np.float32), y


def test_kmeans_recovers_blobs():
    x, y = blobs()
    _, labels, _ = faiss_kmeans(x, 4)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(y, labels) > 0.99


def test_encode_decode_save_load_roundtrip(tmp_path):
    x, _ = blobs()
    tok = KMeansTokenizer(codes=4).fit(x)
    codes = tok.encode(x)
    assert codes.dtype == np.int64 and codes.min() >= 0 and codes.max() < 4
    quantized, codes2, mse = tok(x)
    assert np.array_equal(codes, codes2) and quantized.shape == x.shape and mse < 1.0
    loaded = load_tokenizer(tok.save(tmp_path / "tok.npz"))
    assert np.array_equal(loaded.encode(x), codes)
    assert np.allclose(loaded.decode(codes), tok.decode(codes))


def test_bad_inputs():
    x, _ = blobs(n=10)
    with pytest.raises(DataError, match="cannot fit 20 codes to 10 vectors; lower tokenizer.codes"):
        KMeansTokenizer(codes=20).fit(x)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match=r"1 rows hold NaN or inf \(first: \[3\]\)"):
        KMeansTokenizer(codes=2).fit(bad)
    tok = KMeansTokenizer(codes=2).fit(x)
    with pytest.raises(DataError, match="dimension 5, the tokenizer expects 6"):
        tok.encode(x[:, :5])
    with pytest.raises(DataError, match="not fitted"):
        KMeansTokenizer().encode(x)
    with pytest.raises(DataError, match=r"codes must lie in \[0, 1\]"):
        tok.decode(np.array([0, 2]))


def test_incompatible_or_corrupt_files(tmp_path):
    x, _ = blobs(n=20)
    path = KMeansTokenizer(codes=2).fit(x).save(tmp_path / "t.npz")
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["format_version"] = 99
    np.savez(tmp_path / "old.npz", __meta__=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(DataError, match="format version 99; this discotok reads version 1"):
        load_tokenizer(tmp_path / "old.npz")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="corrupt"):
        load_tokenizer(tmp_path / "bad.npz")
    with pytest.raises(DataError, match="missing or empty"):
        load_tokenizer(tmp_path / "none.npz")


def test_kmeanspp_seeding_beats_random_init_on_separated_blobs():
    x, _ = blobs(n=2000, k=30, dim=8, seed=3)
    plus = [faiss_kmeans(x, 30, seed=s)[2] for s in range(3)]
    rand = [faiss_kmeans(x, 30, seed=s, init="random")[2] for s in range(3)]
    assert np.mean(plus) < np.mean(rand)


def test_own_kmeanspp_seeds_as_well_as_scikit_learns():
    from sklearn.cluster import kmeans_plusplus as sk_plusplus

    from discotok.tokenizers.kmeans import kmeans_plusplus

    x, _ = blobs(n=3000, k=40, dim=16, seed=4)

    def potential(centers):
        return ((x[:, None, :] - centers[None]) ** 2).sum(-1).min(1).sum()

    ours = np.mean([potential(kmeans_plusplus(x, 40, seed)) for seed in range(5)])
    theirs = np.mean([potential(sk_plusplus(x, 40, random_state=seed)[0]) for seed in range(5)])
    assert ours < 1.1 * theirs


def test_sampled_fit_assigns_every_point():
    x, y = blobs(n=5000, k=5, dim=4)
    centroids, labels, inertia = faiss_kmeans(x, 5, max_points_per_centroid=50)  # fits on 250
    assert labels.shape == (5000,) and len(np.unique(labels)) == 5
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(y, labels) > 0.99


def test_full_data_refinement_lowers_the_inertia_of_a_sampled_fit():
    # 32 points per centroid in 32 dimensions: centroids fitted on the sample carry its noise
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 32))[rng.integers(0, 20, 8000)] + rng.normal(size=(8000, 32))
    x = x.astype(np.float32)
    plain = faiss_kmeans(x, 20, max_points_per_centroid=32)
    refined = faiss_kmeans(x, 20, max_points_per_centroid=32, refine_iter=2)
    assert refined[2] < plain[2]
    # the inertia returned is that of the centroids returned, on all points
    assert refined[2] == pytest.approx(float(((x - refined[0][refined[1]]) ** 2).sum()), rel=1e-3)
    with pytest.raises(ConfigError, match="refine_iter"):
        faiss_kmeans(x, 20, refine_iter=-1)


def test_kmeans_tokenizer_options_round_trip_and_old_files_load(tmp_path):
    x, _ = blobs(n=600, k=6, dim=4)
    tok = KMeansTokenizer(codes=6, sample_per_centroid=0, refine_iter=0, nredo=1).fit(x)
    loaded = load_tokenizer(tok.save(tmp_path / "t.npz"))
    assert (loaded.sample_per_centroid, loaded.refine_iter, loaded.nredo) == (0, 0, 1)
    np.testing.assert_array_equal(loaded.encode(x), tok.encode(x))
    # a file written before these options existed still loads, with today's defaults
    arrays = dict(np.load(tmp_path / "t.npz"))
    meta = json.loads(str(arrays.pop("__meta__")))
    for key in ("sample_per_centroid", "refine_iter"):
        meta["options"].pop(key)
    np.savez(tmp_path / "old.npz", __meta__=np.array(json.dumps(meta)), **arrays)
    old = load_tokenizer(tmp_path / "old.npz")
    np.testing.assert_array_equal(old.encode(x), tok.encode(x))
    with pytest.raises(ConfigError, match="sample_per_centroid"):
        KMeansTokenizer(sample_per_centroid=-1)
