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
* Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014,
  https://arxiv.org/abs/1411.1784 (both players told the class: ``num_classes``);
  Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018,
  https://arxiv.org/abs/1802.05637 (the discriminator's class term, embed(y)·φ(x)).
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
from keras_dlbasic.models.common import sample_labels


def dcgan_generator(input_shape=(28, 28, 1), latent_dim=100, filters=64, refine_layers=0,
                    num_classes=None, name="generator"):
    """z (B, latent_dim) -> images (B, H, W, C) in [0, 1]: a projection to an
    (H/4, W/4, 4·filters) map, ``refine_layers`` stride-1 5x5 transposed convolutions on
    it, then two stride-2 ones. With ``num_classes``: ``[z, labels (B,) int]``, the
    label's one-hot vector concatenated to z (Mirza & Osindero's conditional GAN)."""
    height, width, channels = input_shape
    z = keras.Input(shape=(latent_dim,), name="noise")
    inputs, code = z, z
    if num_classes:
        labels = keras.Input(shape=(), dtype="int32", name="label")
        inputs = [z, labels]
        one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="one_hot")(labels)
        code = layers.Concatenate(name="noise_and_label")([z, one_hot])
    x = layers.Dense(height // 4 * width // 4 * 4 * filters, use_bias=False, name="project")(code)
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
    return keras.Model(inputs, images, name=name)


def dcgan_discriminator(input_shape=(28, 28, 1), filters=64, num_classes=None,
                        name="discriminator"):
    """Images (B, H, W, C) in [0, 1] -> one logit each: real (> 0) or generated.
    With ``num_classes``: ``[images, labels (B,) int]``, and the logit gains the inner
    product of a learned embedding of the label with the image's features φ(x)
    (Miyato & Koyama's projection discriminator): "a real image *of this class*"."""
    images = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_signed_range")(images)
    x = layers.Conv2D(filters, 4, strides=2, padding="same", name="down1")(x)
    x = layers.LeakyReLU(0.2, name="down1_lrelu")(x)
    x = layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=False, name="down2")(x)
    x = layers.BatchNormalization(name="down2_bn")(x)
    x = layers.LeakyReLU(0.2, name="down2_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(x)
    if not num_classes:
        return keras.Model(images, logits, name=name)
    labels = keras.Input(shape=(), dtype="int32", name="label")
    embedded = layers.Embedding(num_classes, x.shape[-1], name="class_embedding")(labels)
    projection = layers.Dot(axes=-1, dtype="float32", name="projection")([embedded, x])
    logits = layers.Add(dtype="float32", name="logit_and_projection")([logits, projection])
    return keras.Model([images, labels], logits, name=name)


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class GAN(AdversarialModel):
    """Goodfellow et al.'s GAN with the non-saturating generator loss.

    Args:
        discriminator: images -> logits.
        generator: noise (B, latent_dim) -> images in [0, 1].
        latent_dim: size of z ~ N(0, I).
        seed: seed of the noise drawn in training.
        num_classes: ``None``, or the classes of a conditional GAN (Mirza & Osindero):
            both players then also take labels, and a batch is ``{"image", "label"}``;
            each generated image gets the label of a real image of the batch.

    Calling the model generates: noise (B, latent_dim) -> images (a conditional GAN:
    ``[noise, labels]``). ``sample(n, seed)`` draws the noise itself; ``exportable()``
    is the generator.
    """

    def __init__(self, discriminator, generator, latent_dim, num_classes=None, **kwargs):
        super().__init__(discriminator, generator, **kwargs)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def noise(self, x):
        batch = ops.shape(keras.tree.flatten(x)[0])[0]
        return keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)

    def _players_inputs(self, x):
        """(real images, what the generator takes, the labels both players see or ``[]``)."""
        if not self.num_classes:
            return x, self.noise(x), []
        # Tensors, not the numpy arrays that train_on_batch hands over on torch: one call
        # of a player must not mix the two.
        images, labels = ops.convert_to_tensor(x["image"]), ops.convert_to_tensor(x["label"], "int32")
        return images, [self.noise(x), labels], [labels]

    def _discriminate(self, images, labels, training):
        return self.discriminator([images, *labels] if labels else images, training=training)

    def discriminator_loss(self, x, y=None, training=False):
        """-log D(x) - log(1 - D(G(z))): real images called real, generated ones fake."""
        images, code, labels = self._players_inputs(x)
        real = self._discriminate(images, labels, training)
        fakes = ops.stop_gradient(self.generator(code, training=training))
        fake = self._discriminate(fakes, labels, training)
        return self.bce(ops.ones_like(real), real) + self.bce(ops.zeros_like(fake), fake)

    def generator_loss(self, x, y=None, training=False):
        """-log D(G(z)): the counterfeits called real (non-saturating)."""
        _, code, labels = self._players_inputs(x)
        fake = self._discriminate(self.generator(code, training=training), labels, training)
        return self.bce(ops.ones_like(fake), fake)

    def sample(self, n, seed=0, batch_size=500, labels=None):
        """Images (n, H, W, C) in [0, 1] of z ~ N(0, I) drawn with ``seed``; a conditional
        GAN's of ``labels`` (n,), by default every class in turn (0, 1, …, 0, 1, …)."""
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        if not self.num_classes:
            batches = (z[i:i + batch_size] for i in range(0, n, batch_size))
        else:
            labels = sample_labels(n, self.num_classes, labels)
            batches = ([z[i:i + batch_size], labels[i:i + batch_size]]
                       for i in range(0, n, batch_size))
        return np.concatenate([np.asarray(self.generator.predict_on_batch(b)) for b in batches])

    def exportable(self):
        """The network a deployment runs: the generator."""
        return self.generator

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "num_classes": self.num_classes}


def dcgan(input_shape=(28, 28, 1), latent_dim=100, filters=64, refine_layers=0, seed=0,
          num_classes=None, name="dcgan"):
    """A DCGAN for small images (H and W divisible by 4): see ``dcgan_generator`` and
    ``dcgan_discriminator``. ``refine_layers=1`` adds the stride-1 layer of TensorFlow's
    tutorial generator; ``num_classes`` makes it a conditional GAN."""
    check_positive_ints(name, latent_dim=latent_dim, filters=filters)
    check_non_negative_ints(name, refine_layers=refine_layers)
    if num_classes is not None:
        check_positive_ints(name, num_classes=num_classes)
    if input_shape is None or len(input_shape) != 3 or input_shape[0] % 4 or input_shape[1] % 4:
        raise ModelArgumentError(
            f"{name}: input_shape must be (H, W, C) with H and W divisible by 4; got {input_shape}")
    input_shape = tuple(input_shape)
    return GAN(dcgan_discriminator(input_shape, filters, num_classes),
               dcgan_generator(input_shape, latent_dim, filters, refine_layers, num_classes),
               latent_dim, num_classes, seed=seed, name=name)
