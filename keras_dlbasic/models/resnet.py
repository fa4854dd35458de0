"""Chapter 2, modern CNNs: ResNet, residual learning with identity shortcuts.

Reference: He, Zhang, Ren & Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016, https://arxiv.org/abs/1512.03385.

Lecture point: a block learns a residual F(x) and outputs relu(F(x) + x).
The shortcut costs (almost) nothing, yet it lets 100+ layer networks train:
a plain 56-layer net trains *worse* than a plain 20-layer one (degradation),
while ResNet-56 beats ResNet-20. ``plain=True`` removes the shortcuts and
nothing else, so the two can be compared layer for layer (residual branches
end in a BatchNorm whose scale starts at 0, so each block starts as the
identity; plain blocks keep the usual scale of 1).

What this file holds:

* blocks: ``basic_block`` (two 3x3 convs, ResNet-18/34 and the CIFAR nets)
  and ``bottleneck_block`` (1x1 reduce -> 3x3 -> 1x1 expand x4, ResNet-50+);
* ``resnet``, the generic builder (stem, four or three stages, head);
* variants: ImageNet ``resnet18`` ... ``resnet152`` (Table 1) and CIFAR-10
  ``resnet20`` ... ``resnet110`` with ``plain20`` / ``plain56`` (Sec. 4.2).

ImageNet variants follow torchvision ("ResNet v1.5"): convs without bias,
BatchNorm after every conv, stride 2 on the bottleneck's 3x3 conv (the paper
puts it on the first 1x1, which then sees a quarter of the pixels: same
parameters, and the paper's ResNet-50 costs 3.86 GMACs, 6% under
torchvision's figure in ``resnet_specs``), 1x1 projection shortcuts where
the shape changes (option B).
Their trainable parameters equal torchvision's exactly; ``count_params()``
also counts BatchNorm's moving mean and variance, two more numbers per BN
channel, which PyTorch keeps as buffers.

CIFAR variants follow Sec. 4.2: a 3x3 stem with 16 filters, three stages of
n basic blocks with 16/32/64 filters (depth 6n+2), global average pooling and
a 10-way classifier; shortcuts are option A, parameter-free: subsample by 2
and pad the new channels with zeros.
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


def conv_bn(x, filters, kernel_size, stride=1, name=None, activation=True, zero_gamma=False):
    """Conv (no bias; BN supplies the shift) -> BatchNorm -> optional ReLU.

    A strided 3x3 conv pads one pixel explicitly, as PyTorch does; "same"
    padding would pad only the bottom/right side for even inputs.
    ``zero_gamma`` starts the BN scale at 0, so a residual branch starts as 0
    and its block as the identity (Goyal et al. 2017; torchvision's
    ``zero_init_residual``). Without it the sum of 50 un-normalised branches
    makes an untrained ResNet's inference-mode logits explode.
    """
    if stride > 1 and kernel_size > 1:
        x = layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=stride,
        padding=padding,
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    x = bn(x, f"{name}_bn", gamma_initializer="zeros" if zero_gamma else "ones")
    if activation:
        x = layers.Activation("relu", name=f"{name}_relu")(x)
    return x


def shortcut(x, filters, stride, kind, name):
    """The block's skip path: ``"identity"``, ``"projection"`` (1x1 conv + BN) or
    ``"zero_pad"`` (option A: subsample, then append as many zero channels)."""
    if kind == "identity":
        return x
    if kind == "projection":
        return conv_bn(x, filters, 1, stride, name=f"{name}_0", activation=False)
    channels = x.shape[channel_axis()]
    if filters != 2 * channels:
        raise ModelArgumentError(
            f"{name}: zero-padding shortcuts need the channels to double; got {channels} -> {filters}"
        )
    # Option A: x[:, ::2, ::2, :] concatenated with zeros of the same shape.
    x = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_subsample")(x)
    zeros = layers.Rescaling(0.0, name=f"{name}_0_zeros")(x)
    return layers.Concatenate(axis=channel_axis(), name=f"{name}_0_pad")([x, zeros])


def basic_block(x, filters, stride=1, skip="identity", name=None, zero_init=True):
    """relu(conv3x3 -> BN -> relu -> conv3x3 -> BN  + skip(x)); ``skip=None`` is the plain block.

    ``zero_init`` starts the last BN scale of a residual branch at 0.
    """
    residual = conv_bn(x, filters, 3, stride, name=f"{name}_1")
    residual = conv_bn(
        residual, filters, 3, name=f"{name}_2", activation=False,
        zero_gamma=zero_init and skip is not None,
    )
    if skip is not None:
        residual = layers.Add(name=f"{name}_add")([shortcut(x, filters, stride, skip, name), residual])
    return layers.Activation("relu", name=f"{name}_out")(residual)


def bottleneck_block(x, filters, stride=1, skip="identity", name=None, zero_init=True):
    """relu(1x1 reduce -> 3x3 (strided) -> 1x1 expand to 4·filters  + skip(x)).

    ``zero_init`` starts the last BN scale of a residual branch at 0.
    """
    residual = conv_bn(x, filters, 1, name=f"{name}_1")
    residual = conv_bn(residual, filters, 3, stride, name=f"{name}_2")
    residual = conv_bn(
        residual, 4 * filters, 1, name=f"{name}_3", activation=False,
        zero_gamma=zero_init and skip is not None,
    )
    if skip is not None:
        skip_path = shortcut(x, 4 * filters, stride, skip, name)
        residual = layers.Add(name=f"{name}_add")([skip_path, residual])
    return layers.Activation("relu", name=f"{name}_out")(residual)


# --- Builder ----------------------------------------------------------------------


def resnet(
    stage_blocks,
    bottleneck=False,
    cifar=False,
    plain=False,
    zero_init_residual=True,
    include_top=True,
    input_shape=None,
    classes=1000,
    pooling=None,
    classifier_activation="softmax",
    name="resnet",
):
    """A ResNet: stem, one stage per entry of ``stage_blocks``, head.

    Args:
        stage_blocks: blocks per stage, e.g. ``[3, 4, 6, 3]`` for ResNet-50.
            Stage i has 64·2^i filters (16·2^i with ``cifar``); every stage
            but the first halves the resolution in its first block.
        bottleneck: use bottleneck blocks (output 4x the stage's filters).
        cifar: the CIFAR-10 network of Sec. 4.2: 3x3 stem without max-pool,
            16/32/64 filters, zero-padding (option A) shortcuts, 32x32 inputs;
            otherwise the ImageNet network (7x7/2 stem + max-pool, projection
            shortcuts where the shape changes, 224x224 inputs).
        plain: drop every shortcut (the paper's "plain" baseline).
        zero_init_residual: start the last BN scale of every residual branch
            at 0, so each block starts as the identity (Goyal et al. 2017);
            ``False`` starts it at 1, as the paper and the plain net do.
        include_top: end with global average pooling and the classifier.
        input_shape: input shape in the current image data format.
        classes: number of classes when ``include_top``.
        pooling: ``None``, ``"avg"`` or ``"max"`` global pooling when not ``include_top``.
        classifier_activation: activation of the classifier (``None`` for logits).
        name: model name.

    Returns:
        A ``keras.Model``; e.g. ``resnet([2, 2, 2, 2])`` maps (batch, 224, 224, 3)
        to (batch, 1000).
    """
    check_head_args(name, classes, pooling)
    check_positive_ints(name, stage_blocks=stage_blocks)
    downsamplings = len(stage_blocks) - 1 if cifar else len(stage_blocks) + 1
    input_shape = image_input_shape(
        input_shape, (32, 32) if cifar else (224, 224), 3, 2**downsamplings, name
    )
    block = bottleneck_block if bottleneck else basic_block
    expansion = 4 if bottleneck else 1

    inputs = keras.Input(shape=input_shape, name="image")
    if cifar:
        x = conv_bn(inputs, 16, 3, name="conv1")  # (B, 32, 32, 16)
        width, projection = 16, "zero_pad"
    else:
        x = conv_bn(inputs, 64, 7, stride=2, name="conv1")  # (B, 112, 112, 64)
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)  # (B, 56, 56, 64)
        width, projection = 64, "projection"

    channels = width
    for stage, blocks in enumerate(stage_blocks):
        filters = width * 2**stage
        for index in range(blocks):
            stride = 2 if stage > 0 and index == 0 else 1
            same_shape = stride == 1 and channels == filters * expansion
            skip = None if plain else "identity" if same_shape else projection
            x = block(x, filters, stride, skip, name=f"conv{stage + 2}_block{index + 1}",
                      zero_init=zero_init_residual)
            channels = filters * expansion

    outputs = classifier_head(x, include_top, classes, pooling, classifier_activation)
    return keras.Model(inputs, outputs, name=name)


# --- Variants ---------------------------------------------------------------------


@variant_of(resnet, fixed=("name",))
def resnet18(stage_blocks=(2, 2, 2, 2), **kwargs):
    """ResNet-18 (Table 1), as torchvision (reference count: ``dlbasic info``)."""
    return resnet(stage_blocks, name="resnet18", **kwargs)


@variant_of(resnet, fixed=("name",))
def resnet34(stage_blocks=(3, 4, 6, 3), **kwargs):
    """ResNet-34 (Table 1), as torchvision (reference count: ``dlbasic info``)."""
    return resnet(stage_blocks, name="resnet34", **kwargs)


@variant_of(resnet, fixed=("bottleneck", "name"))
def resnet50(stage_blocks=(3, 4, 6, 3), **kwargs):
    """ResNet-50 (Table 1), as torchvision (reference count: ``dlbasic info``)."""
    return resnet(stage_blocks, bottleneck=True, name="resnet50", **kwargs)


@variant_of(resnet, fixed=("bottleneck", "name"))
def resnet101(stage_blocks=(3, 4, 23, 3), **kwargs):
    """ResNet-101 (Table 1), as torchvision (reference count: ``dlbasic info``)."""
    return resnet(stage_blocks, bottleneck=True, name="resnet101", **kwargs)


@variant_of(resnet, fixed=("bottleneck", "name"))
def resnet152(stage_blocks=(3, 8, 36, 3), **kwargs):
    """ResNet-152 (Table 1), as torchvision (reference count: ``dlbasic info``)."""
    return resnet(stage_blocks, bottleneck=True, name="resnet152", **kwargs)


_CIFAR_FIXED = ("stage_blocks", "cifar", "plain", "name")


def _cifar(depth, plain, name, kwargs):
    n = (depth - 2) // 6  # depth = 6n + 2
    kwargs.setdefault("classes", 10)
    return resnet([n, n, n], cifar=True, plain=plain, name=name, **kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def resnet20(**kwargs):
    """CIFAR ResNet-20 (Table 6: 0.27M)."""
    return _cifar(20, False, "resnet20", kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def resnet32(**kwargs):
    """CIFAR ResNet-32 (Table 6: 0.46M)."""
    return _cifar(32, False, "resnet32", kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def resnet44(**kwargs):
    """CIFAR ResNet-44 (Table 6: 0.66M)."""
    return _cifar(44, False, "resnet44", kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def resnet56(**kwargs):
    """CIFAR ResNet-56 (Table 6: 0.85M)."""
    return _cifar(56, False, "resnet56", kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def resnet110(**kwargs):
    """CIFAR ResNet-110 (Table 6: 1.7M)."""
    return _cifar(110, False, "resnet110", kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def plain20(**kwargs):
    """CIFAR plain-20: ResNet-20 without shortcuts (Fig. 6, left)."""
    return _cifar(20, True, "plain20", kwargs)


@variant_of(resnet, fixed=_CIFAR_FIXED)
def plain56(**kwargs):
    """CIFAR plain-56: ResNet-56 without shortcuts (Fig. 6, left)."""
    return _cifar(56, True, "plain56", kwargs)
