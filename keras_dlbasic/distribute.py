"""Data-parallel training, each backend through its own engine (``--distribute data-parallel``).

Every device holds a replica of the model; each global batch (``--batch-size``) is
split evenly between them, their gradients are averaged, and every replica takes the
same step: the run computes what one device would, at the same global batch. The
run directory, checkpoints and resume do not change.

* JAX: ``keras.distribution.DataParallel`` over every device. Over several hosts,
  start the same command on each with ``KERAS_DISTRIBUTION_JOB_ADDRESSES``
  (comma-separated ``host:port``, the first the coordinator),
  ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and ``KERAS_DISTRIBUTION_PROCESS_ID``;
  ``keras.distribution.initialize`` then runs ``jax.distributed.initialize``.
* TensorFlow: ``tf.distribute.MirroredStrategy`` over the GPUs (else the logical
  CPUs), or ``MultiWorkerMirroredStrategy`` where ``TF_CONFIG`` describes a cluster.
* PyTorch: not built yet (``torch.distributed`` DDP under ``torchrun``); refused in
  one line.

This module is where a backend is named; it imports TensorFlow only inside the
TensorFlow branch.
"""
import contextlib
import os

from keras_dlbasic.backend import current_backend
from keras_dlbasic.errors import DLBasicError

JAX_CLUSTER_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                         "KERAS_DISTRIBUTION_PROCESS_ID")
_jax_initialized = False


@contextlib.contextmanager
def distribution_scope(kind, batch_size):
    """Build, compile, fit and evaluate inside this to train with ``kind``
    (``"none"`` or ``"data-parallel"``); it yields the number of replicas.
    ``batch_size``, the global batch, must split evenly between them."""
    if kind == "none":
        yield 1
        return
    backend = current_backend()
    if backend == "jax":
        context = _jax_data_parallel()
    elif backend == "tensorflow":
        context = _tensorflow_data_parallel()
    else:
        raise DLBasicError(f"--distribute {kind} is not available on the {backend} backend yet; "
                           f"use jax or tensorflow")
    with context as replicas:
        if batch_size % replicas:
            raise DLBasicError(f"the batch size {batch_size} does not split evenly between "
                               f"{replicas} replicas")
        yield replicas


@contextlib.contextmanager
def _jax_data_parallel():
    import keras

    global _jax_initialized
    if not _jax_initialized and all(name in os.environ for name in JAX_CLUSTER_VARIABLES):
        keras.distribution.initialize()  # jax.distributed.initialize from those variables
        _jax_initialized = True
    previous = keras.distribution.distribution()
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    try:
        yield len(devices)
    finally:
        keras.distribution.set_distribution(previous)


@contextlib.contextmanager
def _tensorflow_data_parallel():
    import tensorflow as tf

    if "TF_CONFIG" in os.environ:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
    with strategy.scope():
        yield strategy.num_replicas_in_sync
