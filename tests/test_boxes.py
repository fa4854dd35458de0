"""Box operations (``keras_dlbasic.ops``) and detection scores (``keras_dlbasic.metrics``):
hand-computed cases, and agreement with Keras's box utilities and TensorFlow's image ops
on random inputs, on every backend."""
import keras
import numpy as np
import pytest

from keras_dlbasic.metrics import (
    average_precision,
    greedy_nms,
    mean_average_precision,
    mean_iou,
    per_class_nms,
)
from keras_dlbasic.ops import (
    box_iou,
    clip_boxes,
    crop_and_resize,
    decode_boxes,
    encode_boxes,
    non_max_suppression,
)

from conftest import to_numpy


def random_boxes(n, size=100.0, seed=0):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, size * 0.8, (n, 2))
    extent = rng.uniform(size * 0.05, size * 0.4, (n, 2))
    return np.concatenate([corner, corner + extent], axis=1).astype("float32")


def compiled(fn):
    """``fn`` as the backend compiles a training step: a tf.function, jax.jit; torch runs
    eagerly, as Keras's torch backend does without jit_compile."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def test_box_iou_hand_computed():
    a = np.array([[0, 0, 2, 2], [0, 0, 1, 1], [5, 5, 5, 5]], "float32")
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 5, 5]], "float32")
    # (0,0,2,2) and (1,1,3,3): intersection 1, union 4 + 4 - 1 = 7. Empty boxes give 0.
    expected = [[1 / 7, 1, 0], [0, 1 / 4, 0], [0, 0, 0]]
    np.testing.assert_allclose(to_numpy(box_iou(a, b)), expected, atol=1e-6)


def test_box_iou_matches_keras_bounding_boxes():
    a, b = random_boxes(7, seed=1), random_boxes(5, seed=2)
    reference = keras.utils.bounding_boxes.compute_iou(a, b, bounding_box_format="xyxy")
    np.testing.assert_allclose(to_numpy(box_iou(a, b)), to_numpy(reference), atol=1e-5)


def test_encoding_hand_computed_and_round_trip():
    anchor = np.array([[0, 0, 10, 10]], "float32")  # centre (5, 5), 10 x 10
    box = np.array([[5, 5, 25, 15]], "float32")  # centre (15, 10), 20 x 10
    np.testing.assert_allclose(to_numpy(encode_boxes(box, anchor)), [[1, 0.5, np.log(2), 0]],
                               atol=1e-6)
    np.testing.assert_allclose(to_numpy(encode_boxes(box, anchor, weights=(10, 10, 5, 5))),
                               [[10, 5, 5 * np.log(2), 0]], atol=1e-5)
    boxes, anchors = random_boxes(20, seed=3), random_boxes(20, seed=4)
    for weights in [(1, 1, 1, 1), (10, 10, 5, 5)]:
        deltas = encode_boxes(boxes, anchors, weights)
        np.testing.assert_allclose(to_numpy(decode_boxes(deltas, anchors, weights)), boxes, atol=1e-3)
    reference = keras.utils.bounding_boxes.encode_box_to_deltas(
        anchors, boxes, anchor_format="xyxy", box_format="xyxy", encoding_format="center_xywh")
    np.testing.assert_allclose(to_numpy(encode_boxes(boxes, anchors)), to_numpy(reference), atol=1e-5)


def test_decoding_clips_huge_size_offsets():
    anchor = np.array([[0, 0, 16, 16]], "float32")
    decoded = to_numpy(decode_boxes(np.array([[0, 0, 50, 50]], "float32"), anchor))
    np.testing.assert_allclose(decoded, [[8 - 500, 8 - 500, 8 + 500, 8 + 500]], rtol=1e-5)
    clipped = to_numpy(clip_boxes(decoded, height=100, width=60))
    np.testing.assert_allclose(clipped, [[0, 0, 60, 100]])


def test_nms_hand_computed():
    boxes = np.array([[0, 0, 10, 10],     # 0: score .9, kept
                      [1, 1, 11, 11],     # 1: .8, IoU 81/119 = .68 with 0: removed
                      [20, 20, 30, 30],   # 2: .7, kept
                      [0, 0, 10, 5]],     # 3: .95, IoU .5 with 0 (not above .5): kept
                     "float32")
    scores = np.array([0.9, 0.8, 0.7, 0.95], "float32")
    kept = to_numpy(non_max_suppression(boxes, scores, iou_threshold=0.5, max_outputs=6))
    np.testing.assert_array_equal(kept, [3, 0, 2, -1, -1, -1])
    # At 0.4, box 3 removes box 0, which then removes nothing: box 1 stays.
    kept = to_numpy(non_max_suppression(boxes, scores, iou_threshold=0.4, max_outputs=2))
    np.testing.assert_array_equal(kept, [3, 1])
    kept = to_numpy(non_max_suppression(boxes, scores, max_outputs=4, score_threshold=0.85))
    np.testing.assert_array_equal(kept, [3, 0, -1, -1])


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_tensorflow(threshold):
    import tensorflow as tf

    boxes = random_boxes(200, seed=5)
    scores = np.random.default_rng(6).random(200).astype("float32")
    # TensorFlow's boxes are (y1, x1, y2, x2).
    expected = tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], scores, max_output_size=50,
                                            iou_threshold=threshold).numpy()
    kept = to_numpy(compiled(lambda b, s: non_max_suppression(b, s, threshold, max_outputs=50))(
        boxes, scores))
    np.testing.assert_array_equal(kept[: len(expected)], expected)
    assert np.all(kept[len(expected):] == -1)


def test_numpy_nms_is_the_ops_nms():
    boxes = random_boxes(150, seed=10)
    scores = np.random.default_rng(11).random(150).astype("float32")
    kept = to_numpy(non_max_suppression(boxes, scores, 0.4, max_outputs=150))
    np.testing.assert_array_equal(greedy_nms(boxes, scores, 0.4), kept[kept >= 0])


def test_crop_and_resize_matches_tensorflow():
    import tensorflow as tf

    rng = np.random.default_rng(7)
    images = rng.random((2, 12, 15, 3)).astype("float32")
    boxes = np.stack([random_boxes(4, size=14.0, seed=8), random_boxes(4, size=14.0, seed=9)])
    boxes[0, 0] = [-3, -2, 20, 13]  # partly outside the image
    crops = to_numpy(compiled(lambda i, b: crop_and_resize(i, b, (5, 4)))(images, boxes))
    assert crops.shape == (2, 4, 5, 4, 3)
    h, w = images.shape[1] - 1, images.shape[2] - 1
    normalised = boxes.reshape(-1, 4)[:, [1, 0, 3, 2]] / np.array([h, w, h, w], "float32")
    expected = tf.image.crop_and_resize(images, normalised, np.repeat([0, 1], 4), (5, 4)).numpy()
    np.testing.assert_allclose(crops.reshape(-1, 5, 4, 3), expected, atol=1e-5)


def test_average_precision_hand_computed():
    # Detections by score: hit, miss, hit, of 2 ground-truth boxes: precision 1, 1/2, 2/3
    # at recall 1/2, 1/2, 1. All-point AP: 1/2 * 1 + 1/2 * 2/3 = 5/6.
    assert average_precision(np.array([0.5, 0.5, 1.0]), np.array([1, 0.5, 2 / 3])) == pytest.approx(5 / 6)
    # Miss, hit, hit: precision 0, 1/2, 2/3 at recall 0, 1/2, 1. The precision at recall
    # 1/2 is raised to the 2/3 reached later: AP 2/3, where the raw curve gives 7/12.
    assert average_precision(np.array([0.0, 0.5, 1.0]), np.array([0, 0.5, 2 / 3])) == pytest.approx(2 / 3)
    truth = [{"boxes": [[0, 0, 10, 10], [0, 0, 0, 0]], "labels": [0, -1]},
             {"boxes": [[20, 20, 40, 40]], "labels": [0]}]
    detections = [{"boxes": [[0, 0, 10, 9], [50, 50, 60, 60]], "scores": [0.9, 0.8], "labels": [0, 0]},
                  {"boxes": [[21, 21, 40, 40]], "scores": [0.7], "labels": [0]}]
    mean, per_class = mean_average_precision(detections, truth, num_classes=2)
    assert mean == pytest.approx(5 / 6) and per_class[0] == pytest.approx(5 / 6)
    assert np.isnan(per_class[1])  # no ground truth: left out of the mean
    # A second detection of a matched box is a false positive; a wrong class is a miss.
    detections[1] = {"boxes": [[21, 21, 40, 40], [20, 20, 40, 40]], "scores": [0.7, 0.6],
                     "labels": [0, 0]}
    detections[0]["labels"] = [1, 0]
    mean, per_class = mean_average_precision(detections, truth, num_classes=2)
    # Class 0 by score: miss (.8), hit (.7), duplicate (.6): precision 0, 1/2, 1/3 at
    # recall 0, 1/2, 1/2: AP = 1/2 * 1/2.
    assert per_class[0] == pytest.approx(0.25)
    assert np.isnan(per_class[1])  # class 1 still has no ground truth
    assert mean == pytest.approx(0.25)


def test_mean_iou_hand_computed():
    target = np.array([[0, 0, 1, 1], [0, 0, 2, 2]])
    predicted = np.array([[0, 1, 1, 1], [0, 0, 2, 0]])
    # class 0: 4 true, 4 predicted, 3 shared: 3/5; class 1: 2/3; class 2: 1/2; class 3 absent.
    mean, per_class = mean_iou(predicted, target, num_classes=4)
    np.testing.assert_allclose(per_class[:3], [3 / 5, 2 / 3, 1 / 2])
    assert np.isnan(per_class[3]) and mean == pytest.approx((3 / 5 + 2 / 3 + 1 / 2) / 3)


def test_batched_nms_is_per_image_nms():
    boxes = np.stack([random_boxes(60, seed=3), random_boxes(60, seed=4)])
    scores = np.random.default_rng(4).random((2, 60)).astype("float32")
    kept = to_numpy(non_max_suppression(boxes, scores, 0.5, max_outputs=70))
    assert kept.shape == (2, 70)
    for image in range(2):
        np.testing.assert_array_equal(kept[image], to_numpy(non_max_suppression(
            boxes[image], scores[image], 0.5, max_outputs=70)))
        np.testing.assert_array_equal(kept[image][kept[image] >= 0],
                                      greedy_nms(boxes[image], scores[image], 0.5))


def test_per_class_nms_with_class_specific_boxes():
    """Two classes: each class's boxes are suppressed among themselves only, and a box
    regressor's per-class boxes are used for each class."""
    boxes = np.array([[[0, 0, 10, 10], [20, 20, 30, 30]],
                      [[1, 0, 11, 10], [40, 40, 50, 50]]], np.float32)  # (K=2, C=2, 4)
    scores = np.array([[0.9, 0.2], [0.8, 0.7]], np.float32)
    found = per_class_nms(boxes, scores, score_threshold=0.1, iou_threshold=0.5)
    assert found["labels"].tolist() == [0, 1, 1]  # class 0: box 1 overlaps box 0 (IoU 0.82)
    np.testing.assert_allclose(found["scores"], [0.9, 0.7, 0.2])
    np.testing.assert_array_equal(found["boxes"], [[0, 0, 10, 10], [40, 40, 50, 50], [20, 20, 30, 30]])
    empty = per_class_nms(boxes, scores, score_threshold=0.95)
    assert empty["boxes"].shape == (0, 4) and empty["labels"].shape == (0,)
