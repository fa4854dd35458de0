"""Chapter 6, the adversarial autoencoder (AAE): a VAE's prior, imposed by a GAN.

Reference: Makhzani, Shlens, Jaitly, Goodfellow & Frey, "Adversarial Autoencoders",
ICLR workshop 2016, https://arxiv.org/abs/1511.05644 (section 2: the reconstruction
phase and the regularisation phase; Appendix A: encoder, decoder and discriminator
of two ReLU layers of 1,000 units each on MNIST).

Lecture point: a VAE pulls each code's posterior towards the prior p(z) = N(0, I)
with a KL term, which needs p(z) in closed form. An AAE trains a discriminator to
tell codes drawn from p(z) from the encoder's codes of real images, and the encoder
to fool it, so the codes of all the data together (the aggregated posterior q(z))
come to fill the prior. Any prior one can sample from will do. Sampling is then a
VAE's: z ~ p(z), decoded.

One training step has the two players of ``keras_dlbasic.adversarial.AdversarialModel``
(a step written for each backend): first the discriminator on the codes, then the
autoencoder on its reconstruction error plus ``adversarial_weight`` times the
generator loss -log D(encoder(x)), against the discriminator just updated. (The paper
takes the reconstruction and the encoder's adversarial update as two steps; one loss
of both is one optimizer's step.)
"""
import keras
from keras import layers, ops

from keras_dlbasic.adversarial import AdversarialModel
from keras_dlbasic.errors import check_positive_ints, check_positive_numbers
from keras_dlbasic.losses import bernoulli_nll
from keras_dlbasic.models.common import ArgumentConfig
from keras_dlbasic.models.vae import Codes, _check, _decoder, _mlp


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class AAE(ArgumentConfig, Codes, AdversarialModel):
    """An MLP adversarial autoencoder with a N(0, I) prior and a Bernoulli decoder.

    Args:
        input_shape: (H, W, C) binary images.
        latent_dim: d, code size (2 gives a code space to plot).
        hidden: widths of the encoder's hidden layers (the decoder reverses them).
        discriminator_hidden: widths of the discriminator's hidden layers, on codes.
        adversarial_weight: weight of the encoder's adversarial loss beside the
            reconstruction error in nats per image.
        seed: seed of the prior's draws in training.

    ``encoder``: x -> z (B, d), deterministic. ``decoder``: z -> pixel logits.
    ``discriminator``: z -> one logit, prior sample (> 0) or code of an image.
    Calling the AAE reconstructs: images -> pixel logits. ``fit`` logs ``d_loss`` and
    ``g_loss`` (reconstruction + weighted adversarial loss); ``scores`` (reconstruction
    in nats) and ``sample`` (z ~ N(0, I), decoded) come from ``vae.Codes``.
    """

    def __init__(self, input_shape=(28, 28, 1), latent_dim=8, hidden=(1000, 1000),
                 discriminator_hidden=(1000, 1000), adversarial_weight=10.0, seed=0, name="aae",
                 **kwargs):
        input_shape, hidden = _check(input_shape, latent_dim, hidden, name)
        check_positive_ints(name, discriminator_hidden=discriminator_hidden)
        discriminator_hidden = tuple(discriminator_hidden)
        check_positive_numbers(name, adversarial_weight=adversarial_weight)
        images = keras.Input(shape=input_shape, name="image")
        x = _mlp(layers.Flatten(name="flatten")(images), hidden, "relu", "encoder")
        encoder = keras.Model(images, layers.Dense(latent_dim, dtype="float32",
                                                   name="encoder_code")(x), name="encoder")
        decoder = _decoder(input_shape, latent_dim, hidden, "relu", "decoder")
        autoencoder = keras.Model(images, decoder(encoder(images)), name="autoencoder")
        codes = keras.Input(shape=(latent_dim,), name="code")
        x = _mlp(codes, discriminator_hidden, "relu", "discriminator")
        discriminator = keras.Model(
            codes, layers.Dense(1, dtype="float32", name="discriminator_logit")(x),
            name="discriminator")
        super().__init__(discriminator, autoencoder, seed=seed, name=name, **kwargs)
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, latent_dim
        self.adversarial_weight = float(adversarial_weight)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self._config = {"input_shape": input_shape, "latent_dim": latent_dim,
                        "hidden": list(hidden), "discriminator_hidden": list(discriminator_hidden),
                        "adversarial_weight": self.adversarial_weight, "seed": seed, "name": name}

    def prior(self, x):
        """z ~ N(0, I), one per image of the batch ``x``."""
        return keras.random.normal((ops.shape(x)[0], self.latent_dim), seed=self.seed_generator)

    def discriminator_loss(self, x, y=None, training=False):
        """-log D(z) - log(1 - D(encoder(x))): prior samples called real, codes fake."""
        real = self.discriminator(self.prior(x), training=training)
        codes = ops.stop_gradient(self.encoder(x, training=training))
        fake = self.discriminator(codes, training=training)
        return self.bce(ops.ones_like(real), real) + self.bce(ops.zeros_like(fake), fake)

    def generator_loss(self, x, y=None, training=False):
        """-log p(x | decoder(encoder(x))) in nats per image, plus ``adversarial_weight``
        times -log D(encoder(x)): codes the discriminator takes for prior samples."""
        codes = self.encoder(x, training=training)
        reconstruction = ops.mean(bernoulli_nll(x, self.decoder(codes, training=training)))
        fooled = self.discriminator(codes, training=training)
        return reconstruction + self.adversarial_weight * self.bce(ops.ones_like(fooled), fooled)

    def exportable(self):
        """The network a deployment runs: the decoder, codes -> pixel logits."""
        return self.decoder


def aae(input_shape=(28, 28, 1), latent_dim=8, hidden=(1000, 1000),
        discriminator_hidden=(1000, 1000), adversarial_weight=10.0, seed=0, name="aae"):
    """An adversarial autoencoder with MLP encoder, decoder and discriminator (see ``AAE``)."""
    return AAE(input_shape, latent_dim, hidden, discriminator_hidden, adversarial_weight, seed,
               name)
