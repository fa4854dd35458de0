"""YOLO v1: the paper's output tensor and parameter count, its loss against a loop-by-loop
NumPy version of equation (3), decoding, and detection training on ``shapes``."""
import numpy as np
import pytest

from keras_dlbasic import get_model, model_info
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.registry import shapes_only

from conftest import predict, to_numpy


def test_paper_output_and_parameter_count():
    convs = ([(7, 3, 64), (3, 64, 192), (1, 192, 128), (3, 128, 256), (1, 256, 256),
              (3, 256, 512)] + [(1, 512, 256), (3, 256, 512)] * 4
             + [(1, 512, 512), (3, 512, 1024)] + [(1, 1024, 512), (3, 512, 1024)] * 2
             + [(3, 1024, 1024)] * 4)
    assert len(convs) == 24
    expected = (sum(k * k * a * b + b for k, a, b in convs)
                + 7 * 7 * 1024 * 4096 + 4096 + 4096 * 7 * 7 * 30 + 7 * 7 * 30)
    with shapes_only():
        model = get_model("yolov1")
    assert model.output_shape == (None, 7, 7, 30)  # S x S x (B·5 + C)
    assert model.count_params() == expected == model_info("yolo").reference_params
    with pytest.raises(ModelArgumentError, match="multiples of 64"):
        get_model("yolo", input_shape=(96, 96, 3))


def test_small_image_options_keep_the_grid():
    """``trunk_stride`` 16 keeps a 4x4 map of a 64x64 image; the conv head predicts each
    cell from it; the fc head reads the flattened map (4·4·C inputs)."""
    conv = get_model("yolo", input_shape=(64, 64, 3), grid=4, classes=3, width=0.125,
                     fc_units=8, trunk_stride=16, head="conv")
    assert conv.output_shape == (None, 4, 4, 13)
    assert conv.get_layer("head_conv").input.shape[1:3] == (4, 4)
    fc = get_model("yolo", input_shape=(64, 64, 3), grid=4, classes=3, width=0.125,
                   fc_units=8, trunk_stride=16)
    assert fc.get_layer("fc1").kernel.shape == (4 * 4 * 128, 8)
    with pytest.raises(ModelArgumentError, match="needs a 7x7 last map"):
        get_model("yolo", input_shape=(64, 64, 3), trunk_stride=16, head="conv", width=0.125)


def reference_loss(pred, boxes, labels, s, b, c, size, l_coord=5.0, l_noobj=0.5):
    """Equation (3) of the paper, one image and one cell at a time."""
    total = 0.0
    for n in range(len(pred)):
        owner = {}
        for m, (box, label) in enumerate(zip(boxes[n], labels[n])):
            if label < 0:
                continue
            cell = (min(int((box[1] + box[3]) / 2 / size * s), s - 1),
                    min(int((box[0] + box[2]) / 2 / size * s), s - 1))
            owner.setdefault(cell, m)  # the first object in a cell
        for i in range(s):
            for j in range(s):
                p = pred[n, i, j]
                if (i, j) not in owner:
                    total += l_noobj * sum(p[k * 5 + 4] ** 2 for k in range(b))
                    continue
                box, label = boxes[n][owner[i, j]], labels[n][owner[i, j]]
                tx = (box[0] + box[2]) / 2 / size * s - j
                ty = (box[1] + box[3]) / 2 / size * s - i
                tw, th = np.sqrt((box[2] - box[0]) / size), np.sqrt((box[3] - box[1]) / size)
                ious = []
                for k in range(b):
                    x, y, sw, sh = p[k * 5: k * 5 + 4]
                    cx, cy, w, h = (x + j) / s * size, (y + i) / s * size, sw**2 * size, sh**2 * size
                    iw = max(0, min(cx + w / 2, box[2]) - max(cx - w / 2, box[0]))
                    ih = max(0, min(cy + h / 2, box[3]) - max(cy - h / 2, box[1]))
                    inter = iw * ih
                    ious.append(inter / (w * h + (box[2] - box[0]) * (box[3] - box[1]) - inter))
                r = int(np.argmax(ious))
                for k in range(b):
                    conf = p[k * 5 + 4]
                    if k == r:
                        x, y, sw, sh = p[k * 5: k * 5 + 4]
                        total += l_coord * ((x - tx) ** 2 + (y - ty) ** 2)
                        total += l_coord * ((sw - tw) ** 2 + (sh - th) ** 2)
                        total += (conf - ious[k]) ** 2
                    else:
                        total += l_noobj * conf**2
                total += sum((p[b * 5 + q] - (q == label)) ** 2 for q in range(c))
    return total / len(pred)


def test_loss_is_equation_3():
    s, b, c, size = 2, 2, 3, 64
    model = get_model("yolo", input_shape=(size, size, 3), grid=s, boxes_per_cell=b, classes=c,
                      width=0.125, fc_units=8)
    rng = np.random.default_rng(0)
    pred = rng.uniform(0.1, 0.9, size=(2, s, s, b * 5 + c)).astype("float32")
    boxes = np.array([[[4, 6, 30, 28], [10, 12, 20, 22], [40, 36, 60, 62]],  # two share a cell
                      [[33, 2, 63, 20], [0, 0, 0, 0], [0, 0, 0, 0]]], "float32")
    labels = np.array([[2, 0, 1], [1, -1, -1]])
    loss = model.compute_loss(y={"boxes": boxes, "labels": labels}, y_pred=pred)
    assert float(to_numpy(loss)) == pytest.approx(reference_loss(pred, boxes, labels, s, b, c, size),
                                                  rel=1e-5)


def test_decode_turns_the_grid_into_boxes_and_suppresses_duplicates():
    s, b, c, size = 2, 2, 3, 64
    model = get_model("yolo", input_shape=(size, size, 3), grid=s, boxes_per_cell=b, classes=c,
                      width=0.125, fc_units=8)
    outputs = np.zeros((1, s, s, b * 5 + c), "float32")
    # Cell (row 1, column 0): a box centred at (0.5, 0.5) of the cell, 16 x 32 pixels,
    # predicted twice (the second slightly shifted and less confident); class 2.
    outputs[0, 1, 0, 0:5] = [0.5, 0.5, np.sqrt(16 / 64), np.sqrt(32 / 64), 0.9]
    outputs[0, 1, 0, 5:10] = [0.55, 0.5, np.sqrt(16 / 64), np.sqrt(32 / 64), 0.8]
    outputs[0, 1, 0, 10:] = [0.0, 0.02, 0.9]
    found = model.decode(outputs, score_threshold=0.05)[0]
    np.testing.assert_allclose(found["boxes"], [[8, 32, 24, 64]], atol=1e-4)
    np.testing.assert_allclose(found["scores"], [0.81], atol=1e-6)
    np.testing.assert_array_equal(found["labels"], [2])


def test_yolo_trains_on_shapes_and_reports_map(tmp_path):
    """A short run picks the detection task of ``shapes``, lowers the loss, and its test
    mAP@0.5 is that of the best checkpoint's decoded boxes."""
    from keras_dlbasic import load_model, training
    from keras_dlbasic.data import load_dataset
    from keras_dlbasic.io import read_csv
    from keras_dlbasic.metrics import mean_average_precision

    config = training.resolve_config("yolo", epochs=2, limit=96, batch_size=16,
                                     model_kwargs={"width": 0.125, "fc_units": 16})
    run = tmp_path / "run"
    metrics = training.train(config, run, verbose=0)
    history = read_csv(run / "history.csv")
    assert float(history[-1]["loss"]) < float(history[0]["loss"])
    x, y = load_dataset("shapes").limit(96).arrays("test")
    best = load_model(run / "best.keras")
    found = best.decode(predict(best, x))
    truth = [{"boxes": b, "labels": l} for b, l in zip(y["boxes"], y["labels"])]
    assert metrics["test_map50"] == pytest.approx(mean_average_precision(found, truth, 3)[0])
    assert (run / "detections.png").stat().st_size > 1000


def test_predictors_start_on_their_cells():
    """The output bias (``cell_prior``) makes every predictor its own cell's square, so the
    first confidence targets (IoUs with the objects) are not all 0; the untrained network's
    outputs stay near it (a small last layer)."""
    from keras_dlbasic.models.yolo import cell_prior

    from conftest import small_model

    model = small_model("yolo")
    s, b, c = model.grid, model.boxes_per_cell, model.classes
    prior = cell_prior(s, b, c)
    assert prior.shape == (b * 5 + c,)
    np.testing.assert_allclose(prior[b * 5:], 1 / c)
    import keras

    grid = np.broadcast_to(prior, (1, s, s, b * 5 + c))
    boxes = to_numpy(model._pixel_boxes(keras.ops.convert_to_tensor(
        grid[..., : b * 5].reshape(1, s, s, b, 5))))
    cell = model.image_size[0] / s  # 8 pixels
    rows, cols = np.meshgrid(np.arange(s), np.arange(s), indexing="ij")
    expected = np.stack([cols * cell, rows * cell, (cols + 1) * cell, (rows + 1) * cell], -1)
    for j in range(b):
        np.testing.assert_allclose(boxes[0, :, :, j], expected, atol=1e-4)
    images = np.random.default_rng(0).random((2, *model.input_shape[1:]), np.float32)
    assert np.abs(predict(model, images) - prior).mean() < 0.05
