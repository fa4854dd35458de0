"""Chapter 2, modern CNNs: VGG, depth from stacks of small 3x3 convolutions.

Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015, https://arxiv.org/abs/1409.1556.

Lecture point: two stacked 3x3 convs see a 5x5 window and three see 7x7,
with fewer weights (2·9C² or 3·9C² vs 25C² or 49C²) and an extra ReLU in
between. VGG is nothing but such stacks, a 2x2 max-pool after each, and
three fully connected layers, which hold most of its 138M parameters
(``accounting.model_stats(model).fc_share``: 89% for VGG-16).

What this file holds:

* ``vgg_stage``: n 3x3 convs (optionally with BatchNorm) and a max-pool;
* ``vgg``, the generic builder; ``CONFIGS``, the paper's columns A, B, D, E;
* variants ``vgg11`` / ``vgg13`` / ``vgg16`` / ``vgg19`` and their ``_bn``
  versions (Ioffe & Szegedy's BatchNorm after every conv, as torchvision).

Layouts follow torchvision: convs keep their bias even before BatchNorm, the
classifier is fc 4096 -> ReLU -> dropout -> fc 4096 -> ReLU -> dropout ->
fc classes, so the trainable parameters and MACs equal torchvision's (see
``vgg_specs``). Unlike torchvision, whose adaptive pooling resizes any input
to 7x7, the first fc layer sees the flattened last feature map, as in the
paper: its size follows the input size.
"""
import keras
from keras import layers

from keras_dlbasic.errors import check_positive_ints
from keras_dlbasic.models.common import (
    bn,
    check_head_args,
    global_pool,
    image_input_shape,
    predictions,
)
from keras_dlbasic.registry import variant_of

# Convs per stage for the paper's Table 1 columns; stage i has 64·2^i filters, at most 512.
CONFIGS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}

# --- Blocks -----------------------------------------------------------------------


def vgg_stage(x, convs, filters, batch_norm=False, name=None, pool=True):
    """``convs`` x [3x3 conv ("same") -> (BN) -> ReLU], then (``pool``) 2x2/2 max-pool:
    (H, W) -> (H/2, W/2)."""
    for index in range(1, convs + 1):
        conv_name = f"{name}_conv{index}"
        x = layers.Conv2D(
            filters, 3, padding="same", kernel_initializer="he_normal",
            activation=None if batch_norm else "relu", name=conv_name,
        )(x)
        if batch_norm:
            x = bn(x, f"{conv_name}_bn")
            x = layers.Activation("relu", name=f"{conv_name}_relu")(x)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool")(x) if pool else x


# --- Builder ----------------------------------------------------------------------


def vgg(
    stage_convs,
    batch_norm=False,
    fc_units=4096,
    dropout=0.5,
    include_top=True,
    input_shape=None,
    classes=1000,
    pooling=None,
    classifier_activation="softmax",
    name="vgg",
):
    """A VGG network: conv stages, then (with ``include_top``) three fc layers.

    Args:
        stage_convs: 3x3 convs per stage, e.g. ``CONFIGS[16] == (2, 2, 3, 3, 3)``.
        batch_norm: BatchNorm between each conv and its ReLU.
        fc_units: width of the two hidden fc layers (4096 in the paper).
        dropout: dropout rate after each hidden fc layer.
        include_top, input_shape, classes, pooling, classifier_activation:
            the Keras-applications head contract.
        name: model name.

    Returns:
        A ``keras.Model``; ``vgg((2, 2, 3, 3, 3))`` maps (batch, 224, 224, 3)
        through (batch, 7, 7, 512) features to (batch, 1000).
    """
    check_head_args(name, classes, pooling)
    check_positive_ints(name, stage_convs=stage_convs, fc_units=fc_units)
    input_shape = image_input_shape(input_shape, (224, 224), 3, 2 ** len(stage_convs), name)

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for stage, convs in enumerate(stage_convs):
        x = vgg_stage(x, convs, min(64 * 2**stage, 512), batch_norm, name=f"block{stage + 1}")

    if not include_top:
        return keras.Model(inputs, global_pool(x, pooling), name=name)
    # fc weights start small, N(0, 0.01²) as in the paper and torchvision: without
    # BatchNorm, Adam's first steps diverge from a larger (Glorot) start.
    small = keras.initializers.RandomNormal(stddev=0.01)
    x = layers.Flatten(name="flatten")(x)  # (B, 7·7·512) at 224x224
    for index in (1, 2):
        x = layers.Dense(fc_units, activation="relu", kernel_initializer=small, name=f"fc{index}")(x)
        x = layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
    outputs = predictions(x, classes, classifier_activation, kernel_initializer=small)
    return keras.Model(inputs, outputs, name=name)


# --- Variants ---------------------------------------------------------------------


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg11(**kwargs):
    """VGG-11 (column A), as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[11], name="vgg11", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg13(**kwargs):
    """VGG-13 (column B), as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[13], name="vgg13", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg16(**kwargs):
    """VGG-16 (column D), as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[16], name="vgg16", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg19(**kwargs):
    """VGG-19 (column E), as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[19], name="vgg19", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg11_bn(**kwargs):
    """VGG-11 with BatchNorm, as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[11], batch_norm=True, name="vgg11_bn", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg13_bn(**kwargs):
    """VGG-13 with BatchNorm, as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[13], batch_norm=True, name="vgg13_bn", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg16_bn(**kwargs):
    """VGG-16 with BatchNorm, as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[16], batch_norm=True, name="vgg16_bn", **kwargs)


@variant_of(vgg, fixed=("stage_convs", "batch_norm", "name"))
def vgg19_bn(**kwargs):
    """VGG-19 with BatchNorm, as torchvision (reference count: ``dlbasic info``)."""
    return vgg(CONFIGS[19], batch_norm=True, name="vgg19_bn", **kwargs)
