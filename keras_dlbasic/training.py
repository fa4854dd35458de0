"""Training runs: ``keras.Model.fit`` with a run directory that survives crashes.

A run directory holds:

    config.json    the resolved configuration (CLI options -> recipe -> builder)
    history.csv    one row per finished epoch
    last.keras     model and optimizer state after the last finished epoch
    best.keras     the epoch with the best validation score (the task's ``monitor``)
    state.json     epochs finished and the best validation score so far
    metrics.json   test metrics of best.keras, time and parameter count
    *.png          the task's figures (curves.png at least)

Every file is written aside and renamed into place, so a run killed
mid-epoch loses at most that epoch; ``resume`` continues after the last
finished one.

What differs between kinds of problem (loss, metrics, targets, evaluation,
figures) is asked of the run's task (``keras_dlbasic.tasks``), chosen by the
dataset's ``kind``; this module names no model, dataset or task.
"""
import dataclasses
import math
import pathlib
import time

import keras

from keras_dlbasic.backend import current_backend
from keras_dlbasic.data import dataset_info, load_dataset
from keras_dlbasic.distribute import chief_process, distribution_scope
from keras_dlbasic.errors import DLBasicError, ModelArgumentError, TrainingDivergedError
from keras_dlbasic.io import atomic_path, read_csv, write_csv, write_json
from keras_dlbasic.recipe import TrainConfig, load_run, resolve_config
from keras_dlbasic.registry import get_model, load_model, model_info
from keras_dlbasic.tasks import get_task

__all__ = ["TrainConfig", "resolve_config", "train", "resume", "load_run", "evaluate_run",
           "prepare_data", "default_run_dir"]


def default_run_dir(config, root="runs"):
    return pathlib.Path(root) / f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


class RunRecorder(keras.callbacks.Callback):
    """Checkpoints, history and NaN detection for one run.

    At the end of each finished epoch: ``last.keras``, ``best.keras`` when the
    task's validation score improved, ``history.csv`` and then ``state.json``.
    A non-finite batch loss stops training and nothing of that epoch is saved.
    """

    def __init__(self, run_dir, task, history, best_score):
        super().__init__()
        self.run_dir = run_dir
        self.task = task
        self.history = history
        self.best_score = best_score
        self.diverged = None  # (epoch, batch, name, value) of the first non-finite loss
        self._epoch = 0
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        """Stop at the first non-finite loss: ``loss``, or each loss a model with its own
        training step logs (a GAN's ``d_loss`` and ``g_loss``)."""
        for key, value in (logs or {}).items():
            if (key == "loss" or key.endswith("_loss")) and not math.isfinite(float(value)):
                if self.diverged is None:
                    self.diverged = (self._epoch, batch, key, float(value))
                    self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged is not None:
            return  # keep the last good checkpoint
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()},
               "seconds": round(time.perf_counter() - self._epoch_start, 3)}
        self.history.append(row)
        save_model(self.model, self.run_dir / "last.keras")
        score = self.task.validation_score(row)
        if self.best_score is None or score > self.best_score:
            self.best_score = score
            save_model(self.model, self.run_dir / "best.keras")
        write_csv(self.run_dir / "history.csv", self.history)
        write_json(self.run_dir / "state.json",
                   {"epochs_done": epoch + 1, "best_score": self.best_score})


def save_model(model, path):
    """``model.save`` written aside and renamed, so ``path`` is never half-written."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def learning_rate(config, steps_per_epoch):
    """Adam's learning rate for a run: ``config.lr`` throughout (``"constant"``), or
    ``"cosine"``: decayed from ``config.lr`` to 0 over all the run's steps along
    half a cosine (Loshchilov & Hutter 2017, without restarts), as torchvision's
    reference recipes do. The step count is saved with the optimizer, so a
    resumed run continues the same curve.
    """
    if config.schedule == "constant":
        return config.lr
    return keras.optimizers.schedules.CosineDecay(config.lr, decay_steps=config.epochs * steps_per_epoch)


def default_optimizer(config, steps_per_epoch):
    """Adam at the run's learning rate (or schedule) and ``beta_1``."""
    return keras.optimizers.Adam(learning_rate=learning_rate(config, steps_per_epoch),
                                 beta_1=config.beta_1)


def steps_per_epoch(inputs):
    """Batches in one epoch of ``fit(**inputs)``: a stream's own count, else examples / batch size."""
    if isinstance(inputs["x"], keras.utils.PyDataset):
        return inputs["x"].num_batches
    return math.ceil(len(keras.tree.flatten(inputs["x"])[0]) / inputs["batch_size"])


def task_for(config):
    """The run's task: the model's first task that its dataset's kinds include."""
    spec, dataset = model_info(config.model), dataset_info(config.dataset)
    kind = next((k for k in spec.tasks if k in dataset.kinds), None)
    if kind is None:
        raise ModelArgumentError(
            f"{spec.name} ({', '.join(spec.tasks)}) cannot train on {config.dataset} "
            f"({', '.join(dataset.kinds)} data); its default dataset is {spec.dataset}"
        )
    task = get_task(kind)
    task.configure(config.model_kwargs)
    return task


def prepare_data(config, task=None):
    """The run's dataset, limited and shaped for the model by its task."""
    task = task or task_for(config)
    data = load_dataset(config.dataset, config.data_dir)
    if config.limit:
        data = data.limit(config.limit)
    return task.prepare(data, model_info(config.model))


def train(config, run_dir=None, verbose="auto", callbacks=(), optimizer=None):
    """Start a new run of ``config``; returns the test metrics (also in metrics.json).

    Args:
        config: a ``TrainConfig`` (see ``resolve_config``).
        run_dir: the run directory (default ``runs/MODEL-DATASET-TIME``); it
            must not hold anything yet, and appears only once the model is built.
        verbose: passed to ``fit`` (``"auto"``: Keras's progress bar).
        callbacks: more ``keras.callbacks.Callback`` objects for ``fit``.
        optimizer: a ``keras.optimizers.Optimizer``, or a function of
            ``(config, steps_per_epoch)`` returning one, used instead of Adam at
            ``config.lr``. A resumed run restores the optimizer state into the
            same kind of optimizer, so pass the same ``optimizer`` to ``resume``.
    """
    run_dir = pathlib.Path(run_dir) if run_dir else default_run_dir(config)
    if chief_process() and run_dir.exists() and any(run_dir.iterdir()):
        raise DLBasicError(
            f"run directory {run_dir} already exists; continue it with --resume {run_dir} "
            f"or choose another --output-dir"
        )
    return _fit(config, run_dir, None, verbose, callbacks, optimizer)


def resume(run_dir, epochs=None, verbose="auto", callbacks=(), optimizer=None):
    """Continue a run after its last finished epoch (optionally to more ``epochs``)."""
    run_dir = pathlib.Path(run_dir)
    config, state = load_run(run_dir)
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
        config.recipe()  # validates the new epoch count
    if state is not None and not (run_dir / "last.keras").is_file():
        raise DLBasicError(f"run {run_dir} has no last.keras checkpoint to resume from")
    return _fit(config, run_dir, state, verbose, callbacks, optimizer)


def checkpoint_for_evaluation(task, path):
    """A checkpoint compiled with its task's loss and metrics, whichever backend saved it."""
    model = load_model(path, compile=False)
    task.compile(model, keras.optimizers.Adam())
    return model


def _fit(config, run_dir, state, verbose, callbacks, optimizer):
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.precision)
    try:
        with (distribution_scope(config.distribute, config.batch_size) as replicas,
              replicas.run_directory(run_dir) as own_dir):
            return _run(config, own_dir, state, verbose if replicas.chief else 0, callbacks,
                        optimizer, replicas)
    finally:
        keras.config.set_dtype_policy(policy)


def _run(config, run_dir, state, verbose, callbacks, optimizer, replicas):
    keras.utils.set_random_seed(config.seed)
    task = task_for(config)
    data = prepare_data(config, task)
    train_inputs = replicas.shard(task.fit_inputs(data, "train", config.batch_size))
    steps = steps_per_epoch(train_inputs)
    if callable(optimizer) and not isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = optimizer(config, steps)
    optimizer = optimizer or default_optimizer(config, steps)
    epochs_done = state["epochs_done"] if state else 0
    if state:
        # Weights and optimizer state come from last.keras, the optimizer class does
        # not: keras 3.15 would rebuild the saving backend's optimizer (a torch Adam
        # cannot update TensorFlow variables), so compile afresh and load into it.
        model = load_model(run_dir / "last.keras", compile=False)
        task.compile(model, optimizer)
        model.optimizer.build(model.trainable_variables)
        model.load_weights(run_dir / "last.keras")
        history = read_csv(run_dir / "history.csv")[:epochs_done]
    else:
        model = get_model(config.model, **{**task.builder_kwargs(data), **config.model_kwargs})
        task.compile(model, optimizer)
        history = []
        # Only now, with data and model known to work, does the run directory appear.
        run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "config.json", dataclasses.asdict(config))  # resume may add epochs
    recorder = RunRecorder(run_dir, task, history, state["best_score"] if state else None)
    start = time.perf_counter()
    if epochs_done < config.epochs:
        val = task.fit_inputs(data, "val", config.batch_size)
        model.fit(
            **train_inputs,
            epochs=config.epochs,
            initial_epoch=epochs_done,
            validation_data=(val["x"], val["y"], val["sample_weight"]) if "y" in val else val["x"],
            callbacks=[*replicas.callbacks(), recorder, *task.callbacks(run_dir), *callbacks],
            verbose=verbose,
        )
    if recorder.diverged:
        epoch, batch, name, loss = recorder.diverged
        kept = (f"last.keras keeps epoch {epoch}" if recorder.history
                else "no epoch finished, so no checkpoint was written")
        raise TrainingDivergedError(
            f"training diverged: {name} became {loss} at epoch {epoch + 1}, step {batch + 1} "
            f"({kept}); try a smaller --lr"
        )
    metrics = task.evaluate(checkpoint_for_evaluation(task, run_dir / "best.keras"), data)
    metrics.update(
        train_seconds=round(time.perf_counter() - start, 2),
        epochs=len(recorder.history),
        best_epoch=1 + max(range(len(recorder.history)),
                           key=lambda i: task.validation_score(recorder.history[i])),
        params=model.count_params(),
        backend=current_backend(),
        **({"replicas": replicas.count} if config.distribute != "none" else {}),
    )
    write_json(run_dir / "metrics.json", metrics)
    task.figures(model, data, recorder.history, run_dir,
                 title=f"{config.model} on {config.dataset} ({current_backend()})")
    return metrics


def evaluate_run(run_dir, checkpoint="best"):
    """Test metrics of a run directory's ``best`` or ``last`` checkpoint."""
    run_dir = pathlib.Path(run_dir)
    config, _ = load_run(run_dir)
    path = run_dir / f"{checkpoint}.keras"
    if not path.is_file():
        raise DLBasicError(f"run {run_dir} has no {path.name} (has training finished an epoch?)")
    keras.utils.set_random_seed(config.seed)
    task = task_for(config)
    return task.evaluate(checkpoint_for_evaluation(task, path), prepare_data(config, task))
