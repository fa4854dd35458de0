"""Masked layers of the autoregressive models (chapter 6): NADE and PixelCNN.

Both models read the pixels of an image in raster order (row by row, left to
right) and predict pixel i from pixels 0..i-1 only, so that the chain rule
p(x) = ∏ p(x_i | x_<i) holds exactly and one forward pass gives every
conditional at once.

* ``MaskedConv2D``: PixelCNN's convolution (van den Oord et al. 2016,
  https://arxiv.org/abs/1601.06759, Figure 2). Its kernel sees the rows above and
  the pixels to the left in its own row; mask ``"A"`` (the first layer) also hides
  the centre pixel, mask ``"B"`` (every later layer) lets it through, since by
  then the centre position carries features of earlier pixels only.
* ``NADEConditionals``: NADE's weight sharing (Larochelle & Murray 2011,
  http://proceedings.mlr.press/v15/larochelle11a.html, equations 5-6): the
  hidden state of pixel i is h_i = σ(c + W[:, <i] x_<i), and the logit of
  p(x_i = 1 | x_<i) is b_i + V_i · h_i. A running sum over i computes every
  h_i in one pass.

The masks are applied in ``call`` (kernel · mask): the trained kernel is never
overwritten, so saving, loading and every backend see the same weights.
"""
import keras
import numpy as np
from keras import layers, ops

MASK_TYPES = ("A", "B")


def raster_mask(kernel_size, mask_type):
    """The (k_h, k_w) 0/1 mask of a causal kernel: rows above, and the left of the centre
    row; the centre itself for mask ``"B"``.

    >>> raster_mask(3, "A")
    array([[1., 1., 1.],
           [1., 0., 0.],
           [0., 0., 0.]], dtype=float32)
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    mask = np.zeros((kh, kw), np.float32)
    mask[: kh // 2] = 1.0
    mask[kh // 2, : kw // 2 + (mask_type == "B")] = 1.0
    return mask


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class MaskedConv2D(layers.Conv2D):
    """A 2-D convolution that sees only earlier pixels in raster order (PixelCNN).

    Args:
        mask_type: ``"A"`` (hides the centre pixel; the first layer) or ``"B"``.
        filters, kernel_size, ...: as ``keras.layers.Conv2D``; padding is always
            ``"same"`` and strides 1, so every output pixel has an input pixel.

    Call: (B, H, W, C) -> (B, H, W, filters); output (r, c) depends on input rows
    above r, and on row r left of c (and c itself for mask B).

    Example:
        >>> layer = MaskedConv2D("A", 8, 7)
        >>> layer(keras.ops.zeros((2, 28, 28, 1))).shape
        (2, 28, 28, 8)
    """

    def __init__(self, mask_type, filters, kernel_size, **kwargs):
        if mask_type not in MASK_TYPES:
            raise ValueError(f"mask_type must be 'A' or 'B'; got {mask_type!r}")
        for fixed in ("padding", "strides", "dilation_rate", "groups"):
            kwargs.pop(fixed, None)  # a config round trip passes them back
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        self.mask_type = mask_type

    def build(self, input_shape):
        super().build(input_shape)
        mask = raster_mask(self.kernel_size, self.mask_type)
        # (k_h, k_w, 1, 1): the same spatial mask for every input and output channel.
        self._mask = mask[:, :, None, None]

    def call(self, inputs):
        kernel = self.kernel * ops.cast(self._mask, self.kernel.dtype)
        outputs = self.convolution_op(inputs, kernel)
        if self.use_bias:
            channels_last = self.data_format == "channels_last"
            outputs = ops.add(outputs, ops.reshape(
                self.bias, (1, 1, 1, self.filters) if channels_last else (1, self.filters, 1, 1)))
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self):
        return {"mask_type": self.mask_type, **super().get_config()}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class NADEConditionals(layers.Layer):
    """NADE: the logits of every p(x_i = 1 | x_<i) of a binary vector in one pass.

    Args:
        hidden: H, hidden units (500 in the paper's MNIST experiments).

    Weights: W (D, H) input-to-hidden, c (H,), V (D, H) hidden-to-output, b (D,):
    2·D·H + D + H parameters.

    Call: x (B, D) in {0, 1} -> logits (B, D), where logit i depends on x_0..x_{i-1}.

    Example:
        >>> NADEConditionals(16)(keras.ops.zeros((2, 784))).shape
        (2, 784)
    """

    def __init__(self, hidden, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be a positive integer; got {hidden!r}")
        self.hidden = hidden

    def build(self, input_shape):
        dim = input_shape[-1]
        uniform = keras.initializers.GlorotUniform()
        self.w = self.add_weight(name="w", shape=(dim, self.hidden), initializer=uniform)
        self.c = self.add_weight(name="c", shape=(self.hidden,), initializer="zeros")
        self.v = self.add_weight(name="v", shape=(dim, self.hidden), initializer=uniform)
        self.b = self.add_weight(name="b", shape=(dim,), initializer="zeros")

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        contributions = x[:, :, None] * self.w[None]  # (B, D, H): x_i W_i
        # a_i = c + Σ_{k<i} x_k W_k: the running sum, shifted by one pixel.
        running = ops.cumsum(contributions, axis=1) - contributions  # (B, D, H)
        h = ops.sigmoid(self.c + running)  # (B, D, H)
        return ops.einsum("bdh,dh->bd", h, self.v) + self.b  # (B, D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"hidden": self.hidden, **super().get_config()}
