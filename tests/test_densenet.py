"""DenseNet: exact parameter counts, MACs against torchvision, growth and compression."""
import keras
import pytest

from keras_dlbasic.accounting import model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import densenet

# torchvision's num_params (BN weight+bias only), GFLOPS (= GMACs) at 224x224, final channels.
TORCHVISION = {
    "densenet121": (7_978_856, 2.834, 1024),
    "densenet169": (14_149_480, 3.36, 1664),
    "densenet201": (20_013_928, 4.29, 1920),
}


@pytest.mark.parametrize("name", TORCHVISION)
def test_imagenet_densenet_equals_torchvision(name):
    params, gmacs, features = TORCHVISION[name]
    model = getattr(densenet, name)()
    stats = model_stats(model)
    assert stats.trainable == params
    # BatchNorm's moving mean and variance: as many numbers as its gamma and beta.
    bn = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert stats.non_trainable == sum(l.count_params() for l in bn) // 2
    assert stats.macs / 1e9 == pytest.approx(gmacs, rel=0.02)
    assert model.get_layer("final_relu").output.shape == (None, 7, 7, features)


@pytest.fixture(scope="module")
def bc():
    return densenet.densenet_bc()


def test_densenet_bc_matches_paper(bc):
    model = bc
    assert model_stats(model).trainable == 769_162  # Table 2: 0.8M
    assert model.count_params() == 793_150
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


def test_channels_first_same_count():
    small = dict(blocks=[2, 2], growth_rate=4, cifar=True, classes=10)
    expected = densenet.densenet(**small).count_params()
    keras.config.set_image_data_format("channels_first")
    try:
        model = densenet.densenet(input_shape=(3, 32, 32), **small)
        assert model.count_params() == expected
        assert model.get_layer("pool2_conv").output.shape == (None, 8, 32, 32)
    finally:
        keras.config.set_image_data_format("channels_last")


def test_head_contract_and_errors():
    features = densenet.densenet([2, 2], growth_rate=4, cifar=True, include_top=False, pooling="max")
    assert features.output_shape == (None, 8 + 2 * 4)  # (8 + 2·4) // 2 + 2·4
    with pytest.raises(ModelArgumentError, match="1.5"):
        densenet.densenet([6, 12], compression=1.5)
    with pytest.raises(ModelArgumentError, match="99"):
        densenet.densenet_bc(depth=99)
    with pytest.raises(ModelArgumentError, match=r"2, 2, 3"):
        densenet.densenet_bc(input_shape=(2, 2, 3))
