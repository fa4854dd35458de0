"""``shapes``: a procedural detection and segmentation dataset (chapter 3), in NumPy.

Circles, squares and triangles of random colours, sizes and positions on noisy
backgrounds, one to ``max_shapes`` per image. Shapes may overlap (a later shape hides
part of an earlier one), but no two boxes overlap with an IoU above ``max_overlap`` and
every shape keeps at least half of its pixels in view. Every image comes with

* a class mask: 0 background, 1 circle, 2 square, 3 triangle (``CLASSES``), the
  shape on top where shapes overlap;
* one box ``(x1, y1, x2, y2)`` in pixels per shape, the whole shape's extent, and its
  label (0 circle, 1 square, 2 triangle: the mask's class minus one).

Image i of a seed is drawn from its own generator, ``default_rng([seed, i])``, so a
dataset is the same at any length and a split is the same whatever the others'
sizes. It works at any image size (shape sizes scale with it) and needs no download.

Nothing here imports keras.
"""
import functools

import numpy as np

from keras_dlbasic.metrics.vision import iou_matrix

CLASSES = ("circle", "square", "triangle")  # box labels 0, 1, 2; mask classes 1, 2, 3
MASK_CLASSES = ("background", *CLASSES)


def _shape_mask(kind, x0, y0, size, xx, yy):
    """Pixels (centres at +0.5) inside a shape whose box is (x0, y0, x0 + size, y0 + size)."""
    if kind == 0:  # circle
        r = size / 2
        return (xx - x0 - r) ** 2 + (yy - y0 - r) ** 2 <= r * r
    if kind == 1:  # square
        return (xx >= x0) & (xx <= x0 + size) & (yy >= y0) & (yy <= y0 + size)
    # An upright triangle: apex at the top centre, base along the bottom of the box.
    depth = (yy - y0) / size  # 0 at the apex, 1 at the base
    half_width = depth * size / 2
    return (depth >= 0) & (depth <= 1) & (np.abs(xx - x0 - size / 2) <= half_width)


def draw_image(rng, image_size=64, max_shapes=4, size_range=(0.2, 0.45), max_overlap=0.3,
               noise=0.05):
    """One image, its class mask, boxes and labels, drawn with the generator ``rng``.

    Returns:
        ``(image float32 (H, W, 3) in [0, 1], mask uint8 (H, W), boxes float32 (n, 4),
        labels int32 (n,))``.
    """
    height, width = (image_size, image_size) if np.isscalar(image_size) else image_size
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    background = rng.uniform(0.0, 1.0, 3)
    image = np.broadcast_to(background, (height, width, 3)).copy()
    image += rng.normal(0, 0.1, (1, 1, 3)) * (xx / width - 0.5)[..., None]  # a soft gradient
    mask = np.zeros((height, width), np.uint8)
    boxes, labels = [], []
    short = min(height, width)
    visible = []  # each placed shape's pixels still on top, and its full pixel count
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        for _attempt in range(20):
            size = rng.uniform(*size_range) * short
            x0, y0 = rng.uniform(0, width - size), rng.uniform(0, height - size)
            box = np.array([x0, y0, x0 + size, y0 + size])
            kind = int(rng.integers(len(CLASSES)))
            inside = _shape_mask(kind, x0, y0, size, xx, yy)
            # No two boxes overlap much, and every earlier shape keeps half its pixels.
            if not boxes or (iou_matrix(box[None], np.array(boxes)).max() <= max_overlap and all(
                    np.count_nonzero(pixels & ~inside) >= total / 2 for pixels, total in visible)):
                break
        else:
            continue  # no room left for another shape
        colour = rng.uniform(0.0, 1.0, 3)
        while np.abs(colour - background).max() < 0.35:  # visible against the background
            colour = rng.uniform(0.0, 1.0, 3)
        image[inside] = colour
        mask[inside] = kind + 1
        visible = [(pixels & ~inside, total) for pixels, total in visible]
        visible.append((inside, np.count_nonzero(inside)))
        boxes.append(box)
        labels.append(kind)
    image += rng.normal(0, noise, image.shape)
    return (np.clip(image, 0, 1).astype(np.float32), mask,
            np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int32))


def shapes(num_images, image_size=64, max_shapes=4, seed=0, start=0, **options):
    """``num_images`` images of ``shapes``, images ``start`` .. ``start + num_images - 1``.

    Args:
        num_images: how many.
        image_size: side in pixels, or ``(height, width)``.
        max_shapes: shapes per image are 1 .. max_shapes; the padded box arrays have
            this length.
        seed: the dataset's seed.
        start: index of the first image, so that splits of one seed do not overlap.
        **options: ``size_range``, ``max_overlap`` and ``noise`` of ``draw_image``.

    Returns:
        dict: ``images`` float32 (N, H, W, 3); ``masks`` uint8 (N, H, W); ``boxes``
        float32 (N, max_shapes, 4) and ``labels`` int32 (N, max_shapes), padded with zero
        boxes labelled -1 (``keras_dlbasic.data.pad_boxes``).
    """
    from keras_dlbasic.data import pad_boxes

    drawn = [draw_image(np.random.default_rng([seed, start + i]), image_size, max_shapes,
                        **options) for i in range(num_images)]
    images, masks, boxes, labels = (list(part) for part in zip(*drawn)) if drawn else ([],) * 4
    padded = pad_boxes(boxes, labels, max_boxes=max_shapes)
    side = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
    return {
        "images": np.array(images, np.float32).reshape(num_images, *side, 3),
        "masks": np.array(masks, np.uint8).reshape(num_images, *side),
        **padded,
    }


SIZES = (3_000, 500, 1_000)  # train / validation / test


@functools.lru_cache(maxsize=2)
def load(name="shapes", data_dir=None, image_size=64, seed=0):
    """The registered ``shapes`` dataset as ``Splits``: images 64x64, targets
    ``{"masks", "boxes", "labels"}``; the splits are consecutive images of one seed.

    Drawn once per process (about 4 s) and shared: ``Splits`` methods return new
    arrays, so treat the arrays as read-only. ``data_dir`` is accepted for symmetry
    with the other loaders and ignored.
    """
    from keras_dlbasic.data import Splits

    splits, start = [], 0
    for size in SIZES:
        data = shapes(size, image_size, seed=seed, start=start)
        splits += [data.pop("images"), data]
        start += size
    return Splits(name, *splits, num_classes=len(CLASSES), kind=("segmentation", "detection"),
                  class_names=CLASSES)
