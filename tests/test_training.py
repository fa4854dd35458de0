"""Training runs: run directory, reproducibility, resume after a crash, NaN stop."""
import dataclasses

import keras
import numpy as np
import pytest

from keras_dlbasic import training
from keras_dlbasic.data import load_dataset
from keras_dlbasic.errors import DLBasicError, ModelArgumentError, TrainingDivergedError
from keras_dlbasic.io import read_csv, read_json

RUN_FILES = {"config.json", "history.csv", "last.keras", "best.keras", "state.json",
             "metrics.json", "curves.png"}


def quick_config(**overrides):
    return training.resolve_config("cnn", **{"limit": 160, "epochs": 2, "batch_size": 32,
                                             **overrides})


def test_resolve_config_reads_recipe_and_validates():
    config = training.resolve_config("cnn")
    assert (config.dataset, config.epochs, config.batch_size) == ("mnist_5k", 3, 32)
    assert config.backend == keras.backend.backend()
    with pytest.raises(ModelArgumentError, match="epochs must be at least 1"):
        training.resolve_config("cnn", epochs=0)
    with pytest.raises(ModelArgumentError, match="unknown precision 'fp8'"):
        training.resolve_config("cnn", precision="fp8")
    with pytest.raises(DLBasicError, match="unknown dataset"):
        training.resolve_config("cnn", dataset="imagenet")


def test_run_directory_contents_and_loss_goes_down(tmp_path):
    metrics = training.train(quick_config(epochs=3), tmp_path / "run", verbose=0)
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == RUN_FILES
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1, 2]
    assert history[-1]["loss"] < history[0]["loss"]
    assert read_json(run / "state.json")["epochs_done"] == 3
    assert read_json(run / "metrics.json") == metrics
    assert metrics["params"] == 225_034 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # best.keras reloads and reproduces the recorded test metrics.
    evaluated = training.evaluate_run(run)
    assert evaluated["test_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_seeded_runs_are_reproducible(tmp_path):
    first = training.train(quick_config(epochs=1), tmp_path / "a", verbose=0)
    second = training.train(quick_config(epochs=1), tmp_path / "b", verbose=0)
    assert read_csv(tmp_path / "a" / "history.csv")[0]["loss"] == pytest.approx(
        read_csv(tmp_path / "b" / "history.csv")[0]["loss"], rel=1e-5)
    assert first["test_loss"] == pytest.approx(second["test_loss"], rel=1e-5)


def test_existing_run_directory_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    with pytest.raises(DLBasicError, match="already exists"):
        training.train(quick_config(), tmp_path / "run", verbose=0)
    assert (tmp_path / "run" / "keep.txt").read_text() == "mine"


def test_bad_input_shape_leaves_no_run_directory(tmp_path):
    config = training.resolve_config("cnn", dataset="digits_8x8", epochs=1)
    with pytest.raises(ModelArgumentError, match="at least 10x10"):
        training.train(config, tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_crash_mid_epoch_then_resume(tmp_path, monkeypatch):
    run = tmp_path / "run"
    original = training.RunRecorder.on_train_batch_end

    def crash_in_second_epoch(self, batch, logs=None):
        original(self, batch, logs)
        if self._epoch == 1 and batch == 2:
            raise KeyboardInterrupt  # stands in for a kill in the middle of epoch 2

    monkeypatch.setattr(training.RunRecorder, "on_train_batch_end", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        training.train(quick_config(epochs=3), run, verbose=0)
    assert read_json(run / "state.json")["epochs_done"] == 1
    assert len(read_csv(run / "history.csv")) == 1
    assert not [p for p in run.iterdir() if "partial" in p.name]
    keras.saving.load_model(run / "last.keras")  # a complete checkpoint

    monkeypatch.setattr(training.RunRecorder, "on_train_batch_end", original)
    metrics = training.resume(run, verbose=0)
    assert [row["epoch"] for row in read_csv(run / "history.csv")] == [0, 1, 2]
    assert metrics["epochs"] == 3


def test_resume_of_missing_run_is_an_error(tmp_path):
    with pytest.raises(DLBasicError, match="no training run at"):
        training.resume(tmp_path / "nothing", verbose=0)


def test_nan_loss_stops_the_run(tmp_path, monkeypatch):
    def poisoned(name, data_dir=None):
        data = load_dataset(name, data_dir).limit(96)
        x = data.x_train.copy()
        x[40:] = np.nan  # the second batch and later produce a NaN loss
        return dataclasses.replace(data, x_train=x)

    monkeypatch.setattr(training, "load_dataset", poisoned)
    with pytest.raises(TrainingDivergedError, match="loss became nan at epoch 1, step .*no epoch finished"):
        training.train(quick_config(epochs=2), tmp_path / "run", verbose=0)
    assert not (tmp_path / "run" / "last.keras").exists()
    assert not (tmp_path / "run" / "state.json").exists()


def test_mixed_precision_run(tmp_path):
    metrics = training.train(quick_config(epochs=1, precision="mixed_bfloat16"),
                             tmp_path / "run", verbose=0)
    assert np.isfinite(metrics["test_loss"])
    assert keras.config.dtype_policy().name == "float32"  # restored afterwards
