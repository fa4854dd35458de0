"""The R-CNN line: paper-size parameter counts, anchors and windows, anchor and region
targets on hand cases, the minibatch weights, the proposal layer against NumPy NMS,
SPPNet's region pooling, R-CNN's warp, the multi-task loss against a NumPy version,
decoding, and selective search (or its documented absence)."""
import math
import sys

import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, model_info
from keras_dlbasic.layers import (
    RegionProposals,
    RoIPooling,
    SpatialPyramidPooling,
    SplitRegions,
    WarpRegions,
    WindowProposals,
)
from keras_dlbasic.metrics import greedy_nms
from keras_dlbasic.models import rcnn as rcnn_module
from keras_dlbasic.ops import crop_and_resize
from keras_dlbasic.proposals import anchor_grid, proposal_recall, selective_search, sliding_windows
from keras_dlbasic.registry import shapes_only

from conftest import small_model, to_numpy
from layer_testing import run_layer_test

RNG = np.random.default_rng(0)


def vgg16_count():
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
             (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    return sum(9 * a * b + b for a, b in convs)


def dense(a, b):
    return a * b + b


@pytest.mark.parametrize("name, fc6_inputs", [
    ("rcnn", 7 * 7 * 512), ("sppnet", (1 + 4 + 9 + 36) * 512), ("fast_rcnn", 7 * 7 * 512),
    ("faster_rcnn", 7 * 7 * 512)])
def test_paper_parameter_counts(name, fc6_inputs):
    """VGG-16, fc6, fc7, 21 class scores, 84 box offsets; Faster R-CNN adds its RPN head,
    a 3x3 conv and 2·9 + 4·9 1x1 outputs: 2,387,510 parameters."""
    rpn = dense(9 * 512, 512) + dense(512, 18) + dense(512, 36)
    assert rpn == 2_387_510
    expected = (vgg16_count() + dense(fc6_inputs, 4096) + dense(4096, 4096) + dense(4096, 21)
                + dense(4096, 84) + (rpn if name == "faster_rcnn" else 0))
    with shapes_only():
        model = get_model(name)
    assert model.count_params() == expected == model_info(name).reference_params
    if name == "faster_rcnn":
        head = sum(model.get_layer(n).count_params()
                   for n in ("rpn_conv", "rpn_cls_score", "rpn_bbox_pred"))
        assert head == 2_387_510
        assert model.get_layer("rpn_cls_score").output.shape[-1] == 2 * 9
        assert model.get_layer("rpn_bbox_pred").output.shape[-1] == 4 * 9
        assert model.output["rpn_logits"].shape == (None, 32 * 32 * 9, 2)  # 512 / 16 = 32


def test_anchor_grid_nine_per_cell():
    anchors = anchor_grid((2, 3), 16, scales=(128, 256, 512))
    assert anchors.shape == (2 * 3 * 9, 4)
    width, height = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    first_cell = slice(0, 9)
    np.testing.assert_allclose(np.sqrt(width * height)[first_cell],
                               [128, 256, 512] * 3, rtol=1e-6)  # areas 128², 256², 512²
    np.testing.assert_allclose((height / width)[first_cell], np.repeat([0.5, 1, 2], 3), rtol=1e-6)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    np.testing.assert_allclose(centres[:9], [[8, 8]] * 9, atol=1e-4)  # cell (0, 0)
    np.testing.assert_allclose(centres[9], [24, 8], atol=1e-4)  # cell (0, 1): row major
    np.testing.assert_allclose(centres[3 * 9], [8, 24], atol=1e-4)  # cell (1, 0)


def test_sliding_windows_tile_the_image():
    windows = sliding_windows(64, sizes=(16, 32), stride=0.25)
    assert len(windows) == 13 * 13 + 5 * 5  # starts every 4 pixels for 16, every 8 for 32
    assert windows.min() == 0 and windows.max() == 64
    np.testing.assert_allclose(windows[:, 2] - windows[:, 0], [16] * 169 + [32] * 25)
    tall = sliding_windows((40, 80), sizes=(20,), ratios=(2.0,), stride=0.5)
    np.testing.assert_allclose(tall[0], [0, 0, 20 / math.sqrt(2), 20 * math.sqrt(2)], rtol=1e-6)
    with pytest.raises(ValueError, match="no window"):
        sliding_windows(16, sizes=(32,))


def test_proposal_recall_hand_case():
    boxes = np.array([[[0, 0, 10, 10], [20, 20, 30, 30]], [[0, 0, 4, 4], [0, 0, 0, 0]]], np.float32)
    labels = np.array([[0, 1], [2, -1]])
    proposals = np.array([[0, 0, 10, 12], [50, 50, 60, 60]], np.float32)  # IoU 10/12 with the first
    assert proposal_recall(proposals, boxes, labels) == pytest.approx(1 / 3)
    assert proposal_recall([proposals, np.array([[0, 0, 4, 4]], np.float32)], boxes, labels) == \
        pytest.approx(2 / 3)


def test_anchor_targets_hand_case():
    """IoU 0.9 positive; 0.62 ignored; 0 negative; an object whose best anchor reaches only
    IoU 0.25 makes that anchor positive."""
    anchors = np.array([[0, 0, 10, 10], [0, 0, 10, 5.6], [40, 40, 50, 50], [20, 0, 40, 20]],
                       np.float32)
    boxes = np.array([[[0, 0, 10, 9], [20, 0, 30, 10], [0, 0, 0, 0]]], np.float32)
    labels = np.array([[0, 1, -1]])
    positive, negative, matched = (to_numpy(t) for t in rcnn_module.anchor_targets(anchors, boxes, labels))
    assert positive.tolist() == [[True, False, False, True]]
    assert negative.tolist() == [[False, False, True, False]]
    np.testing.assert_array_equal(matched[0, 3], [20, 0, 30, 10])


def test_region_targets_hand_case():
    regions = np.array([[[0, 0, 10, 10], [0, 0, 10, 4], [30, 30, 40, 40]]], np.float32)
    boxes = np.array([[[0, 0, 10, 8], [0, 0, 0, 0]]], np.float32)
    labels = np.array([[2, -1]])
    foreground, target, matched = (to_numpy(t) for t in rcnn_module.region_targets(regions, boxes, labels))
    assert foreground.tolist() == [[True, True, False]]  # IoU 0.8, 0.5, 0
    assert target.tolist() == [[3, 3, 0]]  # label 2 + 1; background 0
    np.testing.assert_array_equal(matched[0, 0], [0, 0, 10, 8])


def test_sampling_weights_are_the_minibatch_expectation():
    """3 positives and 300 negatives in a 256-anchor minibatch, at most half positive:
    all 3 positives and 253 of the negatives, each weighing its share of 256."""
    positive = np.zeros((1, 303), bool)
    positive[0, :3] = True
    weights = to_numpy(rcnn_module.sampling_weights(positive, ~positive, 256, 0.5))[0]
    np.testing.assert_allclose(weights[:3], 1 / 256)
    np.testing.assert_allclose(weights[3:], 253 / 300 / 256, rtol=1e-6)
    assert weights.sum() == pytest.approx(1.0)
    # Many positives: 128 of them and 128 of the negatives.
    many = np.arange(1000)[None] < 500
    weights = to_numpy(rcnn_module.sampling_weights(many, ~many, 256, 0.5))[0]
    np.testing.assert_allclose([weights[0], weights[-1]], [128 / 500 / 256] * 2, rtol=1e-6)


def test_region_proposals_match_numpy_nms():
    """Decoded, clipped, the best 40 by objectness, NMS at 0.7, the best 10 kept: the same
    boxes as greedy NMS in NumPy, image by image; short lists repeat the best box."""
    anchors = anchor_grid((4, 4), 16, (16, 32), (0.5, 1.0, 2.0))  # 96 anchors on 64x64
    logits = RNG.normal(size=(2, 96, 2)).astype("float32")
    deltas = (RNG.normal(size=(2, 96, 4)) * 0.2).astype("float32")
    layer = RegionProposals(anchors, (64, 64), pre_nms_top=40, train_proposals=12,
                            test_proposals=10, iou_threshold=0.7)
    proposals = to_numpy(layer([logits, deltas]))
    assert proposals.shape == (2, 10, 4)
    assert to_numpy(layer([logits, deltas], training=True)).shape == (2, 12, 4)
    decoded = np.clip(to_numpy(rcnn_module.decode_boxes(deltas, anchors)), 0, 64)
    scores = np.exp(logits[..., 1]) / np.exp(logits).sum(-1)
    for image in range(2):
        top = np.argsort(-scores[image], kind="stable")[:40]
        kept = top[greedy_nms(decoded[image, top], scores[image, top], 0.7)][:10]
        expected = decoded[image, kept]
        if len(expected) < 10:
            expected = np.concatenate([expected, np.repeat(expected[:1], 10 - len(expected), 0)])
        np.testing.assert_allclose(proposals[image], expected, atol=1e-4)
    few = RegionProposals(anchors[:3], (64, 64), test_proposals=5, iou_threshold=0.0)
    same = to_numpy(few([np.zeros((1, 3, 2), "float32"), np.zeros((1, 3, 4), "float32")]))
    np.testing.assert_allclose(same[0], np.repeat(same[0, :1], 5, 0))  # one kept, repeated


def test_region_layers_pass_the_layer_checks():
    images = RNG.random((2, 16, 16, 3)).astype("float32")
    run_layer_test(WindowProposals, {"image_size": (16, 16), "sizes": (8,), "stride": 0.5},
                   images, expected_output_shape=(2, 9, 4), expected_output_dtype="float32",
                   run_training_check=False)
    boxes = np.array([[[0, 0, 8, 8], [4, 2, 15, 9]]] * 2, np.float32)
    run_layer_test(WarpRegions, {"size": (5, 4)}, [images, boxes], expected_output_shape=(4, 5, 4, 3),
                   run_training_check=False)
    run_layer_test(SplitRegions, {}, [RNG.random((4, 6)).astype("float32"), boxes],
                   expected_output_shape=(2, 2, 6), run_training_check=False)
    anchors = anchor_grid((2, 2), 8, (8,), (1.0,))
    run_layer_test(RegionProposals, {"anchors": anchors, "image_size": (16, 16), "pre_nms_top": 4,
                                     "train_proposals": 3, "test_proposals": 3},
                   [RNG.normal(size=(2, 4, 2)).astype("float32"),
                    RNG.normal(size=(2, 4, 4)).astype("float32")],
                   expected_output_shape=(2, 3, 4), expected_output_dtype="float32",
                   run_training_check=False)


def test_window_proposals_subset_while_training():
    layer = WindowProposals((64, 64), sizes=(16, 32), train_regions=8, seed=1)
    images = np.zeros((3, 64, 64, 3), "float32")
    assert tuple(layer(images).shape) == (3, 194, 4)
    subset = to_numpy(layer(images, training=True))
    assert subset.shape == (3, 8, 4)
    windows = {tuple(w) for w in layer.windows.tolist()}
    assert all(tuple(box) in windows for box in subset.reshape(-1, 4).tolist())
    assert len({tuple(box) for box in subset[0].tolist()}) == 8  # without replacement
    assert not np.array_equal(subset[0], subset[1])  # each image its own draw


def test_warp_and_split_regions():
    images = RNG.random((2, 12, 12, 3)).astype("float32")
    boxes = np.array([[[0, 0, 6, 6], [2, 3, 11, 9], [1, 1, 4, 10]]] * 2, np.float32)
    warped = to_numpy(WarpRegions(5)([images, boxes]))
    assert warped.shape == (6, 5, 5, 3)
    np.testing.assert_allclose(warped.reshape(2, 3, 5, 5, 3),
                               to_numpy(crop_and_resize(images, boxes, (5, 5))), atol=1e-6)
    split = to_numpy(SplitRegions()([warped.reshape(6, -1), boxes]))
    np.testing.assert_array_equal(split, warped.reshape(2, 3, -1))


def test_spp_of_regions_is_roi_pooling_at_each_level():
    """SPPNet pools a region at every level of the pyramid; a box covering the whole map
    gives the whole map's pyramid."""
    features = RNG.normal(size=(2, 6, 7, 3)).astype("float32")
    scale = 1 / 8
    boxes = np.array([[[0, 0, 6 * 8, 5 * 8], [8, 8, 30, 40]], [[0, 0, 48, 40], [20, 4, 50, 30]]],
                     np.float32)  # first box: cells 0..6 x 0..5, the whole map
    spp = SpatialPyramidPooling(bins=(1, 2, 3), spatial_scale=scale)
    pooled = to_numpy(spp([features, boxes]))
    assert pooled.shape == (2, 2, 3 * (1 + 4 + 9))
    np.testing.assert_allclose(pooled[:, 0], to_numpy(SpatialPyramidPooling(bins=(1, 2, 3))(features)),
                               atol=1e-6)
    levels = [to_numpy(RoIPooling(n, scale)([features, boxes])).reshape(2, 2, -1) for n in (1, 2, 3)]
    np.testing.assert_allclose(pooled, np.concatenate(levels, -1), atol=1e-6)
    assert spp.compute_output_shape([(None, 6, 7, 3), (None, 5, 4)]) == (None, 5, 42)


def reference_head_loss(proposals, logits, deltas, boxes, labels, classes):
    """Fast R-CNN's multi-task loss, region by region, with the minibatch weights."""
    total = 0.0
    for n in range(len(proposals)):
        valid = labels[n] >= 0
        fg, cls, matched = [], [], []
        for region in proposals[n]:
            ious = [_iou(region, box) if ok else -1 for box, ok in zip(boxes[n], valid)]
            best = int(np.argmax(ious))
            fg.append(ious[best] >= 0.5)
            cls.append(labels[n][best] + 1 if fg[-1] else 0)
            matched.append(boxes[n][best])
        fg = np.array(fg)
        take_fg = min(fg.sum(), 16)
        take_bg = min((~fg).sum(), 64 - take_fg)
        w = np.where(fg, take_fg / max(fg.sum(), 1), take_bg / max((~fg).sum(), 1)) / (take_fg + take_bg)
        for r, region in enumerate(proposals[n]):
            z = logits[n, r] - logits[n, r].max()
            ce = -(z[cls[r]] - np.log(np.exp(z).sum()))
            loss = ce
            if fg[r]:
                (x, y, wa, ha), (gx, gy, gw, gh) = _centre(region), _centre(matched[r])
                target = [10 * (gx - x) / wa, 10 * (gy - y) / ha, 5 * np.log(gw / wa), 5 * np.log(gh / ha)]
                d = np.abs(deltas[n, r].reshape(classes + 1, 4)[cls[r]] - target)
                loss += np.sum(np.where(d < 1, 0.5 * d * d, d - 0.5))
            total += w[r] * loss
    return total / len(proposals)


def _iou(a, b):
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _centre(box):
    w, h = box[2] - box[0], box[3] - box[1]
    return box[0] + w / 2, box[1] + h / 2, w, h


def test_head_loss_matches_numpy_reference():
    model = small_model("fast_rcnn")
    from keras_dlbasic.data.shapes import shapes

    data = shapes(2, 64, seed=3)
    proposals = np.concatenate([data["boxes"] + RNG.normal(0, 2, data["boxes"].shape),
                                RNG.uniform(0, 32, (2, 20, 2)).repeat(2, -1) + [0, 0, 16, 16]],
                               axis=1).astype("float32")
    proposals[..., 2:] = np.maximum(proposals[..., 2:], proposals[..., :2] + 1)
    regions = proposals.shape[1]
    logits = RNG.normal(size=(2, regions, 4)).astype("float32")
    deltas = RNG.normal(size=(2, regions, 16)).astype("float32")
    y_pred = {"proposals": proposals, "class_logits": logits, "box_deltas": deltas}
    loss = float(model.compute_loss(y={"boxes": data["boxes"], "labels": data["labels"]}, y_pred=y_pred))
    expected = reference_head_loss(proposals, logits, deltas, data["boxes"], data["labels"], 3)
    assert loss == pytest.approx(expected, rel=1e-4)


def test_decode_applies_class_offsets_and_nms():
    model = small_model("fast_rcnn")
    proposals = np.array([[[10, 10, 30, 30], [11, 10, 31, 30], [40, 40, 60, 60]]], np.float32)
    logits = np.full((1, 3, 4), -10.0, np.float32)
    logits[0, :2, 2] = [5.0, 4.0]  # class 1 (a square), twice, overlapping
    logits[0, 2, 0] = 5.0  # background
    deltas = np.zeros((1, 3, 16), np.float32)
    deltas[0, 0, 8:12] = [10 * 0.1, 0, 5 * math.log(1.5), 0]  # class 1: right by 2 px, 1.5x wide
    (detections,) = model.decode({"proposals": proposals, "class_logits": logits, "box_deltas": deltas})
    assert detections["labels"].tolist() == [1]  # the second box is suppressed (IoU > 0.3)
    np.testing.assert_allclose(detections["boxes"][0], [7, 10, 37, 30], atol=1e-4)
    assert detections["scores"][0] == pytest.approx(1 / (1 + 3 * math.exp(-15)), rel=1e-5)


def test_rcnn_runs_the_cnn_once_per_region():
    model = small_model("rcnn")
    assert model.forward_passes == 169 + 25
    assert small_model("faster_rcnn").forward_passes == 1
    warp = model.get_layer("warp")
    assert warp.output.shape == (None, 32, 32, 3)  # every region, resized, one batch


def test_selective_search_or_its_substitute(monkeypatch):
    from keras_dlbasic.data.shapes import shapes

    data = shapes(3, 64, seed=5)
    try:
        import cv2  # noqa: F401
    except ImportError:
        cv2 = None
    if cv2 is not None and hasattr(cv2, "ximgproc"):
        proposals = [selective_search(image) for image in data["images"]]
        assert all(p.ndim == 2 and p.shape[1] == 4 and len(p) for p in proposals)
        assert all(np.all(p[:, 2:] > p[:, :2]) for p in proposals)
        assert proposal_recall(proposals, data["boxes"], data["labels"]) >= 0.8
    monkeypatch.setitem(sys.modules, "cv2", None)  # OpenCV absent: one clear error
    with pytest.raises(ImportError, match=r"keras-dlbasic\[selective-search\].*sliding_windows"):
        selective_search(data["images"][0])


def test_builders_refuse_bad_arguments():
    from keras_dlbasic.errors import ModelArgumentError

    with pytest.raises(ModelArgumentError, match="feature_stride must be 8 or 16"):
        get_model("fast_rcnn", feature_stride=32)
    with pytest.raises(ModelArgumentError, match="train_regions must be a positive integer"):
        get_model("rcnn", train_regions=0)


def test_detection_outputs_on_a_compiled_predict():
    """predict_on_batch (compiled on JAX and TensorFlow) runs the proposal layer's NMS."""
    model = small_model("faster_rcnn")
    outputs = model.predict_on_batch(np.zeros((2, 64, 64, 3), "float32"))
    assert outputs["proposals"].shape == (2, 8, 4)
    assert keras.ops.convert_to_numpy(outputs["class_logits"]).shape == (2, 8, 4)


def test_inference_batches_hold_at_most_4096_cnn_passes():
    """R-CNN runs its CNN once per window: evaluation takes a few images at a time, so
    256 test images do not become 66,048 warped crops in one batch."""
    from types import SimpleNamespace

    from keras_dlbasic.tasks.detection import images_per_batch

    assert images_per_batch(SimpleNamespace(forward_passes=258), 256) == 15
    assert images_per_batch(SimpleNamespace(forward_passes=5000), 256) == 1
    assert images_per_batch(SimpleNamespace(forward_passes=1), 256) == 256
    assert images_per_batch(object(), 64) == 64  # YOLO: one pass
