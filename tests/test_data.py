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
        # The splits stream: uint8 pixels scaled by 1/255, every value k/255 for an
        # integer k in 0..255.
        x, y = data.arrays("train")
    pixels = x * 255
    assert x.shape == (20, *shape) and x.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 255
    np.testing.assert_allclose(pixels, np.round(pixels), atol=1e-3)
    assert y.dtype == np.int32 and y.shape == (20,)


def test_tfds_offline_fails_fast_naming_bundled_data(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tfds_loader.socket, "create_connection",
                        lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(OSError("down")))
    with pytest.raises(DatasetUnavailableError, match="mnist_5k, digits_8x8"):
        load_dataset("fashion_mnist", data_dir=str(tmp_path))
    assert calls == [(tfds_loader.DOWNLOAD_HOST,)]


def test_adding_problem_dataset():
    data = load_dataset("adding_problem")
    assert data.kind == "regression" and data.input_shape == (100, 2)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (10_000, 1_000, 1_000)
    # Each target is the sum of the two marked values.
    marked = (data.x_test[..., 0] * data.x_test[..., 1]).sum(axis=1)
    np.testing.assert_allclose(marked, data.y_test, rtol=1e-6)


def test_digit_reversal_dataset():
    data = load_dataset("digit_reversal").limit(100)
    assert data.kind == "seq2seq" and data.num_classes == 13
    assert data.input_shape == {"encoder_tokens": (10,), "decoder_tokens": (11,)}
    source, target = data.x_train["encoder_tokens"][0], data.y_train[0]
    digits = source[source > 0]
    np.testing.assert_array_equal(target[:len(digits)], digits[::-1])
    assert target[len(digits)] == 2  # EOS
    # Teacher forcing: the decoder reads BOS and then the target shifted right.
    np.testing.assert_array_equal(data.x_train["decoder_tokens"][0, 1:len(digits) + 1],
                                  target[:len(digits)])


def test_imdb_with_mock_data_becomes_word_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("imdb_reviews", data_dir=str(tmp_path))
    assert data.input_shape == (tfds_loader.TEXT_LENGTH,) and data.x_train.dtype == np.int32
    assert data.vocab_size == tfds_loader.TEXT_VOCABULARY and data.num_classes == 2
    assert 0 <= data.x_train.min() and data.x_train.max() < data.vocab_size
    assert set(np.unique(data.y_train)) == set(range(data.num_classes))


def test_text_encoding_by_hand():
    vocabulary = tfds_loader.build_vocabulary([b"the cat<br />the dog", "The end"], size=4)
    assert vocabulary == {"the": 2, "cat": 3}  # 2 ids reserved: padding 0, unknown 1
    ids = tfds_loader.encode(["the dog the cat"], vocabulary, length=6)
    np.testing.assert_array_equal(ids, [[2, 1, 2, 3, 0, 0]])
