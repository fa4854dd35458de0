"""Chapter 6, autoregressive models: NADE and PixelCNN on binary images.

References:
* Larochelle & Murray, "The Neural Autoregressive Distribution Estimator",
  AISTATS 2011, http://proceedings.mlr.press/v15/larochelle11a.html.
* van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks",
  ICML 2016, https://arxiv.org/abs/1601.06759 (PixelCNN: Section 3.5, Figure 5's
  residual block, Table 4's binarized-MNIST likelihoods).

Lecture point: the chain rule p(x) = ∏_i p(x_i | x_<i) needs no assumption at all;
an autoregressive model makes each factor a network that sees x_<i only. Then the
likelihood of an image is exact, and training maximises it: the loss is the
negative log-likelihood -log p(x) in nats per image, the sum over pixels of the
binary cross-entropy of each conditional (minimising it minimises KL(p_data || p_θ)).
Sampling is sequential: pixel i is drawn once pixels 0..i-1 are.

Both are functional networks from a binary image (H, W, C) to one logit per pixel,
of ``AutoregressiveImageModel``: its ``compute_loss`` (one definition for every
backend), ``log_likelihood`` and ``sample``.
"""
import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.layers.masked import MaskedConv2D, NADEConditionals
from keras_dlbasic.losses import bernoulli_nll


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class AutoregressiveImageModel(keras.Model):
    """A network from binary images to the logits of p(x_i = 1 | x_<i), one per pixel.

    Built by ``nade`` and ``pixelcnn``; ``config`` is what rebuilds it (the builder's
    arguments and ``builder``, its name).
    """

    sequential_sampling = True  # one forward pass per pixel

    def __init__(self, inputs, outputs, config, **kwargs):
        super().__init__(inputs, outputs, **kwargs)
        self._config = dict(config)

    def get_config(self):
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return BUILDERS[config.pop("builder")](**config)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-log p(x) in nats per image, averaged over the batch."""
        return ops.mean(bernoulli_nll(x, y_pred))

    def log_likelihood(self, images, batch_size=256):
        """log p(x) in nats of each image of ``images`` (N, H, W, C) in {0, 1}, as numpy."""
        images = np.asarray(images, np.float32)
        out = []
        for i in range(0, len(images), batch_size):
            batch = images[i:i + batch_size]
            logits = self.predict_on_batch(batch)
            out.append(-ops.convert_to_numpy(bernoulli_nll(batch, logits)))
        return np.concatenate(out)

    def scores(self, images, batch_size=256):
        """``{"nll_nats": -log p(x)}`` of each image, (N,)."""
        return {"nll_nats": -self.log_likelihood(images, batch_size)}

    def sample(self, n, seed=0):
        """``n`` images drawn pixel by pixel in raster order, (n, H, W, C) in {0, 1}.

        One forward pass per pixel: pixel i is drawn from p(x_i | x_<i) given the
        pixels already drawn (numpy's generator, seeded by ``seed``).
        """
        rng = np.random.default_rng(seed)
        shape = tuple(self.input_shape[1:])
        images = np.zeros((n, int(np.prod(shape))), np.float32)
        for i in range(images.shape[1]):
            logits = np.asarray(self.predict_on_batch(images.reshape((n, *shape))))
            p = 1.0 / (1.0 + np.exp(-logits.reshape(n, -1)[:, i]))
            images[:, i] = rng.random(n) < p
        return images.reshape((n, *shape))


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class NADE(AutoregressiveImageModel):
    """NADE, which samples as the paper does: one pixel at a time, its hidden
    pre-activation updated by one column, a += W_i x_i: O(D·H) per image, not the
    D full passes of ``AutoregressiveImageModel.sample``."""

    def sample(self, n, seed=0):
        rng = np.random.default_rng(seed)
        layer = self.get_layer("conditionals")
        w, c, v, b = (ops.convert_to_numpy(t).astype(np.float64)
                      for t in (layer.w, layer.c, layer.v, layer.b))
        images = np.zeros((n, len(b)), np.float32)
        pre_activation = np.tile(c, (n, 1))  # (n, H): c + Σ_{k<i} x_k W_k
        for i in range(len(b)):
            h = 1.0 / (1.0 + np.exp(-pre_activation))
            p = 1.0 / (1.0 + np.exp(-(h @ v[i] + b[i])))
            images[:, i] = rng.random(n) < p
            pre_activation += images[:, i:i + 1] * w[i]
        return images.reshape((n, *self.input_shape[1:]))


def _check_input(input_shape, name):
    if input_shape is None or len(input_shape) != 3 or any(
            not isinstance(side, int) or side < 1 for side in input_shape):
        raise ModelArgumentError(f"{name}: input_shape must be (H, W, C); got {input_shape}")
    if keras.config.image_data_format() != "channels_last":
        raise ModelArgumentError(f"{name} is built channels last only")
    return tuple(input_shape)


def nade(input_shape=(28, 28, 1), hidden=500, name="nade"):
    """NADE on binary images: the pixels in raster order, ``hidden`` shared sigmoid units.

    Parameters: 2·D·H + D + H with D = H·W·C pixels (785,284 at 28x28, H = 500).
    """
    check_positive_ints(name, hidden=hidden)
    input_shape = _check_input(input_shape, name)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)  # (B, D), raster order
    # float32 whatever the policy: the running sum of D terms in float16 loses the small ones.
    logits = NADEConditionals(hidden, dtype="float32", name="conditionals")(x)
    outputs = layers.Reshape(input_shape, dtype="float32", name="logits")(logits)
    return NADE(inputs, outputs, {
        "builder": "nade", "input_shape": input_shape, "hidden": hidden, "name": name}, name=name)


def pixelcnn_block(x, filters, name):
    """Figure 5's residual block: ReLU, 1x1 (2h -> h), ReLU, masked 3x3 B (h -> h),
    ReLU, 1x1 (h -> 2h), plus the input. 1x1 convolutions are causal as they are."""
    y = layers.ReLU(name=f"{name}_relu1")(x)
    y = layers.Conv2D(filters, 1, name=f"{name}_reduce")(y)
    y = layers.ReLU(name=f"{name}_relu2")(y)
    y = MaskedConv2D("B", filters, 3, name=f"{name}_conv")(y)
    y = layers.ReLU(name=f"{name}_relu3")(y)
    y = layers.Conv2D(2 * filters, 1, name=f"{name}_expand")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def pixelcnn(input_shape=(28, 28, 1), filters=64, blocks=7, head_filters=512, name="pixelcnn"):
    """PixelCNN for binary images: a masked 7x7 A convolution to 2h channels, ``blocks``
    residual blocks with masked 3x3 B convolutions (h = ``filters``), then two 1x1
    convolutions (ReLU, ``head_filters``) and one logit per pixel.

    Parameters, with h = filters, n = blocks, f = head_filters, C input channels:
    (49·C·2h + 2h) + n·(2h·h + h + 9·h² + h + h·2h + 2h) + (2h·f + f) + (f·f + f) + (f + 1).
    """
    check_positive_ints(name, filters=filters, blocks=blocks, head_filters=head_filters)
    input_shape = _check_input(input_shape, name)
    inputs = keras.Input(shape=input_shape, name="image")
    x = MaskedConv2D("A", 2 * filters, 7, name="conv_a")(inputs)
    for i in range(blocks):
        x = pixelcnn_block(x, filters, name=f"block{i + 1}")
    x = layers.ReLU(name="head_relu1")(x)
    x = layers.Conv2D(head_filters, 1, activation="relu", name="head_conv1")(x)
    x = layers.Conv2D(head_filters, 1, activation="relu", name="head_conv2")(x)
    outputs = layers.Conv2D(input_shape[-1], 1, dtype="float32", name="logits")(x)
    return AutoregressiveImageModel(inputs, outputs, {
        "builder": "pixelcnn", "input_shape": input_shape, "filters": filters, "blocks": blocks,
        "head_filters": head_filters, "name": name}, name=name)


BUILDERS = {"nade": nade, "pixelcnn": pixelcnn}
