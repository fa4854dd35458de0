"""Checks every registered model: parametrized over the registry.

The parameter count is checked on every model's default configuration, built
without drawing weights. Small instances (``ModelSpec.test_kwargs``), built
once per model, keep forward, training and saving fast. On JAX those run for
one model per family (``FAMILIES``): JAX compiles every new network, and the
whole zoo would take most of an hour on a 2-core CPU; the variants differ
from their family's model only in depth and width integers.
"""
import functools

import keras
import numpy as np
import pytest

from conftest import FAMILIES, predict, random_batch
from keras_dlbasic import get_model, list_models, load_model, model_info
from keras_dlbasic.registry import shapes_only

MODELS = list_models()
ZOO = FAMILIES if keras.backend.backend() == "jax" else MODELS


@functools.lru_cache(maxsize=None)
def small_model(name):
    """The model's small test instance, shared by the tests of this file."""
    keras.utils.set_random_seed(0)
    return get_model(name, **model_info(name).test_kwargs)


@pytest.mark.parametrize("name", MODELS)
def test_parameter_count_matches_reference(name):
    with shapes_only():
        model = get_model(name)
    assert model.count_params() == model_info(name).reference_params


@pytest.mark.parametrize("name", ZOO)
def test_forward_shape_and_finite(name):
    model = small_model(name)
    x, labels = random_batch(model, batch=3)
    y = predict(model, x)
    assert y.shape == (*labels.shape, model.output_shape[-1])
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("name", ZOO)
def test_config_round_trip(name):
    model = small_model(name)
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x, _ = random_batch(model)
    np.testing.assert_allclose(predict(clone, x), predict(model, x), atol=1e-6)


@pytest.mark.parametrize("name", ZOO)
def test_keras_file_round_trip(name, tmp_path):
    model = small_model(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = load_model(path)
    x, _ = random_batch(model)
    np.testing.assert_array_equal(predict(reloaded, x), predict(model, x))


@pytest.mark.parametrize("name", ZOO)
def test_training_steps_lower_the_loss(name):
    """Three Adam steps at the recipe's learning rate on one fixed batch lower the loss.

    Each loss is the training-mode loss before that step's update, so batch
    norm behaves the same way in all three; dropout is switched off so that
    only the updates change the loss. Runs after the tests that share
    ``small_model``, since it changes the weights.
    """
    model = small_model(name)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    x, y = random_batch(model, batch=8)
    lr = model_info(name).recipe.get("lr", 1e-3)
    # One-off steps: TensorFlow runs them faster eagerly than after tracing a graph;
    # JAX outside jit dispatches op by op and is several times slower than jit.
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  run_eagerly=keras.backend.backend() != "jax")
    losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    assert losses[-1] < losses[0]
