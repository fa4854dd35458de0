"""Chapter 6, the DDPM: the noise schedules, the forward process in closed form, one
reverse step (Algorithm 2), the layer checks, learning, saving, sampling, the exact
parameter count and the export of the denoising step."""
import math

import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, model_info
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models.diffusion import (
    ForwardDiffusion,
    Guidance,
    LabelDropout,
    NullLabels,
    RandomTimesteps,
    ReverseStep,
    SinusoidalTimeEmbedding,
    alpha_bars,
    min_snr_weights,
    noise_schedule,
)
from keras_dlbasic.registry import shapes_only

from conftest import small_kwargs, to_numpy
from layer_testing import run_layer_test

TINY = small_kwargs("ddpm")  # 8x8 images, T = 10


@pytest.fixture(scope="module")
def tiny():
    """A tiny DDPM whose output conv is not zero (as initialised), so ε_θ is not 0. Read only."""
    keras.utils.set_random_seed(0)
    model = get_model("ddpm", **TINY)
    kernel = model.denoiser.get_layer("noise").kernel
    kernel.assign(np.random.default_rng(0).normal(0.0, 0.3, kernel.shape).astype("float32"))
    return model


def _images(n, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


# --- schedules ------------------------------------------------------------------------------
def test_noise_schedules():
    betas = noise_schedule(1000, "linear")  # Ho et al.: 1e-4 to 0.02, linear
    assert betas.shape == (1000,) and betas.dtype == np.float64
    assert betas[0] == pytest.approx(1e-4) and betas[-1] == pytest.approx(0.02)
    np.testing.assert_allclose(np.diff(betas), (0.02 - 1e-4) / 999)
    bars = alpha_bars(betas)
    np.testing.assert_allclose(bars, np.cumprod(1.0 - betas))
    assert bars[-1] == pytest.approx(4.04e-5, rel=1e-2)  # x_T is almost pure noise
    # Scaled by 1000 / T: the same end points x 10 at T = 100, and ᾱ_T still near 0.
    short = noise_schedule(100, "linear")
    assert short[0] == pytest.approx(1e-3) and short[-1] == pytest.approx(0.2)
    assert alpha_bars(short)[-1] < 1e-4
    # Cosine (Nichol & Dhariwal eq. 17) at the paper's t = 500 of 1000, by hand.
    f = [math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 for t in (0, 500)]
    cosine = noise_schedule(1000, "cosine")
    assert alpha_bars(cosine)[499] == pytest.approx(f[1] / f[0], rel=1e-9)
    assert cosine.max() == pytest.approx(0.999) and cosine.min() > 0  # clipped at the end
    with pytest.raises(ModelArgumentError, match="schedule must be one of linear, cosine"):
        noise_schedule(10, "quadratic")


# --- layers ---------------------------------------------------------------------------------
def test_time_embedding_is_the_transformer_sinusoids():
    t = np.array([0, 1, 7, 999], "int32")
    embedding = to_numpy(SinusoidalTimeEmbedding(8)(t))
    omega = 10000.0 ** (-np.arange(4) / 3)
    angles = t[:, None] * omega[None]
    np.testing.assert_allclose(embedding, np.concatenate([np.sin(angles), np.cos(angles)], 1),
                               atol=1e-4)
    with pytest.raises(ModelArgumentError, match="dim must be an even integer"):
        SinusoidalTimeEmbedding(7)


def test_diffusion_layers_pass_the_layer_checks():
    t = np.array([0, 3, 9, 5], "int32")
    x = np.random.default_rng(1).uniform(-1, 1, (4, 4, 4, 2)).astype("float32")
    z = np.random.default_rng(2).normal(size=x.shape).astype("float32")
    run_layer_test(SinusoidalTimeEmbedding, {"dim": 6}, np.array([0, 5, 99, 999], "int32"),
                   expected_output_shape=(4, 6), run_training_check=False)
    run_layer_test(RandomTimesteps, {"timesteps": 10, "seed": 1}, x,
                   expected_output_shape=(4,), expected_output_dtype="int32",
                   run_training_check=False)
    run_layer_test(ForwardDiffusion, {"timesteps": 10, "schedule": "cosine", "seed": 2}, [x, t],
                   expected_output_shape=[x.shape, x.shape],
                   expected_output_dtype=[None, "float32"],  # ε, the loss's target: float32
                   run_training_check=False)
    run_layer_test(ReverseStep, {"timesteps": 10, "variance": "posterior"}, [x, t, z, 0.5 * z],
                   expected_output_shape=x.shape, run_training_check=False)
    run_layer_test(LabelDropout, {"num_classes": 10, "rate": 0.5, "seed": 1}, t,
                   expected_output_shape=(4,), expected_output_dtype="int32",
                   run_training_check=False)
    run_layer_test(NullLabels, {"num_classes": 10}, t, expected_output_shape=(4,),
                   expected_output_dtype="int32", run_training_check=False)
    run_layer_test(Guidance, {"scale": 1.5}, [x, z], expected_output_shape=x.shape,
                   run_training_check=False)


def test_classifier_free_guidance_layers():
    """Label dropout: in training about ``rate`` of the labels become "no label"
    (``num_classes``), the rest pass, and at inference all pass; guidance is
    (1 + w) ε_c − w ε_u by hand."""
    labels = np.arange(2000, dtype="int32") % 10
    dropout = LabelDropout(10, rate=0.25, seed=3)
    np.testing.assert_array_equal(to_numpy(dropout(labels)), labels)
    dropped = to_numpy(dropout(labels, training=True))
    changed = dropped != labels
    assert np.all(dropped[changed] == 10) and 0.2 < changed.mean() < 0.3
    np.testing.assert_array_equal(to_numpy(NullLabels(10)(labels[:3])), [10, 10, 10])
    rng = np.random.default_rng(6)
    conditional, unconditional = rng.normal(size=(2, 3, 4, 4, 1)).astype("float32")
    np.testing.assert_allclose(to_numpy(Guidance(2.0)([conditional, unconditional])),
                               3.0 * conditional - 2.0 * unconditional, atol=1e-6)


def test_forward_process_is_the_closed_form():
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, from the layer's own ε and t, in NumPy; training draws
    change from call to call, inference draws are fixed; t covers 0..T−1."""
    x0 = np.random.default_rng(3).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    t = np.array([0, 4, 9], "int32")
    layer = ForwardDiffusion(10, "linear", seed=3)
    x_t, noise = (to_numpy(v) for v in layer([x0, t], training=True))
    bars = alpha_bars(noise_schedule(10, "linear"))[t][:, None, None, None]
    np.testing.assert_allclose(x_t, np.sqrt(bars) * x0 + np.sqrt(1 - bars) * noise, atol=1e-6)
    assert 0.7 < noise.std() < 1.3
    assert not np.array_equal(to_numpy(layer([x0, t], training=True)[1]), noise)
    np.testing.assert_array_equal(to_numpy(layer([x0, t])[1]), to_numpy(layer([x0, t])[1]))

    draw = RandomTimesteps(10, seed=4)
    steps = to_numpy(draw(np.zeros((2000, 1), "float32"), training=True))
    assert steps.dtype == np.int32 and set(np.unique(steps)) == set(range(10))
    assert not np.array_equal(to_numpy(draw(np.zeros((2000, 1)), training=True)), steps)


def test_reverse_step_is_algorithm_2(tiny):
    """x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z, σ_t² = β_t, against
    NumPy with the denoiser's own ε_θ; at t = 0 z has no effect."""
    rng = np.random.default_rng(5)
    x_t = rng.normal(size=(4, 8, 8, 1)).astype("float32")
    z = rng.normal(size=x_t.shape).astype("float32")
    t = np.array([9, 5, 1, 0], "int32")
    eps = to_numpy(tiny.denoiser([x_t, t]))
    assert np.abs(eps).mean() > 0.01
    step = tiny.denoising_step()
    assert step is tiny.exportable() and [i.shape[1:] for i in step.inputs] == [
        (8, 8, 1), (), (8, 8, 1)]
    beta = noise_schedule(10)[t][:, None, None, None]
    bar = alpha_bars(noise_schedule(10))[t][:, None, None, None]
    sigma = np.where(t[:, None, None, None] > 0, np.sqrt(beta), 0.0)
    expected = (x_t - beta / np.sqrt(1 - bar) * eps) / np.sqrt(1 - beta) + sigma * z
    np.testing.assert_allclose(to_numpy(step([x_t, t, z])), expected, atol=1e-5)
    at_zero = np.zeros(4, "int32")
    np.testing.assert_allclose(to_numpy(step([x_t, at_zero, z])),
                               to_numpy(step([x_t, at_zero, -3 * z])), atol=1e-6)

    # σ_t² = β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) β_t: the same mean, less noise (β̃_t < β_t).
    posterior = ReverseStep(10, variance="posterior")
    bar_before = np.where(t > 0, alpha_bars(noise_schedule(10))[t - 1], 1.0)[:, None, None, None]
    sigma = np.where(t[:, None, None, None] > 0,
                     np.sqrt((1 - bar_before) / (1 - bar) * beta), 0.0)
    expected = (x_t - beta / np.sqrt(1 - bar) * eps) / np.sqrt(1 - beta) + sigma * z
    np.testing.assert_allclose(to_numpy(posterior([x_t, t, z, eps])), expected, atol=1e-5)

    # A temperature scales only the fresh noise: σ_t z becomes 0.5 σ_t z, the mean stays.
    cooler = ReverseStep(10, variance="posterior", temperature=0.5)
    np.testing.assert_allclose(to_numpy(cooler([x_t, t, z, eps])),
                               expected - 0.5 * sigma * z, atol=1e-5)


# --- the model ------------------------------------------------------------------------------
def _train_a_little(model, x, before):
    """20 Adam steps on the batch ``x``; L_simple at the fixed inference draws falls below
    0.8 ``before``. Returns the model's outputs on ``x`` after them."""
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  run_eagerly=keras.backend.backend() != "jax")
    for _ in range(20):
        model.train_on_batch(x)
    outputs = model(x, training=False)
    assert float(to_numpy(model.compute_loss(x, y_pred=outputs))) < 0.8 * before
    return outputs


def test_ddpm_learns_and_reloads(tmp_path):
    """L_simple (at the fixed inference draws) falls over 20 Adam steps on one batch; the
    reloaded .keras file gives the same outputs."""
    model = get_model("ddpm", **TINY)
    x = _images(16)
    outputs = model(x, training=False)
    assert set(outputs) == {"noise", "prediction", "t"}
    before = float(to_numpy(model.compute_loss(x, y_pred=outputs)))
    assert before == pytest.approx(float(np.mean(to_numpy(outputs["noise"]) ** 2)))  # ε_θ = 0
    outputs = _train_a_little(model, x, before)

    path = tmp_path / "ddpm.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.get_config() == model.get_config() and reloaded.timesteps == 10
    for a, b in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    for key, value in reloaded(x, training=False).items():
        np.testing.assert_allclose(to_numpy(value), to_numpy(outputs[key]), atol=1e-6)


def test_conditional_ddpm_learns_guides_and_reloads(tmp_path):
    """A class-conditional DDPM takes ``{"image", "label"}``; its loss falls; its guided
    step is Algorithm 2 on (1 + w) ε_θ(x_t, t, y) − w ε_θ(x_t, t, ∅); sampling covers the
    classes in turn or draws the labels given; the .keras file reloads."""
    model = get_model("ddpm", **TINY, num_classes=4, guidance=2.0)
    x = {"image": _images(16), "label": np.arange(16, dtype="int32") % 4}
    _train_a_little(model, x, float(to_numpy(model.compute_loss(
        x, y_pred=model(x, training=False)))))

    rng = np.random.default_rng(7)
    x_t = rng.normal(size=(4, 8, 8, 1)).astype("float32")
    z = rng.normal(size=x_t.shape).astype("float32")
    t, labels = np.array([9, 5, 1, 0], "int32"), np.array([0, 1, 2, 3], "int32")
    eps = (3.0 * to_numpy(model.denoiser([x_t, t, labels]))
           - 2.0 * to_numpy(model.denoiser([x_t, t, np.full(4, 4, "int32")])))
    expected = to_numpy(ReverseStep(10)([x_t, t, z, eps]))
    np.testing.assert_allclose(to_numpy(model.denoising_step()([x_t, t, z, labels])), expected,
                               atol=1e-5)

    default = model.sample(8, seed=0)
    np.testing.assert_array_equal(default, model.sample(8, seed=0, labels=np.arange(8) % 4))
    assert not np.array_equal(default, model.sample(8, seed=0, labels=np.zeros(8)))
    path = tmp_path / "conditional.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.get_config() == model.get_config() and reloaded.num_classes == 4
    np.testing.assert_allclose(reloaded.sample(8, seed=0), default, atol=1e-5)


def test_min_snr_weights_by_hand():
    """Hang et al.'s min(SNR_t, γ) / SNR_t: at Ho et al.'s T = 1000 the first step has
    ᾱ = 1 − β_1 = 1 − 1e-4, an SNR of 9,999 and so weighs 5 / 9,999; the last steps, with
    SNR < 5, weigh 1; the weights rise with the noise."""
    weights = min_snr_weights(1000, "linear", gamma=5.0)
    assert weights.shape == (1000,) and weights.dtype == np.float32
    assert weights[0] == pytest.approx(5.0 / 9999.0, rel=1e-5)
    bars = alpha_bars(noise_schedule(1000))
    noisy = bars / (1 - bars) <= 5.0
    assert noisy[-1] and not noisy[0]
    np.testing.assert_array_equal(weights[noisy], 1.0)
    assert np.all(np.diff(weights) >= 0)


def test_min_snr_loss_weighs_each_example_by_its_step():
    """With ``min_snr_gamma`` the loss is the mean over examples of w_t times each example's
    mean squared error, t the step the model drew for it; without, the plain mean."""
    model = get_model("ddpm", **TINY, min_snr_gamma=2.0)
    x = _images(6)
    outputs = {key: to_numpy(value) for key, value in model(x, training=False).items()}
    outputs["prediction"] = outputs["noise"] + np.arange(6, dtype="float32")[:, None, None, None]
    weights = min_snr_weights(10, "linear", 2.0)[outputs["t"]]
    assert len(set(weights.tolist())) > 1  # the test would not tell weighted from plain
    expected = np.mean(weights * np.arange(6) ** 2)
    assert float(to_numpy(model.compute_loss(x, y_pred=outputs))) == pytest.approx(expected, rel=1e-5)
    plain = get_model("ddpm", **TINY)
    assert float(to_numpy(plain.compute_loss(x, y_pred=outputs))) == pytest.approx(
        np.mean(np.arange(6) ** 2), rel=1e-5)
    reloaded = type(model).from_config(model.get_config())
    np.testing.assert_array_equal(reloaded.loss_weights, model.loss_weights)
    with pytest.raises(ModelArgumentError, match="min_snr_gamma"):
        get_model("ddpm", **TINY, min_snr_gamma=0)


def test_sampling(tiny):
    samples = tiny.sample(5, seed=0)
    assert samples.shape == (5, 8, 8, 1) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, tiny.sample(5, seed=0))
    assert not np.array_equal(samples, tiny.sample(5, seed=1))
    same, (steps, frames) = tiny.sample(5, seed=0, return_trajectory=True)
    np.testing.assert_array_equal(same, samples)
    assert steps[0] == 10 and steps[-1] == 0 and len(steps) == 8 and np.all(np.diff(steps) < 0)
    assert frames.shape == (8, 5, 8, 8, 1) and frames.dtype == np.float32
    np.testing.assert_array_equal(frames[-1], samples)


def test_reference_params_and_arguments():
    spec = model_info("diffusion")  # the alias
    assert spec.name == "ddpm" and spec.tasks == ("generation",)
    with shapes_only():
        model = get_model("ddpm")
    assert model.count_params() == spec.reference_params
    for kwargs, match in [({"input_shape": (10, 10, 1)}, "divisible by 4"),
                          ({"filters": (8, 12)}, "divisible by groups=8"),
                          ({"timesteps": 0}, "timesteps must be a positive integer"),
                          ({"schedule": "square"}, "schedule must be one of"),
                          ({"variance": "fixed"}, "variance must be one of beta, posterior"),
                          ({"embedding_dim": 7}, "embedding_dim must be even"),
                          ({"seed": -1}, "seed must be a non-negative integer; got seed=-1"),
                          ({"seed": True}, "seed must be a non-negative integer; got seed=True"),
                          ({"temperature": 0}, "temperature must be a positive number"),
                          ({"num_classes": 0}, "num_classes must be a positive integer"),
                          ({"num_classes": 10, "guidance": -1},
                           "guidance must be a non-negative number; got guidance=-1"),
                          ({"num_classes": 10, "guidance": float("nan")},
                           "guidance must be a non-negative number; got guidance=nan"),
                          ({"guidance": 1.0}, "guidance needs a conditional model"),
                          ({"num_classes": 10, "label_dropout": 1.0},
                           r"label_dropout must be in \[0, 1\)"),
                          ({"num_classes": 10, "guidance": 1.0, "label_dropout": 0},
                           "guidance needs label_dropout > 0")]:
        with pytest.raises(ModelArgumentError, match=match) as err:
            get_model("ddpm", **kwargs)
        assert "\n" not in str(err.value)
    model = get_model("ddpm", **{**TINY, "variance": "posterior", "temperature": 0.8})
    copy = type(model).from_config(model.get_config())
    step = copy.step_model.get_layer("x_previous")
    assert (step.variance, step.temperature) == ("posterior", 0.8)


def test_export_the_denoising_step(tiny, tmp_path):
    """The step, and a conditional model's guided step (its labels a fourth input), export
    natively and agree with Keras."""
    from keras_dlbasic.export import VIA_KERAS_FILE, export_model

    guided = get_model("ddpm", **TINY, num_classes=4, guidance=1.5)
    formats = [f for f in ("savedmodel", "onnx") if (keras.backend.backend(), f) not in VIA_KERAS_FILE]
    for fmt in formats:
        for name, model in (("step", tiny), ("guided", guided)):
            report = export_model(model.exportable(), tmp_path / f"{name}_{fmt}", fmt)
            assert report.route.startswith("native") and report.max_abs_diff <= 1e-4, (fmt, report)


def test_ddpm_run_through_the_generation_task(tmp_path, quick_scorer):
    """``dlbasic train ddpm``'s path: the validation loss (fixed draws) ranks the epochs,
    metrics.json scores 1,000 samples, and the run saves the noise-to-digit figure."""
    from keras_dlbasic import training
    from keras_dlbasic.io import read_csv

    config = training.resolve_config("ddpm", epochs=2, limit=128, model_kwargs={
        "timesteps": 10, "filters": (8, 8), "embedding_dim": 8, "groups": 4})
    run = tmp_path / "run"
    metrics = training.train(config, run, verbose=0)
    history = read_csv(run / "history.csv")
    assert len(history) == 2 and history[-1]["loss"] < history[0]["loss"]
    assert metrics["best_epoch"] == 1 + int(np.argmin([row["val_loss"] for row in history]))
    assert {"sample_confident_share", "sample_class_count", "sample_frechet_distance"} <= set(metrics)
    for figure in ("denoising.png", "samples.png", "samples/epoch_002.png"):
        assert (run / figure).read_bytes()[:4] == b"\x89PNG"
    assert not (run / "samples" / "epoch_001.png").exists()  # a grid every 5 epochs, and the last
