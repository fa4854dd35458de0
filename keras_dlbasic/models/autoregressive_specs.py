"""The autoregressive models' registered variants (chapter 6), with their reference figures.

Keras-free: the builders are named as strings and live in
``keras_dlbasic.models.autoregressive``.

For scale, the full-size binarised-MNIST test likelihoods (van den Oord et al. 2016,
Table 4): NADE 88.33 nats, PixelCNN 81.30 nats per image (``REFERENCE_NLL_NATS``).
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

NADE_PAPER = Paper(
    title="The Neural Autoregressive Distribution Estimator",
    authors="Larochelle, Murray",
    year=2011,
    url="http://proceedings.mlr.press/v15/larochelle11a.html",
)
PIXEL_RNN = Paper(
    title="Pixel Recurrent Neural Networks",
    authors="van den Oord, Kalchbrenner, Kavukcuoglu",
    year=2016,
    url="https://arxiv.org/abs/1601.06759",
)

# Test -log p(x) in nats per image on binarized_mnist, and where each figure is from.
REFERENCE_NLL_NATS = {
    "nade": (88.33, "van den Oord et al. 2016, Table 4"),
    "pixelcnn": (81.30, "van den Oord et al. 2016, Table 4"),
}

_D, _H = 28 * 28, 500
register_model(
    ModelSpec(
        name="nade",
        builder="keras_dlbasic.models.autoregressive:nade",
        chapter=6,
        tasks=("density",),
        inputs="image",
        paper=NADE_PAPER,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="binarized_mnist",
        reference_params=2 * _D * _H + _D + _H,  # 785,284
        params_source="the paper's binarised-MNIST NADE, H = 500 hidden units: W and V "
                      "(784 x 500 each), b (784), c (500)",
        kwargs={"hidden": _H},
        # 3,500 bundled digits: a smaller hidden layer overfits less.
        recipe=Recipe(epochs=20, batch_size=50, lr=2e-3, schedule="cosine",
                      model_kwargs={"hidden": 200}),
        dataset_recipes={"binarized_mnist": Recipe(epochs=50, batch_size=100, lr=1e-3,
                                                   schedule="cosine")},
    )
)


def _pixelcnn_params(h, blocks, f, channels=1):
    """Hand count of ``pixelcnn``'s layers (see its docstring)."""
    block = (2 * h * h + h) + (9 * h * h + h) + (h * 2 * h + 2 * h)
    return (49 * channels * 2 * h + 2 * h) + blocks * block + (2 * h * f + f) + (f * f + f) \
        + (f * channels + channels)


register_model(
    ModelSpec(
        name="pixelcnn",
        builder="keras_dlbasic.models.autoregressive:pixelcnn",
        chapter=6,
        tasks=("density",),
        inputs="image",
        paper=PIXEL_RNN,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="binarized_mnist",
        reference_params=_pixelcnn_params(128, 12, 1024),  # 3,888,641
        params_source="hand count of Table 2's PixelCNN for one binary channel: 7x7 mask A to "
                      "2h = 256, 12 Figure-5 residual blocks (h = 128), two 1x1 layers of 1024, "
                      "one logit (the paper's CIFAR-10 widths; it gives no MNIST size)",
        kwargs={"filters": 128, "blocks": 12, "head_filters": 1024},
        recipe=Recipe(epochs=10, batch_size=32, lr=1e-3, schedule="cosine",
                      model_kwargs={"filters": 32, "blocks": 4, "head_filters": 128}),
        dataset_recipes={"binarized_mnist": Recipe(epochs=30, batch_size=64, lr=1e-3,
                                                   schedule="cosine")},
    )
)
