"""The same .keras weights give the same outputs on TensorFlow, JAX and PyTorch.

One model per family and block type (``conftest.FAMILIES``), at the small test size.
"""
import os
import subprocess
import sys

import keras
import numpy as np

from keras_dlbasic import list_models

from conftest import FAMILIES, predict, random_batch, small_model

WORKER = """
import sys, numpy as np, keras
from keras_dlbasic import load_model
folder, names = sys.argv[1], sys.argv[2:]
for name in names:
    model = load_model(f"{folder}/{name}.keras")
    inputs = np.load(f"{folder}/{name}.x.npz")
    x = [inputs[key] for key in sorted(inputs.files)]
    y = keras.tree.flatten(model.predict_on_batch(x[0] if len(x) == 1 else x))
    np.savez(f"{folder}/{name}.{keras.backend.backend()}.npz", *y)
"""


def test_families_are_registered():
    assert set(FAMILIES) <= set(list_models())


def test_outputs_agree_across_backends(tmp_path):
    """TensorFlow and JAX are compared with torch, torch with TensorFlow: every backend
    is checked in each full run, and no worker pays JAX's compile time for 12 networks."""
    other = "tensorflow" if keras.backend.backend() == "torch" else "torch"
    expected = {}
    for name in FAMILIES:
        model = small_model(name)
        x, _ = random_batch(model, batch=3)  # test_models' batch: on JAX, a compile-cache hit
        model.save(tmp_path / f"{name}.keras")
        xs = x if isinstance(x, list) else [x]
        np.savez(tmp_path / f"{name}.x.npz", **{f"x{i}": v for i, v in enumerate(xs)})
        expected[name] = predict(model, x)
    env = {**os.environ, "KERAS_BACKEND": other}
    subprocess.run([sys.executable, "-c", WORKER, str(tmp_path), *FAMILIES], env=env, check=True)
    for name in FAMILIES:
        outputs = np.load(tmp_path / f"{name}.{other}.npz")
        for i, y in enumerate(keras.tree.flatten(expected[name])):  # a detector's dict, by key
            np.testing.assert_allclose(outputs[f"arr_{i}"], y, atol=1e-4, err_msg=f"{name} on {other}")
