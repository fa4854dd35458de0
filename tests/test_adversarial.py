"""Two-player training (keras_dlbasic.adversarial) on a tiny GAN defined here.

The GAN learns a 2-D Gaussian: a generator from noise to 2 numbers and a
discriminator from 2 numbers to a logit, with the non-saturating GAN losses.
Its linear 1-D variant (``units=0``) is small enough to update by hand.
"""
import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_dlbasic import training
from keras_dlbasic.adversarial import AdversarialModel, OptimizerPair
from keras_dlbasic.io import read_csv

MEAN = np.array([2.0, -1.0])  # of the data the GAN learns


@pytest.fixture(autouse=True)
def one_torch_thread():
    """PyTorch runs these tiny networks op by op: on a busy 2-core machine, handing each
    op to a second thread costs more than the op (a step takes 10x longer)."""
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@keras.saving.register_keras_serializable(package="keras_dlbasic_tests")
class TinyGAN(AdversarialModel):
    """Goodfellow et al.'s GAN with the non-saturating generator loss."""

    def __init__(self, discriminator, generator, latent_dim, **kwargs):
        super().__init__(discriminator, generator, **kwargs)
        self.latent_dim = latent_dim
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def noise(self, x):
        return keras.random.normal((ops.shape(x)[0], self.latent_dim), seed=self.seed_generator)

    def discriminator_loss(self, x, y=None, training=False):
        real = self.discriminator(x, training=training)
        samples = ops.stop_gradient(self.generator(self.noise(x), training=training))  # D's loss only
        fake = self.discriminator(samples, training=training)
        return self.bce(ops.ones_like(real), real) + self.bce(ops.zeros_like(fake), fake)

    def generator_loss(self, x, y=None, training=False):
        fake = self.discriminator(self.generator(self.noise(x), training=training), training=training)
        return self.bce(ops.ones_like(fake), fake)  # -log D(G(z))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


def tiny_gan(input_shape=(2,), latent_dim=2, units=16, seed=0):
    """Players with one hidden layer of ``units`` leaky ReLUs (``units=0``: linear)."""
    def player(inputs, outputs, name):
        hidden = [keras.layers.Dense(units, activation="leaky_relu")] if units else []
        return keras.Sequential([keras.Input(shape=inputs), *hidden, keras.layers.Dense(outputs)],
                                name=name)

    return TinyGAN(player(input_shape, 1, "discriminator"),
                   player((latent_dim,), input_shape[0], "generator"), latent_dim, seed=seed)


def gaussian(n, seed=0):
    rng = np.random.default_rng(seed)
    return (MEAN + 0.5 * rng.standard_normal((n, 2))).astype("float32")


def numbers(variables):
    """Variables (or tensors) as float64 numpy arrays."""
    return [np.array(keras.ops.convert_to_numpy(v), dtype="float64") for v in variables]


def state_of(model):
    """Weights, both optimizers' variables and the noise generator's state."""
    return numbers([*model.weights, *model.optimizer.variables, model.seed_generator.state])


# --- (a) one step, by hand ---------------------------------------------------------------


def softplus(t):
    return np.logaddexp(0.0, t)


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def test_one_step_moves_discriminator_then_generator_against_the_updated_discriminator():
    """Linear players D(x) = w x + c and G(z) = a z + b, SGD: the step is computed here,
    with the noise the model draws (its SeedGenerator's first two draws)."""
    gan = tiny_gan(input_shape=(1,), latent_dim=1, units=0, seed=3)
    lr_d, lr_g = 0.5, 0.2
    gan.compile(optimizer=OptimizerPair(keras.optimizers.SGD(lr_d), keras.optimizers.SGD(lr_g)))
    x = np.linspace(1.0, 3.0, 8, dtype="float32")[:, None]
    (w, c), (a, b) = ([float(np.ravel(p)[0]) for p in numbers(m.weights)]
                      for m in (gan.discriminator, gan.generator))
    noise = keras.random.SeedGenerator(3)
    z, z2 = (numbers([keras.random.normal((8, 1), seed=noise)])[0] for _ in range(2))

    logs = gan.train_on_batch(x, return_dict=True)

    # Discriminator: d_loss = mean softplus(-D(x)) + mean softplus(D(G(z))).
    real, fake = w * x + c, w * (a * z + b) + c
    d_loss = softplus(-real).mean() + softplus(fake).mean()
    w1 = w - lr_d * ((-sigmoid(-real) * x).mean() + (sigmoid(fake) * (a * z + b)).mean())
    c1 = c - lr_d * ((-sigmoid(-real)).mean() + sigmoid(fake).mean())

    # Generator: g_loss = mean softplus(-D'(G(z2))), D' the discriminator just updated.
    def generator_step(w, c):
        fake = w * (a * z2 + b) + c
        return (softplus(-fake).mean(), a - lr_g * (-sigmoid(-fake) * w * z2).mean(),
                b - lr_g * (-sigmoid(-fake) * w).mean())

    g_loss, a1, b1 = generator_step(w1, c1)
    assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(g_loss, rel=1e-5)
    np.testing.assert_allclose(np.concatenate(numbers(gan.discriminator.weights), axis=None), [w1, c1],
                               rtol=1e-5)
    np.testing.assert_allclose(np.concatenate(numbers(gan.generator.weights), axis=None), [a1, b1],
                               rtol=1e-5)
    stale = generator_step(w, c)[1:]  # against the discriminator before its update
    assert not np.allclose(stale, [a1, b1], rtol=1e-3)

    gan.train_on_batch(x)
    pair = gan.optimizer
    assert [int(pair.discriminator_optimizer.iterations), int(pair.generator_optimizer.iterations),
            int(pair.iterations)] == [2, 2, 2]


# --- (b) it learns ------------------------------------------------------------------------


def test_generator_moves_its_samples_to_the_data_mean():
    """240 steps; the discriminator learns 5x faster than the generator (Heusel et al.'s two
    time scales) and both rates decay to 0, so the sample mean settles instead of circling."""
    def adam(lr):
        return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, 240), beta_1=0.5)

    gan = tiny_gan(seed=0)
    gan.compile(optimizer=OptimizerPair(adam(1e-2), adam(2e-3)))
    z = np.random.default_rng(1).standard_normal((1000, 2)).astype("float32")

    def distance():
        samples = keras.ops.convert_to_numpy(gan.generator(z))
        return float(np.linalg.norm(samples.mean(axis=0) - MEAN))

    before = distance()
    history = gan.fit(gaussian(256), batch_size=64, epochs=60, verbose=0).history
    assert set(history) == {"d_loss", "g_loss"}
    assert distance() < 0.3 * before, (before, distance())  # about 2 -> under 0.6 (data spread 0.5)


# --- (c) saving -----------------------------------------------------------------------------


def trainer_style_reload(path):
    """As ``training.resume`` reloads: the model alone, a fresh compile, then the state
    (the learning rates too: they are optimizer variables, so 1.0 here is overwritten)."""
    model = keras.saving.load_model(path, compile=False)
    model.compile(optimizer=keras.optimizers.Adam(1.0, beta_1=0.5))
    model.optimizer.build(model.trainable_variables)
    model.load_weights(path)
    return model


def test_saved_gan_reloads_both_optimizers_and_trains_on_identically(tmp_path):
    """``load_model`` and the trainer's resume route both restore the weights, both Adams'
    moments, step counts and learning rates, and the noise state: training goes on as if
    never interrupted."""
    x = gaussian(64)
    gan = tiny_gan(seed=0)
    gan.compile(optimizer=OptimizerPair(keras.optimizers.Adam(1e-2, beta_1=0.5),
                                        keras.optimizers.Adam(2e-3, beta_1=0.5)))
    gan.fit(x, batch_size=16, epochs=1, shuffle=False, verbose=0)
    gan.save(tmp_path / "gan.keras")
    reloaded = [keras.saving.load_model(tmp_path / "gan.keras"), trainer_style_reload(tmp_path / "gan.keras")]
    for again in reloaded:
        assert isinstance(again, TinyGAN) and isinstance(again.optimizer, OptimizerPair)
        for saved, restored in zip(state_of(gan), state_of(again), strict=True):
            np.testing.assert_array_equal(saved, restored)
        pair = again.optimizer
        assert [float(pair.discriminator_optimizer.learning_rate),
                float(pair.generator_optimizer.learning_rate)] == pytest.approx([1e-2, 2e-3])
        assert int(pair.generator_optimizer.iterations) == 4

    histories = [model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0).history
                 for model in [gan, *reloaded]]
    for history in histories[1:]:
        for key in ("d_loss", "g_loss"):
            assert history[key] == pytest.approx(histories[0][key], rel=1e-6)
    for again in reloaded:
        for trained, retrained in zip(state_of(gan), state_of(again), strict=True):
            np.testing.assert_allclose(trained, retrained, rtol=1e-5, atol=1e-7)


def test_the_pair_names_public_optimizer_classes():
    """A file saved on any backend names ``keras.optimizers`` classes, not the backend's own
    subclasses (on PyTorch Keras would write its torch Adam, which JAX cannot run)."""
    pair = OptimizerPair(keras.optimizers.Adam(1e-2), keras.optimizers.SGD(1e-3, momentum=0.9))
    config = pair.get_config()
    assert [config[k]["module"] for k in ("discriminator_optimizer", "generator_optimizer")] == \
        ["keras.optimizers", "keras.optimizers"]
    clone = OptimizerPair.from_config(config)
    assert type(clone.generator_optimizer).__name__ == "SGD"
    assert clone.generator_optimizer.momentum == 0.9


# --- (d) through the project's trainer ------------------------------------------------------


@pytest.fixture
def registries(monkeypatch):
    """Registrations go into copies of the registries, which monkeypatch puts back."""
    from keras_dlbasic import data, registry, tasks

    monkeypatch.setattr(tasks, "_TASKS", dict(tasks._TASKS))
    monkeypatch.setattr(data, "DATASETS", dict(data.DATASETS))
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))


def load_gaussian(name, data_dir=None):
    from keras_dlbasic.data import Splits

    return Splits(name, gaussian(192, 0), None, gaussian(64, 1), None, gaussian(64, 2), None,
                  num_classes=0, kind="two_player")


@pytest.fixture
def gan_spec(registries):
    """A task, a dataset and a model registered from outside the package."""
    from keras_dlbasic.data import DatasetSpec, register_dataset
    from keras_dlbasic.recipe import Recipe
    from keras_dlbasic.registry import ModelSpec, Paper, register_model
    from keras_dlbasic.tasks import register_task
    from keras_dlbasic.tasks.base import Task

    class TwoPlayer(Task):
        # The best epoch is the one whose discriminator is most fooled.
        monitor = ("val_d_loss", "max")

    register_task("two_player", TwoPlayer)
    register_dataset(DatasetSpec("gaussian_2d", "2-D Gaussian samples", "synthetic", load_gaussian,
                                 (2,), 0, "192 / 64 / 64", kind="two_player"))
    return register_model(ModelSpec(
        "tiny_gan", "test_adversarial:tiny_gan", chapter=6, tasks=("two_player",), inputs="vector",
        paper=Paper("Generative Adversarial Nets", "Goodfellow et al.", 2014,
                    "https://arxiv.org/abs/1406.2661"),
        input_shape=(2,), dataset="gaussian_2d", full_dataset=None, reference_params=147,
        params_source="2-16-1 discriminator, 2-16-2 generator",
        recipe=Recipe(epochs=2, batch_size=32, lr=5e-3)))


def test_a_gan_trains_and_resumes_through_the_trainer(tmp_path, gan_spec):
    """The trainer, its run directory, checkpoints and resume are unchanged."""
    spec = gan_spec
    run = tmp_path / "run"
    training.train(training.resolve_config("tiny_gan"), run, verbose=0)
    first = read_csv(run / "history.csv")
    metrics = training.resume(run, epochs=3, verbose=0)
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1, 2] and history[:2] == first
    assert {"d_loss", "g_loss", "val_d_loss", "val_g_loss"} <= set(history[0])
    assert {"test_d_loss", "test_g_loss"} <= set(metrics) and metrics["params"] == spec.reference_params
    assert metrics["best_epoch"] == 1 + max(range(3), key=lambda i: history[i]["val_d_loss"])
    assert {"last.keras", "best.keras", "curves.png"} <= {p.name for p in run.iterdir()}
    pair = keras.saving.load_model(run / "last.keras").optimizer
    steps = 3 * math.ceil(192 / 32)  # the counts go on after resume, not from 0
    assert [int(pair.discriminator_optimizer.iterations),
            int(pair.generator_optimizer.iterations)] == [steps, steps]
    # The chapter scripts' way in: a finished run is only re-evaluated, and its curve
    # holds both players' losses.
    from keras_dlbasic.chapters.runs import train_or_resume

    curve = train_or_resume(training.resolve_config("tiny_gan", epochs=3), run)
    assert curve.losses == {name: [row[name] for row in history] for name in ("d_loss", "g_loss")}


def test_a_diverging_gan_stops_the_run(tmp_path, gan_spec, monkeypatch):
    """The trainer watches every loss a model logs: a NaN d_loss stops the run. The loss
    itself is made NaN, which no kernel library can round away (NaN data need not give
    a NaN loss: oneDNN's traced max pooling ranks NaN below every number)."""
    from keras_dlbasic.errors import TrainingDivergedError

    loss = TinyGAN.discriminator_loss
    monkeypatch.setattr(TinyGAN, "discriminator_loss",
                        lambda self, x, y=None, training=False: loss(self, x, y, training) * np.nan)
    with pytest.raises(TrainingDivergedError, match="d_loss became nan at epoch 1, step 1"):
        training.train(training.resolve_config("tiny_gan"), tmp_path / "run", verbose=0)
