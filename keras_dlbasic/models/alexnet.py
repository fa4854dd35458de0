"""Chapter 2, modern CNNs: AlexNet, the network that started the deep-learning era.

Reference: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NeurIPS 2012,
https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks.

Lecture point: LeNet's recipe scaled up: 5 convs + 3 fc layers, ReLU instead
of tanh, overlapping 3x3/2 max-pooling, dropout in the fc layers, trained on
two GPUs. The convs do most of the computing; the fc layers hold 96% of
the weights.

What this file holds: ``alexnet``, the builder, and two variants:

* ``alexnet``: torchvision's single-tower version (filters 64/192/384/256/256,
  conv1 padded by 2, 224x224 inputs);
* ``alexnet_paper``: the paper's two-tower network (96/256/384/384/256,
  227x227 inputs, ``groups=2``: conv2, conv4 and conv5 only see the maps on
  their own GPU, Fig. 2).

Their parameter counts and MACs, with sources, are in ``alexnet_specs``.

The paper's local response normalisation has no weights and no Keras layer;
it is left out, as in torchvision.

The paper's data augmentation (Sec. 4.1), ``augment=("crop", "flip")``: random
224x224 crops of 256x256 images, i.e. shifts of up to 1/16 of the side each
way, and horizontal reflections. Both are Keras preprocessing layers at the
model's input, drawn per image while training and the identity at inference,
so a saved model needs no separate pipeline. The crop is written as
``RandomTranslation`` with zero fill: a random crop of a zero-padded image of
the same size, which keeps the input size fixed. The training recipe crops
the bundled digits but does not mirror them: a mirrored 2, 3 or 7 is not a
digit (on CIFAR-10 it uses both, as the paper).
"""
import keras
from keras import layers

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.models.common import check_head_args, global_pool, image_input_shape, predictions
from keras_dlbasic.registry import variant_of

TORCHVISION_FILTERS = (64, 192, 384, 256, 256)
PAPER_FILTERS = (96, 256, 384, 384, 256)
# conv index -> (kernel, stride, grouped across the two towers)
CONVS = {1: (11, 4, False), 2: (5, 1, True), 3: (3, 1, False), 4: (3, 1, True), 5: (3, 1, True)}


def _min_size(conv1_padding):
    """Smallest input side that still leaves a 1x1 map after the third pool."""
    side = 1
    for _ in range(3):
        side = 2 * side + 1  # inverse of a 3x3/2 "valid" pool
    return (side - 1) * 4 + 11 - 2 * conv1_padding


AUGMENTATIONS = ("crop", "flip")


def augmentation(x, augment, shift=1 / 16):
    """The paper's random crops (shifts of up to ``shift`` of the side) and/or flips."""
    if "crop" in augment:
        x = layers.RandomTranslation(shift, shift, fill_mode="constant", interpolation="nearest",
                                     name="random_crop")(x)
    if "flip" in augment:
        x = layers.RandomFlip("horizontal", name="random_flip")(x)
    return x


def alexnet(
    filters=TORCHVISION_FILTERS,
    groups=1,
    conv1_padding=2,
    fc_units=4096,
    dropout=0.5,
    augment=(),
    include_top=True,
    input_shape=None,
    classes=1000,
    pooling=None,
    classifier_activation="softmax",
    name="alexnet",
):
    """AlexNet: conv1-pool-conv2-pool-conv3-conv4-conv5-pool, then 3 fc layers.

    Args:
        filters: output channels of conv1..conv5.
        groups: 2 reproduces the two-GPU split: conv2, conv4 and conv5 are
            grouped convolutions (each half of the outputs sees half of the
            inputs), halving their weights.
        conv1_padding: zero padding of the 11x11/4 conv1 (2 in torchvision,
            0 in the paper, whose 227x227 inputs give the same 55x55 map).
        fc_units: width of fc6 and fc7 (4096).
        dropout: dropout rate before fc6 and fc7.
        augment: any of ``"crop"`` and ``"flip"``: random crops and horizontal
            flips of each training image (no weights; the identity at inference).
        include_top, input_shape, classes, pooling, classifier_activation:
            the Keras-applications head contract.
        name: model name.

    Returns:
        A ``keras.Model`` mapping (batch, 224, 224, 3) through 6x6x256
        features to (batch, 1000).
    """
    check_head_args(name, classes, pooling)
    if len(filters) != 5 or any(not isinstance(f, int) or f < 1 for f in filters):
        raise ModelArgumentError(f"{name}: filters must be 5 positive integers; got {filters!r}")
    if groups not in (1, 2):
        raise ModelArgumentError(f"{name}: groups must be 1 or 2; got {groups!r}")
    for index in (2, 4, 5):
        if groups == 2 and (filters[index - 2] % 2 or filters[index - 1] % 2):
            raise ModelArgumentError(
                f"{name}: groups=2 needs even channels around conv{index}; got filters={filters!r}"
            )
    check_positive_ints(name, fc_units=fc_units)
    if not isinstance(augment, (list, tuple)) or not set(augment) <= set(AUGMENTATIONS):
        raise ModelArgumentError(
            f"{name}: augment must be a list of {' and/or '.join(AUGMENTATIONS)}; got {augment!r}"
        )
    input_shape = image_input_shape(input_shape, (224, 224), 3, _min_size(conv1_padding), name)

    inputs = keras.Input(shape=input_shape, name="image")
    x = augmentation(inputs, augment)
    x = layers.ZeroPadding2D(conv1_padding, name="conv1_pad")(x)
    for index, width in enumerate(filters, start=1):
        kernel, stride, grouped = CONVS[index]
        x = layers.Conv2D(
            width, kernel, strides=stride, padding="valid" if index == 1 else "same",
            groups=groups if grouped else 1, activation="relu", name=f"conv{index}",
        )(x)  # conv1: (B, 55, 55, 64) at 224
        if index in (1, 2, 5):
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)  # overlapping pooling
    # (B, 6, 6, 256) at 224x224

    if not include_top:
        return keras.Model(inputs, global_pool(x, pooling), name=name)
    x = layers.Flatten(name="flatten")(x)
    for index in (6, 7):
        x = layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
        x = layers.Dense(fc_units, activation="relu", name=f"fc{index}")(x)
    outputs = predictions(x, classes, classifier_activation)
    return keras.Model(inputs, outputs, name=name)


@variant_of(alexnet)
def alexnet_paper(**kwargs):
    """The paper's two-tower AlexNet on 227x227 inputs (reference count: ``dlbasic info``)."""
    if kwargs.get("input_shape") is None:
        channels_last = keras.config.image_data_format() == "channels_last"
        kwargs["input_shape"] = (227, 227, 3) if channels_last else (3, 227, 227)
    kwargs.setdefault("filters", PAPER_FILTERS)
    kwargs.setdefault("groups", 2)
    kwargs.setdefault("conv1_padding", 0)
    kwargs.setdefault("name", "alexnet_paper")
    return alexnet(**kwargs)
