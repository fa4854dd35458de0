"""Parameter and MAC formulas against Keras's own layers and hand counts."""
import keras
import pytest
from keras import layers

from keras_dlbasic import get_model
from keras_dlbasic.accounting import (
    bottleneck_vs_direct,
    conv_params,
    dense_params,
    layer_table,
    model_stats,
    receptive_field,
    stacked_vs_single,
)


def built(layer, shape):
    layer.build((None, *shape))
    return layer


@pytest.mark.parametrize("kernel,cin,cout,bias,groups", [
    (3, 128, 128, False, 1), (5, 3, 64, True, 1), (1, 256, 64, False, 1), (3, 96, 256, True, 2),
])
def test_conv_params_equal_keras(kernel, cin, cout, bias, groups):
    layer = built(layers.Conv2D(cout, kernel, use_bias=bias, groups=groups), (32, 32, cin))
    assert conv_params(kernel, cin, cout, bias, groups) == layer.count_params()


def test_dense_params_equal_keras():
    assert dense_params(1600, 128) == built(layers.Dense(128), (1600,)).count_params() == 204_928


def test_lecture_numbers():
    stacked = stacked_vs_single(channels=128)
    assert (stacked.params_a, stacked.params_b) == (294_912, 409_600)
    bottleneck = bottleneck_vs_direct(channels=128, reduced=32)
    assert (bottleneck.params_a, bottleneck.params_b) == (40_960, 147_456)
    assert bottleneck.ratio == pytest.approx(40_960 / 147_456)


def test_receptive_field():
    assert receptive_field([3, 3]) == 5
    assert receptive_field([3, 3, 3]) == 7
    # conv 3x3 -> pool 2x2 stride 2 -> conv 3x3 (the cnn's first two stages)
    assert receptive_field([3, 2, 3], strides=[1, 2, 1]) == 8


def test_groups_must_divide():
    with pytest.raises(ValueError, match="groups=3"):
        conv_params(3, 128, 128, groups=3)


def test_cnn_table_and_stats():
    model = get_model("cnn")
    rows = {row.name: row for row in layer_table(model)}
    # conv1: 26·26 positions × 3·3·1·32 weights; conv2: 11·11 × 3·3·32·64; fc1: 1600·128.
    assert rows["conv1"].macs == 26 * 26 * 9 * 32
    assert rows["conv2"].macs == 11 * 11 * 9 * 32 * 64
    assert rows["fc1"].macs == 1600 * 128
    assert rows["pool1"].macs == 0
    stats = model_stats(model)
    assert stats.macs == 194_688 + 2_230_272 + 204_800 + 1_280
    assert stats.depth == 4
    assert stats.fc_params == 204_928 + 1_290
    assert stats.fc_share == pytest.approx(206_218 / 225_034)


def test_macs_of_grouped_and_depthwise_convolutions():
    inputs = keras.Input((16, 16, 8))
    x = layers.Conv2D(8, 3, padding="same", groups=2, name="grouped")(inputs)
    x = layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = layers.Dense(4, name="dense")(x)  # applied at each of 16·16 positions
    rows = {row.name: row.macs for row in layer_table(keras.Model(inputs, x))}
    assert rows == {"grouped": 16 * 16 * 9 * 4 * 8, "depthwise": 16 * 16 * 9 * 8,
                    "dense": 16 * 16 * 8 * 4}


@pytest.mark.parametrize("kind,blocks", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_recurrent_macs_per_time_step(kind, blocks):
    # T · blocks · (input + units) · units, the same for the fused and the from-equation cells;
    # stacked layer 2 of a bidirectional stack reads both directions (2·units features).
    t, features, units = 6, 3, 4
    for cell in ("keras", "scratch"):
        model = get_model(kind, units=units, num_layers=2, bidirectional=True, cell=cell,
                          input_shape=(t, features))
        rows = {row.name: row.macs for row in layer_table(model)}
        assert rows[f"bi{kind}1"] == 2 * t * blocks * (features + units) * units
        assert rows[f"bi{kind}2"] == 2 * t * blocks * (2 * units + units) * units
        head = 2 * units * 10
        assert model_stats(model).macs == rows[f"bi{kind}1"] + rows[f"bi{kind}2"] + head


def test_recurrent_macs_on_sequential_mnist_and_variable_length():
    rows = {row.name: row.macs for row in layer_table(get_model("lstm"))}
    assert rows["lstm1"] == 28 * 4 * (28 + 128) * 128  # 2,236,416 per digit
    rows = {row.name: row.macs for row in layer_table(get_model("lstm", input_shape=(None, 28)))}
    assert rows["lstm1"] == 0  # unknown length: nothing to count
