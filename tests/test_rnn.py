"""RNN/LSTM/GRU classifiers: parameter formulas, both cell paths, text input, round trips."""
import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, model_info
from keras_dlbasic.accounting import dense_params
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models.rnn import rnn_param_formula

from conftest import to_numpy

LAYERS = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("input_dim,units", [(1, 1), (28, 128), (300, 64)])
def test_param_formula_matches_keras(kind, input_dim, units):
    layer = LAYERS[kind](units)
    layer.build((None, None, input_dim))
    assert rnn_param_formula(kind, input_dim, units) == layer.count_params()
    # The printed formula says the same: evaluate its text.
    text = rnn_param_formula(kind, input_dim, units, as_text=True)
    assert eval(text.replace("·", "*")) == layer.count_params()


@pytest.mark.parametrize("kind", LAYERS)
def test_reference_count_is_the_formula(kind):
    # Sequential MNIST: 28 features per step, 128 units, then a 10-way classifier.
    expected = rnn_param_formula(kind, 28, 128) + dense_params(128, 10)
    assert expected == model_info(kind).reference_params


@pytest.mark.parametrize("kind", LAYERS)
def test_scratch_cells_are_the_keras_model_with_the_same_weights(kind):
    kwargs = dict(units=8, num_layers=2, bidirectional=True, input_shape=(6, 5), classes=3)
    fast = get_model(kind, **kwargs)
    scratch = get_model(kind, cell="scratch", **kwargs)
    assert scratch.count_params() == fast.count_params()
    scratch.set_weights(fast.get_weights())
    x = np.random.default_rng(0).random((2, 6, 5), dtype=np.float32)
    np.testing.assert_allclose(to_numpy(scratch(x)), to_numpy(fast(x)), atol=1e-5)


def test_text_input_with_embedding():
    model = get_model("lstm", vocab_size=50, embedding_dim=8, units=4, classes=2)
    tokens = np.array([[5, 7, 9, 0, 0], [3, 0, 0, 0, 0]], "int32")
    assert model(tokens).shape == (2, 2)


def test_bad_arguments_are_rejected():
    with pytest.raises(ModelArgumentError, match="cell"):
        get_model("gru", cell="cudnn")
    with pytest.raises(ModelArgumentError, match="input_shape"):
        get_model("rnn", input_shape=(28, 28, 1))


def test_scratch_model_keras_file_round_trip(tmp_path):
    model = get_model("gru", cell="scratch", bidirectional=True, units=4, input_shape=(5, 3))
    model.save(tmp_path / "gru.keras")
    reloaded = keras.saving.load_model(tmp_path / "gru.keras")
    x = np.random.default_rng(0).random((2, 5, 3), dtype=np.float32)
    np.testing.assert_allclose(to_numpy(reloaded(x)), to_numpy(model(x)), atol=1e-6)


def test_lstm_regresses_the_adding_problem():
    from keras_dlbasic.data.synthetic import adding_problem

    x, y = adding_problem(64, length=10)
    model = get_model(
        "lstm", units=8, input_shape=(10, 2), classes=1, classifier_activation="linear"
    )
    assert model.output_shape == (None, 1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
