"""``--distribute data-parallel``: two replicas on this CPU, each backend through its own engine,
train as one device does at the same global batch, and resume."""
import json
import os
import subprocess
import sys

import pytest

from keras_dlbasic.backend import current_backend

# Two devices, made before the backend starts: JAX's virtual host devices, TensorFlow's
# logical CPUs. Then the same cnn run on one device and on two, each resumed for a second epoch.
SCRIPT = """
import json, os, sys
if os.environ["KERAS_BACKEND"] == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_dlbasic import training
from keras_dlbasic.io import read_csv
out = {}
for kind in ("none", "data-parallel"):
    config = training.resolve_config("cnn", epochs=1, limit=256, batch_size=32, distribute=kind,
                                     model_kwargs={"dropout": 0.0})
    run = os.path.join(sys.argv[1], kind)
    training.train(config, run, verbose=0)
    metrics = training.resume(run, epochs=2, verbose=0)
    out[kind] = {"loss": [row["loss"] for row in read_csv(os.path.join(run, "history.csv"))],
                 "test_loss": metrics["test_loss"], "replicas": metrics.get("replicas", 1)}
print(json.dumps(out))
"""


@pytest.mark.skipif(current_backend() == "torch", reason="data-parallel torch is not built")
def test_two_replicas_train_as_one_device_and_resume(tmp_path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "")
           + " --xla_force_host_platform_device_count=2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["data-parallel"]["replicas"] == 2
    assert len(runs["data-parallel"]["loss"]) == 2  # one epoch, then one resumed
    assert runs["data-parallel"]["loss"] == pytest.approx(runs["none"]["loss"], rel=1e-3)
    assert runs["data-parallel"]["test_loss"] == pytest.approx(runs["none"]["test_loss"], rel=1e-3)
