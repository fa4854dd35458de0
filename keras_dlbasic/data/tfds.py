"""Full-size datasets through TensorFlow Datasets.

Splits: train = first 90% of TFDS "train", validation = last 10%, test = "test".
Images stream (``keras_dlbasic.data.streams``): each split is a ``Stream`` of
float32 images in [0, 1] and int32 labels, read from TFDS batch by batch, so
a network's input size (224x224 for VGG on CIFAR-10) never has to fit in
memory. Text (``load_text``) becomes int32 word ids in memory: its
vocabulary is counted over the whole training split anyway.
A dataset that is not prepared under ``data_dir`` is downloaded only when the
TFDS servers are reachable; otherwise loading fails at once (TFDS itself would
retry for minutes) and names the bundled alternatives.
"""
import collections
import re
import socket

import numpy as np

from keras_dlbasic.data import Splits, dataset_info, offline_datasets
from keras_dlbasic.data.streams import Stream
from keras_dlbasic.errors import DatasetUnavailableError

DOWNLOAD_HOST = ("storage.googleapis.com", 443)
SPLITS = ["train[:90%]", "train[90%:]", "test"]


def network_available(address=DOWNLOAD_HOST, timeout=3.0):
    """Whether a TCP connection to the TFDS download host opens within ``timeout``."""
    try:
        socket.create_connection(address, timeout=timeout).close()
        return True
    except OSError:
        return False


def _to_numpy(dataset, tfds):
    """All (x, y) of a supervised dataset as two numpy arrays (y as int32)."""
    inputs, labels = [], []
    for x, y in tfds.as_numpy(dataset.batch(4096)):
        inputs.append(x)
        labels.append(y)
    return np.concatenate(inputs), np.concatenate(labels).astype("int32")


def _tfds_splits(name, data_dir):
    """The three supervised splits of ``name`` as ``tf.data`` datasets of (x, y)."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared() and not network_available():
        where = data_dir or "the default TFDS data dir (~/tensorflow_datasets)"
        raise DatasetUnavailableError(
            f"dataset '{name}' is not prepared in {where} and cannot be downloaded (no network); "
            f"prepare it elsewhere and pass --data-dir, or use a bundled dataset: "
            f"{', '.join(offline_datasets(dataset_info(name).kinds[0]))}"
        )
    return tfds.load(name, split=SPLITS, data_dir=data_dir, as_supervised=True)


def _load_splits(name, data_dir):
    """The three supervised splits of ``name`` as numpy (x, y) pairs."""
    import tensorflow_datasets as tfds

    return [_to_numpy(ds, tfds) for ds in _tfds_splits(name, data_dir)]


def load(name, data_dir=None):
    """Stream the TFDS image dataset ``name`` (prepared under ``data_dir`` or downloadable)."""
    import tensorflow as tf

    def scale(image, label):
        return tf.cast(image, tf.float32) / 255.0, tf.cast(label, tf.int32)

    train, val, test = (Stream(ds.map(scale, num_parallel_calls=tf.data.AUTOTUNE))
                        for ds in _tfds_splits(name, data_dir))
    return Splits(name, train, None, val, None, test, None,
                  num_classes=dataset_info(name).num_classes)


# --- Text: word ids --------------------------------------------------------------
PAD_ID, OOV_ID = 0, 1
TEXT_VOCABULARY = 20_000  # ids 0 (padding) and 1 (out of vocabulary) included
TEXT_LENGTH = 200


def words(text):
    """Lower-cased words of a review, HTML line breaks removed."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return re.findall(r"[a-z0-9']+", text.lower().replace("<br />", " "))


def build_vocabulary(texts, size=TEXT_VOCABULARY):
    """Word -> id for the ``size - 2`` most frequent words (ties by first appearance)."""
    counts = collections.Counter(word for text in texts for word in words(text))
    return {word: i + 2 for i, (word, _) in enumerate(counts.most_common(size - 2))}


def encode(texts, vocabulary, length=TEXT_LENGTH):
    """(N, length) int32 ids: the first ``length`` words, unknown words as 1, padded with 0."""
    ids = np.full((len(texts), length), PAD_ID, dtype="int32")
    for row, text in enumerate(texts):
        tokens = [vocabulary.get(word, OOV_ID) for word in words(text)[:length]]
        ids[row, :len(tokens)] = tokens
    return ids


def load_text(name, data_dir=None):
    """Load a TFDS text-classification dataset as word ids (vocabulary from the train split)."""
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = _load_splits(name, data_dir)
    vocabulary = build_vocabulary(x_train)
    x_train, x_val, x_test = (encode(x, vocabulary) for x in (x_train, x_val, x_test))
    return Splits(name, x_train, y_train, x_val, y_val, x_test, y_test,
                  num_classes=dataset_info(name).num_classes, vocab_size=TEXT_VOCABULARY)
