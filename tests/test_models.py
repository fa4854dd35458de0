"""Checks every registered model: parametrized over the registry.

Small instances (``ModelSpec.test_kwargs``) keep forward, training and saving
fast; the parameter count is checked on the default configuration.
"""
import keras
import numpy as np
import pytest

from conftest import random_batch, to_numpy
from keras_dlbasic import get_model, list_models, model_info

MODELS = list_models()


def small_model(name):
    return get_model(name, **model_info(name).test_kwargs)


@pytest.mark.parametrize("name", MODELS)
def test_parameter_count_matches_reference(name):
    assert get_model(name).count_params() == model_info(name).reference_params


@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_and_finite(name):
    model = small_model(name)
    x, _ = random_batch(model, batch=3)
    y = to_numpy(model(x, training=False))
    assert y.shape == (3, *model.output_shape[1:])
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("name", MODELS)
def test_one_training_step_lowers_loss(name):
    model = small_model(name)
    x, y = random_batch(model, batch=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    model.train_on_batch(x, y)
    assert model.evaluate(x, y, verbose=0) < before


@pytest.mark.parametrize("name", MODELS)
def test_config_round_trip(name):
    model = small_model(name)
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x, _ = random_batch(model)
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(model(x)), atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_keras_file_round_trip(name, tmp_path):
    model = small_model(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    x, _ = random_batch(model)
    np.testing.assert_array_equal(to_numpy(reloaded(x)), to_numpy(model(x)))
