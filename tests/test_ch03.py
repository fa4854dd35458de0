"""Chapter 3 studies: the convolutionalization check, toy pooling, proposal sets, time per
image, and the boxes figure."""
import numpy as np

from keras_dlbasic import get_model
from keras_dlbasic.chapters.ch03 import (
    convolutionalization_check,
    milliseconds_per_image,
    proposal_sets,
    toy_pooling,
)


def test_convolutionalization_check():
    classifier = get_model("vgg11", input_shape=(64, 64, 3), classes=3, fc_units=16)
    difference, score_map = convolutionalization_check(classifier, larger_size=128)
    assert difference < 1e-5
    assert score_map == (3, 3, 3)  # (128 / 32) - 2 + 1 positions, 3 classes


def test_toy_pooling_names_the_cells():
    feature_map, spp, rois, boxes = toy_pooling()
    # SPP: the whole map's max (35), then the 2x2 bins' (cells 14, 17, 32, 35).
    np.testing.assert_array_equal(spp, [35, 14, 17, 32, 35])
    # RoI (0, 0, 40, 40) / 16 -> cells 0..3 (2.5 rounds to 3): bins of 2 cells.
    np.testing.assert_array_equal(rois[0], [[7, 9], [19, 21]])
    # RoI (24, 40, 90, 90) / 16 -> columns 2..6 (clipped at 5), rows 3..6.
    np.testing.assert_array_equal(rois[1], [[28, 29], [34, 35]])
    assert feature_map[3, 4] == 22


def test_milliseconds_per_image_warms_up_then_takes_the_best():
    calls = []
    ms = milliseconds_per_image(lambda images: calls.append(len(images)), np.zeros((4, 2)),
                                repeats=3)
    assert calls == [4] * 4 and ms >= 0


def test_proposal_sets_count_and_recall():
    from keras_dlbasic.data.shapes import shapes
    from keras_dlbasic.proposals import proposal_recall, sliding_windows

    data = shapes(6, 64, seed=2)
    rows, first = proposal_sets(data["images"], data["boxes"], data["labels"], (16, 32))
    windows = sliding_windows(64, (16, 32))
    assert rows[0][:2] == ["sliding windows", str(len(windows))]
    assert float(rows[0][2]) == round(proposal_recall(windows, data["boxes"], data["labels"]), 3)
    assert float(rows[0][3]) == round(proposal_recall(windows, data["boxes"], data["labels"], 0.7), 3)
    np.testing.assert_array_equal(first["sliding windows"], windows)
    assert len(rows) == len(first) and all(len(row) == 5 for row in rows)


def test_plot_boxes_writes_a_png(tmp_path):
    import matplotlib.image

    from keras_dlbasic.plotting import plot_boxes

    image = np.zeros((16, 16, 3), np.float32)
    plot_boxes(image, [("one", np.array([[1, 1, 8, 8]])), ("none", np.zeros((0, 4)))],
               tmp_path / "boxes.png", title="t")
    assert matplotlib.image.imread(tmp_path / "boxes.png").shape[-1] in (3, 4)
    assert [p.name for p in tmp_path.iterdir()] == ["boxes.png"]  # written aside, renamed
