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
