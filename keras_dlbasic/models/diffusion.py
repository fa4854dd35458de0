"""Chapter 6, diffusion models: the denoising diffusion probabilistic model (DDPM).

References:
* Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020,
  https://arxiv.org/abs/2006.11239 (Algorithms 1 and 2, the linear β schedule,
  L_simple, the U-Net denoiser with a sinusoidal time embedding and GroupNorm).
* Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", ICML 2021,
  https://arxiv.org/abs/2102.09672 (the cosine schedule, eq. 17, and the rule that
  scales the linear schedule by 1000 / T).
* Hang et al., "Efficient Diffusion Training via Min-SNR Weighting Strategy", ICCV 2023,
  https://arxiv.org/abs/2303.09556 (for ε-prediction, each step's squared error weighted
  by min(SNR_t, γ) / SNR_t, SNR_t = ᾱ_t / (1 − ᾱ_t); γ = 5).
* Ho & Salimans, "Classifier-Free Diffusion Guidance", 2022,
  https://arxiv.org/abs/2207.12598 (a class-conditional ε_θ(x_t, t, y) trained with
  labels dropped to "no label", and sampling along (1 + w) ε_θ(x_t, t, y) − w ε_θ(x_t, t, ∅)).

Lecture point: a fixed forward process adds Gaussian noise in T small steps,
q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I), until x_T is (almost) N(0, I). It has a
closed form at any t: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε with ᾱ_t = ∏_{s≤t} (1 − β_s).
A network ε_θ(x_t, t) learns to tell the noise ε from x_t (Ho et al.'s L_simple, the
mean squared error of that guess, a reweighted ELBO). Generation runs the chain
backwards: from x_T ~ N(0, I), each step removes the predicted noise and adds a
little fresh noise (ancestral sampling, Algorithm 2), T network calls per sample.

The file holds the schedules (NumPy, keras-free), the layers (the time embedding,
the draws of t and ε, one reverse step, the labels and guidance of a class-conditional
model), the U-Net denoiser, ``DDPM`` (a functional
subclass with its loss in ``compute_loss``, one definition for every backend) and the
builder ``ddpm``. Time steps are 0-based in code: ``t = 0`` is the paper's t = 1.
"""
import math

import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.errors import (
    ModelArgumentError,
    check_non_negative_ints,
    check_non_negative_numbers,
    check_positive_ints,
    check_positive_numbers,
)
from keras_dlbasic.models.common import ArgumentConfig, sample_labels

SCHEDULES = ("linear", "cosine")
VARIANCES = ("beta", "posterior")  # σ_t² of the reverse steps: β_t or β̃_t
MAX_BETA = 0.999  # Nichol & Dhariwal's clip, so that no step destroys the signal at once
SAMPLE_BATCH = 500


# --- the noise schedule (NumPy) -------------------------------------------------------------
def noise_schedule(timesteps, kind="linear"):
    """β_1..β_T as float64 (T,).

    ``"linear"``: Ho et al.'s β from 1e-4 to 0.02 at T = 1000, both ends scaled by 1000 / T
    for other T (Nichol & Dhariwal), so ᾱ_T stays near 0 at any T.
    ``"cosine"``: Nichol & Dhariwal eq. 17, ᾱ_t = f(t) / f(0) with
    f(t) = cos²((t / T + s) / (1 + s) · π / 2), s = 0.008; β_t = 1 − ᾱ_t / ᾱ_{t−1}.
    Both are clipped at 0.999 (the scaled linear one only reaches it for T < 50).

    With Algorithm 2 as it stands (no clipping of the implied x_0), the cosine schedule's
    last β ≈ 0.999 makes the first reverse step multiply the denoiser's error by
    1 / √α_T ≈ 32; the linear schedule (1 / √α_T ≈ 1.1 at T = 100) samples well.
    """
    if kind == "linear":
        scale = 1000.0 / timesteps
        betas = np.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=np.float64)
    elif kind == "cosine":
        s = 0.008
        f = np.cos((np.arange(timesteps + 1, dtype=np.float64) / timesteps + s) / (1 + s)
                   * math.pi / 2) ** 2
        betas = 1.0 - f[1:] / f[:-1]
    else:
        raise ModelArgumentError(f"schedule must be one of {', '.join(SCHEDULES)}; got {kind!r}")
    return np.clip(betas, 0.0, MAX_BETA)


def alpha_bars(betas):
    """ᾱ_t = ∏_{s≤t} (1 − β_s), float64 (T,)."""
    return np.cumprod(1.0 - np.asarray(betas, np.float64))


def min_snr_weights(timesteps, kind="linear", gamma=5.0):
    """Hang et al.'s loss weight of each step for ε-prediction, float32 (T,):
    min(SNR_t, γ) / SNR_t with SNR_t = ᾱ_t / (1 − ᾱ_t). Steps with little noise
    (SNR_t > γ), whose ε is hardest to tell and matters least to the samples, weigh
    γ / SNR_t < 1; noisier steps weigh 1."""
    bars = alpha_bars(noise_schedule(timesteps, kind))
    snr = bars / (1.0 - bars)
    return (np.minimum(snr, gamma) / snr).astype(np.float32)


def reverse_step_coefficients(timesteps, kind="linear", variance="beta"):
    """The tables of Algorithm 2, float32 (T,) each: 1 / √α_t, β_t / √(1 − ᾱ_t) and σ_t,
    with σ = 0 at the last step (t = 0), which adds no noise.

    ``variance`` is Ho et al.'s choice of σ_t² (section 3.2): ``"beta"``, β_t, or
    ``"posterior"``, β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the variance of
    q(x_{t−1} | x_t, x_0). The paper found the two similar on CIFAR-10; the bundled
    digits' recipe samples slightly better with β̃ (README, "Measured").
    """
    if variance not in VARIANCES:
        raise ModelArgumentError(
            f"variance must be one of {', '.join(VARIANCES)}; got {variance!r}")
    betas = noise_schedule(timesteps, kind)
    if variance == "beta":
        sigma = np.sqrt(betas)
    else:
        bars = alpha_bars(betas)
        previous = np.concatenate([[1.0], bars[:-1]])
        sigma = np.sqrt((1.0 - previous) / (1.0 - bars) * betas)
    sigma[0] = 0.0
    return {"inverse_sqrt_alpha": (1.0 / np.sqrt(1.0 - betas)).astype(np.float32),
            "noise_scale": (betas / np.sqrt(1.0 - alpha_bars(betas))).astype(np.float32),
            "sigma": sigma.astype(np.float32)}


def _per_example(table, t):
    """table[t] as (B, 1, 1, 1), to scale images (B, H, W, C). (The table as a (T, 1)
    matrix: on torch that lookup is an embedding, which exports to ONNX.)"""
    table = ops.convert_to_tensor(np.asarray(table, np.float32).reshape(-1, 1))
    return ops.reshape(ops.take(table, ops.cast(t, "int32"), axis=0), (-1, 1, 1, 1))


# --- layers ---------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="keras_dlbasic")
class SinusoidalTimeEmbedding(layers.Layer):
    """The Transformer's sinusoids of an integer time step, as in Ho et al.'s code (no weights).

    ``[sin(t·ω_0), …, sin(t·ω_{h−1}), cos(t·ω_0), …, cos(t·ω_{h−1})]`` with h = dim / 2
    and ω_i = max_period^(−i / (h − 1)). Computed in float32 (t reaches T − 1; float16
    cannot hold t·ω), returned in the compute dtype.

    Args:
        dim: embedding size, even.
        max_period: the longest period (10,000 as in the Transformer).

    Call arguments:
        t: (B,) integer time steps.

    Example:
        >>> SinusoidalTimeEmbedding(32)(np.array([0, 5], "int32")).shape
        (2, 32)
    """

    def __init__(self, dim, max_period=10000, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2 or dim % 2:
            raise ModelArgumentError(f"{self.name}: dim must be an even integer >= 2; got {dim!r}")
        self.dim, self.max_period = dim, max_period

    def call(self, t):
        half = self.dim // 2
        frequencies = np.exp(-math.log(self.max_period) * np.arange(half) / max(half - 1, 1))
        # ops.multiply, not `tensor * ndarray`: torch's tracer folds that into a constant.
        angles = ops.multiply(ops.cast(ops.reshape(t, (-1, 1)), "float32"),
                              ops.convert_to_tensor(frequencies[None].astype(np.float32)))
        embedding = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)  # (B, dim)
        return ops.cast(embedding, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class RandomTimesteps(layers.Layer):
    """t ~ Uniform{0, …, T − 1}, one per example of a batch, drawn with a ``SeedGenerator``.

    At inference (``training=False``) the draw is fixed by ``seed`` (a stateless draw), so
    that a validation loss and the outputs of a saved and reloaded model are repeatable.

    Call: any (B, ...) tensor -> (B,) int32.
    """

    def __init__(self, timesteps, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.timesteps, self.seed = timesteps, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        return keras.random.randint((ops.shape(inputs)[0],), 0, self.timesteps, dtype="int32",
                                    seed=self.seed_generator if training else self.seed)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def compute_output_spec(self, inputs, training=None):
        return keras.KerasTensor((inputs.shape[0],), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "timesteps": self.timesteps, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class ForwardDiffusion(layers.Layer):
    """q(x_t | x_0) in closed form: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, ε ~ N(0, I).

    ε is drawn with a ``SeedGenerator``; at inference (``training=False``) from the fixed
    ``seed``, as in ``RandomTimesteps``.

    Call: ``[x_0 (B, H, W, C) in [−1, 1], t (B,) int]`` -> ``[x_t, ε]``, both (B, H, W, C); ε in float32.
    """

    def __init__(self, timesteps, schedule="linear", seed=0, **kwargs):
        super().__init__(**kwargs)
        self.timesteps, self.schedule, self.seed = timesteps, schedule, seed
        self.alpha_bar = alpha_bars(noise_schedule(timesteps, schedule)).astype(np.float32)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        x0, t = inputs
        x0 = ops.cast(x0, "float32")
        noise = keras.random.normal(ops.shape(x0), dtype="float32",
                                    seed=self.seed_generator if training else self.seed)
        alpha_bar = _per_example(self.alpha_bar, t)  # (B, 1, 1, 1)
        x_t = ops.sqrt(alpha_bar) * x0 + ops.sqrt(1.0 - alpha_bar) * noise
        # ε, the loss's target, stays float32 whatever the policy.
        return [ops.cast(x_t, self.compute_dtype), noise]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape[0]), tuple(input_shape[0])]

    def compute_output_spec(self, inputs, training=None):
        shape = tuple(inputs[0].shape)
        return [keras.KerasTensor(shape, dtype=self.compute_dtype), keras.KerasTensor(shape, dtype="float32")]

    def get_config(self):
        return {**super().get_config(), "timesteps": self.timesteps, "schedule": self.schedule,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class ReverseStep(layers.Layer):
    """One step of ancestral sampling (Ho et al. Algorithm 2, line 4), no weights:

        x_{t−1} = 1 / √α_t · (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) + σ_t z,

    σ_t² = β_t or β̃_t (``variance``), σ = 0 at t = 0 (the last step adds no noise).
    ``temperature`` scales σ_t: 1 is Algorithm 2; below 1, each step adds less fresh noise,
    which trades the samples' variety for their fidelity, as a GAN's truncation does.
    The three tables are constants looked up per example (``ops.take``), so the step
    exports as one graph.

    Call: ``[x_t, t (B,) int, z, predicted noise]``, images (B, H, W, C) -> x_{t−1}.
    """

    def __init__(self, timesteps, schedule="linear", variance="beta", temperature=1.0, **kwargs):
        super().__init__(**kwargs)
        self.timesteps, self.schedule, self.variance = timesteps, schedule, variance
        self.temperature = temperature
        self.tables = reverse_step_coefficients(timesteps, schedule, variance)
        self.tables["sigma"] = self.tables["sigma"] * np.float32(temperature)

    def call(self, inputs):
        x_t, t, z, noise = inputs
        x_t, z, noise = (ops.cast(v, "float32") for v in (x_t, z, noise))
        mean = _per_example(self.tables["inverse_sqrt_alpha"], t) * (
            x_t - _per_example(self.tables["noise_scale"], t) * noise)
        return ops.cast(mean + _per_example(self.tables["sigma"], t) * z, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "timesteps": self.timesteps, "schedule": self.schedule,
                "variance": self.variance, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class LabelDropout(layers.Layer):
    """Classifier-free guidance's training trick (Ho & Salimans): in training, each label
    is replaced by the "no label" class ``num_classes`` with probability ``rate``, so one
    network learns both ε_θ(x_t, t, y) and the unconditional ε_θ(x_t, t, ∅). At inference
    the labels pass unchanged. Drawn with a ``SeedGenerator``.

    Call: labels (B,) int in [0, num_classes) -> (B,) int32 in [0, num_classes].
    """

    def __init__(self, num_classes, rate=0.1, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.rate, self.seed = num_classes, rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, labels, training=None):
        labels = ops.cast(labels, "int32")
        if not training or not self.rate:
            return labels
        drop = keras.random.uniform(ops.shape(labels), seed=self.seed_generator) < self.rate
        return ops.where(drop, ops.full_like(labels, self.num_classes), labels)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, labels, training=None):
        return keras.KerasTensor(labels.shape, dtype="int32")

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "rate": self.rate,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class NullLabels(layers.Layer):
    """The "no label" class ``num_classes`` for every example: labels (B,) -> (B,) int32."""

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def call(self, labels):
        return ops.full_like(ops.cast(labels, "int32"), self.num_classes)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, labels):
        return keras.KerasTensor(labels.shape, dtype="int32")

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class Guidance(layers.Layer):
    """Classifier-free guidance (Ho & Salimans, eq. 6): ε̃ = (1 + w) ε_θ(x_t, t, y) − w ε_θ(x_t, t, ∅).

    w = 0 samples the conditional model as trained; w > 0 pushes each sample away from
    the unconditional prediction, towards images typical of its class (fidelity for
    variety, as the temperature trades them).

    Call: ``[conditional, unconditional]`` noise predictions -> the guided one.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        conditional, unconditional = inputs
        return (1.0 + self.scale) * conditional - self.scale * unconditional

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# --- the U-Net denoiser ---------------------------------------------------------------------
def residual_block(x, time, filters, groups, name):
    """Ho et al.'s block: GroupNorm, swish, 3x3 conv, + a projection of the time embedding,
    GroupNorm, swish, 3x3 conv; a 1x1 conv on the shortcut when the width changes."""
    h = layers.GroupNormalization(groups, name=f"{name}_norm1")(x)
    h = layers.Activation("swish", name=f"{name}_act1")(h)
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(h)
    shift = layers.Dense(filters, name=f"{name}_time")(time)  # (B, filters)
    h = layers.Add(name=f"{name}_add_time")([h, layers.Reshape((1, 1, filters),
                                                              name=f"{name}_time_map")(shift)])
    h = layers.GroupNormalization(groups, name=f"{name}_norm2")(h)
    h = layers.Activation("swish", name=f"{name}_act2")(h)
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(h)
    if x.shape[-1] != filters:
        x = layers.Conv2D(filters, 1, name=f"{name}_shortcut")(x)
    return layers.Add(name=f"{name}_out")([x, h])


def unet(input_shape, filters=(64, 128, 128), embedding_dim=256, groups=8, num_classes=None,
         name="denoiser"):
    """ε_θ(x_t, t): ``[x_t (B, H, W, C), t (B,) int32]`` -> predicted noise (B, H, W, C);
    with ``num_classes``, ε_θ(x_t, t, y): a third input, labels (B,) int32 in
    [0, num_classes] (``num_classes`` is "no label"), whose learned embedding is added to
    the time embedding (as in Dhariwal & Nichol's class-conditional U-Net).

    One level per entry of ``filters``, at full resolution, then halved each time (28 -> 14
    -> 7 for three): a residual block per level on the way down (its output is the skip),
    a middle block, and on the way up a residual block on [x, skip] concatenated, then
    nearest-neighbour upsampling and a 3x3 conv to the next level's width.
    The time step enters every block through the embedding MLP
    (sinusoids of ``embedding_dim`` -> Dense -> swish -> Dense). Ho et al.'s CIFAR-10 U-Net
    has two blocks per level and self-attention at 16x16; this keeps one and none.
    """
    images = keras.Input(shape=input_shape, name="x_t")
    steps = keras.Input(shape=(), dtype="int32", name="t")
    time = SinusoidalTimeEmbedding(embedding_dim, name="time_embedding")(steps)
    time = layers.Dense(embedding_dim, activation="swish", name="time_dense1")(time)
    time = layers.Dense(embedding_dim, name="time_dense2")(time)
    inputs = [images, steps]
    if num_classes:
        labels = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(labels)
        time = layers.Add(name="add_class")([time, layers.Embedding(
            num_classes + 1, embedding_dim, name="class_embedding")(labels)])
    time = layers.Activation("swish", name="time_act")(time)  # shared by every block's projection

    x = layers.Conv2D(filters[0], 3, padding="same", name="stem")(images)
    skips = []
    for level, width in enumerate(filters):
        if level:
            x = layers.Conv2D(x.shape[-1], 3, strides=2, padding="same",
                              name=f"down{level}_downsample")(x)
        x = residual_block(x, time, width, groups, f"down{level}")
        skips.append(x)  # (B, H / 2^level, W / 2^level, width)
    x = residual_block(x, time, filters[-1], groups, "middle")
    for level in reversed(range(len(filters))):
        x = layers.Concatenate(name=f"up{level}_concat")([x, skips[level]])
        x = residual_block(x, time, filters[level], groups, f"up{level}")
        if level:  # to the next level's resolution and width
            x = layers.UpSampling2D(2, name=f"up{level}_upsample")(x)
            x = layers.Conv2D(filters[level - 1], 3, padding="same", name=f"up{level}_upconv")(x)
    x = layers.GroupNormalization(groups, name="out_norm")(x)
    x = layers.Activation("swish", name="out_act")(x)
    # Zero-initialised as in Ho et al.: the untrained network predicts ε = 0.
    noise = layers.Conv2D(input_shape[-1], 3, padding="same", kernel_initializer="zeros",
                          dtype="float32", name="noise")(x)
    return keras.Model(inputs, noise, name=name)


# --- the model ------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="keras_dlbasic")
class DDPM(ArgumentConfig, keras.Model):
    """A DDPM on images in [0, 1] (mapped to x_0 = 2x − 1 in [−1, 1] inside).

    Args:
        input_shape: (H, W, C), H and W divisible by 2^(len(filters) − 1).
        timesteps: T, the number of diffusion steps.
        schedule: ``"linear"`` or ``"cosine"`` (``noise_schedule``).
        variance: σ_t² of the sampling steps, ``"beta"`` (β_t) or ``"posterior"`` (β̃_t):
            see ``reverse_step_coefficients``. Training does not depend on it.
        filters: the U-Net's width at each resolution.
        embedding_dim: size of the time embedding.
        groups: GroupNorm groups; every width must be divisible by it.
        seed: seed of the draws of t and ε in training.
        min_snr_gamma: ``None`` for Ho et al.'s L_simple (every step weighs the same), or
            γ of Hang et al.'s min-SNR weighting (``min_snr_weights``).
        temperature: scale of the fresh noise σ_t z of each sampling step (``ReverseStep``);
            1 is Algorithm 2. Training does not depend on it.
        num_classes: ``None`` for a model of p(x); a number of classes for a class-conditional
            one, p(x | y), trained with classifier-free guidance's label dropout
            (``LabelDropout``): its inputs are ``{"image", "label"}``.
        guidance: w of classifier-free guidance (``Guidance``) when sampling a conditional
            model; 0 samples p(x | y) as trained.
        label_dropout: the share of training labels replaced by "no label".

    Calling it draws t and ε per example (fixed draws at inference) and gives
    ``{"noise": ε, "prediction": ε_θ(x_t, t), "t": t}``; ``compute_loss`` is the mean
    squared error of the first two, L_simple, each example's weighted by its step's
    min-SNR weight when ``min_snr_gamma`` is set. ``denoiser`` is the U-Net,
    ``denoising_step()`` one reverse step.
    """

    sequential_sampling = False  # T network calls, but each for the whole batch of images
    epoch_sample_every = 5  # the trainer's grid of samples per epoch: T calls, so every 5th

    def __init__(self, input_shape=(28, 28, 1), timesteps=1000, schedule="linear",
                 variance="beta", filters=(64, 128, 128), embedding_dim=256, groups=8, seed=0,
                 min_snr_gamma=None, temperature=1.0, num_classes=None, guidance=0.0,
                 label_dropout=0.1, name="ddpm", **kwargs):
        input_shape, filters = _check(input_shape, timesteps, schedule, variance, filters,
                                      embedding_dim, groups, seed, min_snr_gamma, temperature,
                                      num_classes, guidance, label_dropout, name)
        denoiser = unet(input_shape, filters, embedding_dim, groups, num_classes)
        images = keras.Input(shape=input_shape, name="image")
        inputs, condition = images, []
        if num_classes:
            labels = keras.Input(shape=(), dtype="int32", name="label")
            inputs = {"image": images, "label": labels}
            condition = [LabelDropout(num_classes, label_dropout, seed=seed + 2,
                                      name="label_dropout")(labels)]
        x0 = layers.Rescaling(2.0, offset=-1.0, name="signed")(images)  # [0, 1] -> [−1, 1]
        t = RandomTimesteps(timesteps, seed=seed, name="t")(images)
        x_t, noise = ForwardDiffusion(timesteps, schedule, seed=seed + 1, name="x_t")([x0, t])
        super().__init__(inputs, {"noise": noise, "prediction": denoiser([x_t, t, *condition]),
                                  "t": t}, name=name, **kwargs)
        self.denoiser, self.timesteps, self.schedule = denoiser, timesteps, schedule
        self.image_shape, self.num_classes = input_shape, num_classes
        self.loss_weights = (None if min_snr_gamma is None
                             else min_snr_weights(timesteps, schedule, min_snr_gamma))
        self._config = {"input_shape": input_shape, "timesteps": timesteps, "schedule": schedule,
                        "variance": variance, "filters": list(filters),
                        "embedding_dim": embedding_dim, "groups": groups, "seed": seed,
                        "min_snr_gamma": min_snr_gamma, "temperature": temperature,
                        "num_classes": num_classes, "guidance": guidance,
                        "label_dropout": label_dropout, "name": name}
        # Built once, beside the denoiser it shares its weights with, so that its
        # predict function compiles once (JAX) and every copy of the model has it.
        x_t = keras.Input(shape=input_shape, name="x_t")
        t = keras.Input(shape=(), dtype="int32", name="t")
        z = keras.Input(shape=input_shape, name="z")
        step_inputs = [x_t, t, z]
        if num_classes:
            label = keras.Input(shape=(), dtype="int32", name="label")
            step_inputs.append(label)
            predicted = denoiser([x_t, t, label])
            if guidance:
                unconditional = denoiser([x_t, t, NullLabels(num_classes, name="no_label")(label)])
                predicted = Guidance(guidance, name="guided")([predicted, unconditional])
        else:
            predicted = denoiser([x_t, t])
        # float32 out whatever the policy: the chain of T steps keeps its state in float32.
        previous = ReverseStep(timesteps, schedule, variance, temperature, dtype="float32",
                               name="x_previous")([x_t, t, z, predicted])
        self.step_model = keras.Model(step_inputs, previous, name=f"{name}_step")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """L_simple: mean over pixels and batch of (ε − ε_θ(x_t, t))², each example's
        error times its step's min-SNR weight if the model has them."""
        error = ops.square(ops.cast(y_pred["prediction"], "float32")
                           - ops.cast(y_pred["noise"], "float32"))
        if self.loss_weights is not None:
            error = error * _per_example(self.loss_weights, y_pred["t"])
        return ops.mean(error)

    def denoising_step(self):
        """The model ``[x_t, t (B,) int32, z] -> x_{t−1}`` of Algorithm 2, images in [−1, 1];
        a conditional model's takes a fourth input, labels (B,) int32 (guided by ``guidance``)."""
        return self.step_model

    def exportable(self):
        """What is exported: the denoiser as one denoising step (``denoising_step``)."""
        return self.step_model

    def sample(self, n, seed=0, return_trajectory=False, frames=8, labels=None):
        """Ancestral sampling (Algorithm 2) from x_T ~ N(0, I): T calls of the step model,
        500 images at a time; x_T and every z from ``np.random.default_rng(seed)``.
        A conditional model draws images of ``labels`` (n,), by default every class in
        turn (0, 1, …, 0, 1, …): as many of each as ``n`` allows, p(y) uniform.

        Returns (n, H, W, C) float32 in [0, 1] (x_0 mapped back and clipped). With
        ``return_trajectory``, also ``(steps, images)``: ``frames`` evenly spaced s from T
        down to 0 (int (frames,)) and x_s in [0, 1], (frames, n, H, W, C): noise -> digit.
        """
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, *self.image_shape), dtype=np.float32)  # x_T
        recorded = set(np.linspace(self.timesteps, 0, frames).round().astype(int).tolist())
        trajectory = {self.timesteps: x} if self.timesteps in recorded else {}
        condition = [sample_labels(n, self.num_classes, labels)] if self.num_classes else []
        for t in reversed(range(self.timesteps)):  # x_{t+1} -> x_t (the paper's x_t -> x_{t−1})
            z = rng.standard_normal(x.shape, dtype=np.float32)
            steps = np.full((n,), t, np.int32)
            x = np.concatenate([np.asarray(self.step_model.predict_on_batch(
                [v[i:i + SAMPLE_BATCH] for v in (x, steps, z, *condition)]), np.float32)
                for i in range(0, n, SAMPLE_BATCH)])
            if t in recorded:
                trajectory[t] = x
        images = _to_unit(x)
        if not return_trajectory:
            return images
        steps = np.array(sorted(trajectory, reverse=True))
        return images, (steps, np.stack([_to_unit(trajectory[s]) for s in steps]))


def _to_unit(x):
    """[−1, 1] -> [0, 1], clipped, float32."""
    return np.clip((np.asarray(x, np.float32) + 1.0) / 2.0, 0.0, 1.0)


def _check(input_shape, timesteps, schedule, variance, filters, embedding_dim, groups, seed,
           min_snr_gamma, temperature, num_classes, guidance, label_dropout, name):
    check_positive_ints(name, timesteps=timesteps, filters=filters, embedding_dim=embedding_dim,
                        groups=groups)
    check_non_negative_ints(name, seed=seed)
    if num_classes is not None:
        check_positive_ints(name, num_classes=num_classes)
    check_non_negative_numbers(name, guidance=guidance)
    if (isinstance(label_dropout, bool) or not isinstance(label_dropout, (int, float))
            or not 0 <= label_dropout < 1):
        raise ModelArgumentError(
            f"{name}: label_dropout must be in [0, 1); got label_dropout={label_dropout!r}")
    if guidance and not num_classes:
        raise ModelArgumentError(f"{name}: guidance needs a conditional model (num_classes)")
    if guidance and not label_dropout:
        raise ModelArgumentError(
            f"{name}: guidance needs label_dropout > 0 (the unconditional model it subtracts)")
    if schedule not in SCHEDULES:
        raise ModelArgumentError(
            f"{name}: schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    if variance not in VARIANCES:
        raise ModelArgumentError(
            f"{name}: variance must be one of {', '.join(VARIANCES)}; got {variance!r}")
    check_positive_numbers(name, temperature=temperature)
    if min_snr_gamma is not None:
        check_positive_numbers(name, min_snr_gamma=min_snr_gamma)
    if embedding_dim % 2:
        raise ModelArgumentError(f"{name}: embedding_dim must be even; got {embedding_dim}")
    if any(f % groups for f in filters):
        raise ModelArgumentError(
            f"{name}: every width in filters must be divisible by groups={groups}; got {filters}")
    if input_shape is None or len(input_shape) != 3 or any(
            isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape):
        raise ModelArgumentError(f"{name}: input_shape must be (H, W, C); got {input_shape}")
    if keras.config.image_data_format() != "channels_last":
        raise ModelArgumentError(f"{name} is built channels last only")
    factor = 2 ** (len(filters) - 1)
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ModelArgumentError(
            f"{name}: H and W must be divisible by {factor} for {len(filters)} levels; "
            f"got input_shape={tuple(input_shape)}")
    return tuple(input_shape), tuple(filters)


def ddpm(input_shape=(28, 28, 1), timesteps=1000, schedule="linear", variance="beta",
         filters=(64, 128, 128), embedding_dim=256, groups=8, seed=0, min_snr_gamma=None,
         temperature=1.0, num_classes=None, guidance=0.0, label_dropout=0.1, name="ddpm"):
    """A DDPM with a small U-Net denoiser (see ``DDPM``); with ``num_classes``, a
    class-conditional one sampled with classifier-free guidance ``guidance``."""
    return DDPM(input_shape, timesteps, schedule, variance, filters, embedding_dim, groups, seed,
                min_snr_gamma, temperature, num_classes, guidance, label_dropout, name)
