"""The from-equation cells reproduce keras.layers.SimpleRNN / LSTM / GRU and pass the
shared layer checks (through keras.layers.RNN, which runs a cell over time)."""
import keras
import numpy as np
import pytest

from keras_dlbasic.layers import GRUCell, LSTMCell, SimpleRNNCell

from conftest import to_numpy
from layer_testing import run_layer_test

PAIRS = {
    "rnn": (SimpleRNNCell, keras.layers.SimpleRNN),
    "lstm": (LSTMCell, keras.layers.LSTM),
    "gru": (GRUCell, keras.layers.GRU),
}


@pytest.mark.parametrize("kind", PAIRS)
def test_copied_weights_give_keras_outputs_and_states(kind):
    cell_class, keras_class = PAIRS[kind]
    x = np.random.default_rng(0).normal(size=(3, 7, 5)).astype("float32")
    reference = keras_class(6, return_sequences=True, return_state=True)
    scratch = keras.layers.RNN(cell_class(6), return_sequences=True, return_state=True)
    expected = reference(x)
    scratch(x)
    # Random biases too, so a bias in the wrong place would show.
    weights = [w + 0.1 * np.random.default_rng(i).normal(size=w.shape).astype("float32")
               for i, w in enumerate(reference.get_weights())]
    reference.set_weights(weights)
    scratch.set_weights(weights)
    expected, actual = reference(x), scratch(x)
    assert len(actual) == len(expected) == (3 if kind == "lstm" else 2)  # outputs + states
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(to_numpy(a), to_numpy(e), atol=1e-5)


def test_gru_reset_before_matches_keras():
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    reference = keras.layers.GRU(5, reset_after=False)
    scratch = keras.layers.RNN(GRUCell(5, reset_after=False))
    reference(x), scratch(x)
    scratch.set_weights(reference.get_weights())
    np.testing.assert_allclose(to_numpy(scratch(x)), to_numpy(reference(x)), atol=1e-5)


@pytest.mark.parametrize("cell_class", [SimpleRNNCell, LSTMCell, GRUCell])
def test_cell_layer(cell_class):
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    run_layer_test(cell_class, {"units": 5}, x, expected_output_shape=(2, 4, 5),
                   wrapper=lambda cell: keras.layers.RNN(cell, return_sequences=True))


@pytest.mark.parametrize("cell_class", [SimpleRNNCell, LSTMCell, GRUCell])
def test_validation(cell_class):
    with pytest.raises(ValueError, match="units"):
        cell_class(0)


def test_lstm_forget_bias_starts_at_one():
    layer = keras.layers.RNN(LSTMCell(3))
    layer(np.zeros((1, 2, 2), "float32"))
    bias = to_numpy(layer.get_weights()[2])
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
