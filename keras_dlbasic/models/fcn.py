"""Chapter 3, semantic segmentation: fully convolutional networks (FCN-32s, -16s, -8s).

Reference: Long, Shelhamer & Darrell, "Fully Convolutional Networks for Semantic
Segmentation", CVPR 2015, https://arxiv.org/abs/1411.4038.

Lecture points:

* **Convolutionalization.** A Dense layer on a 7x7x512 feature map is a 7x7 conv
  with 4096 filters; a Dense layer after it is a 1x1 conv. ``convolutionalize``
  rewrites a trained classifier that way, weights reshaped, not retrained: at the
  classifier's input size it gives the same scores, on a larger input a map of
  scores, one per 32-pixel step (a test checks both).
* **Deconvolution.** The coarse score map (1/32 of the input) is upsampled back by
  ``Conv2DTranspose`` with a 2s x 2s kernel and stride s, which starts as bilinear
  interpolation (``BilinearUpsampling``) and may learn.
* **Skips.** FCN-16s adds scores from pool4 (1/16) to the 2x-upsampled coarse
  scores before upsampling by 16; FCN-8s also adds pool3 (1/8) and upsamples by 8.
  Finer layers sharpen the masks.

Layout: the VGG-16 trunk (``keras_dlbasic.models.vgg``), fc6 as a 7x7 conv and fc7
as a 1x1 conv (``fc_units`` filters, dropout after each), a 1x1 score layer per
fused level (zero-initialised, as in the paper) and the upsampling layers; the
last one stays fixed bilinear interpolation, as in the paper's released nets.
Unlike the paper, fc6 pads its input ("same") instead of padding the image by 100
pixels and cropping, so every score map lines up with the input without crop
layers; the weights are the same. Upsampling layers have no bias (Caffe's
``Deconvolution`` with ``bias_term: false``).
"""
import keras
import numpy as np
from keras import layers

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.models.common import image_input_shape
from keras_dlbasic.models.vgg import CONFIGS, vgg_stage
from keras_dlbasic.registry import variant_of


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class BilinearUpsampling(keras.initializers.Initializer):
    """A ``Conv2DTranspose`` kernel (k, k, channels, channels) that upsamples each channel
    by bilinear interpolation and mixes none (FCN's ``surgery.upsample_filt``).

    With stride s, kernel 2s and ``padding="same"``, the layer's output away from
    the borders is ``keras.ops.image.resize(x, scale s, "bilinear")``.
    """

    def __call__(self, shape, dtype=None):
        size, size_w, out_channels, in_channels = shape
        if size != size_w or out_channels != in_channels:
            raise ValueError(f"bilinear upsampling needs a square kernel and as many output as "
                             f"input channels; got kernel shape {shape}")
        kernel = np.zeros(shape, "float32")
        kernel[:, :, range(out_channels), range(in_channels)] = bilinear_filter(size)[..., None]
        return keras.ops.convert_to_tensor(kernel, dtype=dtype)


def bilinear_filter(size):
    """(size, size) weights of bilinear interpolation for an upsampling by ``(size + 1) // 2``."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = 1 - np.abs(np.arange(size) - centre) / factor
    return np.outer(ramp, ramp).astype("float32")


def convolutionalize(classifier, name=None):
    """The fully convolutional twin of a classifier that ends Flatten -> Dense layers.

    Every Dense layer after the ``Flatten`` becomes a convolution holding the same
    weights: the first a k x k conv over the last feature map (k x k x C), reshaped
    from its (k·k·C, units) kernel; the others 1x1 convs. The new network takes any
    input at least as large as the classifier's and returns (B, h, w, classes): at
    the classifier's input size h = w = 1 and the scores are the classifier's.

    Args:
        classifier: a functional ``keras.Model`` (channels last) whose layers after
            its ``Flatten`` are Dense and Dropout layers only, e.g.
            ``get_model("vgg16")``.
        name: the new model's name (default ``<classifier>_fully_conv``).

    Returns:
        A new ``keras.Model`` with unknown spatial input size.
    """
    names = [layer.name for layer in classifier.layers]
    flatten = next((l for l in classifier.layers if isinstance(l, layers.Flatten)), None)
    if flatten is None:
        raise ModelArgumentError(f"{classifier.name} has no Flatten layer to convolutionalize")
    feature_shape = flatten.input.shape[1:]  # (k, k, C)
    head = classifier.layers[names.index(flatten.name) + 1:]
    if any(not isinstance(l, (layers.Dense, layers.Dropout)) for l in head):
        raise ModelArgumentError(f"{classifier.name}: only Dense and Dropout layers may follow Flatten")

    inputs = keras.Input(shape=(None, None, classifier.input_shape[-1]), name="image")
    x = inputs
    for layer in classifier.layers[1:names.index(flatten.name)]:
        x = layer(x)  # the trunk itself, weights shared with the classifier
    kernel_size = tuple(feature_shape[:2])
    for layer in head:
        if isinstance(layer, layers.Dropout):
            continue  # identity at inference
        kernel, bias = layer.get_weights()
        conv = layers.Conv2D(layer.units, kernel_size, activation=layer.activation,
                             name=f"{layer.name}_conv")
        x = conv(x)
        conv.set_weights([kernel.reshape(*kernel_size, -1, layer.units), bias])
        kernel_size = (1, 1)
    return keras.Model(inputs, x, name=name or f"{classifier.name}_fully_conv")


def _upsample(x, classes, stride, trainable, name):
    return layers.Conv2DTranspose(classes, 2 * stride, strides=stride, padding="same", use_bias=False,
                                  kernel_initializer=BilinearUpsampling(), trainable=trainable,
                                  name=name)(x)


def _score(x, classes, name):
    return layers.Conv2D(classes, 1, kernel_initializer="zeros", name=name)(x)


def fcn(
    stride=8,
    classes=21,
    input_shape=None,
    width=64,
    fc_units=4096,
    batch_norm=False,
    dropout=0.5,
    classifier_activation="softmax",
    name="fcn",
):
    """An FCN on the VGG-16 trunk.

    Args:
        stride: the finest skip: 32 (FCN-32s, no skip), 16 (pool4) or 8 (pool4, pool3).
        classes: classes per pixel, background included (21 for PASCAL VOC).
        input_shape: (H, W, C) with H and W multiples of 32, or ``None`` sides for any
            such size (default (224, 224, 3)).
        width: filters of the first VGG stage (64); stage i has ``width·2^i``, at most
            ``8·width``.
        fc_units: filters of fc6 and fc7 (4096).
        batch_norm: BatchNorm after every trunk conv (VGG-16-BN), for training from
            scratch; the paper starts from ImageNet weights without it.
        dropout: rate after fc6 and fc7.
        classifier_activation: the per-pixel activation (``"softmax"``, or ``None`` for
            logits), in float32.
        name: model name.

    Returns:
        A ``keras.Model`` (B, H, W, C) -> (B, H, W, classes).
    """
    if stride not in (32, 16, 8):
        raise ModelArgumentError(f"{name}: stride must be 32, 16 or 8; got stride={stride}")
    check_positive_ints(name, classes=classes, width=width, fc_units=fc_units)
    if keras.config.image_data_format() != "channels_last":
        raise ModelArgumentError(f"{name} is built channels last only")
    input_shape = image_input_shape(input_shape, (224, 224), 3, 32, name)
    for side in input_shape[:2]:
        if side is not None and side % 32:
            raise ModelArgumentError(f"{name}: image sides must be multiples of 32; got {input_shape}")

    inputs = keras.Input(shape=input_shape, name="image")
    x, pools = inputs, {}
    for stage, convs in enumerate(CONFIGS[16]):
        x = vgg_stage(x, convs, min(width * 2**stage, 8 * width), batch_norm, name=f"block{stage + 1}")
        pools[2 ** (stage + 1)] = x  # pool3 at 1/8, pool4 at 1/16, pool5 at 1/32
    x = layers.Conv2D(fc_units, 7, padding="same", activation="relu", name="fc6")(x)
    x = layers.Dropout(dropout, name="fc6_dropout")(x)
    x = layers.Conv2D(fc_units, 1, activation="relu", name="fc7")(x)
    x = layers.Dropout(dropout, name="fc7_dropout")(x)
    scores = _score(x, classes, "score_fr")  # 1/32
    level = 32
    while level > stride:  # fuse the next finer pool: 2x upsampling (learned) + its scores
        level //= 2
        scores = _upsample(scores, classes, 2, True, f"upscore_to_{level}")
        scores = layers.Add(name=f"fuse_pool{int(np.log2(level))}")(
            [scores, _score(pools[level], classes, f"score_pool{int(np.log2(level))}")])
    scores = _upsample(scores, classes, stride, False, f"upscore{stride}")
    outputs = layers.Activation(classifier_activation, dtype="float32", name="predictions")(scores)
    return keras.Model(inputs, outputs, name=name)


@variant_of(fcn, fixed=("stride", "name"))
def fcn32s(**kwargs):
    """FCN-32s: coarse scores upsampled by 32 in one step."""
    return fcn(stride=32, name="fcn32s", **kwargs)


@variant_of(fcn, fixed=("stride", "name"))
def fcn16s(**kwargs):
    """FCN-16s: pool4's scores fused before upsampling by 16."""
    return fcn(stride=16, name="fcn16s", **kwargs)


@variant_of(fcn, fixed=("stride", "name"))
def fcn8s(**kwargs):
    """FCN-8s: pool4's and pool3's scores fused before upsampling by 8."""
    return fcn(stride=8, name="fcn8s", **kwargs)
