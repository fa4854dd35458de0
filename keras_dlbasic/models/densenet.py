"""Chapter 2, modern CNNs: DenseNet, every layer sees every earlier layer's maps.

Reference: Huang, Liu, van der Maaten & Weinberger, "Densely Connected
Convolutional Networks", CVPR 2017, https://arxiv.org/abs/1608.06993.

Lecture point: where ResNet *adds* a block's input to its output, DenseNet
*concatenates* it. Each layer adds only ``growth_rate`` (k) new channels, so a
layer can be thin: feature maps are reused instead of relearned. Two tricks
keep the growing width cheap (DenseNet-BC): a 1x1 "bottleneck" conv to 4k
channels before each 3x3 conv, and transition layers (1x1 conv + 2x2 average
pool) that shrink the channels by a ``compression`` factor between blocks.

What this file holds:

* blocks: ``dense_layer`` (BN-ReLU-1x1 conv-BN-ReLU-3x3 conv, then concat),
  ``dense_block`` (a stack of them) and ``transition_layer``;
* ``densenet``, the generic builder;
* variants: ImageNet ``densenet121`` / ``densenet169`` / ``densenet201``
  (Table 1; trainable parameters equal torchvision's; ``count_params()`` adds
  BatchNorm's moving mean and variance) and the CIFAR ``densenet_bc``
  (L=100, k=12; Table 2: 0.8M).
"""
import keras
from keras import layers

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.models.common import (
    bn,
    channel_axis,
    check_head_args,
    classifier_head,
    image_input_shape,
)
from keras_dlbasic.registry import variant_of

# --- Blocks -----------------------------------------------------------------------


def bn_relu(x, name):
    x = bn(x, f"{name}_bn")
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv(x, filters, kernel_size, name):
    """Bias-free conv ("same" padding): the next BatchNorm supplies the shift."""
    return layers.Conv2D(
        filters, kernel_size, padding="same", use_bias=False,
        kernel_initializer="he_normal", name=f"{name}_conv",
    )(x)


def dense_layer(x, growth_rate, bottleneck=True, name=None):
    """x -> concat([x, H(x)]): H adds ``growth_rate`` channels.

    H = BN-ReLU-conv3x3(k), preceded by BN-ReLU-conv1x1(4k) when ``bottleneck``.
    """
    h = x
    if bottleneck:
        h = conv(bn_relu(h, f"{name}_0"), 4 * growth_rate, 1, f"{name}_1")
    h = conv(bn_relu(h, f"{name}_1" if bottleneck else f"{name}_0"), growth_rate, 3, f"{name}_2")
    return layers.Concatenate(axis=channel_axis(), name=f"{name}_concat")([x, h])  # C + k channels


def dense_block(x, layers_count, growth_rate, bottleneck=True, name=None):
    """``layers_count`` dense layers: C channels in, C + layers_count·k out."""
    for index in range(layers_count):
        x = dense_layer(x, growth_rate, bottleneck, name=f"{name}_block{index + 1}")
    return x


def transition_layer(x, compression, name):
    """BN-ReLU-conv1x1 to floor(compression·C) channels, then 2x2 average pool."""
    filters = int(x.shape[channel_axis()] * compression)
    x = conv(bn_relu(x, name), filters, 1, name)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


# --- Builder ----------------------------------------------------------------------


def densenet(
    blocks,
    growth_rate=32,
    bottleneck=True,
    compression=0.5,
    cifar=False,
    include_top=True,
    input_shape=None,
    classes=1000,
    pooling=None,
    classifier_activation="softmax",
    name="densenet",
):
    """A DenseNet: stem, dense blocks joined by transition layers, BN-ReLU, head.

    Args:
        blocks: dense layers per block, e.g. ``[6, 12, 24, 16]`` for DenseNet-121.
        growth_rate: k, the channels each dense layer adds.
        bottleneck: 1x1 conv to 4k channels before each 3x3 conv ("B").
        compression: theta in (0, 1], channel factor of the transitions ("C").
        cifar: the CIFAR stem (one 3x3 conv, 32x32 inputs) instead of the
            ImageNet stem (7x7/2 conv + 3x3/2 max-pool, 224x224 inputs).
            Either stem has 2k filters.
        include_top, input_shape, classes, pooling, classifier_activation:
            the Keras-applications head contract.
        name: model name.

    Returns:
        A ``keras.Model``; ``densenet([6, 12, 24, 16])`` maps (batch, 224, 224, 3)
        to (batch, 1000) through 7x7x1024 features.
    """
    check_head_args(name, classes, pooling)
    check_positive_ints(name, blocks=blocks, growth_rate=growth_rate)
    if not 0 < compression <= 1:
        raise ModelArgumentError(f"{name}: compression must be in (0, 1]; got {compression!r}")
    downsamplings = len(blocks) - 1 + (0 if cifar else 2)
    input_shape = image_input_shape(
        input_shape, (32, 32) if cifar else (224, 224), 3, 2**downsamplings, name
    )

    inputs = keras.Input(shape=input_shape, name="image")
    if cifar:
        x = conv(inputs, 2 * growth_rate, 3, "conv1")  # (B, 32, 32, 2k)
    else:
        x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
        x = layers.Conv2D(
            2 * growth_rate, 7, strides=2, use_bias=False,
            kernel_initializer="he_normal", name="conv1_conv",
        )(x)  # (B, 112, 112, 2k)
        x = bn_relu(x, "conv1")
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)  # (B, 56, 56, 2k)

    for index, layers_count in enumerate(blocks):
        x = dense_block(x, layers_count, growth_rate, bottleneck, name=f"conv{index + 2}")
        if index < len(blocks) - 1:
            x = transition_layer(x, compression, name=f"pool{index + 2}")
    x = bn_relu(x, "final")  # pre-activation nets end with one more BN-ReLU

    outputs = classifier_head(x, include_top, classes, pooling, classifier_activation)
    return keras.Model(inputs, outputs, name=name)


# --- Variants ---------------------------------------------------------------------


@variant_of(densenet, fixed=("name",))
def densenet121(blocks=(6, 12, 24, 16), **kwargs):
    """DenseNet-121 (k=32), as torchvision (reference count: ``dlbasic info``)."""
    return densenet(blocks, name="densenet121", **kwargs)


@variant_of(densenet, fixed=("name",))
def densenet169(blocks=(6, 12, 32, 32), **kwargs):
    """DenseNet-169 (k=32), as torchvision (reference count: ``dlbasic info``)."""
    return densenet(blocks, name="densenet169", **kwargs)


@variant_of(densenet, fixed=("name",))
def densenet201(blocks=(6, 12, 48, 32), **kwargs):
    """DenseNet-201 (k=32), as torchvision (reference count: ``dlbasic info``)."""
    return densenet(blocks, name="densenet201", **kwargs)


@variant_of(densenet, fixed=("blocks", "cifar"))
def densenet_bc(depth=100, growth_rate=12, **kwargs):
    """CIFAR DenseNet-BC (L=100, k=12 by default; Table 2: 0.8M parameters).

    Three dense blocks of (L - 4) / 6 bottleneck layers each: the depth L
    counts two convs per layer, the stem, two transitions and the classifier.
    """
    if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ModelArgumentError(f"densenet_bc: depth must be 6n + 4 with n >= 1; got {depth!r}")
    n = (depth - 4) // 6
    kwargs.setdefault("classes", 10)
    kwargs.setdefault("name", "densenet_bc")
    return densenet([n, n, n], growth_rate, cifar=True, **kwargs)
