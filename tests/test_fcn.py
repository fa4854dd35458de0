"""FCN: convolutionalization keeps a classifier's scores, bilinear deconvolution, the skips,
the paper's parameter counts from their layers, and segmentation training on ``shapes``."""
import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, model_info
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models.fcn import BilinearUpsampling, bilinear_filter, convolutionalize
from keras_dlbasic.registry import shapes_only

from conftest import predict, to_numpy


def conv(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def test_parameter_counts_follow_from_the_layers():
    """Each variant's count, from the layers of the paper's nets written out here."""
    vgg16 = sum(conv(3, a, b) for a, b in [(3, 64), (64, 64), (64, 128), (128, 128),
                                           (128, 256), (256, 256), (256, 256), (256, 512),
                                           (512, 512), (512, 512), (512, 512), (512, 512),
                                           (512, 512)])
    trunk = vgg16 + conv(7, 512, 4096) + conv(1, 4096, 4096) + conv(1, 4096, 21)
    up = {s: conv(2 * s, 21, 21, bias=False) for s in (2, 8, 16, 32)}
    expected = {
        "fcn32s": trunk + up[32],
        "fcn16s": trunk + up[2] + conv(1, 512, 21) + up[16],
        "fcn8s": trunk + 2 * up[2] + conv(1, 512, 21) + conv(1, 256, 21) + up[8],
    }
    for name, count in expected.items():
        with shapes_only():
            assert get_model(name).count_params() == count
        assert model_info(name).reference_params == count
    assert 134e6 < expected["fcn8s"] < 135e6  # the paper's "134M"


def test_convolutionalized_classifier_keeps_its_scores_and_maps_larger_inputs():
    classifier = get_model("vgg11", input_shape=(64, 64, 3), classes=5, fc_units=32,
                           classifier_activation=None)
    fully_conv = convolutionalize(classifier)
    assert [type(l).__name__ for l in fully_conv.layers[-3:]] == ["Conv2D"] * 3
    assert fully_conv.layers[-3].kernel.shape == (2, 2, 512, 32)  # fc1 on the 2x2x512 map
    x = np.random.default_rng(0).random((2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(predict(fully_conv, x)[:, 0, 0], predict(classifier, x),
                               rtol=1e-4, atol=1e-5)
    # A larger input gives a map of scores, one per 32 pixels: (128 / 32) - 2 + 1 = 3.
    big = np.random.default_rng(1).random((1, 128, 96, 3)).astype("float32")
    assert predict(fully_conv, big).shape == (1, 3, 2, 5)
    with pytest.raises(ModelArgumentError, match="no Flatten"):
        convolutionalize(get_model("resnet20"))


@pytest.mark.parametrize("stride", [2, 8, 32])
def test_bilinear_deconvolution_is_bilinear_interpolation(stride):
    x = np.random.default_rng(stride).random((1, 5, 4, 3)).astype("float32")
    layer = keras.layers.Conv2DTranspose(3, 2 * stride, strides=stride, padding="same",
                                         use_bias=False, kernel_initializer=BilinearUpsampling())
    y = to_numpy(layer(x))
    reference = to_numpy(keras.ops.image.resize(x, (5 * stride, 4 * stride), "bilinear"))
    inner = slice(stride, -stride)  # the borders see the kernel's zero padding
    np.testing.assert_allclose(y[:, inner, inner], reference[:, inner, inner], atol=1e-5)
    # The filter of FCN's surgery.upsample_filt, e.g. [1, 3, 3, 1] / 4 for stride 2.
    np.testing.assert_allclose(bilinear_filter(4)[0] / bilinear_filter(4)[0, 1], [1 / 3, 1, 1, 1 / 3])


def test_skips_fuse_finer_pools_and_the_last_upsampling_is_fixed():
    kwargs = {"input_shape": (64, 64, 3), "classes": 4, "width": 8, "fc_units": 16}
    for name, fused in [("fcn32s", []), ("fcn16s", ["score_pool4"]),
                        ("fcn8s", ["score_pool4", "score_pool3"])]:
        model = get_model(name, **kwargs)
        assert model.output_shape == (None, 64, 64, 4)
        assert [l.name for l in model.layers if l.name.startswith("score_pool")] == fused
        last = model.get_layer(f"upscore{name[3:-1]}")
        assert not last.trainable and last.strides == (int(name[3:-1]),) * 2
    # Score layers start at zero: an untrained FCN predicts every class equally.
    x = np.random.default_rng(0).random((1, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(predict(model, x), 0.25, atol=1e-6)
    with pytest.raises(ModelArgumentError, match="multiples of 32"):
        get_model("fcn8s", input_shape=(48, 48, 3))


def test_fcn_trains_on_shapes_and_reports_mean_iou(tmp_path):
    """A short run on ``shapes`` picks the segmentation task (the dataset also has boxes),
    lowers the loss, and its test mean IoU is that of the best checkpoint's masks."""
    from keras_dlbasic import load_model, training
    from keras_dlbasic.data import load_dataset
    from keras_dlbasic.io import read_csv
    from keras_dlbasic.metrics import mean_iou

    config = training.resolve_config("fcn8s", epochs=2, limit=16, batch_size=8,
                                     model_kwargs={"width": 4, "fc_units": 8})
    run = tmp_path / "run"
    metrics = training.train(config, run, verbose=0)
    history = read_csv(run / "history.csv")
    assert float(history[-1]["loss"]) < float(history[0]["loss"])
    x, y = load_dataset("shapes").limit(16).arrays("test")
    predicted = np.argmax(predict(load_model(run / "best.keras"), x), axis=-1)
    expected, per_class = mean_iou(predicted, y["masks"], 4)
    assert metrics["test_mean_iou"] == pytest.approx(expected)
    assert metrics["test_iou_class0"] == pytest.approx(per_class[0])
    assert (run / "masks.png").stat().st_size > 1000


def test_pixel_crossentropy_is_keras_sparse_crossentropy():
    from keras_dlbasic.losses import PixelCrossentropy

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 4, 3)).astype("float32")
    labels = rng.integers(0, 3, size=(2, 5, 4))
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(to_numpy(PixelCrossentropy(from_logits=True)(labels, logits)),
                               to_numpy(expected), rtol=1e-6)
    probabilities = to_numpy(keras.ops.softmax(logits))
    np.testing.assert_allclose(to_numpy(PixelCrossentropy()(labels, probabilities)),
                               to_numpy(expected), rtol=1e-5)
    restored = keras.losses.deserialize(keras.losses.serialize(PixelCrossentropy(True)))
    assert isinstance(restored, PixelCrossentropy) and restored.from_logits
