"""The ``Task`` interface: everything the trainer asks of a kind of problem.

The trainer (``keras_dlbasic.training``) knows runs, checkpoints and resume;
a task knows its problem. In the order a run uses them:

1. ``configure(model_kwargs)``: what the builder arguments tell the task, then
   ``prepare(data, spec)``: the dataset shaped for the model (images resized
   to the model's smallest input, digits read row by row by sequence models).
2. ``builder_kwargs(data)``: what the data fixes about the model (input
   shape, classes, vocabulary).
3. ``compile(model, optimizer)``: the loss and metrics. A model that defines
   its own ``compute_loss`` or ``train_step`` (a VAE, a GAN) gets only its
   optimizer from its task.
4. ``fit_inputs(data, split, batch_size)``: the keyword arguments of
   ``fit`` / ``evaluate`` for one split (inputs, targets, sample weights),
   and ``callbacks(run_dir)``: more callbacks for ``fit``.
5. ``validation_score(row)``: which epoch is best (higher is better).
6. ``evaluate(model, data)``: test metrics, ``model.evaluate`` and beyond
   (greedy decoding; mAP or sample quality in later chapters).
7. ``figures(model, data, history, run_dir, title)``: the PNGs a run saves.

``predict(model, images)`` and ``draw(image, prediction, path, title)`` serve
``dlbasic predict``: one JSON-able dict per image, and its picture.

Subclass ``Task``, override what differs, and register it with
``keras_dlbasic.tasks.register_task``.
"""
import keras
import numpy as np

from keras_dlbasic.data.streams import Stream
from keras_dlbasic.errors import DLBasicError


class Task:
    """A kind of learning problem, as the trainer sees it.

    Attributes:
        monitor: ``(history key, "max" | "min")`` that picks ``best.keras``.
    """

    monitor = ("val_loss", "min")

    # --- 1-2: data and model -------------------------------------------------------
    def prepare(self, data, spec):
        """``data`` shaped for the model of ``spec`` (a ``ModelSpec``).

        Images (N, H, W, C) are read row by row, (N, T=H, features=W), by a
        model with ``spec.inputs == "sequence"``; an image model gets them
        resized up to its ``min_input_size`` and in the current image data format.
        """
        if isinstance(data.input_shape, dict) or len(data.input_shape) != 3:
            return data
        if spec.inputs == "sequence":
            return data.map_inputs(lambda x: x[..., 0])
        if spec.min_input_size and data.input_shape[0] < spec.min_input_size:
            data = data.map_inputs(lambda x: resize_images(x, spec.min_input_size))
        if keras.config.image_data_format() == "channels_first":
            data = data.map_inputs(lambda x: np.transpose(x, (0, 3, 1, 2)))
        return data

    def configure(self, model_kwargs):
        """What the run's builder arguments (recipe and ``--model-arg``) tell the task
        before the model exists; nothing by default."""

    def builder_kwargs(self, data):
        """Builder arguments the data decides."""
        return {"input_shape": data.input_shape}

    # --- 3-4: compile and fit ------------------------------------------------------
    def compile(self, model, optimizer):
        """``model.compile`` with this task's loss and metrics."""
        model.compile(optimizer=optimizer, **self.compile_kwargs(model))

    def compile_kwargs(self, model):
        """Keyword arguments of ``model.compile`` besides the optimizer."""
        return {}

    def fit_inputs(self, data, split, batch_size):
        """Keyword arguments of ``fit`` / ``evaluate`` for ``split`` ("train", "val", "test").

        The default: ``x`` and ``y`` of the split, and ``sample_weight`` from
        ``sample_weight(y)``. A streamed split (``keras_dlbasic.data.streams``)
        becomes one ``PyDataset`` of ``(x, y, sample_weight)`` batches, the
        training split shuffled by the stream itself (a new order every
        epoch, drawn from numpy's seeded generator), not by Keras.
        """
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if isinstance(x, Stream):
            training = split == "train"
            batches = x.batches(batch_size, shuffle=training, seed=int(np.random.randint(2**31)),
                                sample_weight=self.sample_weight)
            return {"x": batches, **({"shuffle": False} if training else {})}
        y = self.targets(y)
        return {"x": x, "y": y, "sample_weight": self.sample_weight(y), "batch_size": batch_size}

    def targets(self, y):
        """What the loss compares with, from a split's targets: ``y`` itself, or this
        task's part of a dataset's dict of targets (a segmentation task's masks)."""
        return y

    def sample_weight(self, y):
        """Per-target weights for the loss and weighted metrics, or ``None``."""
        return None

    def callbacks(self, run_dir):
        """More ``keras.callbacks.Callback`` objects for ``fit`` (sample grids per epoch)."""
        return []

    # --- 5-7: scoring ---------------------------------------------------------------
    def validation_score(self, row):
        """Higher is better: the ``monitor`` value of one history row."""
        key, mode = self.monitor
        return row[key] if mode == "max" else -row[key]

    def evaluate(self, model, data, batch_size=256):
        """Test metrics as a flat dict of floats, keys starting with ``test_``."""
        results = model.evaluate(**self.fit_inputs(data, "test", batch_size), verbose=0,
                                 return_dict=True)
        return {f"test_{k}": float(v) for k, v in results.items()}

    def figures(self, model, data, history, run_dir, title=""):
        """Save the run's PNGs into ``run_dir``: the loss and metric curves."""
        from keras_dlbasic.plotting import plot_history

        plot_history(history, run_dir / "curves.png", title=title)

    # --- dlbasic predict --------------------------------------------------------------
    def predict(self, model, images, image_size=None):
        """One JSON-able dict per image of the batch ``images``; masks and boxes in the
        pixels of images of ``image_size`` (height, width), those the batch was resized
        from (default: the batch's own size)."""
        raise DLBasicError(f"{type(self).__name__} has no image prediction (dlbasic predict)")

    def draw(self, image, prediction, path, title=""):
        """Save ``prediction`` of ``image`` (H, W, C in [0, 1]) as a PNG at ``path``."""
        raise DLBasicError(f"{type(self).__name__} has no image prediction (dlbasic predict)")


def image_hw(images):
    """(height, width) of a batch of images in Keras's image data format."""
    shape = images.shape[2:4] if keras.config.image_data_format() == "channels_first" else images.shape[1:3]
    return tuple(int(d) for d in shape)


def resize_images(images, size, batch=512):
    """Bilinear resize of (N, H, W, C) images to ``size`` x ``size``, as numpy."""
    return np.concatenate([
        keras.ops.convert_to_numpy(
            keras.ops.image.resize(images[i:i + batch], (size, size), data_format="channels_last"))
        for i in range(0, len(images), batch)
    ])


def sparse_crossentropy(model):
    """Sparse categorical cross-entropy of ``model``'s outputs: on logits when its last
    layer has no activation, else on probabilities."""
    from_logits = getattr(model.layers[-1], "activation", None) is keras.activations.linear
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
