"""The same .keras weights give the same outputs on TensorFlow, JAX and PyTorch."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import random_batch, to_numpy
from keras_dlbasic import get_model, list_models, model_info
from keras_dlbasic.backend import BACKENDS

WORKER = """
import sys, numpy as np, keras
import keras_dlbasic  # registers custom layers
folder, names = sys.argv[1], sys.argv[2:]
for name in names:
    model = keras.saving.load_model(f"{folder}/{name}.keras")
    x = np.load(f"{folder}/{name}.x.npy")
    np.save(f"{folder}/{name}.{keras.backend.backend()}.npy",
            keras.ops.convert_to_numpy(model(x, training=False)))
"""


@pytest.mark.parametrize("other", [b for b in BACKENDS if b != keras.backend.backend()])
def test_outputs_agree_across_backends(other, tmp_path):
    names = list_models()
    expected = {}
    for name in names:
        model = get_model(name, **model_info(name).test_kwargs)
        x, _ = random_batch(model, batch=2)
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.x.npy", x)
        expected[name] = to_numpy(model(x, training=False))
    env = {**os.environ, "KERAS_BACKEND": other}
    subprocess.run([sys.executable, "-c", WORKER, str(tmp_path), *names], env=env, check=True)
    for name in names:
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.{other}.npy"), expected[name],
                                   atol=1e-4, err_msg=f"{name} on {other}")
