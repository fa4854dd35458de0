"""Scores of detectors and segmenters (chapter 3), in NumPy.

* ``average_precision`` / ``mean_average_precision``: PASCAL VOC's AP at an IoU
  threshold (0.5: mAP@0.5), with all-point interpolation (VOC 2010 onwards, the
  ``use_07_metric=False`` branch of the VOC devkit's ``voc_eval.py``): precision is
  made monotone from the right and integrated over every recall step;
* ``iou_matrix``: IoU of every pair of boxes, in NumPy (``keras_dlbasic.ops.box_iou``
  is the same in ``keras.ops``);
* ``greedy_nms``: NMS in NumPy, for post-processing a detector's outputs, and
  ``per_class_nms``, NMS class by class, a detector's last step;
* ``mean_iou``: per-class intersection over union of label maps, averaged over the
  classes present (FCN's "mean IU", Long et al. 2015, section 5).

Nothing here imports keras.
"""
import numpy as np


def iou_matrix(a, b):
    """IoU of every pair of (N, 4) and (M, 4) boxes ``(x1, y1, x2, y2)``, in NumPy."""
    a, b = np.asarray(a, np.float64)[:, None], np.asarray(b, np.float64)[None]
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = width * height
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
             + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter)
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def greedy_nms(boxes, scores, iou_threshold=0.5):
    """Greedy non-maximum suppression in NumPy: indices of the kept boxes, best first.

    The same rule as ``keras_dlbasic.ops.non_max_suppression`` (a box is removed when
    its IoU with a kept, higher-scored box is above ``iou_threshold``), for
    post-processing outside a compiled graph, where the number of boxes varies.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    overlaps = iou_matrix(boxes, boxes)
    kept = []
    suppressed = np.zeros(len(order), bool)
    for i in order:
        if suppressed[i]:
            continue
        kept.append(i)
        suppressed |= overlaps[i] > iou_threshold
    return np.array(kept, dtype=np.int64)


def per_class_nms(boxes, scores, score_threshold=0.05, iou_threshold=0.5, max_boxes=100):
    """Detections of one image, NMS class by class.

    Args:
        boxes: (K, 4) boxes, or (K, C, 4) with a box per class (a box regressor's).
        scores: (K, C) scores of each box for each class.
        score_threshold: per class, only boxes scoring above it are kept.
        iou_threshold: NMS threshold (``greedy_nms``).
        max_boxes: at most this many detections.

    Returns:
        ``{"boxes" (D, 4), "scores" (D,), "labels" (D,)}``, highest score first.
    """
    boxes, scores = np.asarray(boxes), np.asarray(scores)
    kept_boxes, kept_scores, kept_labels = [], [], []
    for label in range(scores.shape[1]):
        candidates = np.flatnonzero(scores[:, label] > score_threshold)
        if not len(candidates):
            continue
        class_boxes = boxes[candidates] if boxes.ndim == 2 else boxes[candidates, label]
        keep = greedy_nms(class_boxes, scores[candidates, label], iou_threshold)
        kept_boxes.append(class_boxes[keep])
        kept_scores.append(scores[candidates[keep], label])
        kept_labels.append(np.full(len(keep), label))
    if not kept_boxes:
        return {"boxes": np.zeros((0, 4), np.float32), "scores": np.zeros(0, np.float32),
                "labels": np.zeros(0, np.int64)}
    boxes, scores, labels = (np.concatenate(p) for p in (kept_boxes, kept_scores, kept_labels))
    order = np.argsort(-scores, kind="stable")[:max_boxes]
    return {"boxes": boxes[order], "scores": scores[order], "labels": labels[order]}


def average_precision(recall, precision):
    """Area under the precision-recall curve, all-point interpolated.

    ``recall`` rises with each detection taken (highest score first); precision at
    recall r is replaced by the best precision at any recall >= r, and the area is
    summed over the points where recall changes.
    """
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def mean_average_precision(detections, ground_truth, num_classes, iou_threshold=0.5):
    """VOC mAP over a set of images.

    Args:
        detections: one dict per image with ``"boxes"`` (K, 4), ``"scores"`` (K,) and
            ``"labels"`` (K,).
        ground_truth: one dict per image with ``"boxes"`` (M, 4) and ``"labels"`` (M,);
            label -1 marks padding (``keras_dlbasic.data.pad_boxes``) and is ignored.
        num_classes: classes 0 .. num_classes - 1.
        iou_threshold: a detection is a true positive when its IoU with a ground-truth
            box of its class, not matched by a higher-scored detection, is at least this.

    Returns:
        ``(map, per_class)``: the mean over the classes that have ground truth, and a
        list of each class's AP (``nan`` for a class without ground truth).
    """
    if len(detections) != len(ground_truth):
        raise ValueError(f"{len(detections)} detection sets for {len(ground_truth)} images")
    per_class = []
    for c in range(num_classes):
        truth = []
        for image in ground_truth:
            labels = np.asarray(image["labels"])
            truth.append(np.asarray(image["boxes"], np.float64).reshape(-1, 4)[labels == c])
        total = sum(len(t) for t in truth)
        if total == 0:
            per_class.append(float("nan"))
            continue
        found = [(float(score), i, box) for i, image in enumerate(detections)
                 for box, score, label in zip(np.asarray(image["boxes"]).reshape(-1, 4),
                                              np.asarray(image["scores"]).reshape(-1),
                                              np.asarray(image["labels"]).reshape(-1))
                 if label == c]
        found.sort(key=lambda d: -d[0])
        matched = [np.zeros(len(t), bool) for t in truth]
        hits = np.zeros(len(found))
        for k, (_, i, box) in enumerate(found):
            if len(truth[i]) == 0:
                continue
            overlaps = iou_matrix(box[None], truth[i])[0]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= iou_threshold and not matched[i][best]:
                matched[i][best] = True
                hits[k] = 1
        tp = np.cumsum(hits)
        recall = tp / total
        precision = tp / np.arange(1, len(found) + 1)
        per_class.append(average_precision(recall, precision))
    scored = [ap for ap in per_class if not np.isnan(ap)]
    return (float(np.mean(scored)) if scored else 0.0), per_class


def mean_iou(predicted, target, num_classes):
    """FCN's mean IU: mean over classes of |pred ∩ true| / |pred ∪ true|.

    Args:
        predicted, target: int label maps of one shape, (N, H, W) or any.
        num_classes: classes 0 .. num_classes - 1 (background included).

    Returns:
        ``(mean, per_class)``; a class absent from both maps is ``nan`` and left out
        of the mean.
    """
    predicted, target = np.asarray(predicted).ravel(), np.asarray(target).ravel()
    if predicted.shape != target.shape:
        raise ValueError(f"predicted has {predicted.size} pixels, target {target.size}")
    confusion = np.bincount(target * num_classes + predicted,
                            minlength=num_classes ** 2).reshape(num_classes, num_classes)
    inter = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - inter
    per_class = np.where(union > 0, inter / np.maximum(union, 1), np.nan)
    return float(np.nanmean(per_class)), per_class.tolist()
