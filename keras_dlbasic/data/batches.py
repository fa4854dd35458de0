"""``StreamBatches``: a ``Stream`` (``keras_dlbasic.data.streams``) as Keras reads it."""
import math

import keras
import numpy as np

from keras_dlbasic.data.streams import SHUFFLE_BUFFER, apply_to_inputs, is_tf_dataset, take


class StreamBatches(keras.utils.PyDataset):
    """Numpy batches of a ``Stream``, by index, for ``fit``, ``evaluate`` and ``predict``.

    A tf.data source is read in order: Keras asks for batches 0, 1, 2, ... and
    any other index restarts the pass there; when shuffling, each epoch draws
    a new order from ``seed + epoch``. A PyDataset source is read as it batches,
    in a seeded random order of its batches when shuffling.

    Args:
        stream: the ``Stream``.
        batch_size: examples per batch (a PyDataset source keeps its own).
        shuffle: a new order every epoch.
        seed: the first epoch's shuffling seed.
        sample_weight: a function of a batch's targets giving their weights (or
            None, for none), or None.
    """

    def __init__(self, stream, batch_size, shuffle=False, seed=0, sample_weight=None):
        super().__init__()
        self.stream, self.shuffle, self.seed, self.sample_weight = stream, shuffle, seed, sample_weight
        source = stream.source
        if not is_tf_dataset(source) and not isinstance(source, keras.utils.PyDataset):
            source = source(batch_size)  # a function batch_size -> PyDataset
        self.source = source
        # A PyDataset source batches as it was made to; its first batch says how.
        self.batch_size = batch_size if is_tf_dataset(source) else len(source[0][1])
        self.epoch = 0
        self._iterator, self._next = None, 0
        self._order = self._draw_order()

    @property
    def num_batches(self):
        return math.ceil(self.stream.size / self.batch_size)

    def __getitem__(self, index):
        if is_tf_dataset(self.source):
            position = index
            x, y = self._read_in_order(index)
        else:
            position = int(self._order[index])
            x, y = self.source[position][:2]
        end = min(self.batch_size, self.stream.size - position * self.batch_size)  # `limit`
        x, y = take(x, end), take(y, end)  # y may be a dict (a detector's boxes and labels)
        for function in self.stream.transforms:
            x = apply_to_inputs(x, function)
        weights = self.sample_weight(y) if self.sample_weight else None
        return (x, y) if weights is None else (x, y, weights)

    def on_epoch_end(self):
        self.epoch += 1
        self._iterator = None
        self._order = self._draw_order()

    def _read_in_order(self, index):
        if self._iterator is None or index != self._next:
            dataset = self.source.take(self.stream.size)
            if self.shuffle:
                dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=self.seed + self.epoch)
            dataset = dataset.batch(self.batch_size).skip(index)
            self._iterator = dataset.prefetch(2).as_numpy_iterator()
        self._next = index + 1
        return next(self._iterator)

    def _draw_order(self):
        if self.shuffle and not is_tf_dataset(self.source):
            return np.random.default_rng(self.seed + self.epoch).permutation(self.num_batches)
        return np.arange(self.num_batches)
