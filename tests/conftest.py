"""Shared pytest setup: quiet TensorFlow, a fixed seed and small helpers.

The backend is chosen by KERAS_BACKEND before keras is imported; run the whole
suite on every backend with ``python tests/run_all_backends.py``.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_policy():
    keras.utils.set_random_seed(0)
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def random_batch(model, batch=2, seed=0):
    """A fixed batch of inputs and integer labels for a classifier."""
    rng = np.random.default_rng(seed)
    x = rng.random([batch, *model.input_shape[1:]], dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], size=(batch,)).astype("int32")
    return x, y
