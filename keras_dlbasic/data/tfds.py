"""Full-size datasets through TensorFlow Datasets.

Splits: train = first 90% of TFDS "train", validation = last 10%, test = "test".
A dataset that is not prepared under ``data_dir`` is downloaded only when the
TFDS servers are reachable; otherwise loading fails at once (TFDS itself would
retry for minutes) and names the bundled alternatives.
"""
import socket

import numpy as np

from keras_dlbasic.data import Splits, bundled_datasets, dataset_info
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
    images, labels = [], []
    for x, y in tfds.as_numpy(dataset.batch(4096)):
        images.append(x)
        labels.append(y)
    return (np.concatenate(images).astype("float32") / 255.0,
            np.concatenate(labels).astype("int32"))


def load(name, data_dir=None):
    """Load the TFDS dataset ``name`` (prepared under ``data_dir`` or downloadable)."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared() and not network_available():
        where = data_dir or "the default TFDS data dir (~/tensorflow_datasets)"
        raise DatasetUnavailableError(
            f"dataset '{name}' is not prepared in {where} and cannot be downloaded (no network); "
            f"prepare it elsewhere and pass --data-dir, or use a bundled dataset: "
            f"{', '.join(bundled_datasets())}"
        )
    train, val, test = tfds.load(name, split=SPLITS, data_dir=data_dir, as_supervised=True)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        _to_numpy(ds, tfds) for ds in (train, val, test)
    )
    return Splits(name, x_train, y_train, x_val, y_val, x_test, y_test,
                  num_classes=dataset_info(name).num_classes)
