import numpy as np
import pytest

from discotok.data.arrays import load_arrays
from discotok.data.digits import load_digits
from discotok.data.mnist1d import load_mnist1d
from discotok.errors import DataError


def test_mnist1d_is_deterministic_and_shaped():
    a, b = load_mnist1d(num_samples=200), load_mnist1d(num_samples=200)
    assert a.x_train.shape == (160, 1, 40) and a.x_test.shape == (40, 1, 40)
    assert np.array_equal(a.x_train, b.x_train)
    assert set(np.unique(a.y_train)) <= set(range(10))
    assert not np.array_equal(a.x_train, load_mnist1d(num_samples=200, seed=1).x_train)


def test_mnist1d_leaves_global_numpy_rng_alone():
    np.random.seed(3)
    expected = np.random.rand()
    np.random.seed(3)
    load_mnist1d(num_samples=100)
    assert np.random.rand() == expected


def test_digits_are_images():
    ds = load_digits()
    assert ds.modality == "image" and ds.x_train.shape[1:] == (1, 8, 8)
    assert len(ds.x_train) + len(ds.x_test) == 1797
    assert ds.x_train.max() <= 1.0


def test_npy_without_labels_is_split(tmp_path):
    path = tmp_path / "sig.npy"
    np.save(path, np.random.randn(50, 30))
    ds = load_arrays(str(path))
    assert ds.modality == "signal" and ds.x_train.shape == (40, 1, 30)
    assert not ds.has_labels


def test_npz_with_labels_and_test_split(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x=np.random.randn(20, 3, 16),
        y=np.array(["a", "b"] * 10),
        x_test=np.random.randn(6, 3, 16),
        y_test=np.array(["b", "c"] * 3),
    )
    ds = load_arrays(str(path))
    assert ds.x_test.shape == (6, 3, 16)
    assert ds.y_train.tolist()[:2] == [0, 1] and ds.y_test.tolist()[:2] == [1, 2]


def test_vector_and_image_modalities(tmp_path):
    path = tmp_path / "v.npz"
    np.savez(path, x=np.random.randn(30, 5, 4), y=np.arange(30) % 3)
    assert load_arrays(str(path), modality="vector").x_train.shape[1:] == (20,)
    assert load_arrays(str(path), modality="image").x_train.shape[1:] == (1, 5, 4)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"PK\x03\x04 this is not a zip"), "corrupt or not a numpy file"),
        (lambda p: np.savez(p, z=np.zeros((3, 4))), "no array named 'x' .*found: z"),
        (lambda p: np.savez(p, x=np.zeros(5)), r"x has shape \(5,\)"),
        (lambda p: np.savez(p, x=np.zeros((4, 3)), y=np.zeros(3)), "3 labels for 4 samples"),
        (lambda p: np.savez(p, x=np.array([[1.0, np.nan]] * 5)), "rows with NaN or inf"),
        (lambda p: np.savez(p, x=np.zeros((5, 4)), x_test=np.zeros((2, 5))), "train samples have"),
        (lambda p: np.savez(p, x=np.array([["a", "b"]] * 4)), "expected numbers"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, make, message):
    path = tmp_path / "data.npz"
    make(path)
    with pytest.raises(DataError, match=message):
        load_arrays(str(path))


def test_wrong_suffix_and_folder(tmp_path):
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(DataError, match="must end in .npy or .npz"):
        load_arrays(str(tmp_path / "x.csv"))
    with pytest.raises(DataError, match="is a folder"):
        load_arrays(str(tmp_path))
    with pytest.raises(DataError, match="needs a file"):
        load_arrays("")
