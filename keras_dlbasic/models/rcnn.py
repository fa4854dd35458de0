"""Chapter 3, two-stage detection: R-CNN -> SPPNet -> Fast R-CNN -> Faster R-CNN.

References:

* R-CNN: Girshick, Donahue, Darrell & Malik, "Rich feature hierarchies for accurate
  object detection and semantic segmentation", CVPR 2014, https://arxiv.org/abs/1311.2524;
* SPPNet: He, Zhang, Ren & Sun, "Spatial Pyramid Pooling in Deep Convolutional
  Networks for Visual Recognition", ECCV 2014, https://arxiv.org/abs/1406.4729;
* Fast R-CNN: Girshick, ICCV 2015, https://arxiv.org/abs/1504.08083;
* Faster R-CNN: Ren, He, Girshick & Sun, "Faster R-CNN: Towards Real-Time Object
  Detection with Region Proposal Networks", NIPS 2015, https://arxiv.org/abs/1506.01497.

Lecture points, one step at a time; the four share everything else:

* **R-CNN** warps each region proposal to the CNN's input and runs the whole CNN on
  it: one forward pass per region (``WarpRegions``, then the CNN on all regions of
  the batch at once).
* **SPPNet** runs the convolutions once per image and pools each region from the
  shared feature map into a fixed pyramid of bins (``SpatialPyramidPooling`` on
  ``[features, boxes]``).
* **Fast R-CNN** pools each region into one 7x7 grid (``RoIPooling``) and trains one
  head for both outputs, class scores over C + 1 (background) and class-specific
  box offsets, with the multi-task loss ``L = L_cls + λ [u ≥ 1] L_loc`` (λ = 1,
  smooth L1).
* **Faster R-CNN** replaces the external proposals with a Region Proposal Network on
  the same feature map: a 3x3 conv, then per cell 2·9 objectness logits and 4·9 box
  offsets for 9 anchors (3 scales x 3 aspect ratios, ``proposals.anchor_grid``);
  anchors overlapping an object with IoU ≥ 0.7 (or the best one for an object) are
  positive, below 0.3 negative; the proposal layer (``RegionProposals``) decodes,
  clips, runs NMS and hands the best to the same head. Trained end to end
  ("approximate joint training": the proposals carry no gradient).

Proposals of the first three: selective search is what the papers used
(``keras_dlbasic.proposals.selective_search``, the optional extra
``keras-dlbasic[selective-search]``). Inside the network we use its documented
substitute, fixed sliding windows (``WindowProposals``, square by default), so the
model takes images only and runs the same with or without OpenCV; the chapter-3
script compares the two proposal sets' recall.

Training follows the papers' minibatches in expectation instead of by drawing: for
the head, each image's regions with IoU ≥ 0.5 with an object are foreground (at most
25% of a 64-region minibatch), the rest background (IoU < 0.5, R-CNN's fine-tuning
rule: our windows include empty ones, which a detector must learn to reject); for
the RPN, at most half of a 256-anchor minibatch positive. Each class's weight is the
share the sampling would give it, so the loss is the sampled loss's expectation with
no random draws. While training, the window-based models see ``train_regions``
random windows per image (64, Fast R-CNN's 128 RoIs over 2 images), which is what
keeps R-CNN's training affordable.

Outputs, a dict: ``"proposals"`` (B, R, 4) pixels, ``"class_logits"`` (B, R, C + 1)
(background first), ``"box_deltas"`` (B, R, 4·(C + 1)) against the proposals with
weights (10, 10, 5, 5), and for Faster R-CNN ``"rpn_logits"`` (B, A, 2) and
``"rpn_deltas"`` (B, A, 4) over its anchors. ``decode`` applies the deltas of each
class, clips, and runs per-class NMS at 0.3 (the papers' test-time threshold) in
NumPy; NMS is not part of a saved graph.

Paper-size configurations use the VGG-16 trunk of Fast and Faster R-CNN for all
four (the R-CNN and SPPNet papers also report it; SPPNet's detector used ZF-5),
21 classes (PASCAL VOC and background), fc 4096: see ``rcnn_specs``.
"""
import math

import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.layers.pooling import RoIPooling, SpatialPyramidPooling
from keras_dlbasic.layers.regions import RegionProposals, SplitRegions, WarpRegions, WindowProposals
from keras_dlbasic.metrics.vision import per_class_nms
from keras_dlbasic.models.common import ArgumentConfig, image_input_shape
from keras_dlbasic.models.vgg import CONFIGS, vgg_stage
from keras_dlbasic.ops.boxes import box_iou, clip_boxes, decode_boxes, encode_boxes
from keras_dlbasic.proposals import ASPECT_RATIOS, anchor_grid

METHODS = ("rcnn", "sppnet", "fast_rcnn", "faster_rcnn")
BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # the head's offsets, scaled to about unit variance
FOREGROUND_IOU = 0.5  # a region is foreground from this IoU with an object
HEAD_BATCH, HEAD_FOREGROUND = 64, 0.25  # regions per image, at most this share foreground
RPN_POSITIVE_IOU, RPN_NEGATIVE_IOU = 0.7, 0.3
RPN_BATCH, RPN_POSITIVE = 256, 0.5  # anchors per image, at most this share positive
TEST_NMS = 0.3


def vgg16_convs(x, width=64, batch_norm=False, stride=16):
    """VGG-16's 13 convs (stage i: ``width·2^i`` filters, at most ``8·width``), a max-pool
    after each of the first log2(``stride``) stages: stride 16 ends at conv5_3 (Fast
    R-CNN's shared map), 32 at pool5 (R-CNN's per-region CNN), 8 keeps a finer map."""
    pools = int(math.log2(stride))
    for stage, convs in enumerate(CONFIGS[16]):
        x = vgg_stage(x, convs, min(width * 2**stage, 8 * width), batch_norm,
                      name=f"block{stage + 1}", pool=stage < pools)
    return x


def box_head(x, classes, fc_units, dropout):
    """fc6 -> fc7 -> (class logits over C + 1, class-specific box offsets) per region."""
    for index in (6, 7):
        x = layers.Dense(fc_units, activation="relu", name=f"fc{index}")(x)
        x = layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
    # py-faster-rcnn's initial weights: N(0, 0.01²) scores, N(0, 0.001²) offsets.
    class_logits = layers.Dense(classes + 1, kernel_initializer=keras.initializers.RandomNormal(
        stddev=0.01), dtype="float32", name="cls_score")(x)
    box_deltas = layers.Dense(4 * (classes + 1), kernel_initializer=keras.initializers.RandomNormal(
        stddev=0.001), dtype="float32", name="bbox_pred")(x)
    return class_logits, box_deltas


def sampling_weights(positive, negative, batch, positive_share):
    """Per-region weights, summing to 1 per image, of a minibatch of ``batch`` regions
    with at most ``positive_share`` positive, in expectation: each positive weighs
    ``taken positives / positives / taken``, each negative likewise."""
    positive, negative = ops.cast(positive, "float32"), ops.cast(negative, "float32")
    n_pos = ops.sum(positive, axis=-1, keepdims=True)
    n_neg = ops.sum(negative, axis=-1, keepdims=True)
    take_pos = ops.minimum(n_pos, batch * positive_share)
    take_neg = ops.minimum(n_neg, batch - take_pos)
    weights = (positive * take_pos / ops.maximum(n_pos, 1.0)
               + negative * take_neg / ops.maximum(n_neg, 1.0))
    return weights / ops.maximum(take_pos + take_neg, 1.0)


def _smooth_l1(x, beta=1.0):
    x = ops.abs(x)
    return ops.where(x < beta, 0.5 * x * x / beta, x - 0.5 * beta)


def _match(regions, boxes, valid):
    """IoU (B, R, M) of regions with the objects (-1 for padding), each region's best IoU
    and the index of that object."""
    iou = ops.where(valid[:, None, :], box_iou(regions, boxes), -1.0)
    return iou, ops.max(iou, axis=-1), ops.argmax(iou, axis=-1)


def region_targets(regions, boxes, labels):
    """Fast R-CNN's targets of each region (B, R, 4) for objects ``boxes`` (B, M, 4),
    ``labels`` (B, M) (-1: padding).

    Returns:
        ``(foreground (B, R) bool: IoU >= 0.5 with an object, class (B, R) int: that
        object's label + 1 or 0 for background, the best-overlapping object's box (B, R, 4))``.
    """
    _, best_iou, best = _match(regions, boxes, labels >= 0)
    foreground = best_iou >= FOREGROUND_IOU
    target = ops.where(foreground, ops.take_along_axis(labels, best, axis=1) + 1, 0)
    return foreground, target, ops.take_along_axis(boxes, best[..., None], axis=1)


def anchor_targets(anchors, boxes, labels):
    """Faster R-CNN's anchor labels for anchors (A, 4) and objects (B, M, 4) / (B, M).

    An anchor is positive at IoU >= 0.7 with an object, or when it is (one of) an
    object's best anchors, however low their IoU; negative below 0.3 otherwise; the
    rest are ignored.

    Returns:
        ``(positive (B, A) bool, negative (B, A) bool, best-overlapping box (B, A, 4))``.
    """
    valid = labels >= 0
    iou, best_iou, best = _match(ops.expand_dims(anchors, 0), boxes, valid)  # (B, A, M)
    best_for_object = ops.max(iou, axis=1, keepdims=True)  # (B, 1, M)
    is_best = ops.any((iou >= best_for_object) & (best_for_object > 0) & valid[:, None, :], axis=-1)
    positive = (best_iou >= RPN_POSITIVE_IOU) | is_best
    negative = (best_iou < RPN_NEGATIVE_IOU) & ~positive
    return positive, negative, ops.take_along_axis(boxes, best[..., None], axis=1)


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class RegionDetector(ArgumentConfig, keras.Model):
    """A two-stage detector: R-CNN, SPPNet, Fast R-CNN or Faster R-CNN (``method``).

    Args:
        method: one of ``METHODS``.
        classes: object classes C (background is added).
        input_shape: (H, W, 3) images (default (512, 512, 3)).
        width: filters of the first VGG-16 stage (64).
        batch_norm: BatchNorm after every conv (the papers have none).
        fc_units: units of fc6 and fc7 (4096).
        dropout: rate after fc6 and fc7.
        feature_stride: the shared map's stride: 16 (conv5_3) or 8 (pool4 left out).
        pool_size: Fast and Faster R-CNN's RoI grid (7).
        bins: SPPNet's pyramid (1, 2, 3, 6: 50 bins).
        warp_size: R-CNN's region side (224 for VGG-16).
        window_sizes, window_ratios, window_stride: the sliding-window proposals of
            the first three (``proposals.sliding_windows``).
        train_regions: windows per image while training (all at inference).
        anchor_scales, anchor_ratios: Faster R-CNN's anchors (128/256/512 and 0.5/1/2).
        pre_nms_top, train_proposals, test_proposals, rpn_nms: the proposal layer.
        seed: seed of the training windows' draws.
        name: model name (default: ``method``).
    """

    def __init__(self, method="fast_rcnn", classes=20, input_shape=None, width=64,
                 batch_norm=False, fc_units=4096, dropout=0.5, feature_stride=16, pool_size=7,
                 bins=(1, 2, 3, 6), warp_size=224, window_sizes=(64, 128, 256, 512),
                 window_ratios=(1.0,), window_stride=0.25, train_regions=HEAD_BATCH,
                 anchor_scales=(128, 256, 512), anchor_ratios=ASPECT_RATIOS, pre_nms_top=6000,
                 train_proposals=2000, test_proposals=300, rpn_nms=0.7, seed=None, name=None,
                 **kwargs):
        name = name or method
        if method not in METHODS:
            raise ModelArgumentError(f"{name}: method must be one of {', '.join(METHODS)}; "
                                     f"got {method!r}")
        check_positive_ints(name, classes=classes, width=width, fc_units=fc_units,
                            pool_size=pool_size, bins=tuple(bins), warp_size=warp_size,
                            train_regions=train_regions, pre_nms_top=pre_nms_top,
                            train_proposals=train_proposals, test_proposals=test_proposals)
        if feature_stride not in (8, 16):
            raise ModelArgumentError(f"{name}: feature_stride must be 8 or 16; got {feature_stride}")
        if keras.config.image_data_format() != "channels_last":
            raise ModelArgumentError(f"{name} is built channels last only")
        input_shape = tuple(image_input_shape(input_shape, (512, 512), 3, 32, name))
        if None in input_shape[:2]:
            raise ModelArgumentError(f"{name}: the image size must be known; got {input_shape}")
        image_size = input_shape[:2]

        inputs = keras.Input(shape=input_shape, name="image")
        outputs = {}
        if method == "faster_rcnn":
            features = vgg16_convs(inputs, width, batch_norm, feature_stride)
            anchors = anchor_grid(features.shape[1:3], feature_stride, anchor_scales, anchor_ratios)
            per_cell = len(anchor_scales) * len(anchor_ratios)
            x = layers.Conv2D(features.shape[-1], 3, padding="same", activation="relu",
                              name="rpn_conv")(features)
            small = keras.initializers.RandomNormal(stddev=0.01)
            logits = layers.Conv2D(2 * per_cell, 1, kernel_initializer=small, dtype="float32",
                                   name="rpn_cls_score")(x)
            deltas = layers.Conv2D(4 * per_cell, 1, kernel_initializer=small, dtype="float32",
                                   name="rpn_bbox_pred")(x)
            # float32 through the reshapes too: a layer casts its inputs to its compute dtype.
            outputs["rpn_logits"] = layers.Reshape((-1, 2), dtype="float32", name="rpn_logits")(logits)
            outputs["rpn_deltas"] = layers.Reshape((-1, 4), dtype="float32", name="rpn_deltas")(deltas)
            proposals = RegionProposals(anchors, image_size, pre_nms_top, train_proposals,
                                        test_proposals, rpn_nms, min_size=1.0, name="proposals")(
                [outputs["rpn_logits"], outputs["rpn_deltas"]])
        else:
            proposals = WindowProposals(image_size, window_sizes, window_ratios, window_stride,
                                        train_regions, seed, name="proposals")(inputs)
        if method == "rcnn":  # the whole CNN on every warped region
            crops = WarpRegions(warp_size, name="warp")([inputs, proposals])
            x = layers.Flatten(name="flatten")(vgg16_convs(crops, width, batch_norm, 32))
            x = SplitRegions(name="per_image")([x, proposals])
        elif method == "sppnet":  # one pass, a pyramid of bins per region
            features = vgg16_convs(inputs, width, batch_norm, feature_stride)
            x = SpatialPyramidPooling(bins, 1 / feature_stride, name="spp")([features, proposals])
        else:  # one pass, one RoI grid per region
            if method == "fast_rcnn":
                features = vgg16_convs(inputs, width, batch_norm, feature_stride)
            x = RoIPooling(pool_size, 1 / feature_stride, name="roi_pool")([features, proposals])
            x = layers.Reshape((-1, pool_size * pool_size * features.shape[-1]), name="roi_flat")(x)
        outputs["proposals"] = proposals
        outputs["class_logits"], outputs["box_deltas"] = box_head(x, classes, fc_units, dropout)
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.method, self.classes, self.image_size = method, classes, image_size
        self._config = {
            "method": method, "classes": classes, "input_shape": input_shape, "width": width,
            "batch_norm": batch_norm, "fc_units": fc_units, "dropout": dropout,
            "feature_stride": feature_stride, "pool_size": pool_size, "bins": list(bins),
            "warp_size": warp_size, "window_sizes": list(window_sizes),
            "window_ratios": list(window_ratios), "window_stride": window_stride,
            "train_regions": train_regions, "anchor_scales": list(anchor_scales),
            "anchor_ratios": list(anchor_ratios), "pre_nms_top": pre_nms_top,
            "train_proposals": train_proposals, "test_proposals": test_proposals,
            "rpn_nms": rpn_nms, "seed": seed, "name": name}
        self.anchors = anchors if method == "faster_rcnn" else None

    @property
    def forward_passes(self):
        """CNN forward passes per image at inference: one per region for R-CNN."""
        if self.method != "rcnn":
            return 1
        return len(self.get_layer("proposals").windows)

    # --- the losses --------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The head's multi-task loss, plus the RPN's for Faster R-CNN, averaged over images.

        ``y`` is ``{"boxes": (N, M, 4) pixels, "labels": (N, M)}``, label -1 for padding.
        """
        boxes = ops.cast(y["boxes"], "float32")
        labels = ops.cast(y["labels"], "int32")
        loss = self._head_loss(y_pred, boxes, labels)
        if self.method == "faster_rcnn":
            loss = loss + self._rpn_loss(y_pred, boxes, labels)
        return loss

    def _head_loss(self, y_pred, boxes, labels):
        regions = ops.stop_gradient(ops.cast(y_pred["proposals"], "float32"))
        foreground, target, matched = region_targets(regions, boxes, labels)
        weights = sampling_weights(foreground, ~foreground, HEAD_BATCH, HEAD_FOREGROUND)
        logits = ops.cast(y_pred["class_logits"], "float32")
        classification = ops.sum(weights * keras.losses.sparse_categorical_crossentropy(
            target, logits, from_logits=True), axis=-1)
        # Background regions have no target (a clipped proposal may be empty: no offsets).
        true_deltas = ops.where(foreground[..., None], encode_boxes(matched, regions, BOX_WEIGHTS), 0.0)
        deltas = ops.reshape(ops.cast(y_pred["box_deltas"], "float32"),
                             (*ops.shape(logits), 4))  # (B, R, C + 1, 4)
        deltas = ops.sum(deltas * ops.one_hot(target, self.classes + 1)[..., None], axis=2)
        localization = ops.sum(_smooth_l1(deltas - true_deltas), axis=-1)
        localization = ops.sum(weights * ops.cast(foreground, "float32") * localization, axis=-1)
        return ops.mean(classification + localization)

    def _rpn_loss(self, y_pred, boxes, labels):
        anchors = ops.convert_to_tensor(self.anchors)
        positive, negative, matched = anchor_targets(anchors, boxes, labels)
        weights = sampling_weights(positive, negative, RPN_BATCH, RPN_POSITIVE)
        logits = ops.cast(y_pred["rpn_logits"], "float32")
        objectness = ops.sum(weights * keras.losses.sparse_categorical_crossentropy(
            ops.cast(positive, "int32"), logits, from_logits=True), axis=-1)
        true_deltas = encode_boxes(matched, anchors[None])
        error = ops.sum(_smooth_l1(ops.cast(y_pred["rpn_deltas"], "float32") - true_deltas,
                                   beta=1 / 9), axis=-1)
        localization = ops.sum(weights * ops.cast(positive, "float32") * error, axis=-1)
        return ops.mean(objectness + localization)

    # --- decoding ----------------------------------------------------------------------
    def decode(self, outputs, score_threshold=0.05, iou_threshold=TEST_NMS, max_boxes=100):
        """Detections from the network's outputs (a dict of arrays), in NumPy.

        Each region's box for class c is its proposal moved by the class's offsets,
        clipped to the image; its score is the softmax probability of c. Per class,
        boxes above ``score_threshold`` go through NMS at ``iou_threshold``.

        Returns:
            One dict per image: ``"boxes"`` (K, 4) pixels, ``"scores"`` (K,),
            ``"labels"`` (K,), highest score first.
        """
        proposals = np.asarray(outputs["proposals"], np.float32)
        logits = np.asarray(outputs["class_logits"], np.float32)
        probabilities = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        deltas = np.asarray(outputs["box_deltas"], np.float32).reshape(*logits.shape, 4)[:, :, 1:]
        boxes = clip_boxes(decode_boxes(deltas, proposals[:, :, None], BOX_WEIGHTS), *self.image_size)
        boxes = np.asarray(ops.convert_to_numpy(boxes))
        return [per_class_nms(image_boxes, image_scores[:, 1:], score_threshold, iou_threshold,
                              max_boxes)
                for image_boxes, image_scores in zip(boxes, probabilities)]



def rcnn(classes=20, input_shape=None, width=64, batch_norm=False, fc_units=4096, dropout=0.5,
         warp_size=224, window_sizes=(64, 128, 256, 512), window_ratios=(1.0,), window_stride=0.25,
         train_regions=HEAD_BATCH, seed=None, name="rcnn"):
    """R-CNN: every proposal warped to ``warp_size`` and run through VGG-16; see
    ``RegionDetector``."""
    return RegionDetector("rcnn", classes, input_shape, width, batch_norm, fc_units, dropout,
                          warp_size=warp_size, window_sizes=window_sizes,
                          window_ratios=window_ratios, window_stride=window_stride,
                          train_regions=train_regions, seed=seed, name=name)


def sppnet(classes=20, input_shape=None, width=64, batch_norm=False, fc_units=4096, dropout=0.5,
           feature_stride=16, bins=(1, 2, 3, 6), window_sizes=(64, 128, 256, 512),
           window_ratios=(1.0,), window_stride=0.25, train_regions=HEAD_BATCH, seed=None,
           name="sppnet"):
    """SPPNet: one pass of VGG-16's convs, a pyramid pooled per proposal; see
    ``RegionDetector``."""
    return RegionDetector("sppnet", classes, input_shape, width, batch_norm, fc_units, dropout,
                          feature_stride, bins=bins, window_sizes=window_sizes,
                          window_ratios=window_ratios, window_stride=window_stride,
                          train_regions=train_regions, seed=seed, name=name)


def fast_rcnn(classes=20, input_shape=None, width=64, batch_norm=False, fc_units=4096,
              dropout=0.5, feature_stride=16, pool_size=7, window_sizes=(64, 128, 256, 512),
              window_ratios=(1.0,), window_stride=0.25, train_regions=HEAD_BATCH, seed=None,
              name="fast_rcnn"):
    """Fast R-CNN: one pass, a 7x7 RoI grid per proposal, one multi-task head; see
    ``RegionDetector``."""
    return RegionDetector("fast_rcnn", classes, input_shape, width, batch_norm, fc_units,
                          dropout, feature_stride, pool_size, window_sizes=window_sizes,
                          window_ratios=window_ratios, window_stride=window_stride,
                          train_regions=train_regions, seed=seed, name=name)


def faster_rcnn(classes=20, input_shape=None, width=64, batch_norm=False, fc_units=4096,
                dropout=0.5, feature_stride=16, pool_size=7, anchor_scales=(128, 256, 512),
                anchor_ratios=ASPECT_RATIOS, pre_nms_top=6000, train_proposals=2000,
                test_proposals=300, rpn_nms=0.7, name="faster_rcnn"):
    """Faster R-CNN: a Region Proposal Network on the shared map feeds Fast R-CNN's head;
    see ``RegionDetector``."""
    return RegionDetector("faster_rcnn", classes, input_shape, width, batch_norm, fc_units,
                          dropout, feature_stride, pool_size, anchor_scales=anchor_scales,
                          anchor_ratios=anchor_ratios, pre_nms_top=pre_nms_top,
                          train_proposals=train_proposals, test_proposals=test_proposals,
                          rpn_nms=rpn_nms, name=name)
