"""Streamed splits (tf.data and PyDataset sources): batches, limit, shuffling, training,
evaluation and resume; padded detection targets."""
import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_dlbasic import data as datasets
from keras_dlbasic import training
from keras_dlbasic.data import Splits, load_dataset, pad_boxes
from keras_dlbasic.data.streams import Stream
from keras_dlbasic.io import read_csv
from keras_dlbasic.tasks.base import resize_images


class DigitBatches(keras.utils.PyDataset):
    """A plain PyDataset of (x, y) batches, as a user without TensorFlow would write one."""

    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    @property
    def num_batches(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


def stream_of(x, y, source):
    """``x, y`` as a Stream with a tf.data source, a PyDataset, or a function making one."""
    if source == "tf.data":
        return Stream(tf.data.Dataset.from_tensor_slices((x, y)))
    shape = x.shape[1:]
    if source == "pydataset":
        return Stream(DigitBatches(x, y, 16), size=len(x), input_shape=shape)
    return Stream(lambda batch_size: DigitBatches(x, y, batch_size), size=len(x), input_shape=shape)


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("mnist_5k").limit(100)
    return data.x_train, data.y_train


def examples(batches):
    """All (x, y) of one pass over a PyDataset, in its order."""
    xs, ys = zip(*(batches[i][:2] for i in range(batches.num_batches)))
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("source", ["tf.data", "pydataset", "factory"])
def test_stream_batches_hold_the_arrays(digits, source):
    x, y = digits
    stream = stream_of(x, y, source)
    assert len(stream) == 100 and stream.input_shape == (28, 28, 1)
    got_x, got_y = examples(stream.batches(32))
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    # limit keeps the first examples, cutting a batch in the middle.
    limited = stream.limit(40)
    got_x, got_y = limited.arrays(batch_size=32)
    np.testing.assert_array_equal(got_y, y[:40])
    # map_inputs transforms each batch and knows the new input shape.
    resized = limited.map_inputs(lambda images: resize_images(images, 32))
    assert resized.input_shape == (32, 32, 1)
    np.testing.assert_allclose(resized.arrays()[0], resize_images(x[:40], 32), atol=1e-6)
    # sample weights come from each batch's targets (a PyDataset keeps its batch of 16).
    _, targets, weights = stream.batches(32, sample_weight=lambda t: (t == 3).astype("float32"))[0]
    assert len(targets) == (16 if source == "pydataset" else 32)
    np.testing.assert_array_equal(weights, (targets == 3).astype("float32"))


@pytest.mark.parametrize("source", ["tf.data", "factory"])
def test_shuffling_is_seeded_and_new_every_epoch(digits, source):
    x, y = digits
    stream = stream_of(x, y, source)
    batches = stream.batches(10, shuffle=True, seed=7)
    first = examples(batches)[1]
    batches.on_epoch_end()
    second = examples(batches)[1]
    again = examples(stream.batches(10, shuffle=True, seed=7))[1]
    assert sorted(first) == sorted(second) == sorted(y)  # every example once per epoch
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, again)


def streamed(source):
    """A loader of the bundled digits (160 training examples) streamed from ``source``."""
    def load(name, data_dir=None):
        data = load_dataset("mnist_5k").limit(160)
        splits = {split: stream_of(*data.arrays(split), source) for split in ("train", "val", "test")}
        return Splits(name, splits["train"], None, splits["val"], None, splits["test"], None,
                      num_classes=10)

    return load


@pytest.mark.parametrize("source", ["tf.data", "factory"])
def test_a_streamed_dataset_trains_evaluates_and_resumes(tmp_path, monkeypatch, source):
    """A tf.data stream, and a PyDataset made for the run's batch size (the way without
    TensorFlow), through the trainer: fit, test metrics, evaluate and resume."""
    spec = dataclasses.replace(datasets.dataset_info("mnist_5k"), name="digit_stream",
                               loader=streamed(source))
    monkeypatch.setitem(datasets.DATASETS, "digit_stream", spec)
    config = training.resolve_config("cnn", dataset="digit_stream", epochs=2, batch_size=32)
    run = tmp_path / "run"
    metrics = training.train(config, run, verbose=0)
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1] and history[1]["loss"] < history[0]["loss"]
    # The recorded test accuracy is best.keras's own predictions on the stream, scored by hand.
    x_test, y_test = training.prepare_data(config).arrays("test")
    scores = training.load_model(run / "best.keras").predict(x_test, verbose=0)
    assert metrics["test_accuracy"] == pytest.approx(np.mean(scores.argmax(-1) == y_test), abs=1e-6)
    assert training.evaluate_run(run)["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    # Resume: the history and the optimizer's step count (5 batches an epoch) continue.
    resumed = training.resume(run, epochs=3, verbose=0)
    assert [row["epoch"] for row in read_csv(run / "history.csv")] == [0, 1, 2]
    assert resumed["epochs"] == 3
    assert int(keras.saving.load_model(run / "last.keras").optimizer.iterations) == 15


def test_a_streamed_image_is_resized_for_its_network(monkeypatch):
    spec = dataclasses.replace(datasets.dataset_info("mnist_5k"), name="digit_stream",
                               loader=streamed("tf.data"))
    monkeypatch.setitem(datasets.DATASETS, "digit_stream", spec)
    config = training.resolve_config("alexnet", dataset="digit_stream")
    data = training.prepare_data(config)
    assert data.input_shape == (63, 63, 1)
    assert data.x_train.batches(8)[0][0].shape == (8, 63, 63, 1)


def test_pad_boxes_by_hand():
    padded = pad_boxes([[[1, 2, 5, 6], [0, 0, 3, 3]], [], [[2, 2, 4, 4]]], [[1, 0], [], [2]])
    assert padded["boxes"].shape == (3, 2, 4) and padded["boxes"].dtype == np.float32
    np.testing.assert_array_equal(padded["labels"], [[1, 0], [-1, -1], [2, -1]])
    np.testing.assert_array_equal(padded["boxes"][0], [[1, 2, 5, 6], [0, 0, 3, 3]])
    np.testing.assert_array_equal(padded["boxes"][1:, 1], 0)
    assert pad_boxes([[[0, 0, 1, 1]]], [[4]], max_boxes=3)["labels"].tolist() == [[4, -1, -1]]
    with pytest.raises(ValueError, match="more than max_boxes=1"):
        pad_boxes([[[0, 0, 1, 1], [1, 1, 2, 2]]], [[0, 1]], max_boxes=1)
    with pytest.raises(ValueError, match="one label per box"):
        pad_boxes([[[0, 0, 1, 1]]], [[]])


def test_tfds_images_stream_into_a_run(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    from keras_dlbasic.data import tfds as tfds_loader

    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    config = training.resolve_config("cnn", dataset="mnist", epochs=1, batch_size=8,
                                     data_dir=str(tmp_path / "tfds"))
    with tfds.testing.mock_data(num_examples=24):
        metrics = training.train(config, tmp_path / "run", verbose=0)
        assert isinstance(training.prepare_data(config).x_train, Stream)
    assert metrics["epochs"] == 1 and np.isfinite(metrics["test_loss"])
