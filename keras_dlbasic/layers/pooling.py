"""Pooling of the detection line (chapter 3): spatial pyramid and region-of-interest pooling.

* ``SpatialPyramidPooling``: He et al., "Spatial Pyramid Pooling in Deep
  Convolutional Networks for Visual Recognition", 2014
  (https://arxiv.org/abs/1406.4729). A feature map of any size is max-pooled
  into a fixed n x n grid at several levels (1, 2 and 4 bins a side), so a CNN
  with Dense layers on top accepts any input size, and SPPNet can pool each
  region of one shared feature map instead of running the CNN once per region.
* ``RoIPooling``: Girshick, "Fast R-CNN", 2015 (https://arxiv.org/abs/1504.08083),
  section 2.1: the one-level special case, a fixed grid (7 x 7) max-pooled from
  each region of interest, given in image pixels.

Both pool with masks instead of slices: a bin is the maximum over the rows and
columns it covers, so the layers work on every backend, inside compiled functions,
and on feature maps whose size is only known at run time. Gradients reach the
maximum of each bin, as with max pooling.
"""
import keras
from keras import ops


def _channels_last(x, data_format):
    return ops.transpose(x, (0, 2, 3, 1)) if data_format == "channels_first" else x


def _masked_max(x, mask, axis):
    """Max of ``x`` over ``axis`` where ``mask`` (broadcast to ``x``) holds."""
    lowest = ops.cast(float("-inf"), x.dtype)
    return ops.max(ops.where(mask, x, lowest), axis=axis)


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class SpatialPyramidPooling(keras.layers.Layer):
    """Max pooling into n x n bins for each n of ``bins``, concatenated.

    Bin i of n along an axis of length a covers ``[floor(i·a/n), ceil((i+1)·a/n))``,
    the rule of PyTorch's adaptive max pooling, so neighbouring bins overlap by a
    pixel where n does not divide a.

    SPPNet's detector pools each region of one shared feature map the same way:
    called on ``[features, boxes]``, every box (in image pixels, scaled by
    ``spatial_scale``) is pooled like ``RoIPooling`` at each level, which on the
    box's window of cells is the rule above.

    Args:
        bins: bins a side at each pyramid level, e.g. ``(1, 2, 4)``: 21 bins.
        spatial_scale: feature-map cells per image pixel, for pooling regions.
        data_format: ``"channels_last"`` (default: ``keras.config.image_data_format()``)
            or ``"channels_first"``.

    Call arguments:
        inputs: (B, H, W, C) feature maps (or (B, C, H, W)), with H and W at least
            ``max(bins)``; or ``[features, boxes (B, R, 4)]``.

    Returns:
        (B, C · Σ n²): level by level, each level's bins row by row, the C channels of
        a bin together; (B, R, C · Σ n²) for regions.
    """

    def __init__(self, bins=(1, 2, 4), spatial_scale=1 / 16, data_format=None, **kwargs):
        super().__init__(**kwargs)
        bins = tuple(int(n) for n in bins)
        if not bins or min(bins) < 1:
            raise ValueError(f"bins must be positive integers; got bins={bins}")
        self.bins = bins
        self.spatial_scale = float(spatial_scale)
        self.data_format = data_format or keras.config.image_data_format()

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):  # regions of a shared map
            features, boxes = inputs
            features = _channels_last(features, self.data_format)
            levels = [roi_pool(features, boxes, (n, n), self.spatial_scale) for n in self.bins]
            return ops.concatenate([ops.reshape(level, (*ops.shape(level)[:2], -1))
                                    for level in levels], axis=-1)
        x = _channels_last(inputs, self.data_format)
        height, width = ops.shape(x)[1], ops.shape(x)[2]
        rows, cols = ops.arange(height), ops.arange(width)
        levels = []
        for n in self.bins:
            by_row = ops.stack([_masked_max(x, self._covers(rows, height, n, i)[None, :, None, None],
                                            axis=1) for i in range(n)], axis=1)  # (B, n, W, C)
            grid = ops.stack([_masked_max(by_row, self._covers(cols, width, n, j)[None, None, :, None],
                                          axis=2) for j in range(n)], axis=2)  # (B, n, n, C)
            levels.append(ops.reshape(grid, (ops.shape(x)[0], -1)))
        return ops.concatenate(levels, axis=-1)

    @staticmethod
    def _covers(positions, length, n, i):
        """Positions of bin i of n along an axis of ``length``: [⌊i·a/n⌋, ⌈(i+1)·a/n⌉)."""
        start = (i * length) // n
        stop = ((i + 1) * length + n - 1) // n
        return ops.logical_and(positions >= start, positions < stop)

    def compute_output_shape(self, input_shape):
        regions = isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple))
        features = input_shape[0] if regions else input_shape
        channels = features[1 if self.data_format == "channels_first" else 3]
        size = None if channels is None else channels * sum(n * n for n in self.bins)
        return (features[0], input_shape[1][1], size) if regions else (features[0], size)

    def get_config(self):
        return {**super().get_config(), "bins": list(self.bins),
                "spatial_scale": self.spatial_scale, "data_format": self.data_format}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class RoIPooling(keras.layers.Layer):
    """Fast R-CNN's RoI max pooling: each region's window of the feature map, max-pooled
    into an ``output_size`` grid.

    A box ``(x1, y1, x2, y2)`` in image pixels is scaled by ``spatial_scale`` and its
    corners are rounded half away from zero, to feature-map cells ``x1' .. x2'``
    (inclusive, at least one cell). Bin j of the grid's w columns covers cells
    ``x1' + [floor(j·n/w), ceil((j+1)·n/w))``, n = x2' - x1' + 1, clipped to the map;
    rows likewise. A bin that covers no cell of the map gives 0. This is
    ``torchvision.ops.roi_pool``, with the bin edges in exact integer arithmetic: the
    same on every backend and compiler, where torchvision's float32 ``j·(n/w)`` can,
    rarely (7 cells into 13 bins), reach one cell past the box.

    Args:
        output_size: ``(height, width)`` of the pooled grid, or one integer.
        spatial_scale: feature-map cells per image pixel: 1/16 for VGG-16's conv5.
        data_format: ``"channels_last"`` (default: ``keras.config.image_data_format()``)
            or ``"channels_first"``.

    Call arguments:
        inputs: ``[features, boxes]``: features (B, H, W, C) (or (B, C, H, W)) and
            boxes (B, R, 4) in input-image pixels.

    Returns:
        (B, R, height, width, C), channels last whatever ``data_format``.

    Example:

    >>> import numpy as np
    >>> features = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> boxes = np.array([[[0, 0, 7, 7], [16, 16, 48, 48]]], dtype="float32")
    >>> pooled = RoIPooling(output_size=2, spatial_scale=1 / 16)([features, boxes])
    >>> keras.ops.convert_to_numpy(pooled)[0, :, :, :, 0].tolist()
    [[[0.0, 0.0], [0.0, 0.0]], [[10.0, 11.0], [14.0, 15.0]]]

    The first box covers one cell (the value 0), so every bin repeats it; the second
    covers cells 1..3 of each axis, 3 cells in 2 bins: cells 1-2 and cells 2-3.
    """

    def __init__(self, output_size=(7, 7), spatial_scale=1 / 16, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.output_size = tuple(int(n) for n in output_size)
        if len(self.output_size) != 2 or min(self.output_size) < 1:
            raise ValueError(f"output_size must be two positive integers; got {output_size}")
        self.spatial_scale = float(spatial_scale)
        self.data_format = data_format or keras.config.image_data_format()

    def call(self, inputs):
        features, boxes = inputs
        return roi_pool(_channels_last(features, self.data_format), boxes, self.output_size,
                        self.spatial_scale)

    def compute_output_shape(self, input_shape):
        features, boxes = input_shape
        channels = features[1 if self.data_format == "channels_first" else 3]
        return (features[0], boxes[1], *self.output_size, channels)

    def get_config(self):
        return {**super().get_config(), "output_size": list(self.output_size),
                "spatial_scale": self.spatial_scale, "data_format": self.data_format}


def roi_pool(features, boxes, output_size, spatial_scale):
    """``RoIPooling`` as a function: channels-last (B, H, W, C) features and (B, R, 4)
    boxes in image pixels -> (B, R, height, width, C)."""
    boxes = ops.cast(boxes, "float32") * spatial_scale
    # std::round: half away from zero (ops.round rounds half to even).
    cells = ops.sign(boxes) * ops.floor(ops.abs(boxes) + 0.5)
    x1, y1, x2, y2 = (cells[..., k] for k in range(4))
    height, width = ops.shape(features)[1], ops.shape(features)[2]
    rows, row_empty = _bins(y1, y2, height, output_size[0])  # (B, R, P, H)
    cols, col_empty = _bins(x1, x2, width, output_size[1])  # (B, R, Q, W)
    features = ops.expand_dims(features, 1)  # (B, 1, H, W, C)
    by_row = ops.stack([_masked_max(features, rows[:, :, p, :, None, None], axis=2)
                        for p in range(output_size[0])], axis=2)  # (B, R, P, W, C)
    pooled = ops.stack([_masked_max(by_row, cols[:, :, None, q, :, None], axis=3)
                        for q in range(output_size[1])], axis=3)  # (B, R, P, Q, C)
    empty = ops.logical_or(row_empty[:, :, :, None], col_empty[:, :, None, :])
    return ops.where(empty[..., None], ops.zeros((), pooled.dtype), pooled)


def _bins(start, stop, length, count):
    """Masks (B, R, count, length) of the cells in each bin, and which bins are empty."""
    start = ops.cast(start, "int32")[..., None]  # (B, R, 1)
    cells = ops.maximum(ops.cast(stop, "int32")[..., None] - start + 1, 1)
    index = ops.arange(count, dtype="int32")
    lo = ops.clip(ops.floor_divide(index * cells, count) + start, 0, length)  # (B, R, count)
    hi = ops.clip(ops.floor_divide((index + 1) * cells + count - 1, count) + start, 0, length)
    positions = ops.arange(length, dtype="int32")
    mask = ops.logical_and(positions >= lo[..., None], positions < hi[..., None])
    return mask, hi <= lo
