"""VGG: exact parameter counts for columns A, B, D, E (with and without BN), MACs."""
import keras
import pytest

from keras_dlbasic.accounting import conv_params, dense_params, model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import vgg

# torchvision's num_params (BN weight+bias only).
TORCHVISION = {
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
}


@pytest.fixture(scope="module")
def vgg16_stats():
    return model_stats(vgg.vgg16())


@pytest.mark.parametrize("name", TORCHVISION)
def test_trainable_params_equal_torchvision(name):
    model = getattr(vgg, name)()
    assert model_stats(model).trainable == TORCHVISION[name]
    # BN adds 4 numbers per conv channel, 2 of them trainable; plain VGG has none.
    bn_trainable = TORCHVISION[name] - TORCHVISION[name[:5]]  # 0 for the plain VGGs
    assert model.count_params() - TORCHVISION[name] == bn_trainable


def test_vgg16_hand_count_macs_and_fc_share(vgg16_stats):
    widths = [64] * 2 + [128] * 2 + [256] * 3 + [512] * 6
    convs = sum(conv_params(3, c_in, c_out) for c_in, c_out in zip([3] + widths, widths))
    fcs = dense_params(7 * 7 * 512, 4096) + dense_params(4096, 4096) + dense_params(4096, 1000)
    assert convs + fcs == vgg16_stats.params == 138_357_544
    assert vgg16_stats.macs / 1e9 == pytest.approx(15.47, rel=0.02)  # torchvision GFLOPS
    assert vgg16_stats.fc_share == pytest.approx(0.894, abs=1e-3)
    assert vgg16_stats.depth == 16


def test_small_input_and_fc_units():
    model = vgg.vgg11(input_shape=(32, 32, 3), classes=10, fc_units=64)
    assert model.get_layer("flatten").output.shape == (None, 512)
    assert model.output_shape == (None, 10)
    features = vgg.vgg11(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert features.output_shape == (None, 512)


def test_channels_first_same_count():
    expected = vgg.vgg11_bn(input_shape=(32, 32, 3), fc_units=64).count_params()
    keras.config.set_image_data_format("channels_first")
    try:
        model = vgg.vgg11_bn(input_shape=(3, 32, 32), fc_units=64)
        assert model.count_params() == expected
        assert model.get_layer("block1_pool").output.shape == (None, 64, 16, 16)
    finally:
        keras.config.set_image_data_format("channels_last")


def test_errors_repeat_the_bad_value():
    with pytest.raises(ModelArgumentError, match=r"16, 16, 3"):
        vgg.vgg16(input_shape=(16, 16, 3))
    with pytest.raises(ModelArgumentError, match="0"):
        vgg.vgg16(fc_units=0)
    with pytest.raises(ModelArgumentError, match="'sum'"):
        vgg.vgg16(include_top=False, pooling="sum")
