"""``--distribute data-parallel``: two replicas on this CPU, each backend through its own engine,
train as one device does at the same global batch, and resume."""
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from keras_dlbasic.backend import current_backend
from keras_dlbasic.cli.main import main

# The same cnn run on one replica and on two, each resumed for a second epoch. JAX's
# virtual host devices and TensorFlow's logical CPUs are made before the backend starts;
# on torch each replica is a process under torchrun, and only the first one reports.
SCRIPT = """
import json, os, sys
if os.environ["KERAS_BACKEND"] == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_dlbasic import training
from keras_dlbasic.io import read_csv
out = {}
for kind in sys.argv[2:]:
    config = training.resolve_config("cnn", epochs=1, limit=256, batch_size=32, distribute=kind,
                                     model_kwargs={"dropout": 0.0})
    run = os.path.join(sys.argv[1], kind)
    training.train(config, run, verbose=0)
    metrics = training.resume(run, epochs=2, verbose=0)
    out[kind] = {"loss": [row["loss"] for row in read_csv(os.path.join(run, "history.csv"))],
                 "test_loss": metrics["test_loss"], "replicas": metrics.get("replicas", 1),
                 "files": sorted(os.listdir(run))}
if os.environ.get("RANK", "0") == "0":
    print(json.dumps(out))
"""


def launch(tmp_path, replicas):
    """The script's runs: one device then two (JAX, TensorFlow), or ``replicas``
    torchrun processes."""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "")
           + " --xla_force_host_platform_device_count=2"}
    if current_backend() == "torch":
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc-per-node={replicas}", str(script), str(tmp_path / str(replicas)),
                   "data-parallel"]
    else:
        command = [sys.executable, str(script), str(tmp_path), "none", "data-parallel"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_replicas_train_as_one_device_and_resume(tmp_path):
    if current_backend() == "torch":  # one torchrun process against two
        one, two = launch(tmp_path, 1)["data-parallel"], launch(tmp_path, 2)["data-parallel"]
    else:
        runs = launch(tmp_path, 2)
        one, two = runs["none"], runs["data-parallel"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert len(two["loss"]) == 2  # one epoch, then one resumed
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-3)
    assert two["test_loss"] == pytest.approx(one["test_loss"], rel=1e-3)
    assert two["files"] == one["files"]  # the same run directory
    assert not list(tmp_path.glob("**/dlbasic-replica-*"))


@pytest.mark.skipif(current_backend() != "torch", reason="torch needs a launcher")
def test_torch_data_parallel_outside_torchrun_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["train", "cnn", "--distribute", "data-parallel", "--limit",
                                       "64", "--output-dir", str(tmp_path / "run")])
    assert result.exit_code != 0
    assert result.output.startswith("Error: on the torch backend, --distribute data-parallel runs")
    assert "torchrun --nproc-per-node N" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
