"""Chapter 6, latent-variable models: the autoencoder and the variational autoencoder.

References:
* Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014,
  https://arxiv.org/abs/1312.6114 (the MNIST model of Appendix C: one hidden
  layer of 500 tanh units each side, Bernoulli decoder).
* Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016,
  https://arxiv.org/abs/1509.00519 (Table 1: VAE test -log p(x) 86.76 nats on
  binarised MNIST).

Lecture point: an autoencoder compresses x to a code z and reconstructs it, but
nothing says which codes are digits, so decoding a random code gives no digit: it
is not a generative model. A VAE makes z a random variable with a prior
p(z) = N(0, I). Variational inference fits q(z | x) = N(μ(x), σ²(x)) to the
intractable posterior by maximising the ELBO,

    log p(x) ≥ E_q[log p(x | z)] − KL(q(z | x) ‖ p(z)),

a reconstruction term and a KL term. The reparameterisation z = μ + σ·ε, ε ~ N(0, I),
moves the noise out of the way of the gradient. Sampling: z ~ N(0, I), then decode.

Both are functional subclasses with their loss in ``compute_loss`` (one definition
for every backend) and their two halves as sub-models: ``encoder`` and ``decoder``
(the VAE's decoder is what a user exports and samples from). The likelihood is
Bernoulli per pixel, so the loss is in nats per image on binary images.
"""
import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.losses import bernoulli_nll, gaussian_kl
from keras_dlbasic.models.common import ArgumentConfig


def _mlp(x, units, activation, name):
    for i, width in enumerate(units):
        x = layers.Dense(width, activation=activation, name=f"{name}_dense{i + 1}")(x)
    return x


def _check(input_shape, latent_dim, hidden, name):
    check_positive_ints(name, latent_dim=latent_dim)
    if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
        raise ModelArgumentError(f"{name}: hidden must be positive layer widths; got {hidden}")
    if input_shape is None or len(input_shape) != 3:
        raise ModelArgumentError(f"{name}: input_shape must be (H, W, C); got {input_shape}")
    return tuple(input_shape), tuple(hidden)


def _decoder(input_shape, latent_dim, hidden, activation, name):
    """Code (B, latent_dim) -> pixel logits (B, H, W, C): the encoder's widths reversed."""
    codes = keras.Input(shape=(latent_dim,), name="code")
    x = _mlp(codes, hidden[::-1], activation, name)
    x = layers.Dense(int(np.prod(input_shape)), dtype="float32", name=f"{name}_logits")(x)
    return keras.Model(codes, layers.Reshape(input_shape, dtype="float32", name=f"{name}_image")(x), name=name)


class Codes:
    """Encoding images, decoding codes, sampling and reconstruction scores, for a model
    with ``encoder``, ``decoder`` and ``latent_dim`` (a plain mixin: Keras turns the
    bases of functional subclasses into ``Functional``, which a subclassed model such as
    the AAE must not inherit)."""

    def decode(self, codes, batch_size=256):
        """Images (N, H, W, C) in [0, 1] (each pixel's probability) of codes (N, latent_dim)."""
        codes = np.asarray(codes, np.float32)
        return np.concatenate([
            1.0 / (1.0 + np.exp(-np.asarray(self.decoder.predict_on_batch(codes[i:i + batch_size]))))
            for i in range(0, len(codes), batch_size)])

    def encode(self, images, batch_size=256):
        """Codes (N, latent_dim) of images: z for the autoencoder, μ for the VAE."""
        images = np.asarray(images, np.float32)
        return np.concatenate([np.asarray(self.encoder.predict_on_batch(images[i:i + batch_size]))
                               [..., :self.latent_dim] for i in range(0, len(images), batch_size)])

    def sample(self, n, seed=0):
        """Decoded random codes z ~ N(0, I): (n, H, W, C), each pixel's probability in
        [0, 1]. Digits for a VAE or an AAE, whose codes were made to fill the prior; not
        for an autoencoder, whose codes nothing placed there."""
        rng = np.random.default_rng(seed)
        return self.decode(rng.standard_normal((n, self.latent_dim)))

    def scores(self, images, batch_size=256):
        """``{"reconstruction_nats": -log p(x | decoder(encoder(x)))}`` of each image,
        through the model's own call (images -> reconstruction logits)."""
        images = np.asarray(images, np.float32)
        return {"reconstruction_nats": np.concatenate([
            ops.convert_to_numpy(bernoulli_nll(batch, self.predict_on_batch(batch)))
            for batch in (images[i:i + batch_size] for i in range(0, len(images), batch_size))])}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class Autoencoder(ArgumentConfig, Codes, keras.Model):
    """An MLP autoencoder: x -> code z (d numbers) -> reconstruction logits.

    The code layer standardises its outputs over the data (BatchNorm without scale
    or shift), so the codes of real digits have mean 0 and variance 1 in every
    dimension, as under the VAE's prior. "A random code" then has a fair meaning:
    z ~ N(0, I), with the same first two moments as the real codes. ``sample``
    decodes such codes; they are not digits, because nothing made the codes of
    digits fill that space. (A tanh code bounded in [-1, 1]^d saturates within one
    epoch here: every digit gets the same corner, and the decoder learns the mean.)

    Args:
        input_shape: (H, W, C) images in [0, 1].
        latent_dim: d, code size.
        hidden: widths of the encoder's hidden layers (the decoder reverses them).
    """

    def __init__(self, input_shape=(28, 28, 1), latent_dim=16, hidden=(512, 256),
                 name="autoencoder", **kwargs):
        input_shape, hidden = _check(input_shape, latent_dim, hidden, name)
        images = keras.Input(shape=input_shape, name="image")
        x = _mlp(layers.Flatten(name="flatten")(images), hidden, "relu", "encoder")
        codes = layers.Dense(latent_dim, name="encoder_code")(x)
        codes = layers.BatchNormalization(center=False, scale=False, name="encoder_code_norm")(codes)
        encoder = keras.Model(images, codes, name="encoder")
        decoder = _decoder(input_shape, latent_dim, hidden, "relu", "decoder")
        super().__init__(images, decoder(encoder(images)), name=name, **kwargs)
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, latent_dim
        self._config = {"input_shape": input_shape, "latent_dim": latent_dim,
                        "hidden": list(hidden), "name": name}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction: -log p(x | decoder(encoder(x))) in nats per image."""
        return ops.mean(bernoulli_nll(x, y_pred))



@keras.saving.register_keras_serializable(package="keras_dlbasic")
class VAE(ArgumentConfig, Codes, keras.Model):
    """A variational autoencoder with a Gaussian encoder and a Bernoulli decoder.

    Args:
        input_shape: (H, W, C) binary images.
        latent_dim: d, size of z (2 gives a code space to plot).
        hidden: widths of the encoder's hidden layers (the decoder reverses them).
        seed: seed of the ε draws of the reparameterisation.

    ``encoder``: x -> (μ, log σ²) concatenated, (B, 2d). ``decoder``: z -> logits.
    Calling the VAE gives ``{"logits": a reconstruction from one draw of z (from μ
    at inference), "moments": (μ, log σ²)}``.
    ``compute_loss`` returns the negative ELBO in nats per image and logs its two
    terms, ``reconstruction`` and ``kl``, as metrics.
    """

    def __init__(self, input_shape=(28, 28, 1), latent_dim=16, hidden=(512, 256), seed=0,
                 name="vae", **kwargs):
        input_shape, hidden = _check(input_shape, latent_dim, hidden, name)
        images = keras.Input(shape=input_shape, name="image")
        x = _mlp(layers.Flatten(name="flatten")(images), hidden, "relu", "encoder")
        moments = layers.Dense(2 * latent_dim, dtype="float32", name="encoder_moments")(x)
        encoder = keras.Model(images, moments, name="encoder")
        decoder = _decoder(input_shape, latent_dim, hidden, "relu", "decoder")
        moments = encoder(images)
        z = ReparameterizedSample(latent_dim, seed=seed, name="z")(moments)
        super().__init__(images, {"logits": decoder(z), "moments": moments}, name=name, **kwargs)
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, latent_dim
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self._config = {"input_shape": input_shape, "latent_dim": latent_dim,
                        "hidden": list(hidden), "seed": seed, "name": name}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The negative ELBO, reconstruction + KL, in nats per image (batch mean)."""
        reconstruction, kl = self.elbo_terms(x, y_pred)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return ops.mean(reconstruction + kl)

    def elbo_terms(self, x, outputs):
        """Per image: -log p(x | z) at the drawn z (a one-sample estimate of -E_q log p(x | z)),
        and KL(q(z | x) ‖ N(0, I)) in closed form (``gaussian_kl``); two (B,)."""
        moments = outputs["moments"]
        mean, log_var = moments[:, :self.latent_dim], moments[:, self.latent_dim:]
        return bernoulli_nll(x, outputs["logits"]), gaussian_kl(mean, log_var)

    def scores(self, images, batch_size=256, samples=1, seed=0):
        """Per image (N,): ``neg_elbo_nats``, the negative ELBO, an upper bound on
        -log p(x), and its two terms ``reconstruction_nats`` (averaged over ``samples``
        draws of z ~ q(z | x)) and ``kl_nats``."""
        rng = np.random.default_rng(seed)
        images = np.asarray(images, np.float32)
        out = []
        for i in range(0, len(images), batch_size):
            batch = images[i:i + batch_size]
            moments = np.asarray(self.encoder.predict_on_batch(batch), np.float32)
            mean, log_var = moments[:, :self.latent_dim], moments[:, self.latent_dim:]
            kl = ops.convert_to_numpy(gaussian_kl(mean, log_var))
            draws = [mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape, np.float32)
                     for _ in range(samples)]  # z ~ q(z | x)
            reconstruction = np.mean([ops.convert_to_numpy(bernoulli_nll(
                batch, self.decoder.predict_on_batch(z))) for z in draws], axis=0)
            out.append((reconstruction, kl))
        reconstruction, kl = (np.concatenate(part) for part in zip(*out))
        return {"neg_elbo_nats": reconstruction + kl, "reconstruction_nats": reconstruction,
                "kl_nats": kl}

    def exportable(self):
        """The network a deployment runs: the decoder, codes -> pixel logits."""
        return self.decoder


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class ReparameterizedSample(layers.Layer):
    """z = μ + σ·ε from (μ, log σ²) concatenated, ε ~ N(0, I) drawn with a ``SeedGenerator``.

    Call: (B, 2d) -> (B, d). At inference (``training=False``) it returns μ.
    """

    def __init__(self, latent_dim, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.seed = latent_dim, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, moments, training=None):
        mean, log_var = moments[:, :self.latent_dim], moments[:, self.latent_dim:]
        if not training:
            return mean
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator, dtype=mean.dtype)
        return mean + ops.exp(0.5 * log_var) * noise

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.latent_dim)

    def get_config(self):
        return {"latent_dim": self.latent_dim, "seed": self.seed, **super().get_config()}


def autoencoder(input_shape=(28, 28, 1), latent_dim=16, hidden=(512, 256), name="autoencoder"):
    """An MLP autoencoder with a standardised code (see ``Autoencoder``)."""
    return Autoencoder(input_shape, latent_dim, hidden, name)


def vae(input_shape=(28, 28, 1), latent_dim=16, hidden=(512, 256), seed=0, name="vae"):
    """A VAE with an MLP encoder and decoder (see ``VAE``)."""
    return VAE(input_shape, latent_dim, hidden, seed, name)
