"""``--precision mixed_float16`` and ``mixed_bfloat16`` on every model family.

Under either policy a family's small instance computes in the low precision,
yet its outputs and its loss are float32 (a softmax or a log-likelihood in
float16 loses most of its digits), and one training step, compiled as
``dlbasic train`` compiles it, gives finite losses. Under float16 the loss is
scaled (Keras's ``LossScaleOptimizer``; both players' optimizers in a GAN or
an adversarial autoencoder), so small gradients do not underflow.
"""
import keras
import numpy as np
import pytest

from keras_dlbasic import list_models, load_model, model_info
from keras_dlbasic.adversarial import AdversarialModel
from keras_dlbasic.registry import get_model
from keras_dlbasic.tasks import get_task

from conftest import FAMILIES, predict, random_batch, small_kwargs

# conftest's families, and the two whose training steps are their own (an adversarial
# autoencoder's two players, a diffusion model's noise-prediction loss).
MODELS = [*FAMILIES, "aae", "ddpm"]
POLICIES = ("mixed_float16", "mixed_bfloat16")


def family(name):
    return model_info(name).builder.split(":")[0]


def test_every_family_is_covered():
    assert {family(n) for n in list_models()} == {family(n) for n in MODELS}


def traced(function, *args):
    """``function(*args)``; on JAX traced, not run: op-by-op eager dispatch compiles every
    op of a big model, which takes longer than the jit-compiled step itself."""
    if keras.backend.backend() != "jax":
        return function(*args)
    import jax

    def stateless(*args):
        with keras.StatelessScope():  # random draws and batch-norm updates stay in the trace
            return function(*args)

    return jax.eval_shape(stateless, *args)


def floating_dtypes(tensors):
    dtypes = (keras.backend.standardize_dtype(t.dtype) for t in keras.tree.flatten(tensors))
    return {d for d in dtypes if "float" in d}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", MODELS)
def test_mixed_precision_training_step(name, policy):
    keras.config.set_dtype_policy(policy)  # the autouse fixture restores it
    low = policy.removeprefix("mixed_")
    model = get_model(name, **small_kwargs(name))
    assert any(layer.compute_dtype == low for layer in model._flatten_layers())
    x, y = random_batch(model, batch=4)
    lr = model_info(name).recipe.lr
    # One step: TensorFlow and PyTorch run it eagerly faster than they trace it; JAX's
    # eager dispatch is slower than its jit.
    eager = keras.backend.backend() != "jax"
    if isinstance(model, AdversarialModel):
        model.compile(optimizer=keras.optimizers.Adam(lr), run_eagerly=eager)
        images = predict(model, x) if hasattr(model, "noise") else x  # what it trains on

        def forward(x, images):
            return model(x), [model.discriminator_loss(images, training=True),
                              model.generator_loss(images, training=True)]

        outputs, losses = traced(forward, x, images)  # one trace on JAX for both
        optimizers = [model.optimizer.discriminator_optimizer, model.optimizer.generator_optimizer]
        logs = model.train_on_batch(images, return_dict=True)
    else:
        model.compile(optimizer=keras.optimizers.Adam(lr), run_eagerly=eager,
                      **get_task(model_info(name).tasks[0]).compile_kwargs(model))

        def forward(x, y):
            outputs = model(x, training=True)
            return outputs, model.compute_loss(x, y, outputs)

        outputs, losses = traced(forward, x, y)  # one trace on JAX for both
        optimizers = [model.optimizer]
        logs = model.train_on_batch(x, y, return_dict=True)
    assert floating_dtypes(outputs) == {"float32"}
    assert floating_dtypes(losses) == {"float32"}
    assert all(np.isfinite(float(value)) for value in logs.values()), logs
    scaled = [isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers]
    assert scaled == [policy == "mixed_float16"] * len(optimizers)


def test_a_mixed_float16_gan_reloads_with_both_loss_scales(tmp_path):
    """Each player's ``LossScaleOptimizer``, its scale and its inner Adam's state, come back
    from the ``.keras`` file, and the reloaded model trains on. (A first step whose scaled
    gradients overflow is skipped and halves the scale: that is dynamic loss scaling.)"""
    keras.config.set_dtype_policy("mixed_float16")
    gan = get_model("gan", **small_kwargs("gan"))
    gan.compile(optimizer=keras.optimizers.Adam(1e-3))
    noise, _ = random_batch(gan, batch=4)
    images = predict(gan, noise)
    gan.train_on_batch(images)
    gan.save(tmp_path / "gan.keras")
    reloaded = load_model(tmp_path / "gan.keras")
    for key in ("discriminator_optimizer", "generator_optimizer"):
        original, loaded = getattr(gan.optimizer, key), getattr(reloaded.optimizer, key)
        assert isinstance(loaded, keras.optimizers.LossScaleOptimizer)
        assert len(loaded.variables) == len(original.variables)
        for a, b in zip(original.variables, loaded.variables):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(b), keras.ops.convert_to_numpy(a))
    logs = reloaded.train_on_batch(images, return_dict=True)
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
