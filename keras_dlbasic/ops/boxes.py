"""Box operations of the detection line (chapter 3), written with ``keras.ops`` only.

Boxes are ``(x1, y1, x2, y2)`` in pixels, ``x2 >= x1`` and ``y2 >= y1``, as in
``torchvision.ops``. The functions run on every backend, eagerly and inside compiled
functions, so a detector's losses and its post-processing are written once.

* ``box_iou``: intersection over union of every pair, (N, 4) x (M, 4) -> (N, M);
* ``encode_boxes`` / ``decode_boxes``: boxes as offsets from anchors, the
  parameterisation of R-CNN (Girshick et al. 2014, appendix C) used by Fast and
  Faster R-CNN::

      dx = (x - x_a) / w_a,   dy = (y - y_a) / h_a,
      dw = log(w / w_a),      dh = log(h / h_a)

  with (x, y) the box's centre and (w, h) its width and height;
* ``non_max_suppression``: greedy NMS, the kept indices highest score first, padded
  with -1 to a fixed length so that it compiles on every backend;
* ``crop_and_resize``: bilinear crops of boxes resized to one size, R-CNN's "warp"
  of each region (the sampling grid of ``tf.image.crop_and_resize``).
"""
import math

from keras import ops

# Largest log-scale size change a decoded box may take (torchvision's
# log(1000 / 16)): a wild prediction early in training cannot overflow exp.
DELTA_CLIP = math.log(1000.0 / 16)


def box_area(boxes):
    """Areas of ``boxes`` (..., 4)."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Args:
        boxes_a: (..., N, 4) boxes ``(x1, y1, x2, y2)``.
        boxes_b: (..., M, 4) boxes, the same leading axes (or broadcastable).

    Returns:
        (..., N, M): ``iou[..., i, j]`` of ``boxes_a[..., i, :]`` and ``boxes_b[..., j, :]``;
        0 where both boxes are empty.
    """
    boxes_a = ops.convert_to_tensor(boxes_a)
    boxes_b = ops.cast(ops.convert_to_tensor(boxes_b), boxes_a.dtype)
    a = ops.expand_dims(boxes_a, -2)  # (..., N, 1, 4)
    b = ops.expand_dims(boxes_b, -3)  # (..., 1, M, 4)
    width = ops.maximum(ops.minimum(a[..., 2], b[..., 2]) - ops.maximum(a[..., 0], b[..., 0]), 0)
    height = ops.maximum(ops.minimum(a[..., 3], b[..., 3]) - ops.maximum(a[..., 1], b[..., 1]), 0)
    intersection = width * height
    union = box_area(a) + box_area(b) - intersection
    return ops.where(union > 0, intersection / ops.maximum(union, 1e-12), 0.0)


def _centres(boxes):
    width = boxes[..., 2] - boxes[..., 0]
    height = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * width, boxes[..., 1] + 0.5 * height, width, height


def encode_boxes(boxes, anchors, weights=(1.0, 1.0, 1.0, 1.0)):
    """Offsets ``(dx, dy, dw, dh)`` of ``boxes`` from ``anchors`` (same shape, (..., 4)).

    ``weights`` scale the four offsets, as Fast R-CNN's box head does with
    (10, 10, 5, 5) so that they have about unit variance.
    """
    boxes = ops.convert_to_tensor(boxes)
    anchors = ops.cast(ops.convert_to_tensor(anchors), boxes.dtype)
    x, y, w, h = _centres(boxes)
    xa, ya, wa, ha = _centres(anchors)
    wx, wy, ww, wh = weights
    return ops.stack([wx * (x - xa) / wa, wy * (y - ya) / ha,
                      ww * ops.log(w / wa), wh * ops.log(h / ha)], axis=-1)


def decode_boxes(deltas, anchors, weights=(1.0, 1.0, 1.0, 1.0)):
    """The inverse of ``encode_boxes``: boxes (..., 4) from offsets and anchors.

    Size offsets are clipped at ``DELTA_CLIP`` first, so the result stays finite.
    """
    deltas = ops.convert_to_tensor(deltas)
    anchors = ops.cast(ops.convert_to_tensor(anchors), deltas.dtype)
    xa, ya, wa, ha = _centres(anchors)
    wx, wy, ww, wh = weights
    x = deltas[..., 0] / wx * wa + xa
    y = deltas[..., 1] / wy * ha + ya
    w = ops.exp(ops.minimum(deltas[..., 2] / ww, DELTA_CLIP)) * wa
    h = ops.exp(ops.minimum(deltas[..., 3] / wh, DELTA_CLIP)) * ha
    return ops.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=-1)


def clip_boxes(boxes, height, width):
    """``boxes`` (..., 4) clipped to an image of ``height`` x ``width`` pixels."""
    x1 = ops.clip(boxes[..., 0], 0, width)
    y1 = ops.clip(boxes[..., 1], 0, height)
    x2 = ops.clip(boxes[..., 2], 0, width)
    y2 = ops.clip(boxes[..., 3], 0, height)
    return ops.stack([x1, y1, x2, y2], axis=-1)


def non_max_suppression(boxes, scores, iou_threshold=0.5, max_outputs=100, score_threshold=None):
    """Greedy non-maximum suppression, of one image or of a batch.

    Boxes are visited from the highest score down; each box that is kept removes every
    later box whose IoU with it is above ``iou_threshold``.

    Args:
        boxes: (N, 4) boxes ``(x1, y1, x2, y2)``, or (B, N, 4) for a batch; N must be known.
        scores: (N,) scores, or (B, N).
        iou_threshold: overlap above which the lower-scored box is removed.
        max_outputs: length of the result.
        score_threshold: boxes scoring below it are dropped first; ``None`` keeps all.

    Returns:
        int32 (max_outputs,), or (B, max_outputs): indices into ``boxes`` of the kept
        boxes, highest score first, then -1 where fewer than ``max_outputs`` were kept.
    """
    boxes = ops.convert_to_tensor(boxes)
    scores = ops.cast(ops.convert_to_tensor(scores), boxes.dtype)
    if len(boxes.shape) == 2:
        return non_max_suppression(boxes[None], scores[None], iou_threshold, max_outputs,
                                   score_threshold)[0]
    n = boxes.shape[1]
    order = ops.argsort(-scores, axis=-1)  # (B, N)
    ordered = ops.take_along_axis(boxes, order[..., None], axis=1)
    overlaps = box_iou(ordered, ordered) > iou_threshold  # (B, N, N)
    positions = ops.arange(n)
    keep = ops.ones_like(scores, dtype="bool")
    if score_threshold is not None:
        keep = ops.take_along_axis(scores, order, axis=1) >= score_threshold

    def visit(i, keep):
        # Box i (in score order), if still kept, removes the later boxes it overlaps.
        removes = ops.logical_and(overlaps[:, i], positions > i)  # (B, N)
        removes = ops.logical_and(ops.expand_dims(keep[:, i], -1), removes)
        return ops.logical_and(keep, ops.logical_not(removes))

    keep = ops.fori_loop(0, n, visit, keep)
    # Kept positions first, in score order; the dropped ones after them.
    rank = ops.argsort(ops.where(keep, positions, positions + n), axis=-1)[:, :max_outputs]
    valid = ops.take_along_axis(keep, rank, axis=1)
    kept = ops.where(valid, ops.cast(ops.take_along_axis(order, rank, axis=1), "int32"), -1)
    if max_outputs > n:
        kept = ops.pad(kept, [[0, 0], [0, max_outputs - n]], constant_values=-1)
    return kept


def crop_and_resize(images, boxes, size):
    """Bilinear crops of ``boxes`` from ``images``, each resized to ``size``.

    R-CNN warps every region proposal to the CNN's input size. Sample points are
    spread evenly from the box's first pixel to its last, in pixel units (pixel i is
    at coordinate i): the grid of ``tf.image.crop_and_resize`` with its boxes given
    as ``(y1, x1, y2, x2) / (H - 1, W - 1, H - 1, W - 1)``. Points outside the image
    read 0.

    Args:
        images: (B, H, W, C), channels last.
        boxes: (B, R, 4) boxes ``(x1, y1, x2, y2)`` in pixels.
        size: ``(height, width)`` of each crop.

    Returns:
        (B, R, height, width, C).
    """
    images = ops.convert_to_tensor(images)
    boxes = ops.cast(ops.convert_to_tensor(boxes), images.dtype)
    batch, height, width, channels = ops.shape(images)
    regions = boxes.shape[1]
    out_h, out_w = size

    def grid(start, stop, count):  # (B, R, count) sample coordinates
        steps = ops.arange(count, dtype=images.dtype) / max(count - 1, 1)
        if count == 1:
            steps = steps + 0.5
        return start[..., None] + (stop - start)[..., None] * steps

    ys = grid(boxes[..., 1], boxes[..., 3], out_h)  # (B, R, h)
    xs = grid(boxes[..., 0], boxes[..., 2], out_w)  # (B, R, w)
    flat = ops.reshape(images, (-1, channels))
    offset = ops.reshape(ops.arange(batch) * height * width, (-1, 1, 1, 1))

    def read(y, x):  # values at integer pixels (B, R, h, w), 0 outside the image
        inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
        index = offset + ops.clip(y, 0, height - 1) * width + ops.clip(x, 0, width - 1)
        values = ops.take(flat, ops.reshape(index, (-1,)), axis=0)
        values = ops.reshape(values, (batch, regions, out_h, out_w, channels))
        return ops.where(inside[..., None], values, 0.0)

    y0, x0 = ops.floor(ys), ops.floor(xs)
    dy = (ys - y0)[:, :, :, None, None]
    dx = (xs - x0)[:, :, None, :, None]
    y0 = ops.cast(y0, "int32")[:, :, :, None]
    x0 = ops.cast(x0, "int32")[:, :, None, :]
    top = read(y0, x0) * (1 - dx) + read(y0, x0 + 1) * dx
    bottom = read(y0 + 1, x0) * (1 - dx) + read(y0 + 1, x0 + 1) * dx
    # A point outside the image reads 0 even where a neighbour inside has weight
    # (tf.image.crop_and_resize's extrapolation value).
    outside = ((ys < 0) | (ys > ops.cast(height - 1, ys.dtype)))[:, :, :, None] | (
        (xs < 0) | (xs > ops.cast(width - 1, xs.dtype)))[:, :, None, :]
    return ops.where(outside[..., None], 0.0, top * (1 - dy) + bottom * dy)
