"""Splits that stream: examples read batch by batch instead of held in memory.

A ``Stream`` is one split of a dataset that need not fit in memory (full-size
TFDS images, the same images resized for a big network). Its examples come
from either

* a ``tf.data.Dataset`` of single ``(x, y)`` examples, as TFDS gives them; or,
  where TensorFlow is not wanted,
* a ``keras.utils.PyDataset`` of ``(x, y)`` batches, or a function
  ``batch_size -> PyDataset`` so that ``--batch-size`` still decides.

A ``Splits`` holds a ``Stream`` in place of ``x_<split>``, with ``y_<split>``
``None``. What the trainer does with arrays it does with streams: ``limit``,
``map_inputs`` (a task's resizing, channels-first or row-by-row reading,
applied to each batch as numpy), ``fit``, ``evaluate`` and resume, on every
backend. Keras receives ``Stream.batches(...)``: a ``PyDataset`` of numpy
batches, reshuffled at every epoch from a seed, so runs stay reproducible.

Targets of different sizes per example (a detection image's boxes) are
padded to one shape before they reach a stream or an array; see
``keras_dlbasic.data.pad_boxes``.

Nothing here imports keras or TensorFlow until batches are made.
"""
import dataclasses

import numpy as np

SHUFFLE_BUFFER = 10_000  # examples a tf.data stream shuffles among


@dataclasses.dataclass(frozen=True)
class Stream:
    """One split read batch by batch.

    Attributes:
        source: a ``tf.data.Dataset`` of ``(x, y)`` examples, a
            ``keras.utils.PyDataset`` of ``(x, y)`` batches, or a function
            ``batch_size -> PyDataset``.
        size: the number of examples (a tf.data source's cardinality by default).
        input_shape: the shape of one input, after ``transforms``; a dict of
            shapes for named inputs.
        transforms: numpy functions applied, in order, to each batch's inputs.
    """

    source: object
    size: int = None
    input_shape: tuple = None
    transforms: tuple = ()

    def __post_init__(self):
        if self.size is None:
            object.__setattr__(self, "size", _cardinality(self.source))
        if self.input_shape is None:
            object.__setattr__(self, "input_shape", _input_shape(self.source))

    def __len__(self):
        return self.size

    def limit(self, n):
        """The first ``n`` examples."""
        return dataclasses.replace(self, size=min(self.size, n))

    def map_inputs(self, function):
        """The same stream with ``function`` applied to each batch of inputs."""
        probe = apply_to_inputs(np.zeros((1, *self.input_shape), "float32"), function) \
            if not isinstance(self.input_shape, dict) else None
        shape = tuple(probe.shape[1:]) if probe is not None else self.input_shape
        return dataclasses.replace(self, input_shape=shape, transforms=(*self.transforms, function))

    def batches(self, batch_size, shuffle=False, seed=0, sample_weight=None):
        """A ``keras.utils.PyDataset`` of ``(x, y)`` numpy batches (``(x, y, w)`` with
        ``sample_weight``, a function of ``y``), in a new order every epoch if ``shuffle``."""
        from keras_dlbasic.data.batches import StreamBatches

        return StreamBatches(self, batch_size, shuffle, seed, sample_weight)

    def arrays(self, batch_size=256):
        """All of the stream as ``(x, y)`` numpy arrays (for small streams and tests)."""
        batches = self.batches(batch_size)
        xs, ys = zip(*(batches[i][:2] for i in range(batches.num_batches)))
        return _concatenate(xs), _concatenate(ys)


def is_tf_dataset(source):
    return type(source).__module__.startswith("tensorflow") and hasattr(source, "as_numpy_iterator")


def _cardinality(source):
    if is_tf_dataset(source):
        n = int(source.cardinality())
        if n < 0:  # unknown (-2) or infinite (-1): count once
            n = int(source.reduce(0, lambda count, _: count + 1))
        return n
    raise ValueError("a PyDataset stream needs its size (the number of examples)")


def _input_shape(source):
    if is_tf_dataset(source):
        spec = source.element_spec[0]
        if isinstance(spec, dict):
            return {key: tuple(s.shape) for key, s in spec.items()}
        return tuple(spec.shape)
    raise ValueError("a PyDataset stream needs its input_shape")


def apply_to_inputs(x, function):
    if isinstance(x, dict):
        return {key: function(value) for key, value in x.items()}
    return function(x)


def _concatenate(batches):
    if isinstance(batches[0], dict):
        return {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}
    return np.concatenate(batches)


def take(x, n):
    return {key: value[:n] for key, value in x.items()} if isinstance(x, dict) else x[:n]
