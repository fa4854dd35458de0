"""SavedModel and ONNX export from the current backend, checked numerically.

``cnn`` goes through every check; the chapter models named in their issues
(ResNet-20, DenseNet-BC, a small GoogLeNet, FCN-8s, YOLO, LSTM, GRU, the Transformer
encoder, and the two-input Transformer) are exported in each format the
backend exports natively and compared with Keras.
"""
import keras
import numpy as np
import pytest

from keras_dlbasic import get_model
from keras_dlbasic.errors import DLBasicError, ExportError, MissingDependencyError
from keras_dlbasic.export import VIA_KERAS_FILE, export_model, run_artifact, sample_input

from conftest import predict, small_model


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    return get_model("cnn")


@pytest.mark.parametrize("fmt,name", [("savedmodel", "cnn_savedmodel"), ("onnx", "cnn.onnx")])
def test_export_matches_keras(model, fmt, name, tmp_path):
    report = export_model(model, tmp_path / name, fmt)
    assert report.path.exists() and report.max_abs_diff <= 1e-4
    via_file = (keras.backend.backend(), fmt) in VIA_KERAS_FILE
    assert report.route.startswith("via .keras" if via_file else "native")
    # The artifact is independently reloadable and agrees on a fresh input.
    x = sample_input(model, batch=3, seed=7)
    np.testing.assert_allclose(run_artifact(report.path, fmt, x),
                               predict(model, x), atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial files left


CHAPTER_MODELS = ["resnet20", "densenet_bc", "googlenet", "fcn8s", "yolo", "lstm", "gru",
                  "transformer_encoder", "transformer"]
# A format this backend exports through a .keras file (VIA_KERAS_FILE) is the TensorFlow
# backend's export of the reloaded file: the TensorFlow run checks it for every chapter
# model, test_models checks every .keras round trip, and cnn checks the route here.
NATIVE = [fmt for fmt in ("savedmodel", "onnx") if (keras.backend.backend(), fmt) not in VIA_KERAS_FILE]


@pytest.mark.parametrize("fmt", NATIVE)
@pytest.mark.parametrize("name", CHAPTER_MODELS)
def test_chapter_models_export(name, fmt, tmp_path):
    model = small_model(name)
    report = export_model(model, tmp_path / name, fmt)
    assert report.max_abs_diff <= 1e-4
    x = sample_input(model, batch=3, seed=7)
    np.testing.assert_allclose(run_artifact(report.path, fmt, x),
                               predict(model, x), atol=1e-4)


def test_existing_destination_needs_force(model, tmp_path):
    target = tmp_path / "cnn.onnx"
    target.write_text("keep me")
    with pytest.raises(DLBasicError, match="already exists; pass --force"):
        export_model(model, target, "onnx")
    assert target.read_text() == "keep me"
    export_model(model, target, "onnx", force=True)
    assert target.stat().st_size > 100_000


def test_mismatch_writes_nothing(model, tmp_path):
    with pytest.raises(ExportError, match="differs from the Keras model"):
        export_model(model, tmp_path / "cnn.onnx", "onnx", atol=-1.0)
    assert list(tmp_path.iterdir()) == []


def test_missing_onnxruntime_names_the_extra(model, tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def fake_import(name, *args):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    with pytest.raises(MissingDependencyError, match=r"keras-dlbasic\[onnx\]"):
        export_model(model, tmp_path / "cnn.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []
