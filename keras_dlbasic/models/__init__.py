"""The catalog of registered models, chapter by chapter.

Each entry names its builder as ``"module:function"`` so that listing models
never imports keras. Builders live in one module per model family.
"""
from keras_dlbasic.registry import ModelSpec, Paper, register_model

LENET = Paper(
    title="Gradient-Based Learning Applied to Document Recognition",
    authors="LeCun, Bottou, Bengio, Haffner",
    year=1998,
    url="https://doi.org/10.1109/5.726791",
)

# --- Chapter 1: CNN basics -------------------------------------------------------
register_model(
    ModelSpec(
        name="cnn",
        builder="keras_dlbasic.models.cnn:cnn",
        chapter=1,
        task="image-classification",
        paper=LENET,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=225_034,
        params_source="hand count: 3·3·1·32+32 + 3·3·32·64+64 + 1600·128+128 + 128·10+10",
        recipe={"epochs": 3, "batch_size": 32, "lr": 1e-3},
    )
)

# --- Chapter 2: modern CNNs ------------------------------------------------------

# --- Chapters 4-5: sequential models (RNN, LSTM, GRU, Transformer) ---------------
