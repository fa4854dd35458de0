"""GoogLeNet: Table 1 parameter count, the 1x1 reductions, auxiliary heads, MACs."""
import math

import pytest

from keras_dlbasic import model_info
from keras_dlbasic.accounting import conv_params, dense_params, model_stats
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models import googlenet
from keras_dlbasic.registry import shapes_only

# Szegedy et al. 2015, Table 1: block, output side at 224x224, #1x1, #3x3 reduce, #3x3,
# #5x5 reduce, #5x5, pool proj.
TABLE_1 = [
    ("3a", 28, 64, 96, 128, 16, 32, 32),
    ("3b", 28, 128, 128, 192, 32, 96, 64),
    ("4a", 14, 192, 96, 208, 16, 48, 64),
    ("4b", 14, 160, 112, 224, 24, 64, 64),
    ("4c", 14, 128, 128, 256, 24, 64, 64),
    ("4d", 14, 112, 144, 288, 32, 64, 64),
    ("4e", 14, 256, 160, 320, 32, 128, 128),
    ("5a", 7, 256, 160, 320, 32, 128, 128),
    ("5b", 7, 384, 192, 384, 48, 128, 128),
]


def table_1_convs():
    """Every conv of Table 1 as (kernel, in, out, output side): the stem, then the
    six convs of each inception block."""
    convs = [(7, 3, 64, 112), (1, 64, 64, 56), (3, 64, 192, 56)]
    c_in = 192
    for _, side, c1, c3r, c3, c5r, c5, pool_proj in TABLE_1:
        convs += [(1, c_in, c1, side), (1, c_in, c3r, side), (3, c3r, c3, side),
                  (1, c_in, c5r, side), (5, c5r, c5, side), (1, c_in, pool_proj, side)]
        c_in = c1 + c3 + c5 + pool_proj
    return convs


def googlenet_count(classes=1000):
    """Parameters by hand: convs with biases, then fc 1024 -> classes."""
    return sum(conv_params(k, i, o) for k, i, o, _ in table_1_convs()) + dense_params(1024, classes)


@pytest.fixture(scope="module")
def model():
    with shapes_only():
        return googlenet.googlenet()


def test_parameter_count_matches_table_1(model):
    assert model.count_params() == googlenet_count() == model_info("googlenet").reference_params
    weights = sum(math.prod(v.shape) for v in model.weights if v.path.endswith("kernel"))
    assert round(weights / 1024) == 6_826  # Table 1's column sums to about 6.8M (K = 1024)
    assert model.get_layer("inception5b_concat").output.shape == (None, 7, 7, 1024)


def test_macs_close_to_paper(model):
    # One multiply-accumulate per weight use: k²·C_in·C_out per output pixel.
    macs = sum(k * k * i * o * side**2 for k, i, o, side in table_1_convs()) + 1024 * 1000
    assert model_stats(model).macs == macs
    # Paper: "1.5 billion multiply-adds"; the 5x5 branches make it 1.58G
    # (torchvision's 3x3 version: 1.50 GFLOPS).
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


def test_channels_first_and_head(channels_first):
    model = googlenet.googlenet(input_shape=(3, 32, 32), classes=10)
    assert model.count_params() == googlenet_count(classes=10)
    assert model.get_layer("inception5b_concat").output.shape == (None, 1024, 1, 1)
    features = googlenet.googlenet(include_top=False, pooling="avg", input_shape=(3, 32, 32))
    assert features.output_shape == (None, 1024)
    with pytest.raises(ModelArgumentError, match="'median'"):
        googlenet.googlenet(include_top=False, pooling="median")
