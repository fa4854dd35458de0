"""VGG: exact parameter counts for columns A, B, D, E (with and without BN), FC share.

MACs against torchvision's are checked for every model in test_models.py::test_reference_figures.
"""
import pytest

from keras_dlbasic import model_info
from keras_dlbasic.accounting import conv_params, dense_params, model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import vgg
from keras_dlbasic.registry import shapes_only

# The paper's Table 1: 3x3 convs per stage of 64, 128, 256, 512, 512 filters.
COLUMNS = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3),
           "vgg19": (2, 2, 4, 4, 4)}


def vgg_count(stage_convs, batch_norm, side=224, fc_units=4096, classes=1000):
    """(trainable, BN moving mean/variance) by hand: 3x3 convs with biases, each
    followed by BN (gamma, beta) in the _bn nets, a 2x2 pool per stage, fc-fc-fc."""
    trainable, bn_channels, c_in = 0, 0, 3
    for stage, convs in enumerate(stage_convs):
        c_out = min(64 * 2**stage, 512)
        for _ in range(convs):
            trainable += conv_params(3, c_in, c_out)
            bn_channels += c_out if batch_norm else 0
            c_in = c_out
    flat = (side // 2 ** len(stage_convs)) ** 2 * c_in
    trainable += dense_params(flat, fc_units) + dense_params(fc_units, fc_units)
    trainable += dense_params(fc_units, classes)
    return trainable + 2 * bn_channels, 2 * bn_channels


@pytest.fixture(scope="module")
def vgg16_stats():
    with shapes_only():
        return model_stats(vgg.vgg16())


@pytest.mark.parametrize("name", [f"{c}{bn}" for c in COLUMNS for bn in ("", "_bn")])
def test_parameter_count_is_the_hand_count(name):
    trainable, moving = vgg_count(COLUMNS[name[:5]], batch_norm=name.endswith("_bn"))
    # The catalog's reference is torchvision's num_params plus BN's moving statistics.
    assert trainable + moving == model_info(name).reference_params
    with shapes_only():
        stats = model_stats(getattr(vgg, name)())
    assert (stats.trainable, stats.non_trainable) == (trainable, moving)


def test_vgg16_hand_count_and_fc_share(vgg16_stats):
    widths = [64] * 2 + [128] * 2 + [256] * 3 + [512] * 6
    convs = sum(conv_params(3, c_in, c_out) for c_in, c_out in zip([3] + widths, widths))
    fcs = dense_params(7 * 7 * 512, 4096) + dense_params(4096, 4096) + dense_params(4096, 1000)
    assert convs + fcs == vgg16_stats.params == 138_357_544  # torchvision's num_params
    assert vgg16_stats.fc_share == pytest.approx(fcs / (convs + fcs))  # 89%
    assert vgg16_stats.depth == 16


def test_small_input_and_fc_units():
    model = vgg.vgg11(input_shape=(32, 32, 3), classes=10, fc_units=64)
    assert model.get_layer("flatten").output.shape == (None, 512)
    assert model.output_shape == (None, 10)
    features = vgg.vgg11(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert features.output_shape == (None, 512)


def test_channels_first_keeps_the_hand_count(channels_first):
    model = vgg.vgg11_bn(input_shape=(3, 32, 32), fc_units=64)
    assert model.count_params() == sum(vgg_count(COLUMNS["vgg11"], True, side=32, fc_units=64))
    assert model.get_layer("block1_pool").output.shape == (None, 64, 16, 16)


def test_errors_repeat_the_bad_value():
    with pytest.raises(ModelArgumentError, match=r"16, 16, 3"):
        vgg.vgg16(input_shape=(16, 16, 3))
    with pytest.raises(ModelArgumentError, match="0"):
        vgg.vgg16(fc_units=0)
    with pytest.raises(ModelArgumentError, match="'sum'"):
        vgg.vgg16(include_top=False, pooling="sum")
