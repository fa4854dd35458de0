"""Training runs: ``keras.Model.fit`` with a run directory that survives crashes.

A run directory holds:

    config.json    the resolved configuration (CLI options -> recipe -> builder)
    history.csv    one row per finished epoch
    last.keras     model and optimizer state after the last finished epoch
    best.keras     the epoch with the best validation accuracy
    state.json     epochs finished and the best validation accuracy so far
    metrics.json   test metrics of best.keras, time and parameter count
    curves.png     loss and accuracy curves

Every file is written aside and renamed into place, so a run killed
mid-epoch loses at most that epoch; ``resume`` continues after the last
finished one.
"""
import dataclasses
import math
import pathlib
import time

import keras
import numpy as np

from keras_dlbasic.backend import current_backend
from keras_dlbasic.data import dataset_info, load_dataset
from keras_dlbasic.data.synthetic import PAD
from keras_dlbasic.errors import DLBasicError, ModelArgumentError, TrainingDivergedError
from keras_dlbasic.io import atomic_path, read_csv, read_json, write_csv, write_json
from keras_dlbasic.registry import get_model, load_model, model_info

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
SCHEDULES = ("constant", "cosine")
DEFAULT_RECIPE = {"epochs": 3, "batch_size": 32, "lr": 1e-3, "schedule": "constant"}


@dataclasses.dataclass
class TrainConfig:
    model: str
    dataset: str
    epochs: int
    batch_size: int
    lr: float
    schedule: str = "constant"
    seed: int = 0
    precision: str = "float32"
    data_dir: str = None
    limit: int = None
    backend: str = ""
    model_kwargs: dict = dataclasses.field(default_factory=dict)


def resolve_config(model, dataset=None, epochs=None, batch_size=None, lr=None, schedule=None,
                   seed=None, precision=None, data_dir=None, limit=None, model_kwargs=None):
    """Fill unset options from the model's recipe (for that dataset) and validate them.

    Precedence: the options given here, then the model's ``dataset_recipes``
    entry for the dataset, then its ``recipe``, then ``DEFAULT_RECIPE``.
    """
    spec = model_info(model)
    dataset = dataset or spec.dataset
    recipe = {**DEFAULT_RECIPE, **spec.recipe, **spec.dataset_recipes.get(dataset, {})}
    given = {k: v for k, v in (model_kwargs or {}).items() if v is not None}
    config = TrainConfig(
        model=spec.name,
        dataset=dataset,
        epochs=recipe["epochs"] if epochs is None else epochs,
        batch_size=recipe["batch_size"] if batch_size is None else batch_size,
        lr=recipe["lr"] if lr is None else lr,
        schedule=schedule or recipe["schedule"],
        seed=0 if seed is None else seed,
        precision=precision or "float32",
        data_dir=data_dir,
        limit=limit,
        backend=current_backend(),
        model_kwargs={**recipe.get("model_kwargs", {}), **given},
    )
    dataset_info(config.dataset)
    for field in ("epochs", "batch_size"):
        if getattr(config, field) < 1:
            raise ModelArgumentError(f"{field} must be at least 1; got {getattr(config, field)}")
    if config.limit is not None and config.limit < 1:
        raise ModelArgumentError(f"limit must be at least 1; got {config.limit}")
    if not config.lr > 0:
        raise ModelArgumentError(f"lr must be positive; got {config.lr}")
    if config.schedule not in SCHEDULES:
        raise ModelArgumentError(
            f"unknown schedule '{config.schedule}'; choose one of {', '.join(SCHEDULES)}"
        )
    if config.precision not in PRECISIONS:
        raise ModelArgumentError(
            f"unknown precision '{config.precision}'; choose one of {', '.join(PRECISIONS)}"
        )
    return config


def default_run_dir(config, root="runs"):
    return pathlib.Path(root) / f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


class RunRecorder(keras.callbacks.Callback):
    """Checkpoints, history and NaN detection for one run.

    At the end of each finished epoch: ``last.keras``, ``best.keras`` when the
    validation accuracy improved, ``history.csv`` and then ``state.json``. A
    non-finite batch loss stops training and nothing of that epoch is saved.
    """

    def __init__(self, run_dir, history, best_score):
        super().__init__()
        self.run_dir = run_dir
        self.history = history
        self.best_score = best_score
        self.diverged = None  # (epoch, batch, loss) of the first non-finite loss
        self._epoch = 0
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss) and self.diverged is None:
            self.diverged = (self._epoch, batch, loss)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged is not None:
            return  # keep the last good checkpoint
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()},
               "seconds": round(time.perf_counter() - self._epoch_start, 3)}
        self.history.append(row)
        save_model(self.model, self.run_dir / "last.keras")
        score = validation_score(row)
        if self.best_score is None or score > self.best_score:
            self.best_score = score
            save_model(self.model, self.run_dir / "best.keras")
        write_csv(self.run_dir / "history.csv", self.history)
        write_json(self.run_dir / "state.json",
                   {"epochs_done": epoch + 1, "best_score": self.best_score})


# Model task -> the dataset kinds it can train on (see ``keras_dlbasic.data``).
TASK_DATA = {
    "image-classification": ("classification",),
    "sequence-classification": ("classification", "regression"),
    "sequence-to-sequence": ("seq2seq",),
}


def validation_score(row):
    """Higher is better: validation accuracy where there is one, else minus the loss."""
    for key in ("val_accuracy", "val_token_accuracy"):
        if key in row:
            return row[key]
    return -row["val_loss"]


def save_model(model, path):
    """``model.save`` written aside and renamed, so ``path`` is never half-written."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def learning_rate(config, train_examples):
    """Adam's learning rate for a run: ``config.lr`` throughout (``"constant"``), or
    ``"cosine"``: decayed from ``config.lr`` to 0 over all the run's steps along
    half a cosine (Loshchilov & Hutter 2017, without restarts), as torchvision's
    reference recipes do. The step count is saved with the optimizer, so a
    resumed run continues the same curve.
    """
    if config.schedule == "constant":
        return config.lr
    steps = config.epochs * math.ceil(train_examples / config.batch_size)
    return keras.optimizers.schedules.CosineDecay(config.lr, decay_steps=steps)


def compile_for_task(model, kind, lr):
    """Compile ``model`` with the loss and metrics of a dataset ``kind``.

    ``lr`` is a float or a ``keras.optimizers.schedules`` schedule.

    * classification: cross-entropy, accuracy;
    * regression: mean squared error (the loss), mean absolute error;
    * seq2seq: per-token cross-entropy and accuracy, weighted by the
      ``sample_weight`` that ``fit_arrays`` gives (0 at padding).
    """
    from_logits = getattr(model.layers[-1], "activation", None) is keras.activations.linear
    optimizer = keras.optimizers.Adam(learning_rate=lr)
    if kind == "regression":
        model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    elif kind == "seq2seq":
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
        )
    elif kind == "classification":
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
            metrics=["accuracy"],
        )
    else:
        raise DLBasicError(f"no training recipe for dataset kind '{kind}'")


def fit_arrays(data, split):
    """``(x, y, sample_weight)`` of a split; the weight masks seq2seq padding, else None."""
    x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
    weight = (y != PAD).astype("float32") if data.kind == "seq2seq" else None
    return x, y, weight


def builder_kwargs(data):
    """What the data fixes about the model: input shape and classes, or the vocabulary."""
    if data.kind == "seq2seq":
        return {"vocab_size": data.num_classes}
    kwargs = {"input_shape": data.input_shape}
    if data.kind == "regression":
        kwargs.update(classes=1, classifier_activation="linear")
    else:
        kwargs["classes"] = data.num_classes
    if data.vocab_size:
        kwargs["vocab_size"] = data.vocab_size
    return kwargs


def resize_images(images, size, batch=512):
    """Bilinear resize of (N, H, W, C) images to ``size`` x ``size``, as numpy."""
    return np.concatenate([
        keras.ops.convert_to_numpy(
            keras.ops.image.resize(images[i:i + batch], (size, size), data_format="channels_last"))
        for i in range(0, len(images), batch)
    ])


def prepare_data(config):
    """The run's dataset, limited and shaped for the model's task.

    Sequence classifiers read each image row as one time step (N, H, W);
    image classifiers get images at least ``min_input_size`` on a side, in the
    current image data format.
    """
    data = load_dataset(config.dataset, config.data_dir)
    spec = model_info(config.model)
    if data.kind not in TASK_DATA.get(spec.task, ()):
        raise ModelArgumentError(
            f"{spec.name} ({spec.task}) cannot train on {config.dataset} ({data.kind} data); "
            f"its default dataset is {spec.dataset}"
        )
    if config.limit:
        data = data.limit(config.limit)
    images = data.kind == "classification" and data.x_train.ndim == 4
    if images and spec.task == "sequence-classification":
        data = data.map_inputs(lambda x: x[..., 0])  # (N, H, W, 1) -> (N, T=H, features=W)
    elif images:
        side = data.input_shape[0]
        if spec.min_input_size and side < spec.min_input_size:
            data = data.map_inputs(lambda x: resize_images(x, spec.min_input_size))
        if keras.config.image_data_format() == "channels_first":
            data = data.map_inputs(lambda x: np.transpose(x, (0, 3, 1, 2)))
    return data


def train(config, run_dir=None, verbose="auto"):
    """Start a new run of ``config``; returns the test metrics (also in metrics.json)."""
    run_dir = pathlib.Path(run_dir) if run_dir else default_run_dir(config)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise DLBasicError(
            f"run directory {run_dir} already exists; continue it with --resume {run_dir} "
            f"or choose another --output-dir"
        )
    return _fit(config, run_dir, state=None, verbose=verbose)


def load_run(run_dir):
    """The ``TrainConfig`` and state of an existing run directory."""
    run_dir = pathlib.Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise DLBasicError(f"no training run at {run_dir} (config.json not found)")
    config = TrainConfig(**read_json(run_dir / "config.json"))
    state_file = run_dir / "state.json"
    state = read_json(state_file) if state_file.is_file() else None
    return config, state


def resume(run_dir, epochs=None, verbose="auto"):
    """Continue a run after its last finished epoch (optionally to more ``epochs``)."""
    run_dir = pathlib.Path(run_dir)
    config, state = load_run(run_dir)
    if epochs is not None:
        config.epochs = epochs
        write_json(run_dir / "config.json", dataclasses.asdict(config))
    if state is not None and not (run_dir / "last.keras").is_file():
        raise DLBasicError(f"run {run_dir} has no last.keras checkpoint to resume from")
    return _fit(config, run_dir, state=state, verbose=verbose)


def _fit(config, run_dir, state, verbose):
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.precision)
    try:
        keras.utils.set_random_seed(config.seed)
        data = prepare_data(config)
        epochs_done = state["epochs_done"] if state else 0
        lr = learning_rate(config, len(data.y_train))
        if state:
            # Weights and optimizer state come from last.keras, the optimizer class does
            # not: keras 3.15 would rebuild the saving backend's optimizer (a torch Adam
            # cannot update TensorFlow variables), so compile afresh and load into it.
            model = load_model(run_dir / "last.keras", compile=False)
            compile_for_task(model, data.kind, lr)
            model.optimizer.build(model.trainable_variables)
            model.load_weights(run_dir / "last.keras")
            history = read_csv(run_dir / "history.csv")[:epochs_done]
        else:
            model = get_model(config.model, **{**builder_kwargs(data), **config.model_kwargs})
            compile_for_task(model, data.kind, lr)
            history = []
            # Only now, with data and model known to work, does the run directory appear.
            run_dir.mkdir(parents=True, exist_ok=True)
            write_json(run_dir / "config.json", dataclasses.asdict(config))
        recorder = RunRecorder(run_dir, history, state["best_score"] if state else None)
        start = time.perf_counter()
        if epochs_done < config.epochs:
            x, y, weight = fit_arrays(data, "train")
            model.fit(
                x, y, sample_weight=weight,
                batch_size=config.batch_size,
                epochs=config.epochs,
                initial_epoch=epochs_done,
                validation_data=fit_arrays(data, "val"),
                callbacks=[recorder],
                verbose=verbose,
            )
        if recorder.diverged:
            epoch, batch, loss = recorder.diverged
            kept = (f"last.keras keeps epoch {epoch}" if recorder.history
                    else "no epoch finished, so no checkpoint was written")
            raise TrainingDivergedError(
                f"training diverged: loss became {loss} at epoch {epoch + 1}, step {batch + 1} "
                f"({kept}); try a smaller --lr"
            )
        metrics = evaluate_model(load_model(run_dir / "best.keras"), data)
        metrics.update(
            train_seconds=round(time.perf_counter() - start, 2),
            epochs=len(recorder.history),
            best_epoch=1 + max(range(len(recorder.history)),
                               key=lambda i: validation_score(recorder.history[i])),
            params=model.count_params(),
            backend=current_backend(),
        )
        write_json(run_dir / "metrics.json", metrics)
        from keras_dlbasic.plotting import plot_history

        plot_history(recorder.history, run_dir / "curves.png",
                     title=f"{config.model} on {config.dataset} ({current_backend()})")
        return metrics
    finally:
        keras.config.set_dtype_policy(policy)


def evaluate_model(model, data):
    """Test-set metrics of ``model`` on ``data`` as a plain dict.

    A seq2seq model is also decoded greedily, one token at a time from BOS as at
    inference: ``test_sequence_accuracy`` is the share of whole outputs that are
    exactly right (teacher-forced ``test_token_accuracy`` is easier).
    """
    x, y, weight = fit_arrays(data, "test")
    results = model.evaluate(x, y, sample_weight=weight, batch_size=256, verbose=0,
                             return_dict=True)
    metrics = {f"test_{k}": float(v) for k, v in results.items()}
    if data.kind == "seq2seq":
        from keras_dlbasic.data.synthetic import tokens_to_digits
        from keras_dlbasic.models.transformer import greedy_decode

        decoded = greedy_decode(model, x["encoder_tokens"], max_length=y.shape[1])
        exact = np.array(tokens_to_digits(decoded)) == np.array(tokens_to_digits(y))
        metrics["test_sequence_accuracy"] = float(exact.mean())
    return metrics


def evaluate_run(run_dir, checkpoint="best"):
    """Test metrics of a run directory's ``best`` or ``last`` checkpoint."""
    run_dir = pathlib.Path(run_dir)
    config, _ = load_run(run_dir)
    path = run_dir / f"{checkpoint}.keras"
    if not path.is_file():
        raise DLBasicError(f"run {run_dir} has no {path.name} (has training finished an epoch?)")
    keras.utils.set_random_seed(config.seed)
    return evaluate_model(load_model(path), prepare_data(config))
