"""Bundled datasets, TFDS (through tfds.testing.mock_data) and the offline failure."""
import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_dlbasic.data import bundled, load_dataset
from keras_dlbasic.data import tfds as tfds_loader
from keras_dlbasic.errors import DatasetUnavailableError, UnknownNameError


@pytest.mark.parametrize("name,side,sizes", [
    ("mnist_5k", 28, (3500, 500, 1000)),
    ("digits_8x8", 8, (1258, 180, 359)),
])
def test_bundled_splits(name, side, sizes):
    data = load_dataset(name)
    assert data.input_shape == (side, side, 1)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == sizes
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() < data.x_train.max() == 1.0
    assert set(np.unique(data.y_test)) == set(range(10))
    # Deterministic and disjoint: the same split twice, no image in two splits.
    again = load_dataset(name)
    np.testing.assert_array_equal(data.x_test, again.x_test)
    train, val, test = bundled.split_indices(sum(sizes))
    assert len(set(train) | set(val) | set(test)) == sum(sizes)


def test_limit_keeps_first_examples():
    data = load_dataset("digits_8x8").limit(50)
    assert len(data.x_train) == len(data.x_val) == len(data.x_test) == 50


def test_unknown_dataset():
    with pytest.raises(UnknownNameError, match="did you mean mnist"):
        load_dataset("mnsit")


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_loader_with_mock_data(name, shape, tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=20):
        data = load_dataset(name, data_dir=str(tmp_path))
    assert data.input_shape == shape and data.num_classes == 10
    # mock_data yields num_examples for every split spec, sliced or not.
    assert len(data.x_train) == len(data.x_val) == len(data.x_test) == 20
    assert data.x_train.dtype == np.float32 and data.x_train.max() <= 1.0
    assert data.y_train.dtype == np.int32


def test_tfds_offline_fails_fast_naming_bundled_data(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tfds_loader.socket, "create_connection",
                        lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(OSError("down")))
    with pytest.raises(DatasetUnavailableError, match="mnist_5k, digits_8x8"):
        load_dataset("fashion_mnist", data_dir=str(tmp_path))
    assert calls == [(tfds_loader.DOWNLOAD_HOST,)]
