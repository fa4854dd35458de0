"""Chapter 3 studies: convolutionalization, pooling on a toy map, and time per image.

* ``convolutionalization_check``: a classifier and its fully convolutional twin
  (``keras_dlbasic.models.fcn.convolutionalize``) on the same images: the largest
  score difference at the classifier's size, and the score map's shape on a
  larger input;
* ``toy_pooling``: ``SpatialPyramidPooling`` and ``RoIPooling`` on a 6x6 map whose
  cells hold their own index, so every pooled value names the cell it came from;
* ``proposal_sets``: the region proposals of the first detectors, sliding windows
  against selective search (when OpenCV is installed): boxes per image, recall of
  the objects at IoU 0.5 and 0.7, and milliseconds per image;
* ``milliseconds_per_image``: steady-state inference time, after a warm-up call
  that compiles.
"""
import time

import numpy as np


def convolutionalization_check(classifier, larger_size, seed=0):
    """``(max |scores difference|, score-map shape)`` of ``classifier`` and its twin.

    Args:
        classifier: a channels-last classifier ending Flatten -> Dense layers.
        larger_size: side of the larger input, a multiple of the network's stride.
    """
    from keras_dlbasic.models.fcn import convolutionalize

    fully_conv = convolutionalize(classifier)
    size, channels = classifier.input_shape[1], classifier.input_shape[-1]
    rng = np.random.default_rng(seed)
    x = rng.random((2, size, size, channels), dtype=np.float32)
    same = np.asarray(fully_conv.predict_on_batch(x))[:, 0, 0]
    difference = float(np.max(np.abs(same - np.asarray(classifier.predict_on_batch(x)))))
    big = rng.random((1, larger_size, larger_size, channels), dtype=np.float32)
    return difference, tuple(np.asarray(fully_conv.predict_on_batch(big)).shape[1:])


def toy_pooling(bins=(1, 2), roi_size=2):
    """A (1, 6, 6, 1) map of cell indices, its pyramid pooling and two RoIs pooled.

    Returns:
        ``(feature_map (6, 6), spp (sum n²,), rois (2, roi_size, roi_size), boxes)``;
        the boxes are in pixels of a 96x96 image (feature stride 16).
    """
    import keras

    from keras_dlbasic.layers import RoIPooling, SpatialPyramidPooling

    features = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    spp = SpatialPyramidPooling(bins=bins)(features)
    boxes = np.array([[[0, 0, 40, 40], [24, 40, 90, 90]]], dtype=np.float32)
    rois = RoIPooling(output_size=roi_size, spatial_scale=1 / 16)([features, boxes])
    return (features[0, :, :, 0], keras.ops.convert_to_numpy(spp)[0],
            keras.ops.convert_to_numpy(rois)[0, ..., 0], boxes[0])


def proposal_sets(images, boxes, labels, window_sizes):
    """Rows ``(method, boxes per image, recall@0.5, recall@0.7, ms per image)`` and the
    proposals of the first image for each method.

    Selective search is left out, with a note in its row, when OpenCV's contrib
    modules are absent.
    """
    from keras_dlbasic.proposals import proposal_recall, selective_search, sliding_windows

    size = images.shape[1:3]
    start = time.perf_counter()
    windows = sliding_windows(size, window_sizes)
    sets = {"sliding windows": ([windows] * len(images), time.perf_counter() - start)}
    try:
        start = time.perf_counter()
        searched = [selective_search(image) for image in images]
        sets["selective search (fast)"] = (searched, time.perf_counter() - start)
    except ImportError:
        pass
    rows, first = [], {}
    for method, (proposals, seconds) in sets.items():
        rows.append([method, f"{np.mean([len(p) for p in proposals]):.0f}",
                     f"{proposal_recall(proposals, boxes, labels, 0.5):.3f}",
                     f"{proposal_recall(proposals, boxes, labels, 0.7):.3f}",
                     f"{1000 * seconds / len(images):.2f}"])
        first[method] = proposals[0]
    return rows, first


def milliseconds_per_image(function, images, repeats=3):
    """Best of ``repeats`` timings of ``function(images)``, per image, after one warm-up call."""
    function(images)
    best = min(_timed(function, images) for _ in range(repeats))
    return 1000 * best / len(images)


def _timed(function, images):
    start = time.perf_counter()
    function(images)
    return time.perf_counter() - start
