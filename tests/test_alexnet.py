"""AlexNet: torchvision's and the paper's parameter counts, the two-GPU split and the
MACs it saves, the paper's crops and flips.

MACs against torchvision's are checked in test_models.py::test_reference_figures.
"""
import math

import keras
import numpy as np
import pytest

from keras_dlbasic import load_model, model_info
from keras_dlbasic.accounting import conv_params, dense_params, model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import alexnet
from keras_dlbasic.registry import shapes_only

from conftest import predict, to_numpy

# Output channels of conv1..conv5: the paper's two towers together, and torchvision's.
PAPER_FILTERS = (96, 256, 384, 384, 256)
TORCHVISION_FILTERS = (64, 192, 384, 256, 256)


def alexnet_count(filters, groups=1, flat_side=6, fc_units=4096, classes=1000):
    """Parameters by hand: conv1 11x11, conv2 5x5, conv3-5 3x3 (conv2, conv4 and conv5
    split over ``groups`` towers), all with biases; then fc-fc-fc."""
    kernels, grouped = (11, 5, 3, 3, 3), (False, True, False, True, True)
    c_in, total = 3, 0
    for kernel, c_out, split in zip(kernels, filters, grouped):
        total += conv_params(kernel, c_in, c_out, groups=groups if split else 1)
        c_in = c_out
    return (total + dense_params(flat_side**2 * c_in, fc_units) + dense_params(fc_units, fc_units)
            + dense_params(fc_units, classes))


@pytest.fixture(scope="module")
def paper_models():
    with shapes_only():
        return alexnet.alexnet_paper(), alexnet.alexnet_paper(groups=1)


def test_torchvision_count():
    with shapes_only():
        model = alexnet.alexnet()
    assert model.count_params() == alexnet_count(TORCHVISION_FILTERS)
    assert model.count_params() == model_info("alexnet").reference_params  # torchvision's num_params
    assert model.get_layer("pool5").output.shape == (None, 6, 6, 256)


def test_paper_two_tower_count(paper_models):
    two_towers, one_tower = paper_models
    expected = alexnet_count(PAPER_FILTERS, groups=2)
    assert two_towers.count_params() == expected == model_info("alexnet_paper").reference_params
    assert one_tower.count_params() == alexnet_count(PAPER_FILTERS, groups=1)
    assert two_towers.get_layer("conv1").output.shape == (None, 55, 55, 96)


def test_groups_halve_the_grouped_layers(paper_models):
    two_towers, one_tower = paper_models
    for name in ("conv2", "conv4", "conv5"):
        grouped, full = two_towers.get_layer(name), one_tower.get_layer(name)
        assert grouped.kernel.shape[2] * 2 == full.kernel.shape[2]
        assert math.prod(grouped.kernel.shape) * 2 == math.prod(full.kernel.shape)
    for name in ("conv1", "conv3", "fc6", "fc7"):
        assert two_towers.get_layer(name).count_params() == one_tower.get_layer(name).count_params()
    # Their MACs halve too: conv2 25·96·256·27², conv4 9·384·384·13², conv5 9·384·256·13².
    saved = (25 * 96 * 256 * 27**2 + 9 * 384 * 384 * 13**2 + 9 * 384 * 256 * 13**2) // 2
    assert model_stats(one_tower).macs - model_stats(two_towers).macs == saved == 410_849_280


def test_channels_first_keeps_the_hand_count(channels_first):
    model = alexnet.alexnet(input_shape=(3, 64, 64), classes=10, fc_units=64, groups=2)
    # 64x64: conv1 (64 + 4 - 11) // 4 + 1 = 15, pools to 7, 3 and 1.
    expected = alexnet_count(TORCHVISION_FILTERS, 2, flat_side=1, fc_units=64, classes=10)
    assert model.count_params() == expected
    assert model.get_layer("pool5").output.shape == (None, 256, 1, 1)


def test_errors_repeat_the_bad_value():
    with pytest.raises(ModelArgumentError, match="3"):
        alexnet.alexnet(groups=3)
    with pytest.raises(ModelArgumentError, match=r"62, 62, 3"):
        alexnet.alexnet(input_shape=(62, 62, 3))
    with pytest.raises(ModelArgumentError, match=r"\(63, 192"):
        alexnet.alexnet(filters=(63, 192, 384, 256, 256), groups=2)
    assert alexnet.alexnet(include_top=False, pooling="max").output_shape == (None, 256)


def test_augmentation_crops_and_flips_each_image_and_is_identity_at_inference(tmp_path):
    small = {"input_shape": (32, 32, 3), "classes": 10, "fc_units": 16, "filters": (8, 8, 8, 8, 8),
             "conv1_padding": 18}
    plain, augmented = alexnet.alexnet(**small), alexnet.alexnet(augment=("crop", "flip"), **small)
    assert augmented.count_params() == plain.count_params()
    augmented.set_weights(plain.get_weights())
    rng = np.random.default_rng(0)
    x = (0.1 + rng.random((8, 32, 32, 3))).astype("float32")
    np.testing.assert_allclose(predict(augmented, x), predict(plain, x), atol=1e-6)
    augmented.save(tmp_path / "alexnet.keras")
    np.testing.assert_array_equal(predict(load_model(tmp_path / "alexnet.keras"), x),
                                  predict(augmented, x))

    # Training mode: every output is the image shifted by at most 32/16 = 2 pixels
    # each way (zeros fill in), then maybe mirrored; the draws differ per image.
    image = np.repeat(x[:1], 8, axis=0)
    front = keras.Model(augmented.input, augmented.get_layer("random_flip").output)
    out = to_numpy(front(image, training=True))
    padded = np.pad(image[0], ((2, 2), (2, 2), (0, 0)))
    windows = [padded[i:i + 32, j:j + 32] for i in range(5) for j in range(5)]
    candidates = windows + [w[:, ::-1] for w in windows]
    matches = [[k for k, c in enumerate(candidates) if np.allclose(o, c)] for o in out]
    assert all(matches), "an output is not a shifted (and flipped) copy of the image"
    assert len({m[0] for m in matches}) > 1, "all images got the same crop and flip"
    for bad in ("crop", True, ["rotate"]):
        with pytest.raises(ModelArgumentError, match="augment must be a list of crop and/or flip"):
            alexnet.alexnet(augment=bad)
