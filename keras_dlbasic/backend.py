"""Choosing the Keras backend before keras is imported.

Keras reads ``KERAS_BACKEND`` once, at import time, so the choice must be made
first. Nothing here imports keras.
"""
import importlib.util
import json
import os
import sys

from keras_dlbasic.errors import DLBasicError, MissingDependencyError, UnknownNameError

BACKENDS = ("tensorflow", "jax", "torch")


def current_backend():
    """The backend keras uses, or will use once imported: $KERAS_BACKEND, else keras.json."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return json.load(f).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def use_backend(name):
    """Select ``name`` as the Keras backend; must run before ``import keras``."""
    if name not in BACKENDS:
        raise UnknownNameError(f"unknown backend '{name}'; choose one of {', '.join(BACKENDS)}")
    if importlib.util.find_spec(name) is None:
        extra = "" if name == "tensorflow" else f": pip install 'keras-dlbasic[{name}]'"
        raise MissingDependencyError(f"the {name} backend needs the '{name}' package{extra}")
    if "keras" in sys.modules and current_backend() != name:
        raise DLBasicError(
            f"keras is already imported with the {current_backend()} backend; "
            f"set KERAS_BACKEND={name} before importing it"
        )
    os.environ["KERAS_BACKEND"] = name


def import_keras_quietly():
    """``import keras`` with the backend's start-up chatter on stderr silenced.

    TensorFlow's C++ runtime prints about six lines when it loads (absl's
    "All log messages before absl::InitializeLog()...", oneDNN, CUDA drivers),
    whatever ``TF_CPP_MIN_LOG_LEVEL`` says, so a one-line error would never be
    alone. The file descriptor itself is redirected while keras and TensorFlow
    are imported; Python exceptions still propagate. TensorFlow is imported on
    every backend (where installed): Keras's data adapters and TFDS import it
    later anyway, and it would then print the same lines.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras

        if importlib.util.find_spec("tensorflow") is not None:
            import tensorflow as tf

            tf.config.list_logical_devices()  # the CPU/GPU probes log once, here
            tf.get_logger().setLevel("ERROR")  # retracing warnings of repeated fit/evaluate
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return keras
