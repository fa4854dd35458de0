"""Layers of the two-stage detectors (chapter 3): where the regions come from, and how
each is handed to a network.

* ``WindowProposals``: fixed sliding windows (``keras_dlbasic.proposals``), the
  external proposals of R-CNN, SPPNet and Fast R-CNN; while training, a random
  subset per image, as those papers train on a minibatch of regions;
* ``RegionProposals``: Faster R-CNN's proposal layer: the RPN's deltas decoded from
  the anchors, clipped to the image, the best ``pre_nms_top`` by objectness, NMS,
  and the best of those kept;
* ``WarpRegions`` / ``SplitRegions``: R-CNN's "warp": every region cropped and
  resized to the CNN's input, the regions of all images stacked into one batch for
  the CNN, and its outputs split back per image.

All are written with ``keras.ops``; the region axis may change between training
and inference, so it is left unknown (``None``) in the graph.
"""
import keras
import numpy as np
from keras import ops

from keras_dlbasic.ops.boxes import clip_boxes, crop_and_resize, decode_boxes, non_max_suppression
from keras_dlbasic.proposals import sliding_windows


def _tile(boxes, batch):
    """Constant (R, 4) boxes repeated for each of ``batch`` images: (batch, R, 4)."""
    return ops.repeat(ops.expand_dims(boxes, 0), batch, axis=0)


def _random_subset(boxes, count, seed_generator):
    """``count`` of the R boxes of each image (B, R, 4), drawn without replacement."""
    noise = keras.random.uniform(ops.shape(boxes)[:2], seed=seed_generator)
    picked = ops.argsort(noise, axis=-1)[:, :count]
    return ops.take_along_axis(boxes, picked[..., None], axis=1)


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class WindowProposals(keras.layers.Layer):
    """The same fixed windows for every image: (B, H, W, C) images -> (B, R, 4) boxes.

    Args:
        image_size: ``(height, width)`` of the images.
        sizes, ratios, stride: the windows (``keras_dlbasic.proposals.sliding_windows``).
        train_regions: while training, this many windows per image, drawn at random
            (all of them when ``None`` or at inference).
        seed: seed of the draws.
    """

    def __init__(self, image_size, sizes, ratios=(1.0,), stride=0.25, train_regions=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.image_size = tuple(int(s) for s in image_size)
        self.sizes, self.ratios, self.stride = tuple(sizes), tuple(ratios), float(stride)
        self.windows = sliding_windows(self.image_size, self.sizes, self.ratios, self.stride)
        self.train_regions = train_regions
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        boxes = _tile(ops.convert_to_tensor(self.windows), ops.shape(images)[0])
        if training and self.train_regions and self.train_regions < len(self.windows):
            boxes = _random_subset(boxes, self.train_regions, self.seed_generator)
        return boxes

    def compute_output_spec(self, images, training=False):
        return keras.KerasTensor((images.shape[0], None, 4), "float32")  # pixels, any policy

    def get_config(self):
        return {**super().get_config(), "image_size": list(self.image_size),
                "sizes": list(self.sizes), "ratios": list(self.ratios), "stride": self.stride,
                "train_regions": self.train_regions, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class RegionProposals(keras.layers.Layer):
    """Faster R-CNN's proposal layer: ``[logits (B, A, 2), deltas (B, A, 4)]`` -> (B, N, 4).

    Each anchor's box is decoded from its deltas and clipped to the image; boxes
    smaller than ``min_size`` a side score lowest; the ``pre_nms_top`` best by
    objectness (softmax of the two logits) go through NMS at ``iou_threshold``, and
    the best ``train_proposals`` (training) or ``test_proposals`` (inference) of the
    kept ones are returned, best first. Where fewer are kept, the best box repeats.
    Proposals carry no gradient (the paper's approximate joint training).

    Args:
        anchors: (A, 4) anchor boxes in image pixels, in the order of the RPN's outputs.
        image_size: ``(height, width)`` to clip to.
        pre_nms_top, train_proposals, test_proposals, iou_threshold, min_size: as above
            (the paper: 12000 / 2000 training, 6000 / 300 testing, NMS at 0.7).
    """

    def __init__(self, anchors, image_size, pre_nms_top=6000, train_proposals=2000,
                 test_proposals=300, iou_threshold=0.7, min_size=0.0, **kwargs):
        kwargs.setdefault("autocast", False)  # the RPN's float32 outputs stay float32
        super().__init__(**kwargs)
        self.anchors = np.asarray(anchors, np.float32).reshape(-1, 4)
        self.image_size = tuple(int(s) for s in image_size)
        self.pre_nms_top = min(int(pre_nms_top), len(self.anchors))
        self.train_proposals, self.test_proposals = int(train_proposals), int(test_proposals)
        self.iou_threshold, self.min_size = float(iou_threshold), float(min_size)

    def call(self, inputs, training=False):
        logits, deltas = (ops.stop_gradient(ops.cast(t, "float32")) for t in inputs)
        boxes = clip_boxes(decode_boxes(deltas, ops.convert_to_tensor(self.anchors)),
                           *self.image_size)
        scores = ops.softmax(logits, axis=-1)[..., 1]
        small = ((boxes[..., 2] - boxes[..., 0]) < self.min_size) | (
            (boxes[..., 3] - boxes[..., 1]) < self.min_size)
        scores = ops.where(small, -1.0, scores)
        scores, best = ops.top_k(scores, self.pre_nms_top)  # (B, K), best first
        boxes = ops.take_along_axis(boxes, best[..., None], axis=1)
        count = self.train_proposals if training else self.test_proposals
        kept = non_max_suppression(boxes, scores, self.iou_threshold, max_outputs=count)
        kept = ops.where(kept < 0, kept[:, :1], kept)  # pad with the best box
        return ops.take_along_axis(boxes, kept[..., None], axis=1)

    def compute_output_spec(self, inputs, training=False):
        return keras.KerasTensor((inputs[0].shape[0], None, 4), "float32")  # pixels, any policy

    def get_config(self):
        return {**super().get_config(), "anchors": self.anchors.tolist(),
                "image_size": list(self.image_size), "pre_nms_top": self.pre_nms_top,
                "train_proposals": self.train_proposals, "test_proposals": self.test_proposals,
                "iou_threshold": self.iou_threshold, "min_size": self.min_size}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class WarpRegions(keras.layers.Layer):
    """R-CNN's warp: ``[images (B, H, W, C), boxes (B, R, 4)]`` -> (B·R, h, w, C).

    Every region is cropped and bilinearly resized to ``size`` (``ops.crop_and_resize``),
    and the regions of all images are stacked into one batch for the region CNN.
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)

    def call(self, inputs):
        images, boxes = inputs
        crops = crop_and_resize(images, boxes, self.size)  # (B, R, h, w, C)
        return ops.reshape(crops, (-1, *self.size, ops.shape(images)[-1]))

    def compute_output_shape(self, input_shape):
        return (None, *self.size, input_shape[0][-1])

    def get_config(self):
        return {**super().get_config(), "size": list(self.size)}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class SplitRegions(keras.layers.Layer):
    """``[x (B·R, ...), boxes (B, R, 4)]`` -> (B, R, ...): per-region outputs back per image."""

    def call(self, inputs):
        x, boxes = inputs
        batch, regions = ops.shape(boxes)[0], ops.shape(boxes)[1]
        return ops.reshape(x, (batch, regions, *x.shape[1:]))

    def compute_output_shape(self, input_shape):
        x, boxes = input_shape
        return (boxes[0], boxes[1], *x[1:])
