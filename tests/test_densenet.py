"""DenseNet: exact parameter counts, growth and compression.

MACs against torchvision's are checked in test_models.py::test_reference_figures.
"""
import keras
import pytest

from keras_dlbasic import model_info
from keras_dlbasic.accounting import conv_params, dense_params, model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import densenet
from keras_dlbasic.registry import shapes_only

# Dense layers per block (Huang et al. 2017, Table 1) and the final channels.
IMAGENET = {
    "densenet121": ((6, 12, 24, 16), 1024),
    "densenet169": ((6, 12, 32, 32), 1664),
    "densenet201": ((6, 12, 48, 32), 1920),
}


def densenet_count(blocks, growth_rate=32, cifar=False, classes=1000, compression=0.5):
    """(trainable, BN moving mean/variance) by hand, for DenseNet-BC: bias-free convs;
    a stem of 2k filters (7x7 + BN, or one 3x3 conv for CIFAR); each dense layer
    BN-1x1 conv to 4k-BN-3x3 conv to k, adding k channels; each transition BN-1x1 conv
    to floor(compression·C); a final BN; the classifier."""
    k = growth_rate
    weights = conv_params(3 if cifar else 7, 3, 2 * k, bias=False)
    bn_channels = 0 if cifar else 2 * k
    c = 2 * k
    for index, layers_count in enumerate(blocks):
        for _ in range(layers_count):
            weights += conv_params(1, c, 4 * k, bias=False) + conv_params(3, 4 * k, k, bias=False)
            bn_channels += c + 4 * k
            c += k
        if index < len(blocks) - 1:
            weights += conv_params(1, c, int(c * compression), bias=False)
            bn_channels += c
            c = int(c * compression)
    bn_channels += c  # the final BN
    return weights + 2 * bn_channels + dense_params(c, classes), 2 * bn_channels


@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_densenet_is_the_hand_count(name):
    blocks, features = IMAGENET[name]
    trainable, moving = densenet_count(blocks)
    # The catalog's reference is torchvision's num_params plus BN's moving statistics.
    assert trainable + moving == model_info(name).reference_params
    with shapes_only():
        model = getattr(densenet, name)()
    stats = model_stats(model)
    assert (stats.trainable, stats.non_trainable) == (trainable, moving)
    assert model.get_layer("final_relu").output.shape == (None, 7, 7, features)


@pytest.fixture(scope="module")
def bc():
    with shapes_only():
        return densenet.densenet_bc()


def test_densenet_bc_matches_paper(bc):
    model = bc
    trainable, moving = densenet_count((16, 16, 16), growth_rate=12, cifar=True, classes=10)
    assert trainable + moving == model_info("densenet_bc").reference_params
    assert round(trainable / 1e6, 1) == 0.8  # Table 2: 0.8M
    assert (model_stats(model).trainable, model.count_params()) == (trainable, trainable + moving)
    assert model.output_shape == (None, 10)
    # Three blocks of 16 bottleneck layers: 2 convs each, + stem, 2 transitions, classifier.
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) + 1 == 100


def test_growth_and_compression_channels(bc):
    k, c0 = 12, 24
    model = bc
    # Each dense layer adds k channels; each transition halves them (floor).
    after_block1 = c0 + 16 * k  # 216
    assert model.get_layer("conv2_block16_concat").output.shape[-1] == after_block1
    assert model.get_layer("pool2_conv").output.shape[-1] == after_block1 // 2
    assert model.get_layer("pool2_pool").output.shape[1:3] == (16, 16)
    after_block2 = after_block1 // 2 + 16 * k  # 300
    assert model.get_layer("pool3_conv").output.shape[-1] == after_block2 // 2
    assert model.get_layer("final_relu").output.shape == (None, 8, 8, after_block2 // 2 + 16 * k)
    # A dense layer's weights: BN(C) + 1x1 C->4k + BN(4k) + 3x3 4k->k (BN counted x4).
    c = c0
    expected = 4 * c + c * 4 * k + 4 * 4 * k + 9 * 4 * k * k
    layer_params = sum(
        model.get_layer(f"conv2_block1_{part}").count_params()
        for part in ("0_bn", "1_conv", "1_bn", "2_conv")
    )
    assert layer_params == expected


def test_without_bottleneck_and_compression():
    model = densenet.densenet(
        [2, 2], growth_rate=4, bottleneck=False, compression=1.0, cifar=True, classes=10
    )
    assert model.get_layer("pool2_conv").output.shape[-1] == 8 + 2 * 4
    assert not any("_1_conv" in l.name for l in model.layers)


def test_channels_first_keeps_the_hand_count(channels_first):
    model = densenet.densenet(input_shape=(3, 32, 32), blocks=[2, 2], growth_rate=4, cifar=True,
                              classes=10)
    assert model.count_params() == sum(densenet_count((2, 2), growth_rate=4, cifar=True, classes=10))
    assert model.get_layer("pool2_conv").output.shape == (None, 8, 32, 32)


def test_head_contract_and_errors():
    features = densenet.densenet([2, 2], growth_rate=4, cifar=True, include_top=False, pooling="max")
    assert features.output_shape == (None, 8 + 2 * 4)  # (8 + 2·4) // 2 + 2·4
    with pytest.raises(ModelArgumentError, match="1.5"):
        densenet.densenet([6, 12], compression=1.5)
    with pytest.raises(ModelArgumentError, match="99"):
        densenet.densenet_bc(depth=99)
    with pytest.raises(ModelArgumentError, match=r"2, 2, 3"):
        densenet.densenet_bc(input_shape=(2, 2, 3))
