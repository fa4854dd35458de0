"""Chapter 6, the GAN: a counterfeiter (generator) against the police (discriminator).

References:
* Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014,
  https://arxiv.org/abs/1406.2661 (the minimax game; the non-saturating
  generator loss -log D(G(z))).
* Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep
  Convolutional Generative Adversarial Networks" (DCGAN), ICLR 2016,
  https://arxiv.org/abs/1511.06434 (strided convolutions instead of pooling,
  batch norm in both players, ReLU in the generator with a tanh output, leaky
  ReLU (0.2) in the discriminator, Adam at 2e-4 with beta_1 = 0.5).
* TensorFlow's DCGAN tutorial, https://www.tensorflow.org/tutorials/generative/dcgan
  (for 28x28 digits: a stride-1 5x5 transposed convolution at 7x7 before the two
  stride-2 ones; ``refine_layers``).

Lecture point: the discriminator D learns to tell real images from the
generator's; the generator G learns to make D call its images real. One
training step moves D first, then G against the D just updated
(``keras_dlbasic.adversarial.AdversarialModel`` has that step for each backend).
G has no likelihood: a GAN is scored by its samples only.

Images are in [0, 1] outside the model; inside, the discriminator reads them
in [-1, 1] and the generator's tanh writes [-1, 1], as in DCGAN.
"""
import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.adversarial import AdversarialModel
from keras_dlbasic.errors import ModelArgumentError, check_non_negative_ints, check_positive_ints


def dcgan_generator(input_shape=(28, 28, 1), latent_dim=100, filters=64, refine_layers=0,
                    name="generator"):
    """z (B, latent_dim) -> images (B, H, W, C) in [0, 1]: a projection to an
    (H/4, W/4, 4·filters) map, ``refine_layers`` stride-1 5x5 transposed convolutions on
    it, then two stride-2 ones."""
    height, width, channels = input_shape
    z = keras.Input(shape=(latent_dim,), name="noise")
    x = layers.Dense(height // 4 * width // 4 * 4 * filters, use_bias=False, name="project")(z)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    x = layers.Reshape((height // 4, width // 4, 4 * filters), name="project_map")(x)
    for i in range(1, refine_layers + 1):
        x = layers.Conv2DTranspose(4 * filters, 5, padding="same", use_bias=False,
                                   name=f"refine{i}")(x)
        x = layers.BatchNormalization(name=f"refine{i}_bn")(x)
        x = layers.ReLU(name=f"refine{i}_relu")(x)
    x = layers.Conv2DTranspose(2 * filters, 4, strides=2, padding="same", use_bias=False,
                               name="up1")(x)
    x = layers.BatchNormalization(name="up1_bn")(x)
    x = layers.ReLU(name="up1_relu")(x)
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh",
                               dtype="float32", name="up2")(x)
    images = layers.Rescaling(0.5, offset=0.5, dtype="float32", name="to_unit_range")(x)
    return keras.Model(z, images, name=name)


def dcgan_discriminator(input_shape=(28, 28, 1), filters=64, name="discriminator"):
    """Images (B, H, W, C) in [0, 1] -> one logit each: real (> 0) or generated."""
    images = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_signed_range")(images)
    x = layers.Conv2D(filters, 4, strides=2, padding="same", name="down1")(x)
    x = layers.LeakyReLU(0.2, name="down1_lrelu")(x)
    x = layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=False, name="down2")(x)
    x = layers.BatchNormalization(name="down2_bn")(x)
    x = layers.LeakyReLU(0.2, name="down2_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name=name)


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class GAN(AdversarialModel):
    """Goodfellow et al.'s GAN with the non-saturating generator loss.

    Args:
        discriminator: images -> logits.
        generator: noise (B, latent_dim) -> images in [0, 1].
        latent_dim: size of z ~ N(0, I).
        seed: seed of the noise drawn in training.

    Calling the model generates: noise (B, latent_dim) -> images. ``sample(n, seed)``
    draws the noise itself; ``exportable()`` is the generator.
    """

    def __init__(self, discriminator, generator, latent_dim, **kwargs):
        super().__init__(discriminator, generator, **kwargs)
        self.latent_dim = latent_dim
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def noise(self, x):
        batch = ops.shape(keras.tree.flatten(x)[0])[0]
        return keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)

    def discriminator_loss(self, x, y=None, training=False):
        """-log D(x) - log(1 - D(G(z))): real images called real, generated ones fake."""
        real = self.discriminator(x, training=training)
        fakes = ops.stop_gradient(self.generator(self.noise(x), training=training))
        fake = self.discriminator(fakes, training=training)
        return self.bce(ops.ones_like(real), real) + self.bce(ops.zeros_like(fake), fake)

    def generator_loss(self, x, y=None, training=False):
        """-log D(G(z)): the counterfeits called real (non-saturating)."""
        fake = self.discriminator(self.generator(self.noise(x), training=training),
                                  training=training)
        return self.bce(ops.ones_like(fake), fake)

    def sample(self, n, seed=0, batch_size=500):
        """Images (n, H, W, C) in [0, 1] of z ~ N(0, I) drawn with ``seed``."""
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        return np.concatenate([np.asarray(self.generator.predict_on_batch(z[i:i + batch_size]))
                               for i in range(0, n, batch_size)])

    def exportable(self):
        """The network a deployment runs: the generator."""
        return self.generator

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


def dcgan(input_shape=(28, 28, 1), latent_dim=100, filters=64, refine_layers=0, seed=0,
          name="dcgan"):
    """A DCGAN for small images (H and W divisible by 4): see ``dcgan_generator`` and
    ``dcgan_discriminator``. ``refine_layers=1`` adds the stride-1 layer of TensorFlow's
    tutorial generator."""
    check_positive_ints(name, latent_dim=latent_dim, filters=filters)
    check_non_negative_ints(name, refine_layers=refine_layers)
    if input_shape is None or len(input_shape) != 3 or input_shape[0] % 4 or input_shape[1] % 4:
        raise ModelArgumentError(
            f"{name}: input_shape must be (H, W, C) with H and W divisible by 4; got {input_shape}")
    input_shape = tuple(input_shape)
    return GAN(dcgan_discriminator(input_shape, filters),
               dcgan_generator(input_shape, latent_dim, filters, refine_layers), latent_dim,
               seed=seed, name=name)
