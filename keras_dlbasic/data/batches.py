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


class ProcessBatches(keras.utils.PyDataset):
    """One process's part of every global batch of ``fit``'s inputs, for data-parallel
    training where each process feeds its own replicas (``keras_dlbasic.distribute``).

    Every process draws the same order of global batches: arrays are permuted
    anew each epoch from a seed taken from numpy's seeded generator (so the same
    on every process), a ``PyDataset`` keeps its own order. Process ``part`` of
    ``parts`` then takes rows ``[part * n // parts, (part + 1) * n // parts)`` of
    each global batch of ``n``. A last global batch with fewer examples than
    processes is dropped, so no process gets an empty batch.

    Args:
        inputs: ``fit``'s keyword arguments: ``x`` a ``PyDataset`` of global
            batches, or ``x``, ``y``, ``sample_weight`` arrays and ``batch_size``.
        part: this process's index.
        parts: the number of processes.
    """

    def __init__(self, inputs, part, parts):
        super().__init__()
        self.part, self.parts = part, parts
        self.source = inputs["x"] if isinstance(inputs["x"], keras.utils.PyDataset) else None
        if self.source is None:
            self.arrays = tuple(inputs.get(key) for key in ("x", "y", "sample_weight"))
            self.batch_size = inputs["batch_size"]
            self.size = len(keras.tree.flatten(inputs["x"])[0])
            self.seed, self.epoch = int(np.random.randint(2**31)), 0
            self._order = self._draw_order()

    @property
    def num_batches(self):
        if self.source is not None:
            return self.source.num_batches
        full, rest = divmod(self.size, self.batch_size)
        return full + (rest >= self.parts)

    def __getitem__(self, index):
        if self.source is not None:
            batch = self.source[index]
        else:
            rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
            batch = tuple(None if a is None else keras.tree.map_structure(lambda v: v[rows], a)
                          for a in self.arrays)
            while batch[-1] is None:  # no sample weights, or no targets either
                batch = batch[:-1]
        n = len(keras.tree.flatten(batch[0])[0])
        start, stop = self.part * n // self.parts, (self.part + 1) * n // self.parts
        return tuple(keras.tree.map_structure(lambda v: v[start:stop], a) for a in batch)

    def on_epoch_end(self):
        if self.source is not None:
            self.source.on_epoch_end()
        else:
            self.epoch += 1
            self._order = self._draw_order()

    def _draw_order(self):
        return np.random.default_rng(self.seed + self.epoch).permutation(self.size)
