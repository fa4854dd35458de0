"""Checks every registered model: parametrized over the registry.

The parameter count is checked on every model's default configuration, built
without drawing weights. Small instances (``conftest.SMALL``), built
once per model, keep forward, training and saving fast on every backend.
"""
import functools

import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, list_models, load_model, model_info
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.registry import shapes_only

from conftest import predict, random_batch, small_kwargs

MODELS = list_models()


@functools.lru_cache(maxsize=None)
def small_model(name):
    """The model's small test instance, shared by the tests of this file."""
    keras.utils.set_random_seed(0)
    return get_model(name, **small_kwargs(name))


def copy_of(model):
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


@pytest.mark.parametrize("name", MODELS)
def test_parameter_count_matches_reference(name):
    with shapes_only():
        model = get_model(name)
    assert model.count_params() == model_info(name).reference_params


@pytest.mark.parametrize("name", [n for n in MODELS if model_info(n).min_input_size])
def test_min_input_size_is_the_builders_limit(name):
    """The trainer resizes small images up to ``min_input_size``: at that size the last
    feature map is 1x1, and one pixel less is refused with a one-line error."""
    size = model_info(name).min_input_size
    with shapes_only():
        features = get_model(name, input_shape=(size, size, 3), include_top=False)
        assert features.output_shape[1:3] == (1, 1)
        with pytest.raises(ModelArgumentError, match=f"at least {size}x{size}"):
            get_model(name, input_shape=(size - 1, size - 1, 3))


@pytest.mark.parametrize(
    "name", [n for n in MODELS if n.startswith(("resnet", "plain", "densenet")) or n.endswith("_bn")]
)
def test_batch_norm_uses_pytorch_defaults(name):
    """Momentum 0.9 (PyTorch's 0.1) and epsilon 1e-5, as in the reference implementations."""
    norms = [l for l in small_model(name)._flatten_layers()
             if isinstance(l, keras.layers.BatchNormalization)]
    assert norms and all(l.momentum == 0.9 and l.epsilon == 1e-5 for l in norms)


@pytest.mark.parametrize("name", MODELS)
def test_forward_and_round_trips(name, tmp_path):
    """Finite outputs of the right shape; a model rebuilt from its config (same weights)
    and a reloaded ``.keras`` file give the same outputs. One test, so the original's
    outputs are computed once (on JAX each call of a new model compiles)."""
    model = small_model(name)
    x, labels = random_batch(model, batch=3)
    y = predict(model, x)
    assert y.shape == (*labels.shape, model.output_shape[-1])
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(predict(copy_of(model), x), y, atol=1e-6)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    np.testing.assert_array_equal(predict(load_model(path), x), y)


@pytest.mark.parametrize("name", MODELS)
def test_training_steps_lower_the_loss(name):
    """Three Adam steps at the recipe's learning rate on one fixed batch lower the loss.

    Each loss is the training-mode loss before that step's update, so batch
    norm behaves the same way in all three; dropout is switched off so that
    only the updates change the loss. A copy trains, so the shared
    ``small_model`` keeps its weights whatever order the tests run in.
    """
    model = copy_of(small_model(name))
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    x, y = random_batch(model, batch=8)
    lr = model_info(name).recipe.lr
    # One-off steps: TensorFlow runs them faster eagerly than after tracing a graph;
    # JAX outside jit dispatches op by op and is several times slower than jit.
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  run_eagerly=keras.backend.backend() != "jax")
    losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    assert losses[-1] < losses[0]
