"""Training runs: run directory, reproducibility, resume after a crash, NaN stop, tasks."""
import dataclasses
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_dlbasic import training
from keras_dlbasic.data import load_dataset
from keras_dlbasic.errors import DLBasicError, ModelArgumentError, TrainingDivergedError
from keras_dlbasic.io import read_csv, read_json
from keras_dlbasic.recipe import Recipe

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
    with pytest.raises(ModelArgumentError, match="unknown schedule 'step'"):
        training.resolve_config("cnn", schedule="step")
    with pytest.raises(ModelArgumentError, match="unknown precision 'fp8'"):
        training.resolve_config("cnn", precision="fp8")
    with pytest.raises(DLBasicError, match="unknown dataset"):
        training.resolve_config("cnn", dataset="imagenet")


def test_model_arguments_override_the_recipe_and_none_unsets_a_value():
    """``--model-arg min_snr_gamma=null`` reaches the builder as ``None``: Ho et al.'s
    plain loss instead of the recipe's min-SNR weighting; other recipe values stay."""
    recipe = training.resolve_config("ddpm").model_kwargs
    assert recipe["min_snr_gamma"] == 5.0
    config = training.resolve_config("ddpm", model_kwargs={"min_snr_gamma": None, "timesteps": 50})
    assert config.model_kwargs == {**recipe, "min_snr_gamma": None, "timesteps": 50}


def test_run_directory_contents_and_loss_goes_down(tmp_path):
    metrics = training.train(quick_config(epochs=3), tmp_path / "run", verbose=0)
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == RUN_FILES
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1, 2]
    assert history[-1]["loss"] < history[0]["loss"]
    assert read_json(run / "state.json")["epochs_done"] == 3
    assert read_json(run / "metrics.json") == metrics
    assert metrics["params"] == 225_034
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # best.keras reloads and reproduces the recorded test metrics, which are its own
    # predictions scored by hand.
    evaluated = training.evaluate_run(run)
    assert evaluated["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert metrics["test_accuracy"] == pytest.approx(hand_accuracy(run), abs=1e-6)


def hand_accuracy(run_dir):
    """Test accuracy of a run's best.keras, from its predictions."""
    config, _ = training.load_run(run_dir)
    data = training.prepare_data(config)
    scores = training.load_model(run_dir / "best.keras").predict(data.x_test, verbose=0)
    return float(np.mean(np.argmax(scores, axis=-1) == data.y_test))


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


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_crash_mid_epoch_then_resume(tmp_path, monkeypatch, schedule):
    run = tmp_path / "run"
    original = training.RunRecorder.on_train_batch_end

    def crash_in_second_epoch(self, batch, logs=None):
        original(self, batch, logs)
        if self._epoch == 1 and batch == 2:
            raise KeyboardInterrupt  # stands in for a kill in the middle of epoch 2

    monkeypatch.setattr(training.RunRecorder, "on_train_batch_end", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        training.train(quick_config(epochs=3, schedule=schedule), run, verbose=0)
    assert read_json(run / "state.json")["epochs_done"] == 1
    assert len(read_csv(run / "history.csv")) == 1
    assert not [p for p in run.iterdir() if "partial" in p.name]
    keras.saving.load_model(run / "last.keras")  # a complete checkpoint

    monkeypatch.setattr(training.RunRecorder, "on_train_batch_end", original)
    metrics = training.resume(run, verbose=0)
    assert [row["epoch"] for row in read_csv(run / "history.csv")] == [0, 1, 2]
    assert metrics["epochs"] == 3
    # The optimizer's step count survives the crash: 3 epochs of 160 / 32 = 5 steps, and
    # the cosine schedule ends at 0 on the run's last step.
    optimizer = keras.saving.load_model(run / "last.keras").optimizer
    assert int(optimizer.iterations) == 15
    final_lr = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    assert final_lr == pytest.approx(0.0 if schedule == "cosine" else 1e-3, abs=1e-9)


def test_resume_of_missing_run_is_an_error(tmp_path):
    with pytest.raises(DLBasicError, match="no training run at"):
        training.resume(tmp_path / "nothing", verbose=0)


def test_nan_loss_stops_the_run(tmp_path, monkeypatch):
    """NaN targets make the mean squared error NaN on every backend and kernel library
    (NaN inputs need not: oneDNN's traced max pooling ranks NaN below every number)."""
    def poisoned(name, data_dir=None):
        data = load_dataset(name, data_dir).limit(96)
        y = data.y_train.copy()
        y[40:] = np.nan  # fit shuffles: a NaN target is in the first batch or the next
        return dataclasses.replace(data, y_train=y)

    monkeypatch.setattr(training, "load_dataset", poisoned)
    config = training.resolve_config("gru", dataset="adding_problem", epochs=2, batch_size=32,
                                     model_kwargs={"units": 4})
    with pytest.raises(TrainingDivergedError, match=r"loss became nan at epoch 1, step \d+ .*no epoch finished"):
        training.train(config, tmp_path / "run", verbose=0)
    assert not (tmp_path / "run" / "last.keras").exists()
    assert not (tmp_path / "run" / "state.json").exists()


def test_mixed_precision_run(tmp_path):
    metrics = training.train(quick_config(epochs=1, precision="mixed_bfloat16"),
                             tmp_path / "run", verbose=0)
    assert np.isfinite(metrics["test_loss"])
    assert keras.config.dtype_policy().name == "float32"  # restored afterwards


def test_dataset_recipe_and_options_precedence():
    config = training.resolve_config("lstm", dataset="adding_problem")
    assert (config.epochs, config.lr, config.model_kwargs) == (20, 1e-2, {"units": 32})
    config = training.resolve_config("lstm", dataset="adding_problem", lr=5e-3, model_kwargs={"units": 8})
    assert (config.lr, config.model_kwargs) == (5e-3, {"units": 8})
    assert training.resolve_config("lstm").model_kwargs == {}  # the default dataset keeps the recipe


def test_regression_and_seq2seq_runs(tmp_path):
    config = training.resolve_config("gru", dataset="adding_problem", epochs=1, limit=64,
                                     model_kwargs={"units": 4})
    adding = training.train(config, tmp_path / "adding", verbose=0)
    assert adding["test_loss"] > 0 and "test_mae" in adding and "test_accuracy" not in adding
    tiny = {"d_model": 16, "num_heads": 2, "d_ff": 32, "encoder_layers": 1, "decoder_layers": 1}
    config = training.resolve_config("transformer", epochs=1, limit=64, model_kwargs=tiny)
    reversal = training.train(config, tmp_path / "reversal", verbose=0)
    # Whole sequences from greedy decoding, scored by hand.
    from keras_dlbasic.chapters.ch05 import greedy_decode
    from keras_dlbasic.data.synthetic import tokens_to_digits

    data = training.prepare_data(config)
    decoded = greedy_decode(training.load_model(tmp_path / "reversal" / "best.keras"),
                            data.x_test["encoder_tokens"], max_length=data.y_test.shape[1])
    exact = np.mean(np.array(tokens_to_digits(decoded)) == np.array(tokens_to_digits(data.y_test)))
    assert reversal["test_sequence_accuracy"] == pytest.approx(exact)
    assert reversal["test_sequence_accuracy"] <= reversal["test_token_accuracy"]


def test_model_cannot_train_on_another_kind_of_data(tmp_path):
    with pytest.raises(DLBasicError, match=r"cnn \(classification\) cannot train on "
                                           r"adding_problem \(regression data\)"):
        training.train(training.resolve_config("cnn", dataset="adding_problem"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_recurrent_model_trains_on_imdb_word_ids(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    from keras_dlbasic.data import tfds as tfds_loader

    monkeypatch.setattr(tfds_loader, "network_available", lambda: True)
    config = training.resolve_config("gru", dataset="imdb_reviews", epochs=1, batch_size=8,
                                     data_dir=str(tmp_path / "tfds"),
                                     model_kwargs={"units": 4, "embedding_dim": 4})
    with tfds.testing.mock_data(num_examples=16):
        metrics = training.train(config, tmp_path / "run", verbose=0)
        assert metrics["test_accuracy"] == pytest.approx(hand_accuracy(tmp_path / "run"), abs=1e-6)
    model = training.load_model(tmp_path / "run" / "best.keras")
    assert model.get_layer("embedding").input_dim == tfds_loader.TEXT_VOCABULARY


def test_image_model_trains_on_digits_resized_to_its_minimum(tmp_path):
    """AlexNet needs 63x63: the 28x28 digits are resized, and the recipe's random crops
    train inside the model (flips only on CIFAR-10)."""
    config = training.resolve_config("alexnet", epochs=1, limit=64, batch_size=32,
                                     model_kwargs={"fc_units": 16, "filters": [8, 8, 8, 8, 8]})
    assert config.model_kwargs["augment"] == ["crop"]
    cifar = training.resolve_config("alexnet", dataset="cifar10")
    assert cifar.model_kwargs["augment"] == ["crop", "flip"]
    metrics = training.train(config, tmp_path / "run", verbose=0)
    model = keras.saving.load_model(tmp_path / "run" / "best.keras")
    assert model.input_shape[1:3] == (63, 63)
    assert "random_crop" in {layer.name for layer in model.layers}
    assert np.isfinite(metrics["test_loss"])


# --- Task types registered from outside the package ------------------------------------


def test_a_task_registered_from_outside_trains_end_to_end(tmp_path, monkeypatch):
    """A new kind of problem (is the digit odd?) is a Task subclass, a dataset of that
    kind and a model that lists it: no file of the package changes. Its metrics, its
    figure and its choice of best epoch all come from the task, and the run resumes."""
    from keras_dlbasic import registry, tasks
    from keras_dlbasic.data import DATASETS, DatasetSpec, dataset_info
    from keras_dlbasic.tasks.base import Task

    class Parity(Task):
        monitor = ("val_binary_accuracy", "max")

        def compile_kwargs(self, model):
            return {"loss": "binary_crossentropy", "metrics": ["binary_accuracy"]}

        def evaluate(self, model, data, batch_size=256):
            metrics = super().evaluate(model, data, batch_size)
            odd = model.predict(data.x_test, verbose=0)[:, 0] > 0.5
            metrics["test_predicted_odd_share"] = float(odd.mean())
            return metrics

        def figures(self, model, data, history, run_dir, title=""):
            super().figures(model, data, history, run_dir, title)
            (run_dir / "parity.txt").write_text(f"{len(history)} epochs\n")

    def load_parity(name, data_dir=None):
        digits = load_dataset("mnist_5k").limit(96)
        return dataclasses.replace(
            digits, name=name, kind="parity", num_classes=1,
            **{f"y_{s}": (getattr(digits, f"y_{s}") % 2).astype("float32")
               for s in ("train", "val", "test")})

    monkeypatch.setitem(tasks._TASKS, "parity", Parity)
    monkeypatch.setitem(DATASETS, "odd_digits", DatasetSpec(
        "odd_digits", "digits labelled odd/even", "bundled", load_parity, (28, 28, 1), 1,
        "96 / 96 / 96", kind="parity"))
    cnn = registry.model_info("cnn")
    monkeypatch.setitem(registry._MODELS, "parity_cnn", dataclasses.replace(
        cnn, name="parity_cnn", tasks=("parity",), dataset="odd_digits",
        kwargs={"classes": 1, "classifier_activation": "sigmoid"}))
    assert dataset_info("odd_digits").kind == "parity"

    config = training.resolve_config("parity_cnn", epochs=1, batch_size=32)
    training.train(config, tmp_path / "run", verbose=0)
    metrics = training.resume(tmp_path / "run", epochs=2, verbose=0)
    history = read_csv(tmp_path / "run" / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1]
    assert {"test_binary_accuracy", "test_predicted_odd_share"} <= set(metrics)
    assert metrics["best_epoch"] == 1 + max(range(2), key=lambda i: history[i]["val_binary_accuracy"])
    assert (tmp_path / "run" / "parity.txt").read_text() == "2 epochs\n"
    model = training.load_model(tmp_path / "run" / "best.keras")
    assert model.output_shape == (None, 1)


def test_extra_callbacks_and_another_optimizer(tmp_path):
    class CountEpochs(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            CountEpochs.epochs += 1

    def sgd(config, steps_per_epoch):
        return keras.optimizers.SGD(learning_rate=config.lr, momentum=0.9)

    training.train(quick_config(epochs=2), tmp_path / "run", verbose=0,
                   callbacks=[CountEpochs()], optimizer=sgd)
    assert CountEpochs.epochs == 2
    assert isinstance(keras.saving.load_model(tmp_path / "run" / "last.keras").optimizer,
                      keras.optimizers.SGD)
    training.resume(tmp_path / "run", epochs=3, verbose=0, optimizer=sgd)
    optimizer = keras.saving.load_model(tmp_path / "run" / "last.keras").optimizer
    assert isinstance(optimizer, keras.optimizers.SGD) and int(optimizer.iterations) == 15


def test_run_resumes_on_another_backend(tmp_path):
    """The first epoch trains on another backend in a subprocess; this backend picks the
    run up from last.keras: the history continues and the optimizer's step count too."""
    backends = ("tensorflow", "jax", "torch")
    other = backends[(backends.index(keras.backend.backend()) + 1) % 3]
    run = tmp_path / "run"
    code = ("from keras_dlbasic import training\n"
            "config = training.resolve_config('cnn', limit=160, epochs=1, batch_size=32)\n"
            f"training.train(config, {str(run)!r}, verbose=0)\n")
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    first = read_csv(run / "history.csv")
    assert training.load_run(run)[0].backend == other
    metrics = training.resume(run, epochs=2, verbose=0)
    history = read_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1] and history[0] == first[0]
    assert metrics["backend"] == keras.backend.backend() and metrics["epochs"] == 2
    assert int(keras.saving.load_model(run / "last.keras").optimizer.iterations) == 10


def test_recipes_are_typed_and_refuse_unknown_keys(tmp_path):
    assert Recipe.from_dict({"epochs": 2}).replace(lr=None, batch_size=8) == Recipe(2, 8)
    with pytest.raises(ModelArgumentError, match="unknown recipe key 'epoch'; did you mean "
                                                 "epochs.*valid keys: epochs, batch_size"):
        Recipe.from_dict({"epoch": 3})
    for bad, message in [({"lr": 0}, "lr must be a positive number"),
                         ({"batch_size": 2.5}, "batch_size must be at least 1"),
                         ({"schedule": "step"}, "unknown schedule 'step'"),
                         ({"beta_1": 1.0}, r"beta_1 must be in \[0, 1\)")]:
        with pytest.raises(ModelArgumentError, match=message):
            Recipe(**bad)
    # A recipe's beta_1 reaches the run's Adam: DCGAN's 0.5 for the GAN, 0.9 elsewhere.
    gan, cnn = (training.resolve_config(name) for name in ("gan", "cnn"))
    assert (gan.beta_1, cnn.beta_1) == (0.5, 0.9)
    assert float(training.default_optimizer(gan, 10).beta_1) == 0.5
    with pytest.raises(ModelArgumentError, match="gru: unknown argument 'unit'; did you mean units"):
        training.train(training.resolve_config("gru", model_kwargs={"unit": 8}), tmp_path / "run",
                       verbose=0)
    assert not (tmp_path / "run").exists()


def test_a_chapter_run_with_tuple_arguments_resumes(tmp_path):
    """``train_or_resume`` (the chapter scripts' way to train) continues a run whose builder
    arguments hold a tuple, which config.json gives back as a list, and refuses another run."""
    from keras_dlbasic.chapters.runs import train_or_resume
    from keras_dlbasic.errors import DLBasicError

    config = quick_config(limit=64, epochs=1, model_kwargs={"filters": (4, 8), "hidden_units": 8})
    train_or_resume(config, tmp_path / "cnn")
    curve = train_or_resume(dataclasses.replace(config, epochs=2), tmp_path / "cnn")
    assert len(curve.loss) == 2
    with pytest.raises(DLBasicError, match="holds a different run .*filters"):
        train_or_resume(dataclasses.replace(config, model_kwargs={"filters": (4, 4), "hidden_units": 8}),
                        tmp_path / "cnn")
