"""Chapter 2, modern CNNs: GoogLeNet (Inception v1), width through parallel branches.

Reference: Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke &
Rabinovich, "Going Deeper with Convolutions", CVPR 2015,
https://arxiv.org/abs/1409.4842.

Lecture point: an inception block runs 1x1, 3x3 and 5x5 convs and a 3x3
max-pool side by side and concatenates them. Done naively the 3x3/5x5 convs
and the pass-through pool make it huge; 1x1 "reduction" convs in front of
them (and after the pool) cut the cost several-fold
(``inception_block_params``). The whole 22-layer net has about 6.8M weights,
12x fewer than AlexNet, at about 1.5G multiply-adds.

What this file holds:

* ``inception_block`` and ``auxiliary_classifier``;
* ``inception_block_params``, the block's parameters with/without reductions;
* ``BLOCKS``, the paper's Table 1, and ``googlenet``, the builder.

This is the paper's network (a 5x5 conv in the third branch, conv biases, no
BatchNorm), not torchvision's (3x3 there, with BN); the paper's local
response normalisation layers hold no weights and are left out. Its weights
without the biases match Table 1's column sum (about 6.8M, with K = 1024;
the exact count is in ``googlenet_specs``). The 5x5 branches make its MACs
at 224x224 1.58G, 5.5% over the paper's "1.5 billion multiply-adds".
"""
import keras
from keras import layers

from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models.common import (
    channel_axis,
    check_head_args,
    global_pool,
    image_input_shape,
    predictions,
)

# Table 1: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj); None marks a max-pool.
BLOCKS = [
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    None,
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    None,
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
]
AUX_AFTER = ("4a", "4d")

# --- Blocks -----------------------------------------------------------------------


def conv_relu(x, filters, kernel_size, stride=1, name=None):
    return layers.Conv2D(
        filters, kernel_size, strides=stride, padding="same", activation="relu",
        kernel_initializer="he_normal", name=name,
    )(x)


def inception_block(x, c1, c3r, c3, c5r, c5, pool_proj, name):
    """Four parallel branches, concatenated: c1 + c3 + c5 + pool_proj channels.

    1x1 | 1x1 (c3r) -> 3x3 | 1x1 (c5r) -> 5x5 | 3x3 max-pool -> 1x1 (pool_proj).
    """
    b1 = conv_relu(x, c1, 1, name=f"inception{name}_1x1")
    b3 = conv_relu(x, c3r, 1, name=f"inception{name}_3x3_reduce")
    b3 = conv_relu(b3, c3, 3, name=f"inception{name}_3x3")
    b5 = conv_relu(x, c5r, 1, name=f"inception{name}_5x5_reduce")
    b5 = conv_relu(b5, c5, 5, name=f"inception{name}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"inception{name}_pool")(x)
    bp = conv_relu(bp, pool_proj, 1, name=f"inception{name}_pool_proj")
    return layers.Concatenate(axis=channel_axis(), name=f"inception{name}_concat")([b1, b3, b5, bp])


def inception_block_params(in_channels, c1, c3r, c3, c5r, c5, pool_proj, reductions=True):
    """Parameters (weights + biases) of ``inception_block``, or of its naive form.

    Without ``reductions`` the 3x3 and 5x5 convs read all ``in_channels`` and
    the pooled input passes straight through (Fig. 2a): for block 3a
    (192 in) that is 12,352 + 221,312 + 153,632 = 387,296 parameters against
    163,696 with the 1x1 reductions, and 480 output channels instead of 256.
    """
    def conv(k, c_in, c_out):
        return k * k * c_in * c_out + c_out

    if not reductions:
        return conv(1, in_channels, c1) + conv(3, in_channels, c3) + conv(5, in_channels, c5)
    return (
        conv(1, in_channels, c1)
        + conv(1, in_channels, c3r) + conv(3, c3r, c3)
        + conv(1, in_channels, c5r) + conv(5, c5r, c5)
        + conv(1, in_channels, pool_proj)
    )


def auxiliary_classifier(x, classes, classifier_activation, name):
    """5x5/3 average pool -> 1x1 conv 128 -> fc 1024 -> dropout 0.7 -> fc classes."""
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)  # (B, 4, 4, C) at 224
    x = conv_relu(x, 128, 1, name=f"{name}_conv")
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return layers.Dense(
        classes, activation=classifier_activation, dtype="float32", name=f"{name}_predictions"
    )(x)


# --- Builder ----------------------------------------------------------------------


def googlenet(
    aux_logits=False,
    dropout=0.4,
    include_top=True,
    input_shape=None,
    classes=1000,
    pooling=None,
    classifier_activation="softmax",
    name="googlenet",
):
    """GoogLeNet as in Table 1 of the paper.

    Args:
        aux_logits: add the two auxiliary classifiers (after 4a and 4d); the
            model then has three outputs ``[main, aux1, aux2]``. Needs
            ``include_top`` and inputs of at least 65x65.
        dropout: dropout rate before the main classifier (0.4 in the paper).
        include_top, input_shape, classes, pooling, classifier_activation:
            the Keras-applications head contract.
        name: model name.

    Returns:
        A ``keras.Model`` mapping (batch, 224, 224, 3) through 7x7x1024
        features to (batch, 1000).
    """
    check_head_args(name, classes, pooling)
    if aux_logits and not include_top:
        raise ModelArgumentError(
            f"{name}: aux_logits=True needs include_top=True; got include_top={include_top!r}"
        )
    # Five stride-2 steps; the auxiliary heads' 5x5 pool needs a 5x5 map after four.
    input_shape = image_input_shape(input_shape, (224, 224), 3, 65 if aux_logits else 32, name)

    inputs = keras.Input(shape=input_shape, name="image")
    x = conv_relu(inputs, 64, 7, stride=2, name="conv1_7x7")  # (B, 112, 112, 64)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # (B, 56, 56, 64)
    x = conv_relu(x, 64, 1, name="conv2_3x3_reduce")
    x = conv_relu(x, 192, 3, name="conv2_3x3")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)  # (B, 28, 28, 192)
    aux, pools = [], 2
    for block in BLOCKS:
        if block is None:
            pools += 1
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{pools}")(x)
            continue
        block_name, widths = block
        x = inception_block(x, *widths, name=block_name)
        if aux_logits and block_name in AUX_AFTER:
            aux.append(auxiliary_classifier(x, classes, classifier_activation, f"aux{len(aux) + 1}"))
    # (B, 7, 7, 1024) at 224x224
    if not include_top:
        return keras.Model(inputs, global_pool(x, pooling), name=name)
    x = layers.Dropout(dropout, name="dropout")(global_pool(x, "avg"))
    # A small classifier start, N(0, 0.01²), keeps Adam's first steps stable without BN.
    x = predictions(x, classes, classifier_activation, keras.initializers.RandomNormal(stddev=0.01))
    outputs = [x, *aux] if aux_logits else x
    return keras.Model(inputs, outputs, name=name)
