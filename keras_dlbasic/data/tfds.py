"""Full-size datasets through TensorFlow Datasets.

Splits: train = first 90% of TFDS "train", validation = last 10%, test = "test".
Images stream (``keras_dlbasic.data.streams``): each split is a ``Stream`` of
float32 images in [0, 1] and int32 labels, read from TFDS batch by batch, so
a network's input size (224x224 for VGG on CIFAR-10) never has to fit in
memory. The pipeline is ``tf.data``'s: decoded examples held in memory where
they fit (``cached``), a parallel map, prefetch. Text (``load_text``) becomes
int32 word ids in memory: its vocabulary is counted over the whole training
split anyway. Chapter 3's real data (``load_vision``) streams too:
``voc/2007`` as detection (images resized to 448x448, the objects' boxes in
those pixels, padded to ``MAX_BOXES``) and ``oxford_iiit_pet`` as segmentation
(224x224, masks 0 background, 1 pet, 2 its border).
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
CACHE_BYTES = 1 << 30  # a split whose decoded examples fit in this is held in memory


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


def _tfds_splits(name, data_dir, splits=SPLITS, as_supervised=True):
    """The three splits of ``name`` as ``tf.data`` datasets: of (x, y) pairs, or of
    feature dicts where not ``as_supervised``."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared() and not network_available():
        where = data_dir or "the default TFDS data dir (~/tensorflow_datasets)"
        raise DatasetUnavailableError(
            f"dataset '{name}' is not prepared in {where} and cannot be downloaded (no network); "
            f"prepare it elsewhere and pass --data-dir, or use a bundled dataset: "
            f"{', '.join(offline_datasets(dataset_info(name).kinds[0]))}"
        )
    return tfds.load(name, split=splits, data_dir=data_dir, as_supervised=as_supervised)


def cached(dataset, limit=None):
    """``dataset`` held in memory where it fits: when its examples are numbers of fixed
    shapes and the whole split takes at most ``limit`` bytes (``CACHE_BYTES``, per
    split), it is read once, decoded, and served from those arrays (MNIST's 54,000
    training digits take 42 MB, CIFAR-10's 45,000 images 138 MB); else, as for VOC's and
    the pets' images of varying sizes, it is read from its files anew each epoch.

    Read eagerly rather than through ``tf.data``'s ``cache``, which keeps nothing from a
    pass that stops early (``--limit``, or a stream restarting at a batch) and says so
    on stderr every time."""
    import tensorflow as tf

    specs = tf.nest.flatten(dataset.element_spec)
    count = int(dataset.cardinality())
    numeric = all(spec.dtype.is_integer or spec.dtype.is_floating or spec.dtype.is_bool
                  for spec in specs)
    if count < 0 or not numeric or not all(spec.shape.is_fully_defined() for spec in specs):
        return dataset
    size = count * sum(spec.shape.num_elements() * spec.dtype.size for spec in specs)
    if size > (CACHE_BYTES if limit is None else limit):
        return dataset
    batches = list(dataset.batch(4096).as_numpy_iterator())
    arrays = tf.nest.map_structure(lambda *parts: np.concatenate(parts), *batches)
    return tf.data.Dataset.from_tensor_slices(arrays)


def _load_splits(name, data_dir):
    """The three supervised splits of ``name`` as numpy (x, y) pairs."""
    import tensorflow_datasets as tfds

    return [_to_numpy(ds, tfds) for ds in _tfds_splits(name, data_dir)]


def load(name, data_dir=None):
    """Stream the TFDS image dataset ``name`` (prepared under ``data_dir`` or downloadable)."""
    import tensorflow as tf

    def scale(image, label):
        return tf.cast(image, tf.float32) / 255.0, tf.cast(label, tf.int32)

    train, val, test = (Stream(cached(ds).map(scale, num_parallel_calls=tf.data.AUTOTUNE))
                        for ds in _tfds_splits(name, data_dir))
    return Splits(name, train, None, val, None, test, None,
                  num_classes=dataset_info(name).num_classes)


# --- Vision applications (chapter 3): boxes and masks ----------------------------
VOC_SIZE, PET_SIZE = 448, 224  # YOLO's and FCN's input sides
MAX_BOXES = 42  # the most objects in one VOC 2007 image; more are dropped
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
PET_CLASSES = ("background", "pet", "border")
# TFDS's trimap: 1 pet, 2 background, 3 border (0 occurs only in mock data).
PET_TRIMAP = (0, 1, 0, 2)
VISION_SPLITS = {"voc/2007": ["train", "validation", "test"], "oxford_iiit_pet": SPLITS}


def _voc_example(example):
    """One VOC image at VOC_SIZE and its objects: boxes (x1, y1, x2, y2) in its pixels,
    labels, padded with -1 to MAX_BOXES. Objects marked difficult are left out, as the
    VOC evaluation ignores them."""
    import tensorflow as tf

    image = tf.image.resize(tf.cast(example["image"], tf.float32) / 255.0, (VOC_SIZE, VOC_SIZE))
    objects = example["objects"]
    # One entry per object in each field (tfds.testing.mock_data draws their lengths apart).
    count = tf.reduce_min([tf.shape(objects[key])[0] for key in ("bbox", "label", "is_difficult")])
    keep = tf.logical_not(tf.cast(objects["is_difficult"][:count], tf.bool))
    bbox = tf.boolean_mask(objects["bbox"][:count], keep)[:MAX_BOXES]  # (n, 4) y1, x1, y2, x2 in [0, 1]
    labels = tf.cast(tf.boolean_mask(objects["label"][:count], keep)[:MAX_BOXES], tf.int32)
    y1, y2 = tf.minimum(bbox[:, 0], bbox[:, 2]), tf.maximum(bbox[:, 0], bbox[:, 2])
    x1, x2 = tf.minimum(bbox[:, 1], bbox[:, 3]), tf.maximum(bbox[:, 1], bbox[:, 3])
    boxes = tf.clip_by_value(tf.stack([x1, y1, x2, y2], -1), 0.0, 1.0) * VOC_SIZE
    missing = MAX_BOXES - tf.shape(labels)[0]
    boxes = tf.ensure_shape(tf.pad(boxes, [[0, missing], [0, 0]]), (MAX_BOXES, 4))
    labels = tf.ensure_shape(tf.pad(labels, [[0, missing]], constant_values=-1), (MAX_BOXES,))
    return image, {"boxes": boxes, "labels": labels}


def _pet_example(example):
    """One pet image at PET_SIZE and its class mask (nearest-neighbour resized)."""
    import tensorflow as tf

    image = tf.image.resize(tf.cast(example["image"], tf.float32) / 255.0, (PET_SIZE, PET_SIZE))
    trimap = tf.image.resize(example["segmentation_mask"], (PET_SIZE, PET_SIZE), method="nearest")
    mask = tf.gather(tf.constant(PET_TRIMAP, tf.int32), tf.clip_by_value(tf.cast(
        trimap[..., 0], tf.int32), 0, len(PET_TRIMAP) - 1))
    return image, mask


def load_vision(name, data_dir=None):
    """Stream ``voc/2007`` (detection) or ``oxford_iiit_pet`` (segmentation) from TFDS."""
    import tensorflow as tf

    example = _voc_example if name == "voc/2007" else _pet_example
    splits = (Stream(cached(ds).map(example, num_parallel_calls=tf.data.AUTOTUNE))
              for ds in _tfds_splits(name, data_dir, VISION_SPLITS[name], as_supervised=False))
    train, val, test = splits
    return Splits(name, train, None, val, None, test, None,
                  num_classes=dataset_info(name).num_classes, kind=dataset_info(name).kind,
                  class_names=VOC_CLASSES if name == "voc/2007" else PET_CLASSES)


# --- Generative models (chapter 6): images without labels ------------------------


def load_binarized(name, data_dir=None):
    """Stream ``binarized_mnist`` (Larochelle & Murray's fixed binarisation, TFDS's own
    train / validation / test of 50,000 / 10,000 / 10,000): float32 images in {0, 1}, and
    label -1 (the set has none; density estimation reads the images only)."""
    import tensorflow as tf

    def unlabelled(example):
        # 0/1 already; any non-zero value is a 1 (mock data draws 0..255).
        return tf.cast(example["image"] > 0, tf.float32), tf.constant(-1, tf.int32)

    train, val, test = (Stream(cached(ds).map(unlabelled, num_parallel_calls=tf.data.AUTOTUNE))
                        for ds in _tfds_splits(name, data_dir, ["train", "validation", "test"],
                                               as_supervised=False))
    return Splits(name, train, None, val, None, test, None, num_classes=0,
                  kind=dataset_info(name).kind)


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
