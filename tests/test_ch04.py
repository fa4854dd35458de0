"""Chapter 4 studies: gate recordings, and the classifiers on variable-length sequences."""
import keras
import numpy as np
import pytest

from keras_dlbasic import get_model
from keras_dlbasic.chapters.ch04 import (
    gate_activations,
    hard_sequence_accuracy,
    plot_gate_activations,
    variable_length,
)

from conftest import to_numpy


@pytest.mark.parametrize("kind,gates", [
    ("lstm", {"input", "forget", "candidate", "output", "cell", "hidden"}),
    ("gru", {"update", "reset", "candidate", "hidden"}),
])
def test_gate_activations_follow_the_layer(kind, gates, tmp_path):
    model = get_model(kind, units=4, input_shape=(7, 3))
    sequence = np.random.default_rng(0).random((7, 3), dtype=np.float32)
    records = gate_activations(model.get_layer(f"{kind}1"), sequence)
    assert set(records) == gates
    assert all(r.shape == (7, 4) for r in records.values())
    # The last recorded hidden state is what the keras layer returns.
    last = keras.Model(model.input, model.get_layer(f"{kind}1").output)(sequence[None])
    np.testing.assert_allclose(records["hidden"][-1], to_numpy(last)[0], atol=1e-5)
    plot_gate_activations(records, tmp_path / "gates.png")
    assert (tmp_path / "gates.png").stat().st_size > 0


def test_variable_length_copy_keeps_the_weights():
    model = get_model("gru", cell="scratch", bidirectional=True, units=4, input_shape=(9, 3))
    copy = variable_length(model)
    assert copy.input_shape == (None, None, 3) and model.input_shape == (None, 9, 3)
    assert variable_length(copy) is copy
    x = np.random.default_rng(0).random((2, 9, 3), dtype=np.float32)
    np.testing.assert_allclose(to_numpy(copy(x)), to_numpy(model(x)), atol=1e-6)
    assert copy(x[:, :5]).shape == (2, 10)  # any length now


def test_hard_sequence_accuracy():
    model = get_model("lstm", units=8, input_shape=(9, 3), classes=4)
    x = np.random.default_rng(1).random((64, 9, 3), dtype=np.float32)
    labels = np.argmax(to_numpy(model(x)), -1)  # the model is right on every original
    accuracy = hard_sequence_accuracy(model, x, labels, batch_size=32)
    assert list(accuracy) == ["original", "trimmed", "omitted", "permuted"]
    assert accuracy["original"] == 1.0
    # Each variant by hand, read by the same weights: the first 6 of 9 steps; steps
    # 3..5 left out; the 9 steps in the order of the seed-0 permutation.
    variants = {"trimmed": x[:, :6], "omitted": x[:, [0, 1, 2, 6, 7, 8]],
                "permuted": x[:, np.random.default_rng(0).permutation(9)]}
    reader = variable_length(model)
    for variant, sequences in variants.items():
        predicted = np.argmax(to_numpy(reader(sequences)), -1)
        assert accuracy[variant] == pytest.approx(np.mean(predicted == labels)), variant
