"""ResNet: exact parameter counts, MACs against torchvision, plain vs residual."""
import keras
import numpy as np
import pytest

from keras_dlbasic.accounting import model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import resnet

# torchvision's num_params (BN weight+bias only) and GFLOPS (= GMACs) at 224x224.
TORCHVISION = {
    "resnet18": (11_689_512, 1.81),
    "resnet34": (21_797_672, 3.66),
    "resnet50": (25_557_032, 4.09),
    "resnet101": (44_549_160, 7.80),
    "resnet152": (60_192_808, 11.51),
}
# He et al. 2016, Table 6 (CIFAR-10), in millions.
TABLE_6 = {"resnet20": 0.27, "resnet32": 0.46, "resnet44": 0.66, "resnet56": 0.85, "resnet110": 1.7}


@pytest.mark.parametrize("name", TORCHVISION)
def test_imagenet_resnet_equals_torchvision(name):
    params, gmacs = TORCHVISION[name]
    model = getattr(resnet, name)()
    stats = model_stats(model)
    assert stats.trainable == params
    # BatchNorm's moving mean and variance: as many numbers as its gamma and beta.
    bn = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert stats.non_trainable == sum(l.count_params() for l in bn) // 2
    assert stats.macs / 1e9 == pytest.approx(gmacs, rel=0.02)


@pytest.mark.parametrize("name", TABLE_6)
def test_cifar_resnet_matches_table_6(name):
    model = getattr(resnet, name)()
    trainable = model_stats(model).trainable
    assert round(trainable / 1e6, 2 if trainable < 1e6 else 1) == TABLE_6[name]
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


def test_channels_first_same_count():
    keras.config.set_image_data_format("channels_first")
    try:
        assert resnet.resnet50().count_params() == 25_610_152
        assert resnet.resnet20(input_shape=(3, 32, 32)).count_params() == 271_098
    finally:
        keras.config.set_image_data_format("channels_last")


def test_head_contract_and_errors():
    assert resnet.resnet50(include_top=False, pooling="avg").output_shape == (None, 2048)
    assert resnet.resnet18(include_top=False).output_shape == (None, 7, 7, 512)
    with pytest.raises(ModelArgumentError, match=r"16, 16, 3"):
        resnet.resnet18(input_shape=(16, 16, 3))
    with pytest.raises(ModelArgumentError, match="'mean'"):
        resnet.resnet18(include_top=False, pooling="mean")
    with pytest.raises(ModelArgumentError, match="-1"):
        resnet.resnet20(classes=-1)
