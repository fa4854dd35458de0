"""Chapter 1's conv–pool–FC network: its registered variant and reference figures, with sources.

Keras-free: the builder is named as a string and lives in ``keras_dlbasic.models.cnn``.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

LENET = Paper(
    title="Gradient-Based Learning Applied to Document Recognition",
    authors="LeCun, Bottou, Bengio, Haffner",
    year=1998,
    url="https://doi.org/10.1109/5.726791",
)

register_model(
    ModelSpec(
        name="cnn",
        builder="keras_dlbasic.models.cnn:cnn",
        chapter=1,
        tasks=("classification",),
        inputs="image",
        paper=LENET,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=225_034,
        params_source="hand count: 3·3·1·32+32 + 3·3·32·64+64 + 1600·128+128 + 128·10+10",
        # One MAC per weight use: each conv kernel at every output pixel (26x26, 11x11).
        reference_macs=2_631_040,
        macs_source="hand count: 26²·3·3·1·32 + 11²·3·3·32·64 + 1600·128 + 128·10",
        recipe=Recipe(epochs=3, batch_size=32, lr=1e-3),
    )
)
