"""ResNet: exact parameter counts, plain vs residual.

MACs against torchvision's are checked in test_models.py::test_reference_figures.
"""
import keras
import numpy as np
import pytest

from keras_dlbasic import model_info
from keras_dlbasic.accounting import conv_params, dense_params, model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import resnet
from keras_dlbasic.registry import shapes_only

# Blocks per stage (He et al. 2016, Table 1) and whether they are bottlenecks.
IMAGENET = {
    "resnet18": ((2, 2, 2, 2), False),
    "resnet34": ((3, 4, 6, 3), False),
    "resnet50": ((3, 4, 6, 3), True),
    "resnet101": ((3, 4, 23, 3), True),
    "resnet152": ((3, 8, 36, 3), True),
}
# He et al. 2016, Table 6 (CIFAR-10), in millions.
TABLE_6 = {"resnet20": 0.27, "resnet32": 0.46, "resnet44": 0.66, "resnet56": 0.85, "resnet110": 1.7}


def resnet_count(stage_blocks, bottleneck=False, cifar=False, classes=1000):
    """(trainable, BN moving mean/variance) by hand. Convs have no bias; each is
    followed by a BN (gamma, beta trainable; mean, variance moving). ImageNet: 7x7
    stem, 64·2^i filters, 1x1 projection shortcuts where the shape changes; CIFAR:
    3x3 stem, 16·2^i filters, parameter-free shortcuts."""
    width = 16 if cifar else 64
    convs = [(3 if cifar else 7, 3, width)]  # (kernel, in, out)
    c_in = width
    for stage, blocks in enumerate(stage_blocks):
        filters = width * 2**stage
        c_out = 4 * filters if bottleneck else filters
        for index in range(blocks):
            if bottleneck:
                convs += [(1, c_in, filters), (3, filters, filters), (1, filters, c_out)]
            else:
                convs += [(3, c_in, filters), (3, filters, filters)]
            if not cifar and (c_in != c_out or (stage > 0 and index == 0)):
                convs.append((1, c_in, c_out))  # projection shortcut
            c_in = c_out
    bn_channels = sum(c for _, _, c in convs)
    trainable = sum(conv_params(k, i, o, bias=False) for k, i, o in convs) + 2 * bn_channels
    return trainable + dense_params(c_in, classes), 2 * bn_channels


@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_resnet_is_the_hand_count(name):
    stage_blocks, bottleneck = IMAGENET[name]
    trainable, moving = resnet_count(stage_blocks, bottleneck)
    # The catalog's reference is torchvision's num_params plus BN's moving statistics.
    assert trainable + moving == model_info(name).reference_params
    with shapes_only():
        stats = model_stats(getattr(resnet, name)())
    assert (stats.trainable, stats.non_trainable) == (trainable, moving)


@pytest.mark.parametrize("name", TABLE_6)
def test_cifar_resnet_matches_table_6(name):
    n = (int(name[6:]) - 2) // 6  # depth 6n + 2
    trainable, moving = resnet_count((n, n, n), cifar=True, classes=10)
    assert trainable + moving == model_info(name).reference_params
    assert round(trainable / 1e6, 2 if trainable < 1e6 else 1) == TABLE_6[name]
    with shapes_only():
        model = getattr(resnet, name)()
    assert model_stats(model).trainable == trainable
    assert model.output_shape == (None, 10)
    assert len([l for l in model.layers if isinstance(l, keras.layers.Conv2D)]) + 1 == int(name[6:])


def test_plain_differs_from_residual_only_in_shortcuts():
    res, plain = resnet.resnet20(), resnet.plain20()
    assert res.count_params() == plain.count_params()  # option A shortcuts hold no weights
    extra = {l.name for l in res.layers} - {l.name for l in plain.layers}
    assert extra and all(n.endswith(("_add", "_0_subsample", "_0_zeros", "_0_pad")) for n in extra)
    assert {l.name for l in plain.layers} <= {l.name for l in res.layers}
    # ImageNet plain nets also lose the projection convs.
    projections = resnet.resnet18().count_params() - resnet.resnet18(plain=True).count_params()
    assert projections == sum(64 * 2**s * 128 * 2**s + 4 * 128 * 2**s for s in range(3))


def test_zero_pad_shortcut_keeps_input_and_zeros():
    model = resnet.resnet20(include_top=False)
    shortcut = keras.Model(model.input, model.get_layer("conv3_block1_0_pad").output)
    features = keras.Model(model.input, model.get_layer("conv2_block3_out").output)
    x = keras.random.uniform((1, 32, 32, 3))
    out, before = keras.ops.convert_to_numpy(shortcut(x)), keras.ops.convert_to_numpy(features(x))
    assert out.shape == (1, 16, 16, 32)
    assert (out[..., :16] == before[:, ::2, ::2, :]).all() and (out[..., 16:] == 0).all()


@pytest.mark.parametrize("zero_init", [True, False])
def test_zero_init_residual_starts_blocks_as_identity(zero_init):
    """torchvision's ``zero_init_residual``: the last BN scale of each residual branch is 0,
    so an untrained block passes its input through: relu(x + 0) = x for x >= 0."""
    model = resnet.resnet20(zero_init_residual=zero_init)
    zero_scales = [l.name for l in model.layers if isinstance(l, keras.layers.BatchNormalization)
                   and not np.any(keras.ops.convert_to_numpy(l.gamma))]
    blocks = [f"conv{s}_block{b}" for s in (2, 3, 4) for b in (1, 2, 3)]
    assert zero_scales == ([f"{b}_2_bn" for b in blocks] if zero_init else [])
    probe = keras.Model(model.input, [model.get_layer("conv1_relu").output,
                                      model.get_layer("conv2_block3_out").output])
    stem, stage = (keras.ops.convert_to_numpy(t) for t in probe(np.random.rand(2, 32, 32, 3)))
    assert np.array_equal(stem, stage) == zero_init
    # Plain nets have no branch to zero.
    plain = resnet.plain20()
    assert all(np.all(keras.ops.convert_to_numpy(l.gamma)) for l in plain.layers
               if isinstance(l, keras.layers.BatchNormalization))


def test_channels_first_keeps_the_hand_count(channels_first):
    with shapes_only():
        assert resnet.resnet50().count_params() == sum(resnet_count((3, 4, 6, 3), True))
        model = resnet.resnet20(input_shape=(3, 32, 32))
    assert model.count_params() == sum(resnet_count((3, 3, 3), cifar=True, classes=10))
    assert model.get_layer("conv4_block1_out").output.shape == (None, 64, 8, 8)


def test_head_contract_and_errors():
    assert resnet.resnet50(include_top=False, pooling="avg").output_shape == (None, 2048)
    assert resnet.resnet18(include_top=False).output_shape == (None, 7, 7, 512)
    with pytest.raises(ModelArgumentError, match=r"16, 16, 3"):
        resnet.resnet18(input_shape=(16, 16, 3))
    with pytest.raises(ModelArgumentError, match="'mean'"):
        resnet.resnet18(include_top=False, pooling="mean")
    with pytest.raises(ModelArgumentError, match="-1"):
        resnet.resnet20(classes=-1)
