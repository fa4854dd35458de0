"""Chapter 3, one-stage detection: YOLO (v1).

Reference: Redmon, Divvala, Girshick & Farhadi, "You Only Look Once: Unified,
Real-Time Object Detection", CVPR 2016, https://arxiv.org/abs/1506.02640.

Lecture point: no proposals and no per-region passes. The image is split into an
S x S grid; each cell predicts B boxes ``(x, y, w, h, confidence)`` and one set of C
class probabilities, so one forward pass gives an S x S x (B·5 + C) tensor: 7 x 7 x 30
at S = 7, B = 2, C = 20. ``(x, y)`` is the box centre within its cell, ``(w, h)`` the
box size relative to the image; the network predicts √w and √h, so that the loss
weighs an error in a small box more than the same error in a large one.

The loss is the paper's equation (3), a sum of squared errors over the grid with
λ_coord = 5 and λ_noobj = 0.5. The cell holding an object's centre is responsible
for it, and of its B predictors the one whose box overlaps the object most; that
predictor's confidence target is that IoU. It is written once in ``keras.ops`` as
``YOLO.compute_loss``, so one definition trains on every backend; targets are the
padded ``{"boxes", "labels"}`` of ``keras_dlbasic.data.pad_boxes``, assigned to cells
inside the loss.

Layout, the paper's Figure 3: 24 convolutions (7x7/2 first, then 3x3 and 1x1
reductions, four max-pools, a 3x3/2), leaky ReLU 0.1, then fc 4096 -> dropout 0.5
-> fc S·S·(B·5+C), reshaped to the grid; the last layer is linear. Options for
training from scratch on small images: ``width`` scales every conv's filters,
``batch_norm`` adds BatchNorm after each conv (as YOLOv2 does), ``fc_units``
narrows the first fc layer, ``trunk_stride`` 16 or 8 keeps a 4x4 or 8x8 last map on
a 64x64 image (at the paper's 64 it would be 1x1), and ``head="conv"`` predicts each cell
from its own neighbourhood (YOLOv2's head), which learns the boxes of the small
``shapes`` set from scratch where the fc head, seeing all cells at once, does not
(test mAP@0.5 about 0.01 after 20 epochs). ``YOLO.decode`` turns the grid into boxes
(class-specific confidence ``confidence · p(class)``, then per-class NMS in NumPy,
``keras_dlbasic.metrics.per_class_nms``); NMS is not part of the exported graph.
"""
import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.metrics.vision import per_class_nms
from keras_dlbasic.models.common import ArgumentConfig, bn, image_input_shape

# The paper's Figure 3: (kernel, filters, stride) per conv, "M" for a 2x2/2 max-pool.
DARKNET = [
    (7, 64, 2), "M",
    (3, 192, 1), "M",
    (1, 128, 1), (3, 256, 1), (1, 256, 1), (3, 512, 1), "M",
    *[(1, 256, 1), (3, 512, 1)] * 4, (1, 512, 1), (3, 1024, 1), "M",
    *[(1, 512, 1), (3, 1024, 1)] * 2, (3, 1024, 1), (3, 1024, 2),
    (3, 1024, 1), (3, 1024, 1),
]
STRIDE = 64  # two stride-2 convs and four max-pools


def darknet_trunk(x, width=1.0, batch_norm=False, stride=STRIDE):
    """The 24 convolutions of YOLO's Figure 3 (filters scaled by ``width``).

    ``stride`` 32 keeps the last stride-2 conv at stride 1, 16 also leaves out the
    last max-pool, 8 the last two: the same weights on a finer last map, for small
    images.
    """
    index, steps_left = 0, {64: 0, 32: 1, 16: 2, 8: 3}[stride]  # downsamplings dropped, last first
    downsamplings = [i for i, item in enumerate(DARKNET) if item == "M" or item[2] == 2]
    dropped = set(downsamplings[len(downsamplings) - steps_left:])
    for position, item in enumerate(DARKNET):
        if item == "M":
            if position not in dropped:
                x = layers.MaxPooling2D(2, strides=2, padding="same", name=f"pool{index}")(x)
            continue
        index += 1
        kernel, filters, stride_here = item
        stride_here = 1 if position in dropped else stride_here
        name = f"conv{index}"
        x = layers.Conv2D(max(1, int(filters * width)), kernel, strides=stride_here, padding="same",
                          use_bias=not batch_norm, name=name)(x)
        if batch_norm:
            x = bn(x, f"{name}_bn")
        x = layers.LeakyReLU(0.1, name=f"{name}_leaky")(x)
    return x


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class YOLO(ArgumentConfig, keras.Model):
    """YOLO v1: a functional network with the paper's loss and decoding.

    Args:
        grid: S, cells a side.
        boxes_per_cell: B.
        classes: C.
        input_shape: (H, W, 3), sides multiples of ``trunk_stride`` (default (448, 448, 3)).
        width: filter multiplier of every conv (1.0: the paper's).
        fc_units: units of the first fc layer (4096), or filters of the conv head's 3x3 conv.
        batch_norm: BatchNorm after every conv (the paper has none).
        dropout: rate after the first fc layer (0.5).
        lambda_coord, lambda_noobj: the loss's weights (5 and 0.5).
        trunk_stride: the trunk's downsampling: 64 (the paper's), or 32 / 16 / 8 for
            small images (the last stride-2 conv, then the last max-pools, left out).
        head: ``"fc"``, the paper's two fc layers, or ``"conv"``, YOLOv2's fully
            convolutional head (a 3x3 conv of ``fc_units`` filters, then a 1x1 conv to
            B·5 + C per cell) on a last map of S x S cells.
        name: model name.

    Call: images (B, H, W, 3) -> (B, S, S, B·5 + C): per cell, B boxes
    ``(x, y, √w, √h, confidence)``, then C class probabilities.
    """

    def __init__(self, grid=7, boxes_per_cell=2, classes=20, input_shape=None, width=1.0,
                 fc_units=4096, batch_norm=False, dropout=0.5, lambda_coord=5.0,
                 lambda_noobj=0.5, trunk_stride=STRIDE, head="fc", name="yolo", **kwargs):
        check_positive_ints(name, grid=grid, boxes_per_cell=boxes_per_cell, classes=classes,
                            fc_units=fc_units)
        if not width > 0:
            raise ModelArgumentError(f"{name}: width must be positive; got width={width}")
        if keras.config.image_data_format() != "channels_last":
            raise ModelArgumentError(f"{name} is built channels last only")
        if head not in ("fc", "conv"):
            raise ModelArgumentError(f"{name}: head must be 'fc' or 'conv'; got head={head!r}")
        if trunk_stride not in (64, 32, 16, 8):
            raise ModelArgumentError(f"{name}: trunk_stride must be 64, 32, 16 or 8; got {trunk_stride}")
        input_shape = tuple(image_input_shape(input_shape, (448, 448), 3, trunk_stride, name))
        if any(side is None or side % trunk_stride for side in input_shape[:2]):
            raise ModelArgumentError(f"{name}: image sides must be multiples of {trunk_stride}; "
                                     f"got input_shape={input_shape}")
        depth = boxes_per_cell * 5 + classes
        inputs = keras.Input(shape=input_shape, name="image")
        x = darknet_trunk(inputs, width, batch_norm, trunk_stride)
        # The last layer starts small, and its bias puts every predictor on its own
        # cell's box: centre (0.5, 0.5), √w = √h = √(1/S). From there each box overlaps
        # the objects near it, so the confidence targets (IoUs) are not all 0 and the
        # coordinates get gradients from the first step; at 0 every box is a point, every
        # IoU 0, and training can sit on a plateau for epochs.
        small = keras.initializers.RandomNormal(stddev=0.01)
        prior = cell_prior(grid, boxes_per_cell, classes)
        if head == "fc":
            x = layers.Flatten(name="flatten")(x)
            x = layers.Dense(fc_units, name="fc1")(x)
            x = layers.LeakyReLU(0.1, name="fc1_leaky")(x)
            x = layers.Dropout(dropout, name="fc1_dropout")(x)
            x = layers.Dense(grid * grid * depth, kernel_initializer=small,
                             bias_initializer=keras.initializers.Constant(np.tile(prior, grid * grid)),
                             dtype="float32", name="fc2")(x)
            outputs = layers.Reshape((grid, grid, depth), dtype="float32", name="grid")(x)
        else:
            if tuple(x.shape[1:3]) != (grid, grid):
                raise ModelArgumentError(
                    f"{name}: head='conv' needs a {grid}x{grid} last map; the trunk gives "
                    f"{x.shape[1]}x{x.shape[2]} (input / trunk_stride)")
            x = layers.Conv2D(fc_units, 3, padding="same", name="head_conv")(x)
            x = layers.LeakyReLU(0.1, name="head_leaky")(x)
            x = layers.Dropout(dropout, name="head_dropout")(x)
            outputs = layers.Conv2D(depth, 1, kernel_initializer=small,
                                    bias_initializer=keras.initializers.Constant(prior),
                                    dtype="float32", name="grid")(x)
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.grid, self.boxes_per_cell, self.classes = grid, boxes_per_cell, classes
        self.image_size = input_shape[:2]
        self.lambda_coord, self.lambda_noobj = float(lambda_coord), float(lambda_noobj)
        self._config = {"grid": grid, "boxes_per_cell": boxes_per_cell, "classes": classes,
                        "input_shape": input_shape, "width": width, "fc_units": fc_units,
                        "batch_norm": batch_norm, "dropout": dropout,
                        "lambda_coord": lambda_coord, "lambda_noobj": lambda_noobj,
                        "trunk_stride": trunk_stride, "head": head, "name": name}

    # --- the loss, equation (3) -------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The sum-squared YOLO loss per image, averaged over the batch.

        ``y`` is ``{"boxes": (N, M, 4) pixels (x1, y1, x2, y2), "labels": (N, M)}``,
        label -1 for padding.
        """
        s, b, c = self.grid, self.boxes_per_cell, self.classes
        height, width = self.image_size
        boxes = ops.cast(y["boxes"], "float32")
        labels = ops.cast(y["labels"], "int32")
        valid = ops.cast(labels >= 0, "float32")  # (N, M)
        # Each object's cell: the one holding its centre.
        cx = (boxes[..., 0] + boxes[..., 2]) / 2 / width
        cy = (boxes[..., 1] + boxes[..., 3]) / 2 / height
        col = ops.clip(ops.cast(ops.floor(cx * s), "int32"), 0, s - 1)
        row = ops.clip(ops.cast(ops.floor(cy * s), "int32"), 0, s - 1)
        in_cell = (ops.one_hot(row, s)[:, :, :, None] * ops.one_hot(col, s)[:, :, None, :]
                   * valid[:, :, None, None])  # (N, M, S, S)
        # One object per cell: the first listed whose centre falls in it.
        first = ops.argmax(in_cell, axis=1)  # (N, S, S)
        has_object = ops.max(in_cell, axis=1)  # (N, S, S): 1_i^obj

        def per_cell(values):  # (N, M, ...) -> (N, S, S, ...), the cell's object
            picked = ops.one_hot(first, ops.shape(values)[1])  # (N, S, S, M)
            return ops.einsum("nijm,nm...->nij...", picked, values)

        target_box = per_cell(boxes)  # (N, S, S, 4) pixels
        target_class = per_cell(ops.one_hot(ops.maximum(labels, 0), c))  # (N, S, S, C)
        grid_x = ops.arange(s, dtype="float32")[None, None, :]
        grid_y = ops.arange(s, dtype="float32")[None, :, None]
        t_x = (target_box[..., 0] + target_box[..., 2]) / 2 / width * s - grid_x  # in the cell
        t_y = (target_box[..., 1] + target_box[..., 3]) / 2 / height * s - grid_y
        t_sw = ops.sqrt(ops.maximum((target_box[..., 2] - target_box[..., 0]) / width, 0.0))
        t_sh = ops.sqrt(ops.maximum((target_box[..., 3] - target_box[..., 1]) / height, 0.0))

        y_pred = ops.cast(y_pred, "float32")
        pred = ops.reshape(y_pred[..., : b * 5], (-1, s, s, b, 5))
        pred_boxes = self._pixel_boxes(pred)  # (N, S, S, B, 4)
        ious = _paired_iou(pred_boxes, target_box[:, :, :, None, :])  # (N, S, S, B)
        responsible = ops.one_hot(ops.argmax(ious, axis=-1), b) * has_object[..., None]  # 1_ij^obj
        no_object = 1.0 - responsible
        confidence_target = ops.stop_gradient(ious)

        sq = ops.square
        coord = (sq(pred[..., 0] - t_x[..., None]) + sq(pred[..., 1] - t_y[..., None])
                 + sq(pred[..., 2] - t_sw[..., None]) + sq(pred[..., 3] - t_sh[..., None]))
        loss = (self.lambda_coord * ops.sum(responsible * coord, axis=(1, 2, 3))
                + ops.sum(responsible * sq(pred[..., 4] - confidence_target), axis=(1, 2, 3))
                + self.lambda_noobj * ops.sum(no_object * sq(pred[..., 4]), axis=(1, 2, 3))
                + ops.sum(has_object[..., None] * sq(y_pred[..., b * 5:] - target_class),
                          axis=(1, 2, 3)))
        return ops.mean(loss)

    def _pixel_boxes(self, pred):
        """(…, S, S, B, ≥4) predictions -> (…, S, S, B, 4) boxes (x1, y1, x2, y2) in pixels."""
        s = self.grid
        height, width = self.image_size
        cols = ops.reshape(ops.arange(s, dtype="float32"), (1, 1, s, 1))
        rows = ops.reshape(ops.arange(s, dtype="float32"), (1, s, 1, 1))
        cx = (pred[..., 0] + cols) / s * width
        cy = (pred[..., 1] + rows) / s * height
        w = ops.square(pred[..., 2]) * width
        h = ops.square(pred[..., 3]) * height
        return ops.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)

    # --- decoding -----------------------------------------------------------------------
    def decode(self, outputs, score_threshold=0.05, iou_threshold=0.5, max_boxes=100):
        """Detections from the network's outputs (N, S, S, B·5 + C), in NumPy.

        A box's score for class c is ``confidence · p(c)``; per class, boxes above
        ``score_threshold`` go through NMS at ``iou_threshold``.

        Returns:
            One dict per image: ``"boxes"`` (K, 4) pixels clipped to the image,
            ``"scores"`` (K,), ``"labels"`` (K,), highest score first.
        """
        s, b, c = self.grid, self.boxes_per_cell, self.classes
        height, width = self.image_size
        outputs = np.asarray(outputs, np.float32)
        pred = outputs[..., : b * 5].reshape(-1, s, s, b, 5)
        boxes = np.asarray(ops.convert_to_numpy(self._pixel_boxes(ops.convert_to_tensor(pred))))
        boxes = np.clip(boxes, 0, [width, height, width, height]).reshape(len(outputs), -1, 4)
        scores = (pred[..., 4:5] * outputs[..., None, b * 5:]).reshape(len(outputs), -1, c)
        return [per_class_nms(image_boxes, image_scores, score_threshold, iou_threshold, max_boxes)
                for image_boxes, image_scores in zip(boxes, scores)]


def cell_prior(grid, boxes_per_cell, classes):
    """The output layer's starting bias for one cell, (B·5 + C,): each box its cell's
    square, ``(0.5, 0.5, √(1/S), √(1/S))``, confidence 0, class probabilities 1/C."""
    box = [0.5, 0.5, (1 / grid) ** 0.5, (1 / grid) ** 0.5, 0.0]
    return np.array(box * boxes_per_cell + [1 / classes] * classes, np.float32)


def _paired_iou(a, b):
    """IoU of boxes ``a`` and ``b`` element by element (broadcast), (..., 4) -> (...)."""
    width = ops.maximum(ops.minimum(a[..., 2], b[..., 2]) - ops.maximum(a[..., 0], b[..., 0]), 0.0)
    height = ops.maximum(ops.minimum(a[..., 3], b[..., 3]) - ops.maximum(a[..., 1], b[..., 1]), 0.0)
    inter = width * height
    area = lambda box: ops.maximum(box[..., 2] - box[..., 0], 0.0) * ops.maximum(  # noqa: E731
        box[..., 3] - box[..., 1], 0.0)
    union = area(a) + area(b) - inter
    return ops.where(union > 0, inter / ops.maximum(union, 1e-9), 0.0)


def yolo(grid=7, boxes_per_cell=2, classes=20, input_shape=None, width=1.0, fc_units=4096,
         batch_norm=False, dropout=0.5, lambda_coord=5.0, lambda_noobj=0.5, trunk_stride=STRIDE,
         head="fc", name="yolo"):
    """YOLO v1 (the paper's 7 x 7 x 30 at S = 7, B = 2, C = 20 by default); see ``YOLO``."""
    return YOLO(grid, boxes_per_cell, classes, input_shape, width, fc_units, batch_norm, dropout,
                lambda_coord, lambda_noobj, trunk_stride, head, name)

