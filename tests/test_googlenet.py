"""GoogLeNet: Table 1 parameter count, the 1x1 reductions, auxiliary heads, MACs."""
import math

import keras
import pytest

from keras_dlbasic.accounting import model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import googlenet


@pytest.fixture(scope="module")
def model():
    return googlenet.googlenet()


def test_parameter_count_matches_table_1(model):
    assert model.count_params() == 6_998_552
    weights = sum(math.prod(v.shape) for v in model.weights if v.path.endswith("kernel"))
    assert round(weights / 1024) == 6_826  # Table 1's column sums to about 6.8M (K = 1024)
    assert model.get_layer("inception5b_concat").output.shape == (None, 7, 7, 1024)


def test_macs_close_to_paper(model):
    # Paper: "1.5 billion multiply-adds"; the 5x5 branches make it 1.58G
    # (torchvision's 3x3 version: 1.50 GFLOPS).
    macs = model_stats(model).macs
    assert macs == 1_582_671_872
    assert macs / 1.5e9 == pytest.approx(1.0, rel=0.06)


def test_inception_block_params_with_and_without_reductions(model):
    widths = dict(c1=64, c3r=96, c3=128, c5r=16, c5=32, pool_proj=32)  # block 3a, 192 in
    # By hand: 1x1 192·64+64; 192·96+96 + 9·96·128+128; 192·16+16 + 25·16·32+32; 192·32+32.
    reduced = 12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176
    assert googlenet.inception_block_params(192, **widths) == reduced == 163_696
    # Naive: 1x1 + 3x3 and 5x5 on all 192 channels, pooled input passed through.
    naive = 12_352 + (9 * 192 * 128 + 128) + (25 * 192 * 32 + 32)
    assert googlenet.inception_block_params(192, **widths, reductions=False) == naive == 387_296
    block = [l for l in model.layers if l.name.startswith("inception3a")]
    assert sum(l.count_params() for l in block) == reduced


def test_auxiliary_classifiers():
    model = googlenet.googlenet(aux_logits=True, input_shape=(96, 96, 3), classes=10)
    assert model.output_shape == [(None, 10)] * 3
    aux = [l for l in model.layers if l.name.startswith("aux1")]
    # 1x1 conv 512->128, fc (4·4·128 -> 1024 at 224; 1·1·128 at 96), fc 1024->10.
    expected = (512 * 128 + 128) + (128 * 1024 + 1024) + (1024 * 10 + 10)
    assert sum(l.count_params() for l in aux) == expected
    with pytest.raises(ModelArgumentError, match="64, 64, 3"):
        googlenet.googlenet(aux_logits=True, input_shape=(64, 64, 3))
    with pytest.raises(ModelArgumentError, match="include_top=False"):
        googlenet.googlenet(aux_logits=True, include_top=False)


def test_channels_first_and_head():
    expected = googlenet.googlenet(input_shape=(32, 32, 3), classes=10).count_params()
    keras.config.set_image_data_format("channels_first")
    try:
        assert googlenet.googlenet(input_shape=(3, 32, 32), classes=10).count_params() == expected
    finally:
        keras.config.set_image_data_format("channels_last")
    features = googlenet.googlenet(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    assert features.output_shape == (None, 1024)
    with pytest.raises(ModelArgumentError, match="'median'"):
        googlenet.googlenet(include_top=False, pooling="median")
