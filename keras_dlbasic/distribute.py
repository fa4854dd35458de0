"""Data-parallel training, each backend through its own engine (``--distribute data-parallel``).

Every device holds a replica of the model; each global batch (``--batch-size``) is
split evenly between them, their gradients are averaged, and every replica takes the
same step: the run computes what one device would, at the same global batch. The
run directory, checkpoints and resume do not change.

* JAX: ``keras.distribution.DataParallel`` over every device. Over several hosts,
  start the same command on each with ``KERAS_DISTRIBUTION_JOB_ADDRESSES``
  (comma-separated ``host:port``, the first the coordinator),
  ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and ``KERAS_DISTRIBUTION_PROCESS_ID``;
  ``keras.distribution.initialize`` then runs ``jax.distributed.initialize``, and
  each process feeds its part of every global batch.
* TensorFlow: ``tf.distribute.MirroredStrategy`` over the GPUs (else the logical
  CPUs), or ``MultiWorkerMirroredStrategy`` where ``TF_CONFIG`` describes a cluster.
* PyTorch: one process per device under ``torchrun``, joined by
  ``torch.distributed`` (NCCL on GPUs, gloo on CPUs). Keras's ``fit`` calls the
  model itself, not a ``DistributedDataParallel`` wrapper, so the model's
  parameters get DDP's two collectives directly: the first process's weights are
  broadcast when training starts, and each gradient is all-reduced and averaged
  as soon as backward has accumulated it. Each process feeds its part of every
  global batch, and the logged losses and metrics are averaged between processes,
  so every process sees the same numbers and stops at the same step.

Only the first process (the chief) writes the run directory; the others write
theirs into a scratch directory that is removed. This module is where a backend
is named; it imports each backend only inside its own branch.
"""
import atexit
import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import tempfile

from keras_dlbasic.backend import current_backend
from keras_dlbasic.errors import DLBasicError

JAX_CLUSTER_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                         "KERAS_DISTRIBUTION_PROCESS_ID")
TORCHRUN = "torchrun --nproc-per-node N --no-python dlbasic train MODEL --distribute data-parallel"
_jax_initialized = False


@dataclasses.dataclass(frozen=True)
class Replicas:
    """A run's replicas as this process sees them.

    Attributes:
        count: replicas in all (devices, over every process).
        process: this process's index; process 0 is the chief, which writes the run.
        feeders: processes that each feed their own part of every global batch
            (1 where the engine splits the batch itself).
        synchronize: this process averages gradients and logs with the others
            itself (the torch backend).
    """

    count: int = 1
    process: int = 0
    feeders: int = 1
    synchronize: bool = False

    @property
    def chief(self):
        return self.process == 0

    def shard(self, inputs):
        """``fit``'s keyword arguments for this process: ``inputs`` where one process
        feeds every replica, else this process's part of each global batch."""
        if self.feeders == 1 and not self.synchronize:
            return inputs
        from keras_dlbasic.data.batches import ProcessBatches

        return {"x": ProcessBatches(inputs, self.process if self.feeders > 1 else 0, self.feeders)}

    def callbacks(self):
        """Callbacks that go first in ``fit``'s list."""
        return [_synchronize_processes(self.feeders)] if self.synchronize else []

    @contextlib.contextmanager
    def run_directory(self, run_dir):
        """Where this process writes the run: ``run_dir`` on the chief, else a scratch
        copy of what resuming reads from it, removed afterwards."""
        if self.chief:
            yield run_dir
            return
        with tempfile.TemporaryDirectory(prefix="dlbasic-replica-") as scratch:
            own = pathlib.Path(scratch) / "run"
            own.mkdir()
            for name in ("last.keras", "history.csv"):
                if (run_dir / name).is_file():
                    shutil.copy(run_dir / name, own / name)
            yield own


def chief_process():
    """Whether this process is the chief (or alone), from the launchers' environment
    variables; known before any backend starts."""
    if "RANK" in os.environ:  # torchrun
        return os.environ["RANK"] == "0"
    if "KERAS_DISTRIBUTION_PROCESS_ID" in os.environ:
        return os.environ["KERAS_DISTRIBUTION_PROCESS_ID"] == "0"
    if "TF_CONFIG" in os.environ:
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        return task.get("type") == "chief" or (task.get("type") == "worker" and task.get("index") == 0)
    return True


def check_launch(kind):
    """Refuse, in one line, a ``kind`` of run that this process was not launched for:
    data-parallel torch outside torchrun. Keras-free, so the CLI asks before it starts."""
    if kind == "data-parallel" and current_backend() == "torch" and "WORLD_SIZE" not in os.environ:
        raise DLBasicError(f"on the torch backend, --distribute data-parallel runs one process "
                           f"per device under torchrun: {TORCHRUN}")


@contextlib.contextmanager
def distribution_scope(kind, batch_size):
    """Build, compile, fit and evaluate inside this to train with ``kind``
    (``"none"`` or ``"data-parallel"``); it yields the run's ``Replicas``.
    ``batch_size``, the global batch, must split evenly between them."""
    if kind == "none":
        yield Replicas()
        return
    backend = current_backend()
    context = {"jax": _jax_data_parallel, "tensorflow": _tensorflow_data_parallel,
               "torch": _torch_data_parallel}[backend]()
    with context as replicas:
        if batch_size % replicas.count:
            raise DLBasicError(f"the batch size {batch_size} does not split evenly between "
                               f"{replicas.count} replicas")
        yield replicas


@contextlib.contextmanager
def _jax_data_parallel():
    import jax
    import keras

    global _jax_initialized
    if not _jax_initialized and all(name in os.environ for name in JAX_CLUSTER_VARIABLES):
        keras.distribution.initialize()  # jax.distributed.initialize from those variables
        _jax_initialized = True
    previous = keras.distribution.distribution()
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    try:
        yield Replicas(len(devices), jax.process_index(), jax.process_count())
    finally:
        keras.distribution.set_distribution(previous)


@contextlib.contextmanager
def _tensorflow_data_parallel():
    import tensorflow as tf

    if "TF_CONFIG" in os.environ:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        process = 0 if chief_process() else 1 + strategy.cluster_resolver.task_id
    else:
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
        process = 0
    with strategy.scope():
        yield Replicas(strategy.num_replicas_in_sync, process)


@contextlib.contextmanager
def _torch_data_parallel():
    import torch
    import torch.distributed as dist

    check_launch("data-parallel")
    if not dist.is_initialized():
        # One group per process, for every fit in it: torchrun's store keeps a destroyed
        # group's addresses, so a second group (a resume) would dial the closed first one.
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        atexit.register(dist.destroy_process_group)
    world = dist.get_world_size()
    yield Replicas(world, dist.get_rank(), world, synchronize=True)


def _synchronize_processes(processes):
    """The torch processes' collectives, as a callback: DDP's broadcast of the first
    process's weights and all-reduce of every gradient, and the logs averaged."""
    import keras
    import torch
    import torch.distributed as dist

    class SynchronizeProcesses(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            with torch.no_grad():
                for variable in self.model.variables:
                    dist.broadcast(variable.value.data, src=0)
            self._hooks = [variable.value.register_post_accumulate_grad_hook(self._average)
                           for variable in self.model.trainable_variables]

        def on_train_end(self, logs=None):
            for hook in self._hooks:
                hook.remove()

        @staticmethod
        def _average(parameter):
            dist.all_reduce(parameter.grad)  # a sum: gloo has no average
            parameter.grad.div_(processes)

        def on_train_batch_end(self, batch, logs=None):
            self._average_logs(logs)

        def on_epoch_end(self, epoch, logs=None):
            self._average_logs(logs)

        @staticmethod
        def _average_logs(logs):
            keys = sorted(logs or {})
            values = torch.tensor([float(logs[key]) for key in keys], dtype=torch.float64)
            dist.all_reduce(values)
            logs.update(zip(keys, (values / processes).tolist()))

    return SynchronizeProcesses()
