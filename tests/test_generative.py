"""Chapter 6: counting a distribution's parameters, the masked layers, NADE and PixelCNN
(exact, normalised likelihoods), the autoencoder and the VAE, sample-quality scores,
the density task end to end and ``dlbasic sample``; the adversarial autoencoder; the GAN
through the generation task; the exports of the VAE's decoder and the GAN's generator."""
import itertools
import math

import keras
import numpy as np
import pytest

from keras_dlbasic import get_model
from keras_dlbasic.accounting import distribution_params
from keras_dlbasic.export import VIA_KERAS_FILE
from keras_dlbasic.layers import MaskedConv2D, NADEConditionals
from keras_dlbasic.layers.masked import raster_mask
from keras_dlbasic.metrics.generative import frechet_distance, sample_quality
from keras_dlbasic.models.vae import ReparameterizedSample
from keras_dlbasic.tasks.generative import binarize, independent_nll

from conftest import small_kwargs, to_numpy
from layer_testing import run_layer_test


# --- counting --------------------------------------------------------------------------
def test_distribution_params_counts():
    assert distribution_params(3, 256) == 256 ** 3 - 1 == 16_777_215  # one RGB pixel
    for n in (1, 2, 5, 784):
        assert distribution_params(n) == 2 ** n - 1
        assert distribution_params(n, structure="independent") == n
        assert distribution_params(n, structure="markov") == 2 * n - 1
    assert distribution_params(784) == int("1" * 784, 2)  # exact, not a float
    # k values: the chain rule's factors p(x_i | x_<i) hold k^(i-1)·(k-1) parameters each.
    assert distribution_params(4, 3) == sum(3 ** i * 2 for i in range(4))
    assert distribution_params(4, 3, "markov") == 2 + 3 * (3 * 2)
    with pytest.raises(ValueError, match="structure must be one of joint, independent, markov"):
        distribution_params(4, structure="tree")
    with pytest.raises(ValueError, match="n_values"):
        distribution_params(4, 1)


# --- masked layers ---------------------------------------------------------------------
def test_raster_masks():
    np.testing.assert_array_equal(raster_mask(3, "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(raster_mask(5, "A")[2], [1, 1, 0, 0, 0])
    assert raster_mask(7, "A").sum() == 24 and raster_mask(7, "B").sum() == 25


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_is_a_conv_with_a_masked_kernel(mask_type):
    """Same outputs as Keras's Conv2D holding kernel · mask, and only earlier pixels (and
    the centre, for B) reach an output pixel."""
    x = np.random.default_rng(0).random((2, 6, 6, 2), np.float32)
    layer = MaskedConv2D(mask_type, 3, 5)
    y = to_numpy(layer(x))
    reference = keras.layers.Conv2D(3, 5, padding="same")
    reference.build(x.shape)
    reference.set_weights([to_numpy(layer.kernel) * raster_mask(5, mask_type)[:, :, None, None],
                           to_numpy(layer.bias)])
    np.testing.assert_allclose(y, to_numpy(reference(x)), atol=1e-5)
    changed = x.copy()
    changed[:, 3, 3] += 1.0
    moved = np.abs(to_numpy(layer(changed)) - y).max(axis=(0, 3)) > 1e-6  # (6, 6)
    order = np.arange(36).reshape(6, 6)
    assert not moved[order < 3 * 6 + 3].any()  # no earlier output sees pixel (3, 3)
    assert moved[3, 3] == (mask_type == "B")


def test_masked_layers_pass_the_layer_checks():
    x = (np.random.default_rng(1).random((2, 5, 5, 1)) < 0.5).astype("float32")
    run_layer_test(MaskedConv2D, {"mask_type": "A", "filters": 4, "kernel_size": 3}, x,
                   expected_output_shape=(2, 5, 5, 4))
    run_layer_test(NADEConditionals, {"hidden": 6}, x.reshape(2, 25),
                   expected_output_shape=(2, 25))
    moments = np.random.default_rng(2).normal(size=(2, 6)).astype("float32")
    run_layer_test(ReparameterizedSample, {"latent_dim": 3}, moments, expected_output_shape=(2, 3),
                   run_training_check=False)


def test_nade_conditionals_match_the_papers_loop():
    """h_i = σ(c + W_<i x_<i), logit_i = b_i + V_i · h_i, pixel by pixel in NumPy."""
    x = (np.random.default_rng(3).random((3, 7)) < 0.5).astype("float32")
    layer = NADEConditionals(4)
    layer.build(x.shape)
    w, c, v, b = (to_numpy(t) for t in (layer.w, layer.c, layer.v, layer.b))
    rng = np.random.default_rng(4)
    c, b = rng.normal(size=c.shape), rng.normal(size=b.shape)
    layer.c.assign(c)
    layer.b.assign(b)
    logits = to_numpy(layer(x))
    expected = np.zeros_like(logits)
    for n, i in itertools.product(range(3), range(7)):
        h = 1 / (1 + np.exp(-(c + x[n, :i] @ w[:i])))
        expected[n, i] = b[i] + v[i] @ h
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


# --- autoregressive models: exact likelihood --------------------------------------------
@pytest.mark.parametrize("name,kwargs", [
    ("nade", {"hidden": 5}),
    ("pixelcnn", {"filters": 3, "blocks": 1, "head_filters": 4}),
])
def test_autoregressive_likelihood_sums_to_one(name, kwargs):
    """Over all 2^6 binary 2x3 images, Σ p(x) = 1: the chain rule holds exactly, which
    needs every conditional to see earlier pixels only. Sampling gives binary images."""
    keras.utils.set_random_seed(0)
    model = get_model(name, input_shape=(2, 3, 1), **kwargs)
    everything = np.array(list(itertools.product([0.0, 1.0], repeat=6)), np.float32)
    log_p = model.log_likelihood(everything.reshape(-1, 2, 3, 1))
    assert math.fsum(np.exp(log_p.astype(np.float64))) == pytest.approx(1.0, abs=1e-5)
    samples = model.sample(5, seed=0)
    assert samples.shape == (5, 2, 3, 1) and set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_array_equal(samples, model.sample(5, seed=0))


def test_nade_samples_from_its_own_distribution():
    """NADE's one-pass sampler draws from p(x): over 4,000 draws of 2x2 images, each
    image's frequency matches exp(log p) (chi-square against the model's own p)."""
    keras.utils.set_random_seed(1)
    model = get_model("nade", input_shape=(2, 2, 1), hidden=3)
    model.get_layer("conditionals").b.assign(np.array([2.0, -1.0, 0.5, -2.0]))
    everything = np.array(list(itertools.product([0.0, 1.0], repeat=4)), np.float32)
    p = np.exp(model.log_likelihood(everything.reshape(-1, 2, 2, 1)).astype(np.float64))
    samples = model.sample(4000, seed=0).reshape(4000, 4)
    index = (samples @ (2 ** np.arange(3, -1, -1))).astype(int)  # the image's row in everything
    observed = np.bincount(index, minlength=16)
    chi2 = np.sum((observed - 4000 * p) ** 2 / (4000 * p))
    assert chi2 < 37.7  # the 99.9% point of chi-square with 15 degrees of freedom


# --- autoencoder and VAE ------------------------------------------------------------------
def test_vae_kl_term_and_sampling():
    """KL(N(μ, σ²) ‖ N(0, 1)) per dimension is ½(μ² + σ² − log σ² − 1): 0.5·μ² at σ = 1."""
    model = get_model("vae", **small_kwargs("vae"))
    x = (np.random.default_rng(5).random((4, 8, 8, 1)) < 0.5).astype("float32")
    moments = np.zeros((4, 4), np.float32)
    moments[:, 0] = 2.0  # μ_0 = 2, log σ² = 0
    moments[:, 3] = math.log(4.0)  # σ_1² = 4
    logits = np.zeros((4, 8, 8, 1), np.float32)
    reconstruction, kl = model.elbo_terms(x, {"logits": logits, "moments": moments})
    np.testing.assert_allclose(to_numpy(kl), 0.5 * 4.0 + 0.5 * (4.0 - math.log(4.0) - 1.0),
                               rtol=1e-6)
    np.testing.assert_allclose(to_numpy(reconstruction), 64 * math.log(2.0), rtol=1e-6)
    scores = model.scores(x, samples=3)
    np.testing.assert_allclose(scores["neg_elbo_nats"],
                               scores["reconstruction_nats"] + scores["kl_nats"], rtol=1e-6)
    samples = model.sample(6, seed=0)
    assert samples.shape == (6, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1


def test_autoencoder_codes_are_standardised():
    """In training the codes of a batch have mean 0 and variance 1 per dimension, the
    moments of the N(0, I) that ``sample`` draws random codes from."""
    model = get_model("autoencoder", **small_kwargs("autoencoder"))
    x = np.random.default_rng(8).random((64, 8, 8, 1)).astype("float32") * 100
    codes = to_numpy(model.encoder(x, training=True))
    assert codes.shape == (64, 2)
    np.testing.assert_allclose(codes.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(codes.var(axis=0), 1.0, atol=1e-2)


# --- scores -------------------------------------------------------------------------------
def test_frechet_distance_hand_cases():
    """1-D Gaussians: (μ_a − μ_b)² + (σ_a − σ_b)²; diagonal covariances add per dimension."""
    rng = np.random.default_rng(6)
    a = rng.normal(size=(4000, 1))
    a = (a - a.mean()) / a.std(ddof=1)  # exactly mean 0, variance 1
    b = 3.0 * a + 2.0  # mean 2, variance 9
    assert frechet_distance(a, b) == pytest.approx(4.0 + (1.0 - 3.0) ** 2, rel=1e-9)
    two = np.concatenate([a, 2.0 * a[::-1]], axis=1)
    assert frechet_distance(two, two + [1.0, 0.0]) == pytest.approx(1.0, rel=1e-9)
    assert frechet_distance(two, two) == pytest.approx(0.0, abs=1e-9)


def test_sample_quality_scores():
    probabilities = np.array([[0.95, 0.05], [0.5, 0.5], [0.05, 0.95], [0.2, 0.8]])
    features = np.random.default_rng(7).normal(size=(4, 3))
    quality = sample_quality(probabilities, features, features)
    assert quality["confident_share"] == 0.5 and quality["class_count"] == 2
    assert quality["frechet_distance"] == pytest.approx(0.0, abs=1e-9)


def test_independent_pixel_baseline_by_hand():
    train = np.array([[1, 0], [1, 1], [0, 0]], np.float32)  # p = (3/5, 2/5), smoothed
    nll = independent_nll(train, np.array([[1, 0]], np.float32))
    assert nll[0] == pytest.approx(-math.log(3 / 5) - math.log(3 / 5))
    np.testing.assert_array_equal(binarize(np.array([0.2, 0.5, 0.9])), [0.0, 1.0, 1.0])


# --- training runs and the CLI --------------------------------------------------------------
def test_density_samples_are_scored_as_binary_images():
    from keras_dlbasic.tasks.generative import DensityEstimation, ImageGeneration

    class Model:  # each pixel's probability, as a Bernoulli decoder gives
        def sample(self, n, seed=0):
            return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")

    probabilities = Model().sample(3, seed=4)
    binary = DensityEstimation().scored_samples(Model(), 3, seed=4)
    np.testing.assert_array_equal(binary, (probabilities >= 0.5).astype("float32"))
    np.testing.assert_array_equal(ImageGeneration().scored_samples(Model(), 3, seed=4), probabilities)


def test_vae_run_scores_samples_resumes_and_samples_from_the_cli(tmp_path, quick_scorer):
    """The density task end to end: binarised digits, the ELBO's two terms logged per
    epoch, test scores and sample quality in metrics.json, resume, then ``dlbasic sample``."""
    from click.testing import CliRunner

    from keras_dlbasic import training
    from keras_dlbasic.cli.main import main
    from keras_dlbasic.io import read_csv, read_json

    config = training.resolve_config("vae", epochs=2, limit=256,
                                     model_kwargs={"hidden": (32,), "latent_dim": 2})
    run = tmp_path / "run"
    training.train(config, run, verbose=0)
    metrics = training.resume(run, epochs=3, verbose=0)
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1, 2]
    assert history[-1]["loss"] < history[0]["loss"]
    for row in history:  # loss = reconstruction + KL, each logged
        assert row["loss"] == pytest.approx(row["reconstruction"] + row["kl"], rel=1e-4)
    assert metrics == read_json(run / "metrics.json")
    assert metrics["test_neg_elbo_nats"] == pytest.approx(
        metrics["test_reconstruction_nats"] + metrics["test_kl_nats"], rel=1e-6)
    assert metrics["test_neg_elbo_nats"] < 784 * math.log(2.0)  # better than coin flips
    assert 0 < metrics["test_independent_nll_nats"] < 784 * math.log(2.0)
    assert {"sample_confident_share", "sample_class_count", "sample_frechet_distance"} <= set(metrics)
    assert (run / "samples.png").read_bytes()[:4] == b"\x89PNG"

    result = CliRunner().invoke(main, ["sample", str(run), "--n", "5", "--out",
                                       str(tmp_path / "grid.png"), "--npz", str(tmp_path / "s.npz")])
    assert result.exit_code == 0, result.output
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    for args, message in ((["sample", str(tmp_path / "nowhere"), "--out", "x.png"], "nowhere"),
                          (["sample", str(run), "--out", "x.png", "--label", "3"],
                           "not class-conditional")):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0 and message in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_nade_learns_the_binarised_digits(tmp_path):
    from keras_dlbasic import training

    config = training.resolve_config("nade", epochs=3, limit=256, model_kwargs={"hidden": 16})
    metrics = training.train(config, tmp_path / "run", verbose=0)
    # Below the uniform model's 784·ln 2 = 543 nats; bits per dimension is the same figure.
    assert metrics["test_nll_nats"] < 784 * math.log(2.0) - 20
    assert metrics["test_bits_per_dim"] == pytest.approx(
        metrics["test_nll_nats"] / (784 * math.log(2.0)))
    assert "sample_confident_share" not in metrics  # sequential sampling: not scored


def test_binarized_mnist_with_mock_data(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    from keras_dlbasic.data import load_dataset
    from keras_dlbasic.data import tfds as tfds_loader

    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("binarized_mnist", data_dir=str(tmp_path))
        x, y = data.arrays("test")
    assert x.shape == (12, 28, 28, 1) and x.dtype == np.float32
    assert set(np.unique(x)) <= {0.0, 1.0} and (y == -1).all()


# --- the adversarial autoencoder -----------------------------------------------------------
def _softplus(x):
    return np.logaddexp(0.0, x)


def test_aae_losses_by_hand():
    """d_loss = -log D(z) - log(1 - D(encoder(x))) with z from the prior; g_loss = the
    Bernoulli reconstruction error in nats per image + w · -log D(encoder(x))."""
    model = get_model("aae", **small_kwargs("aae"))
    x = (np.random.default_rng(9).random((5, 8, 8, 1)) < 0.5).astype("float32")
    z = np.random.default_rng(10).standard_normal((5, 2)).astype("float32")
    model.prior = lambda images: z  # the prior's draw, fixed for the check
    codes = to_numpy(model.encoder(x))
    logits = to_numpy(model.decoder(codes)).reshape(5, -1)
    on_codes, on_prior = (to_numpy(model.discriminator(v))[:, 0] for v in (codes, z))
    flat = x.reshape(5, -1)
    reconstruction = np.mean(np.sum(_softplus(logits) - flat * logits, axis=1))
    d_loss = np.mean(_softplus(-on_prior)) + np.mean(_softplus(on_codes))
    g_loss = reconstruction + model.adversarial_weight * np.mean(_softplus(-on_codes))
    assert float(to_numpy(model.discriminator_loss(x))) == pytest.approx(d_loss, rel=1e-5)
    assert float(to_numpy(model.generator_loss(x))) == pytest.approx(g_loss, rel=1e-5)
    np.testing.assert_allclose(model.scores(x)["reconstruction_nats"],
                               np.sum(_softplus(logits) - flat * logits, axis=1), rtol=1e-5)
    samples = model.sample(4, seed=2)
    assert samples.shape == (4, 8, 8, 1) and 0.0 <= samples.min() and samples.max() <= 1.0
    assert model.exportable() is model.decoder


def test_aae_pulls_its_codes_to_the_prior():
    """Without a prior an autoencoder's codes lie wherever they fall (their means some 20
    away from 0 here); the adversarial loss moves the codes of the training digits
    towards the prior's moments, mean 0 and standard deviation 1 (128 steps: on the way)."""
    from keras_dlbasic.data import load_dataset

    x = binarize(load_dataset("mnist_5k").x_train[:1024])
    codes = {}
    for weight in (1e-6, 10.0):  # (a positive weight is required; 1e-6 is none at all)
        keras.utils.set_random_seed(0)
        model = get_model("aae", latent_dim=2, hidden=(64,), discriminator_hidden=(64, 64),
                          adversarial_weight=weight)
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        model.fit(x, epochs=8, batch_size=64, verbose=0)
        codes[weight] = model.encode(x)
    distance = {w: np.abs(c.mean(0)).sum() + np.abs(c.std(0) - 1.0).sum() for w, c in codes.items()}
    assert distance[10.0] < 0.2 * distance[1e-6], distance


# --- the GAN ------------------------------------------------------------------------------
def test_gan_run_logs_both_losses_saves_a_grid_per_epoch_and_resumes(tmp_path, quick_scorer):
    """The generation task end to end: grey digits, d_loss and g_loss per epoch, the latest
    epoch kept as best, a sample grid per epoch, sample scores, resume of both optimizers."""
    from keras_dlbasic import training
    from keras_dlbasic.io import read_csv

    config = training.resolve_config("dcgan", epochs=1, limit=128, model_kwargs={
        "latent_dim": 8, "filters": 8, "num_classes": None})  # the recipe's is conditional
    run = tmp_path / "run"
    training.train(config, run, verbose=0)
    metrics = training.resume(run, epochs=2, verbose=0)
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1]
    assert {"d_loss", "g_loss", "val_d_loss", "val_g_loss"} <= set(history[0])
    assert metrics["best_epoch"] == 2  # a GAN's losses do not rank its epochs
    assert {"test_d_loss", "test_g_loss", "sample_confident_share", "sample_class_count",
            "sample_frechet_distance"} <= set(metrics)
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    pair = keras.saving.load_model(run / "last.keras").optimizer
    steps = 2 * math.ceil(128 / config.batch_size)
    assert [int(pair.discriminator_optimizer.iterations),
            int(pair.generator_optimizer.iterations)] == [steps, steps]
    images = keras.saving.load_model(run / "last.keras").sample(3, seed=4)
    assert images.shape == (3, 28, 28, 1) and 0.0 <= images.min() and images.max() <= 1.0


def test_gan_players_follow_dcgan():
    """Strided (transposed) convolutions, no pooling; tanh into [0, 1] out of the generator;
    leaky ReLU 0.2 in the discriminator; a fixed noise seed gives the same samples."""
    gan = get_model("gan", **small_kwargs("gan"))
    kinds = {type(layer).__name__ for player in (gan.generator, gan.discriminator)
             for layer in player.layers}
    assert "MaxPooling2D" not in kinds and {"Conv2DTranspose", "Conv2D", "LeakyReLU"} <= kinds
    assert all(l.negative_slope == pytest.approx(0.2) for l in gan.discriminator.layers
               if isinstance(l, keras.layers.LeakyReLU))
    samples = gan.sample(4, seed=1)
    assert samples.shape == (4, 8, 8, 1)
    np.testing.assert_array_equal(samples, gan.sample(4, seed=1))
    assert 0.0 <= samples.min() and samples.max() <= 1.0
    assert gan.exportable() is gan.generator


def test_conditional_gan_players_by_hand(tmp_path):
    """A conditional GAN: the generator takes [z, labels] (the one-hot label concatenated to
    z), and the discriminator's logit is w·φ(x) + b + embed(y)·φ(x) (the projection
    discriminator), by hand; the hand count holds; the losses fall on
    ``{"image", "label"}``; samples cover the classes in turn; the .keras file reloads."""
    from keras_dlbasic.models.gan_specs import dcgan_params

    gan = get_model("gan", input_shape=(8, 8, 1), latent_dim=4, filters=4, num_classes=4)
    assert gan.count_params() == dcgan_params(8, 8, 1, 4, 4, num_classes=4)
    assert gan.count_params() - get_model("gan", **small_kwargs("gan")).count_params() == (
        4 * 2 * 2 * 16 + 4 * 2 * 2 * 8)  # one-hot into the projection; a class embedding
    rng = np.random.default_rng(2)
    images = rng.random((3, 8, 8, 1), dtype=np.float32)
    labels = np.array([0, 1, 3], "int32")
    d = gan.discriminator
    features = to_numpy(keras.Model(d.inputs[0], d.get_layer("flatten").output)(images))
    kernel, bias = (to_numpy(w) for w in d.get_layer("logit").weights)
    embedded = to_numpy(d.get_layer("class_embedding").embeddings)[labels]
    expected = features @ kernel + bias + (embedded * features).sum(-1, keepdims=True)
    np.testing.assert_allclose(to_numpy(d([images, labels])), expected, rtol=1e-4, atol=1e-5)

    default = gan.sample(8, seed=1)
    np.testing.assert_array_equal(default, gan.sample(8, seed=1, labels=np.arange(8) % 4))
    assert not np.array_equal(default, gan.sample(8, seed=1, labels=np.zeros(8)))
    x = {"image": rng.random((32, 8, 8, 1), dtype=np.float32),
         "label": np.arange(32, dtype="int32") % 4}
    gan.compile(optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5))
    first = gan.train_on_batch(x, return_dict=True)
    assert np.isfinite([first["d_loss"], first["g_loss"]]).all()
    gan.save(tmp_path / "cgan.keras")
    reloaded = keras.saving.load_model(tmp_path / "cgan.keras")
    assert reloaded.num_classes == 4
    np.testing.assert_allclose(reloaded.sample(8, seed=1), gan.sample(8, seed=1), atol=1e-5)


def test_conditional_generation_through_the_task(tmp_path, quick_scorer):
    """``dlbasic train gan --model-arg num_classes=10``: the task gives the players the
    digits' labels and the run scores its samples; too few classes for the labels is
    one line, before any run directory appears."""
    from click.testing import CliRunner

    from keras_dlbasic import training
    from keras_dlbasic.cli.main import main
    from keras_dlbasic.errors import DLBasicError

    kwargs = {"latent_dim": 8, "filters": 8, "num_classes": 10}
    run = tmp_path / "run"
    metrics = training.train(training.resolve_config("gan", epochs=1, limit=128,
                                                     model_kwargs=kwargs), run, verbose=0)
    assert metrics["sample_class_count"] >= 1 and (run / "samples.png").is_file()
    assert keras.saving.load_model(run / "best.keras").num_classes == 10
    npz = tmp_path / "sevens.npz"
    result = CliRunner().invoke(main, ["sample", str(run), "--n", "4", "--out",
                                       str(tmp_path / "sevens.png"), "--npz", str(npz),
                                       "--label", "7"])
    assert result.exit_code == 0, result.output
    sevens = keras.saving.load_model(run / "best.keras").sample(4, labels=np.full(4, 7))
    np.testing.assert_allclose(np.load(npz)["images"], sevens, atol=1e-6)
    result = CliRunner().invoke(main, ["sample", str(run), "--out", "x.png", "--label", "10"])
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
    assert "--label must be a class id from 0 to 9; got 10" in result.output
    with pytest.raises(DLBasicError, match="the train labels run from 0 to 9; num_classes=4 "
                                           "is too few"):
        training.train(training.resolve_config("gan", epochs=1, limit=128,
                                               model_kwargs={**kwargs, "num_classes": 4}),
                       tmp_path / "few", verbose=0)
    assert not (tmp_path / "few").exists()


def test_refine_layers_are_stride_one_layers_at_a_quarter_of_the_size():
    """TensorFlow's tutorial generator: each refining layer is a 5x5 transposed convolution
    from 4·filters to 4·filters channels at H/4 (no bias), with its batch norm; the
    recipe's (conditional) GAN has one, as its hand count says."""
    from keras_dlbasic.errors import ModelArgumentError
    from keras_dlbasic.models.gan_specs import dcgan_params
    from keras_dlbasic.registry import model_info

    base = get_model("gan", input_shape=(8, 8, 1), latent_dim=4, filters=4)
    refined = get_model("gan", input_shape=(8, 8, 1), latent_dim=4, filters=4, refine_layers=2)
    assert refined.count_params() - base.count_params() == 2 * (5 * 5 * 16 * 16 + 4 * 16)
    assert refined.generator.get_layer("refine2").output.shape == (None, 2, 2, 16)
    recipe = get_model("gan", **model_info("gan").recipe.model_kwargs)
    assert recipe.count_params() == dcgan_params(28, 28, 1, 100, 32, refine_layers=1,
                                                 num_classes=10) == 1_325_538
    with pytest.raises(ModelArgumentError, match="refine_layers must be a non-negative integer; "
                                                 "got refine_layers=-1"):
        get_model("gan", refine_layers=-1)


# --- exports of the deployed networks -----------------------------------------------------------
NATIVE = [fmt for fmt in ("savedmodel", "onnx") if (keras.backend.backend(), fmt) not in VIA_KERAS_FILE]


@pytest.mark.parametrize("fmt", NATIVE)
@pytest.mark.parametrize("name,network", [("vae", "decoder"), ("aae", "decoder"), ("gan", "generator")])
def test_generative_exports_are_the_deployed_network(name, network, fmt, tmp_path):
    """``export_model`` of a VAE or an AAE exports its decoder (codes -> logits), of a GAN its
    generator (noise -> images), checked against Keras on the same input."""
    from keras_dlbasic.export import export_model, run_artifact, sample_input

    model = get_model(name, **small_kwargs(name))
    report = export_model(model, tmp_path / name, fmt)
    part = getattr(model, network)
    x = sample_input(part, batch=3, seed=7)
    np.testing.assert_allclose(run_artifact(report.path, fmt, x), to_numpy(part(x)), atol=1e-4)
    assert report.max_abs_diff <= 1e-4
