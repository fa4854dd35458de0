"""Checks every registered model: parametrized over the registry.

The reference figures (parameters, MACs) are checked on every model's default
configuration, built without drawing weights. Small instances (``conftest.SMALL``), built
once per model, keep forward, training and saving fast on every backend.
"""

import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, list_models, load_model, model_info
from keras_dlbasic.accounting import model_stats
from keras_dlbasic.adversarial import AdversarialModel
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.registry import shapes_only
from keras_dlbasic.tasks import get_task

from conftest import DEPTH_VARIANTS, predict, random_batch, small_model, to_numpy

MODELS = list_models()


# torchvision's GFLOPS (multiply-adds) are rounded to three decimals (0.714 for AlexNet:
# up to 0.07%); our counts agree to 0.03%. Hand counts are exact.
PUBLISHED_ROUNDING = 1e-3


@pytest.mark.parametrize("name", MODELS)
def test_reference_figures(name):
    """The spec's parameter count (``<family>_specs.py``), exactly, and its MACs where a
    figure is published, on the default configuration."""
    spec = model_info(name)
    with shapes_only():
        model = get_model(name)
    assert model.count_params() == spec.reference_params
    if spec.reference_macs:
        macs = model_stats(model).macs
        exact = spec.macs_source.startswith("hand count")
        assert macs == (spec.reference_macs if exact
                        else pytest.approx(spec.reference_macs, rel=PUBLISHED_ROUNDING))


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


@pytest.mark.parametrize("name", sorted(DEPTH_VARIANTS))
def test_a_depth_variant_has_its_representatives_blocks(name):
    """A depth variant's small instance is its representative's with more of the same
    layers: the same builder, the same kinds of layer, the same output; more layers."""
    variant, representative = small_model(name), small_model(DEPTH_VARIANTS[name])
    assert model_info(name).builder.split(":")[0] == model_info(DEPTH_VARIANTS[name]).builder.split(":")[0]

    def kinds(model):
        return {type(layer) for layer in model._flatten_layers(include_self=False)}

    assert kinds(variant) == kinds(representative)
    assert len(variant.layers) > len(representative.layers)
    assert variant.output_shape == representative.output_shape


@pytest.mark.parametrize("name", MODELS)
def test_forward_reload_and_training_steps(name, tmp_path):
    """Finite outputs of the right shape; the reloaded ``.keras`` file (its config rebuilt,
    its weights loaded) gives the same outputs; three Adam steps of the reloaded model
    lower its task's loss (but for a depth variant: its representative's steps stand for
    it, ``conftest.DEPTH_VARIANTS``). One test, so each model is built, saved and compiled
    once per backend (on JAX every new model's first call compiles; the reloaded one hits
    the cache).

    Each loss is the training-mode loss before that step's update, at the recipe's
    learning rate on one fixed batch, so batch norm behaves the same way in all three;
    dropout is switched off so that only the updates change the loss.
    """
    model = small_model(name)
    x, labels = random_batch(model, batch=3)
    y = predict(model, x)
    # One output (a GAN: its generator's), or a dict of them (the two-stage detectors').
    outputs, shapes = ((y, {k: t.shape for k, t in model.output.items()}) if isinstance(y, dict)
                       else ({"": y}, {"": getattr(model, "generator", model).output_shape}))
    for key, output in outputs.items():
        assert output.shape[0] == 3 and len(output.shape) == len(shapes[key])
        assert all(d in (None, e) for d, e in zip(shapes[key][1:], output.shape[1:]))
        assert np.all(np.isfinite(output))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = load_model(path)
    for expected, output in zip(keras.tree.flatten(y), keras.tree.flatten(predict(reloaded, x))):
        np.testing.assert_array_equal(output, expected)
    if name in DEPTH_VARIANTS:
        return

    for layer in reloaded._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    x, y = random_batch(reloaded, batch=4)
    lr = model_info(name).recipe.lr
    if isinstance(reloaded, AdversarialModel):  # two players: each one's weights move
        reloaded.compile(optimizer=keras.optimizers.Adam(lr))
        # What the model trains on: images (a GAN's own, any will do; an AAE's binary ones).
        images = predict(reloaded, x) if hasattr(reloaded, "noise") else x
        before = [to_numpy(v).copy() for v in reloaded.trainable_variables]
        logs = reloaded.train_on_batch(images, return_dict=True)
        assert all(np.isfinite(float(logs[k])) for k in ("d_loss", "g_loss"))
        discriminator, generator = reloaded.player_variables()
        moved = {id(v) for v, old in zip(reloaded.trainable_variables, before)
                 if not np.array_equal(to_numpy(v), old)}
        assert all(id(v) in moved for v in discriminator + generator)
        return
    # One-off steps: TensorFlow runs them faster eagerly than after tracing a graph;
    # JAX outside jit dispatches op by op and is several times slower than jit.
    # The task's loss (a detector's is its own compute_loss).
    loss = get_task(model_info(name).tasks[0]).compile_kwargs(reloaded).get("loss")
    reloaded.compile(optimizer=keras.optimizers.Adam(lr), loss=loss,
                     run_eagerly=keras.backend.backend() != "jax")
    losses = [float(reloaded.train_on_batch(x, y, return_dict=True)["loss"]) for _ in range(3)]
    assert losses[-1] < losses[0]
