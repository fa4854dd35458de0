"""SpatialPyramidPooling and RoIPooling: hand-computed cases, loop-by-loop NumPy references
(PyTorch's adaptive max pooling rule; torchvision's ``roi_pool`` kernel), any input size,
and the shared layer checks."""
import doctest
import math
from fractions import Fraction

import keras
import numpy as np
import pytest

from keras_dlbasic.layers import RoIPooling, SpatialPyramidPooling

from conftest import to_numpy
from layer_testing import run_layer_test

RNG = np.random.default_rng(0)


def adaptive_max_pool(x, n):
    """PyTorch's ``adaptive_max_pool2d`` on one (H, W, C) map, loop by loop."""
    h, w = x.shape[:2]
    out = np.empty((n, n, x.shape[2]), x.dtype)
    for i in range(n):
        for j in range(n):
            rows = slice(math.floor(i * h / n), math.ceil((i + 1) * h / n))
            cols = slice(math.floor(j * w / n), math.ceil((j + 1) * w / n))
            out[i, j] = x[rows, cols].max(axis=(0, 1))
    return out


def roi_pool(features, box, size, scale):
    """torchvision's ``roi_pool`` CPU kernel for one (H, W, C) map and one box, with
    exact bin edges (``Fraction``) where the kernel divides in float32."""
    height, width = features.shape[:2]
    x1, y1, x2, y2 = (int(math.copysign(math.floor(abs(v * scale) + 0.5), v)) for v in box)
    bin_h = Fraction(max(y2 - y1 + 1, 1), size)
    bin_w = Fraction(max(x2 - x1 + 1, 1), size)
    out = np.zeros((size, size, features.shape[2]), features.dtype)
    for ph in range(size):
        hstart = min(max(math.floor(ph * bin_h) + y1, 0), height)
        hend = min(max(math.ceil((ph + 1) * bin_h) + y1, 0), height)
        for pw in range(size):
            wstart = min(max(math.floor(pw * bin_w) + x1, 0), width)
            wend = min(max(math.ceil((pw + 1) * bin_w) + x1, 0), width)
            if hend > hstart and wend > wstart:
                out[ph, pw] = features[int(hstart):int(hend), int(wstart):int(wend)].max(axis=(0, 1))
    return out


def test_spp_hand_computed():
    x = np.arange(25, dtype="float32").reshape(1, 5, 5, 1)
    # 2 bins of 5: rows [0, 3) and [2, 5) (they overlap); 1 bin: the whole map.
    out = to_numpy(SpatialPyramidPooling(bins=(1, 2))(x))
    np.testing.assert_array_equal(out, [[24, 12, 14, 22, 24]])


@pytest.mark.parametrize("size", [(4, 4), (7, 5), (13, 9)])
def test_spp_matches_adaptive_max_pooling(size):
    x = RNG.normal(size=(2, *size, 3)).astype("float32")
    out = to_numpy(SpatialPyramidPooling(bins=(1, 2, 4))(x))
    assert out.shape == (2, 3 * (1 + 4 + 16))
    expected = np.stack([np.concatenate([adaptive_max_pool(image, n).ravel() for n in (1, 2, 4)])
                         for image in x])
    np.testing.assert_array_equal(out, expected)


def test_spp_gives_one_length_for_any_input_size():
    inputs = keras.Input(shape=(None, None, 3))
    model = keras.Model(inputs, SpatialPyramidPooling(bins=(1, 2, 4))(inputs))
    assert model.output_shape == (None, 63)
    for size in [(6, 6), (9, 14)]:
        x = RNG.normal(size=(1, *size, 3)).astype("float32")
        assert to_numpy(model(x)).shape == (1, 63)


def test_spp_layer_checks():
    run_layer_test(SpatialPyramidPooling, {"bins": (1, 3)}, RNG.normal(size=(2, 7, 8, 4)),
                   expected_output_shape=(2, 40), run_training_check=False)


def test_spp_channels_first(channels_first):
    x = RNG.normal(size=(1, 6, 6, 2)).astype("float32")
    last = SpatialPyramidPooling(data_format="channels_last")(x)
    first = SpatialPyramidPooling()(np.transpose(x, (0, 3, 1, 2)))
    np.testing.assert_array_equal(to_numpy(first), to_numpy(last))


def test_roi_pooling_docstring_example():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(RoIPooling, globs={"keras": keras,
                                                                 "RoIPooling": RoIPooling}):
        runner.run(test)
    assert runner.tries >= 3 and runner.failures == 0


@pytest.mark.parametrize("size", [3, 7])
def test_roi_pooling_matches_torchvision_kernel(size):
    rng = np.random.default_rng(size)  # its own draws, whichever tests ran before
    features = rng.normal(size=(2, 9, 11, 3)).astype("float32")
    scale = 1 / 8
    boxes = rng.uniform(-10, 95, size=(2, 40, 4)).astype("float32")
    boxes[..., 2:] = np.maximum(boxes[..., 2:], boxes[..., :2])  # x2 >= x1, y2 >= y1
    boxes[0, 0] = [-40, -40, -20, -20]  # off the map: every bin empty, 0
    boxes[0, 1] = [4, 4, 4, 4]  # one cell
    boxes[1, 0] = [60, 50, 200, 300]  # past the far edges
    out = to_numpy(RoIPooling(output_size=size, spatial_scale=scale)([features, boxes]))
    assert out.shape == (2, 40, size, size, 3)
    expected = np.stack([[roi_pool(features[b], box, size, scale) for box in boxes[b]]
                         for b in range(2)])
    np.testing.assert_array_equal(out, expected)
    assert np.all(out[0, 0] == 0)


def test_roi_pooling_bin_edges_are_exact():
    # 7 cells into 13 bins: the last bin is cell 6 alone. torchvision's float32
    # 13 * (7 / 13) is 7.0000005, whose ceiling would reach cell 7, past the box.
    features = np.arange(9, dtype="float32").reshape(1, 1, 9, 1)
    boxes = np.array([[[0, 0, 6, 0]]], "float32")
    out = to_numpy(RoIPooling(output_size=(1, 13), spatial_scale=1.0)([features, boxes]))
    np.testing.assert_array_equal(out[0, 0, 0, :, 0],
                                  [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])


def test_roi_pooling_gradient_reaches_each_bins_maximum():
    features = np.zeros((1, 4, 4, 1), "float32")
    features[0, 1, 2, 0] = 5.0
    boxes = np.array([[[0, 0, 63, 63]]], "float32")
    layer = RoIPooling(output_size=1, spatial_scale=1 / 16)
    grad = keras.ops.convert_to_numpy(_gradient(layer, features, boxes))
    expected = np.zeros_like(features)
    expected[0, 1, 2, 0] = 1.0
    np.testing.assert_array_equal(grad, expected)


def _gradient(layer, features, boxes):
    """d sum(layer([features, boxes])) / d features, on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(features)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(layer([x, boxes]))
        return tape.gradient(y, x)
    if backend == "jax":
        import jax

        return jax.grad(lambda x: layer([x, boxes]).sum())(features)
    import torch

    x = torch.tensor(features, requires_grad=True)
    layer([x, torch.tensor(boxes)]).sum().backward()
    return x.grad


def test_roi_pooling_layer_checks():
    features = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
    boxes = np.array([[[0, 0, 60, 60], [16, 8, 90, 120]], [[30, 30, 31, 31], [0, 0, 127, 127]]],
                     "float32")
    run_layer_test(RoIPooling, {"output_size": (2, 3), "spatial_scale": 1 / 16},
                   [features, boxes], expected_output_shape=(2, 2, 2, 3, 3),
                   run_training_check=False)


def test_roi_pooling_channels_first(channels_first):
    features = RNG.normal(size=(1, 6, 6, 2)).astype("float32")
    boxes = np.array([[[0, 0, 40, 50]]], "float32")
    last = RoIPooling(2, 1 / 8, data_format="channels_last")([features, boxes])
    first = RoIPooling(2, 1 / 8)([np.transpose(features, (0, 3, 1, 2)), boxes])
    np.testing.assert_array_equal(to_numpy(first), to_numpy(last))
