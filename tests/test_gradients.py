"""Gradient norms: a hand-computed Dense case, plain vs residual nets, bad input."""
import keras
import numpy as np
import pytest

from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.gradients import first_layer_gradient_norm, kernel_gradient_norms, weight_layers
from keras_dlbasic.models.resnet import resnet


def two_dense_layers():
    """x (3) -> Dense 4, relu -> Dense 2, with fixed weights."""
    model = keras.Sequential([
        keras.Input((3,)),
        keras.layers.Dense(4, activation="relu", name="hidden"),
        keras.layers.Dense(2, name="out"),
    ])
    rng = np.random.default_rng(1)
    for layer in model.layers:
        layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return model


def test_dense_gradients_match_hand_computation():
    model = two_dense_layers()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3)).astype("float32")
    y = rng.normal(size=(5, 2)).astype("float32")
    (w1, b1), (w2, b2) = (l.get_weights() for l in model.layers)
    # MSE = mean over the N·m outputs of (out - y)², so dL/dout = 2(out - y)/(N·m).
    pre = x @ w1 + b1
    hidden = np.maximum(pre, 0)
    d_out = 2 * (hidden @ w2 + b2 - y) / y.size
    d_w2 = hidden.T @ d_out
    d_w1 = x.T @ ((d_out @ w2.T) * (pre > 0))

    mse = keras.losses.MeanSquaredError()
    norms = kernel_gradient_norms(model, x, y, loss_fn=mse)
    assert list(norms) == ["hidden", "out"]
    assert norms["hidden"] == pytest.approx(np.linalg.norm(d_w1), rel=1e-5)
    assert norms["out"] == pytest.approx(np.linalg.norm(d_w2), rel=1e-5)
    assert first_layer_gradient_norm(model, x, y, loss_fn=mse) == norms["hidden"]
    assert first_layer_gradient_norm(model, x, y, mse, layer="out") == norms["out"]
    assert first_layer_gradient_norm(model, x, y, mse, layer=model.layers[1]) == norms["out"]


def test_shortcuts_carry_the_gradient_to_the_first_layer():
    rng = np.random.default_rng(0)
    x = rng.random((4, 8, 8, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=4).astype("int32")

    def norms(stage_blocks, plain):
        model = resnet(stage_blocks, cifar=True, plain=plain, input_shape=(8, 8, 1), classes=10)
        return (first_layer_gradient_norm(model, x, y),
                first_layer_gradient_norm(model, x, y, training=True))

    plain8, plain8_batch_stats = norms([1, 1, 1], plain=True)
    res8, res8_batch_stats = norms([1, 1, 1], plain=False)
    plain20, plain20_batch_stats = norms([3, 3, 3], plain=True)
    res20, res20_batch_stats = norms([3, 3, 3], plain=False)
    # With BatchNorm's moving statistics the plain net's gradient vanishes with depth
    # (measured: 8 -> 20 layers shrinks it 5-15x; ResNet-20 gets 10-20x more than plain-20);
    # with batch statistics it explodes instead (measured 7-11x from 8 to 20 layers).
    assert plain20 < plain8 / 3 and res20 > 5 * plain20
    assert plain20_batch_stats > 3 * plain8_batch_stats
    # The residual net's stays the same size (measured 0.7-1.5x from 8 to 20 layers).
    assert 0.5 < res20 / res8 < 2 and 0.5 < res20_batch_stats / res8_batch_stats < 2


def test_training_mode_leaves_the_model_unchanged():
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(4, 3, name="conv"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax", name="predictions"),
    ])
    x = np.random.default_rng(0).random((4, 6, 6, 1), dtype=np.float32) + 5.0
    before = [v.numpy().copy() for v in model.variables]
    norms = kernel_gradient_norms(model, x, np.array([0, 1, 2, 0]), training=True)
    assert list(norms) == ["conv", "predictions"] and all(n > 0 for n in norms.values())
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, model.variables))


def test_bad_input_raises_clear_errors():
    model = two_dense_layers()
    x, y = np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32")
    mse = keras.losses.MeanSquaredError()
    with pytest.raises(ModelArgumentError, match="expected a keras.Model"):
        weight_layers(model.layers[0])
    with pytest.raises(ModelArgumentError, match="'nope' is not a weight layer.*hidden, out"):
        first_layer_gradient_norm(model, x, y, mse, layer="nope")
    with pytest.raises(ModelArgumentError, match=r"same number of examples; got sizes \[2, 3\]"):
        kernel_gradient_norms(model, x, np.zeros((3, 2), "float32"), mse)
    with pytest.raises(ModelArgumentError, match="loss_fn must be callable"):
        kernel_gradient_norms(model, x, y, loss_fn="mse")
    with pytest.raises(ModelArgumentError, match="has no layer with a kernel"):
        kernel_gradient_norms(keras.Sequential([keras.Input((3,)), keras.layers.ReLU()]), x, y, mse)
    model.layers[0].trainable = False
    with pytest.raises(ModelArgumentError, match="not trainable"):
        first_layer_gradient_norm(model, x, y, mse)
