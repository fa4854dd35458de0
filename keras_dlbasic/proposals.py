"""Region proposals and anchors of the two-stage detectors (chapter 3), in NumPy.

* ``selective_search``: the proposals of R-CNN, SPPNet and Fast R-CNN (Uijlings et
  al., "Selective Search for Object Recognition", IJCV 2013), through OpenCV's
  ``cv2.ximgproc.segmentation``. It needs the optional extra
  ``pip install "keras-dlbasic[selective-search]"`` (``opencv-contrib-python-headless``);
* ``sliding_windows``: the substitute used when OpenCV is absent, and the models'
  built-in proposals: square and 1:2 / 2:1 windows at a few sizes, tiled over the image
  at a quarter of their size. Image-independent, so the same boxes every time and a
  constant inside the network; their recall is measured beside selective search's
  (``proposal_recall``) in the chapter-3 script;
* ``anchor_grid``: Faster R-CNN's anchors, 3 scales x 3 aspect ratios at every
  feature-map cell (Ren et al. 2015, section 3.1.1).

Boxes are ``(x1, y1, x2, y2)`` in pixels. Nothing here imports keras.
"""
import numpy as np

from keras_dlbasic.metrics.vision import iou_matrix

ASPECT_RATIOS = (0.5, 1.0, 2.0)  # height / width


def _shaped(size, ratio):
    """(width, height) of a box of area size² and height / width ``ratio``."""
    return size / np.sqrt(ratio), size * np.sqrt(ratio)


def sliding_windows(image_size, sizes, ratios=(1.0,), stride=0.25):
    """Windows tiled over an image, every size and aspect ratio.

    Args:
        image_size: ``(height, width)`` in pixels, or one side.
        sizes: window sides (square root of the area) in pixels.
        ratios: height / width of the windows.
        stride: step between windows, as a fraction of their size.

    Returns:
        float32 (R, 4): size by size, ratio by ratio, then row by row; every window
        lies inside the image, and the last of a row or column touches its edge.
    """
    height, width = (image_size, image_size) if np.isscalar(image_size) else image_size
    windows = []
    for size in sizes:
        for ratio in ratios:
            w, h = _shaped(size, ratio)
            if w > width or h > height:
                continue
            xs = _starts(width - w, stride * size)
            ys = _starts(height - h, stride * size)
            x0, y0 = np.meshgrid(xs, ys)
            windows.append(np.stack([x0, y0, x0 + w, y0 + h], -1).reshape(-1, 4))
    if not windows:
        raise ValueError(f"no window of sizes {tuple(sizes)} fits a {height}x{width} image")
    return np.concatenate(windows).astype(np.float32)


def _starts(room, step):
    """Evenly spaced starts from 0 to ``room``, at most ``step`` apart."""
    count = int(np.ceil(room / step - 1e-9)) + 1 if room > 0 else 1
    return np.linspace(0, room, count)


def anchor_grid(feature_size, stride, scales, ratios=ASPECT_RATIOS):
    """Faster R-CNN's anchors: ``len(scales) · len(ratios)`` boxes centred on each cell.

    Args:
        feature_size: ``(height, width)`` of the feature map.
        stride: image pixels per cell; cell (i, j) is centred at
            ``((j + 0.5)·stride, (i + 0.5)·stride)``.
        scales: anchor sides (square root of the area) in pixels: 128, 256, 512 in
            the paper.
        ratios: height / width: 0.5, 1, 2 in the paper.

    Returns:
        float32 (H·W·A, 4), cell by cell (row major) and, within a cell, ratio by ratio
        then scale by scale: the order of the RPN head's ``A`` outputs per cell.
    """
    rows, cols = feature_size
    shapes = np.array([_shaped(s, r) for r in ratios for s in scales])  # (A, 2) w, h
    cy, cx = np.meshgrid((np.arange(rows) + 0.5) * stride, (np.arange(cols) + 0.5) * stride,
                         indexing="ij")
    centres = np.stack([cx, cy], -1).reshape(-1, 1, 2)  # (H·W, 1, 2)
    half = shapes[None] / 2
    return np.concatenate([centres - half, centres + half], -1).reshape(-1, 4).astype(np.float32)


def selective_search(image, mode="fast", max_proposals=2000, min_size=4):
    """Selective search proposals of one image, OpenCV's implementation.

    Args:
        image: (H, W, 3) RGB, floats in [0, 1] or uint8.
        mode: ``"fast"`` or ``"quality"`` (the paper's two strategies).
        max_proposals: at most this many, in OpenCV's order (hierarchical grouping).
        min_size: boxes narrower or lower than this (pixels) are dropped.

    Returns:
        float32 (R, 4) boxes.

    Raises:
        ImportError: OpenCV's contrib modules are not installed; its message names the
            extra and the substitute.
    """
    try:
        import cv2
        search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    except (ImportError, AttributeError) as error:
        raise ImportError(
            "selective search needs OpenCV's contrib modules: pip install "
            "\"keras-dlbasic[selective-search]\" (or use proposals.sliding_windows)") from error
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    cv2.setNumThreads(1)
    search.setBaseImage(np.ascontiguousarray(image[..., ::-1]))  # OpenCV reads BGR
    (search.switchToSelectiveSearchFast if mode == "fast" else search.switchToSelectiveSearchQuality)()
    rects = np.asarray(search.process(), np.float32).reshape(-1, 4)  # x, y, w, h
    rects = rects[(rects[:, 2] >= min_size) & (rects[:, 3] >= min_size)][:max_proposals]
    return np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], 1)


def proposal_recall(proposals, boxes, labels=None, threshold=0.5):
    """Fraction of ground-truth boxes that some proposal overlaps with IoU >= ``threshold``.

    Args:
        proposals: one (R, 4) array per image, or one array for every image.
        boxes: (N, M, 4) ground truth per image; ``labels`` (N, M) marks padding with -1.
    """
    found = total = 0
    for i, image_boxes in enumerate(boxes):
        if labels is not None:
            image_boxes = image_boxes[np.asarray(labels[i]) >= 0]
        if not len(image_boxes):
            continue
        regions = proposals if isinstance(proposals, np.ndarray) and proposals.ndim == 2 else proposals[i]
        found += int(np.sum(iou_matrix(image_boxes, regions).max(axis=1) >= threshold))
        total += len(image_boxes)
    return found / max(total, 1)
