"""The procedural ``shapes`` dataset: deterministic, any size, masks and boxes agree."""
import numpy as np
import pytest

from keras_dlbasic.data.shapes import CLASSES, shapes


def test_deterministic_per_seed_and_per_image():
    first, again = shapes(6, 48, seed=3), shapes(6, 48, seed=3)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    # Image i depends only on (seed, i): a later split starts where an earlier one ends.
    tail = shapes(2, 48, seed=3, start=4)
    for key in first:
        np.testing.assert_array_equal(first[key][4:], tail[key])
    other = shapes(6, 48, seed=4)
    assert not np.array_equal(first["images"], other["images"])


@pytest.mark.parametrize("size", [32, (40, 72), 128])
def test_any_image_size(size):
    data = shapes(4, size, max_shapes=3)
    height, width = (size, size) if np.isscalar(size) else size
    assert data["images"].shape == (4, height, width, 3) and data["images"].dtype == np.float32
    assert data["masks"].shape == (4, height, width)
    assert data["boxes"].shape == (4, 3, 4) and data["labels"].shape == (4, 3)
    assert 0 <= data["images"].min() and data["images"].max() <= 1
    real = data["labels"] >= 0
    assert np.all(data["boxes"][real][:, [2, 3]] <= [width, height])
    assert np.all(data["boxes"][real][:, [0, 1]] >= 0)


def test_masks_and_boxes_describe_the_same_shapes():
    data = shapes(40, 64, seed=1)
    yy, xx = np.mgrid[0:64, 0:64] + 0.5
    for mask, boxes, labels in zip(data["masks"], data["boxes"], data["labels"]):
        real = labels >= 0
        assert real.sum() >= 1 and np.all(labels[~real] == -1) and np.all(boxes[~real] == 0)
        # Every shape pixel lies in a box of its class, and every box shows its class.
        for label in range(len(CLASSES)):
            own = boxes[labels == label]
            pixels = mask == label + 1
            covered = np.zeros_like(pixels)
            for x1, y1, x2, y2 in own:
                in_box = (xx >= x1) & (xx <= x2) & (yy >= y1) & (yy <= y2)
                assert np.count_nonzero(pixels & in_box) > 0
                covered |= in_box
            assert not np.any(pixels & ~covered)


def test_classes_counts_and_geometry():
    data = shapes(300, 64, seed=2)
    labels = data["labels"][data["labels"] >= 0]
    counts = np.bincount(labels, minlength=3)
    assert counts.min() > 0.25 * len(labels)  # all three classes, about evenly
    per_image = (data["labels"] >= 0).sum(axis=1)
    assert set(per_image) == {1, 2, 3, 4}
    # A lone circle fills pi/4 of its box, a square all of it, a triangle half.
    single = np.flatnonzero(per_image == 1)
    for label, share in [(0, np.pi / 4), (1, 1.0), (2, 0.5)]:
        rows = [i for i in single if data["labels"][i, 0] == label][:5]
        for i in rows:
            x1, y1, x2, y2 = data["boxes"][i, 0]
            area = np.count_nonzero(data["masks"][i] == label + 1)
            assert area / ((x2 - x1) * (y2 - y1)) == pytest.approx(share, rel=0.15)
