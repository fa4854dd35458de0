"""Bundled datasets, TFDS (through tfds.testing.mock_data) and the offline failure."""
import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_dlbasic.data import bundled, load_dataset
from keras_dlbasic.data import tfds as tfds_loader
from keras_dlbasic.errors import DatasetUnavailableError, UnknownNameError


@pytest.mark.parametrize("name,side,sizes", [
    ("mnist_5k", 28, (3500, 500, 1000)),
    ("digits_8x8", 8, (1258, 180, 359)),
])
def test_bundled_splits(name, side, sizes):
    data = load_dataset(name)
    assert data.input_shape == (side, side, 1)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == sizes
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() < data.x_train.max() == 1.0
    assert set(np.unique(data.y_test)) == set(range(10))
    # Deterministic and disjoint: the same split twice, no image in two splits.
    again = load_dataset(name)
    np.testing.assert_array_equal(data.x_test, again.x_test)
    train, val, test = bundled.split_indices(sum(sizes))
    assert len(set(train) | set(val) | set(test)) == sum(sizes)


def test_limit_keeps_first_examples():
    data = load_dataset("digits_8x8").limit(50)
    assert len(data.x_train) == len(data.x_val) == len(data.x_test) == 50


def test_unknown_dataset():
    with pytest.raises(UnknownNameError, match="did you mean mnist"):
        load_dataset("mnsit")


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_loader_with_mock_data(name, shape, tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=20):
        data = load_dataset(name, data_dir=str(tmp_path))
        assert data.input_shape == shape and data.num_classes == 10
        # mock_data yields num_examples for every split spec, sliced or not.
        assert len(data.x_train) == len(data.x_val) == len(data.x_test) == 20
        # The splits stream: uint8 pixels scaled by 1/255, every value k/255 for an
        # integer k in 0..255.
        x, y = data.arrays("train")
    pixels = x * 255
    assert x.shape == (20, *shape) and x.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 255
    np.testing.assert_allclose(pixels, np.round(pixels), atol=1e-3)
    assert y.dtype == np.int32 and y.shape == (20,)


def test_tfds_offline_fails_fast_naming_bundled_data(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tfds_loader.socket, "create_connection",
                        lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(OSError("down")))
    with pytest.raises(DatasetUnavailableError, match="mnist_5k, digits_8x8"):
        load_dataset("fashion_mnist", data_dir=str(tmp_path))
    assert calls == [(tfds_loader.DOWNLOAD_HOST,)]


def test_adding_problem_dataset():
    data = load_dataset("adding_problem")
    assert data.kind == "regression" and data.input_shape == (100, 2)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (10_000, 1_000, 1_000)
    # Each target is the sum of the two marked values.
    marked = (data.x_test[..., 0] * data.x_test[..., 1]).sum(axis=1)
    np.testing.assert_allclose(marked, data.y_test, rtol=1e-6)


def test_digit_reversal_dataset():
    data = load_dataset("digit_reversal").limit(100)
    assert data.kind == "seq2seq" and data.num_classes == 13
    assert data.input_shape == {"encoder_tokens": (10,), "decoder_tokens": (11,)}
    source, target = data.x_train["encoder_tokens"][0], data.y_train[0]
    digits = source[source > 0]
    np.testing.assert_array_equal(target[:len(digits)], digits[::-1])
    assert target[len(digits)] == 2  # EOS
    # Teacher forcing: the decoder reads BOS and then the target shifted right.
    np.testing.assert_array_equal(data.x_train["decoder_tokens"][0, 1:len(digits) + 1],
                                  target[:len(digits)])


def test_imdb_with_mock_data_becomes_word_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("imdb_reviews", data_dir=str(tmp_path))
    assert data.input_shape == (tfds_loader.TEXT_LENGTH,) and data.x_train.dtype == np.int32
    assert data.vocab_size == tfds_loader.TEXT_VOCABULARY and data.num_classes == 2
    assert 0 <= data.x_train.min() and data.x_train.max() < data.vocab_size
    assert set(np.unique(data.y_train)) == set(range(data.num_classes))


def test_text_encoding_by_hand():
    vocabulary = tfds_loader.build_vocabulary([b"the cat<br />the dog", "The end"], size=4)
    assert vocabulary == {"the": 2, "cat": 3}  # 2 ids reserved: padding 0, unknown 1
    ids = tfds_loader.encode(["the dog the cat"], vocabulary, length=6)
    np.testing.assert_array_equal(ids, [[2, 1, 2, 3, 0, 0]])


def test_voc_with_mock_data_streams_padded_boxes(tmp_path, monkeypatch):
    """voc/2007 as detection: 448x448 images in [0, 1], boxes (x1, y1, x2, y2) in those
    pixels with x1 <= x2 and y1 <= y2, padded to MAX_BOXES with label -1."""
    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=6):
        data = load_dataset("voc/2007", data_dir=str(tmp_path))
        assert data.kind == "detection" and data.num_classes == 20 and len(data.class_names) == 20
        assert data.input_shape == (448, 448, 3) and len(data.x_test) == 6
        x, y = data.arrays("test")
    assert x.shape == (6, 448, 448, 3) and 0 <= x.min() and x.max() <= 1
    boxes, labels = y["boxes"], y["labels"]
    assert boxes.shape == (6, tfds_loader.MAX_BOXES, 4) and labels.shape == (6, tfds_loader.MAX_BOXES)
    real = labels >= 0
    assert real.any() and np.all(labels[real] < 20) and np.all(labels[~real] == -1)
    assert np.all(boxes[~real] == 0) and 0 <= boxes.min() and boxes.max() <= 448
    assert np.all(boxes[..., 2] >= boxes[..., 0]) and np.all(boxes[..., 3] >= boxes[..., 1])


def test_voc_example_by_hand():
    """TFDS gives a box as (ymin, xmin, ymax, xmax) in [0, 1]; the loader makes it
    (x1, y1, x2, y2) in the 448x448 image's pixels and drops difficult objects."""
    import tensorflow as tf

    example = {"image": tf.zeros((100, 200, 3), tf.uint8), "objects": {
        "bbox": tf.constant([[0.1, 0.2, 0.5, 0.9], [0.0, 0.0, 1.0, 1.0], [0.25, 0.5, 0.75, 0.625]]),
        "label": tf.constant([3, 7, 11], tf.int64),
        "is_difficult": tf.constant([False, True, False])}}
    image, target = tfds_loader._voc_example(example)
    assert tuple(image.shape) == (448, 448, 3)
    np.testing.assert_allclose(target["boxes"][:2].numpy(),
                               [[0.2 * 448, 0.1 * 448, 0.9 * 448, 0.5 * 448], [224, 112, 280, 336]],
                               rtol=1e-6)
    assert target["labels"][:3].numpy().tolist() == [3, 11, -1]


def test_pets_with_mock_data_streams_masks(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=4):
        data = load_dataset("oxford_iiit_pet", data_dir=str(tmp_path))
        assert data.kind == "segmentation" and data.class_names == ("background", "pet", "border")
        x, masks = data.arrays("train")
    assert x.shape == (4, 224, 224, 3) and masks.shape == (4, 224, 224)
    assert set(np.unique(masks)) <= {0, 1, 2}


def test_trimap_to_classes():
    import tensorflow as tf

    trimap = tf.constant([[[1], [2], [3]]], tf.uint8)  # TFDS: pet, background, border
    _, mask = tfds_loader._pet_example({"image": tf.zeros((1, 3, 3), tf.uint8),
                                         "segmentation_mask": trimap})
    assert set(np.unique(mask.numpy())) == {0, 1, 2}
    small = tf.image.resize(trimap, (1, 3), method="nearest")[..., 0].numpy()
    np.testing.assert_array_equal(np.array(tfds_loader.PET_TRIMAP)[small], [[1, 0, 2]])


@pytest.mark.parametrize("name, dataset, model_kwargs, metric", [
    ("faster_rcnn", "voc/2007", {"width": 4, "fc_units": 8, "pool_size": 2, "pre_nms_top": 32,
                                 "train_proposals": 8, "test_proposals": 8}, "test_map50"),
    ("fcn8s", "oxford_iiit_pet", {"width": 4, "fc_units": 8}, "test_mean_iou"),
])
def test_chapter3_models_train_on_streamed_tfds(name, dataset, model_kwargs, metric, tmp_path,
                                                monkeypatch):
    """A detector on streamed VOC boxes, a segmenter on streamed pet masks: one epoch
    through the trainer, scored and drawn."""
    from keras_dlbasic import load_model
    from keras_dlbasic.training import prepare_data, resolve_config, task_for, train

    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    config = resolve_config(name, dataset=dataset, epochs=1, batch_size=2, limit=2,
                            data_dir=str(tmp_path / "tfds"), model_kwargs=model_kwargs)
    with tfds.testing.mock_data(num_examples=2):
        metrics = train(config, tmp_path / "run", verbose=0)
        task = task_for(config)
        again = task.evaluate(load_model(tmp_path / "run" / "best.keras"), prepare_data(config, task))
    assert again[metric] == pytest.approx(metrics[metric])  # metrics.json scores best.keras
    figure = "detections.png" if metric == "test_map50" else "masks.png"
    assert (tmp_path / "run" / figure).is_file()


def test_tfds_splits_are_cached_where_they_fit(tmp_path, monkeypatch):
    """Fixed-shape numbers that fit in the budget are read once and served from memory:
    later passes, a pass cut short (``limit``) included, do not read the source again.
    Over the budget, or of varying shapes, a split is read anew each pass."""
    import tensorflow as tf

    from keras_dlbasic.data.streams import Stream

    reads = []

    def source(shape=(28, 28, 1)):
        def examples():
            reads.append(1)
            for i in range(10):
                yield np.full([d or i + 1 for d in shape], i, np.uint8), np.int32(i)
        signature = (tf.TensorSpec(shape, tf.uint8), tf.TensorSpec((), tf.int32))
        return tf.data.Dataset.from_generator(examples, output_signature=signature).apply(
            tf.data.experimental.assert_cardinality(10))

    cached = tfds_loader.cached(source())
    assert len(reads) == 1  # read once, up front
    stream = Stream(cached).limit(4)
    x, y = stream.arrays(batch_size=3)
    np.testing.assert_array_equal(y, [0, 1, 2, 3])
    np.testing.assert_array_equal(Stream(cached).arrays()[0][:, 0, 0, 0], np.arange(10))
    assert len(reads) == 1
    for kept in (tfds_loader.cached(source(), limit=10 * 28 * 28), tfds_loader.cached(source((None, 3)))):
        reads.clear()
        list(kept.as_numpy_iterator()), list(kept.as_numpy_iterator())
        assert len(reads) == 2  # over the budget, or ragged: read on every pass

    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    with tfds.testing.mock_data(num_examples=20):
        x, y = load_dataset("mnist", data_dir=str(tmp_path)).arrays("train")
    assert x.shape == (20, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int32
