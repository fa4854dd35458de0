"""``dlbasic predict``: one image through a trained model, drawn as a PNG (and written as JSON);
``dlbasic sample``: images drawn from a generative run (chapter 6), as a grid and an array.

The model comes from a run directory (its ``best.keras``; the run's dataset names
its task), a ``.keras`` file or a registered name (untrained weights; its first
task). The image is read with Pillow, converted to the model's channels, resized to
its input size and scaled to [0, 1], as the bundled datasets are. What is predicted
and how it is drawn belongs to the task (``Task.predict`` / ``Task.draw``): class
scores for a classifier, a class map laid over the image for a segmenter, boxes for
a detector. Masks and boxes are given, and drawn, in the pixels of the image file
(``Task.predict``'s ``image_size``), not of the model's resized input.
"""
import pathlib

import numpy as np

from keras_dlbasic.errors import DLBasicError
from keras_dlbasic.io import write_json


def open_image(path, channels=3):
    """An image file as a Pillow image of ``channels`` (1: grey, 3: RGB), read into
    memory; an unreadable file is a one-line ``DLBasicError``."""
    from PIL import Image, UnidentifiedImageError

    path = pathlib.Path(path)
    if not path.is_file():
        raise DLBasicError(f"no such image: {path}")
    try:
        with Image.open(path) as image:
            return image.convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError) as err:
        raise DLBasicError(f"cannot read image {path}: {err}") from None


def pixels(image, height=None, width=None):
    """A Pillow image as float32 (H, W, channels) in [0, 1], resized (bilinear) to
    ``height`` x ``width`` where given."""
    from PIL import Image

    if height and width:
        image = image.resize((width, height), Image.BILINEAR)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[..., None] if array.ndim == 2 else array


def load_predictor(source):
    """``(model, task, name)`` from a run directory, a ``.keras`` file or a model name."""
    from keras_dlbasic.export import load_for_export
    from keras_dlbasic.registry import model_info
    from keras_dlbasic.tasks import get_task

    model, name = load_for_export(source)
    path = pathlib.Path(source)
    if path.is_dir():
        from keras_dlbasic.recipe import load_run
        from keras_dlbasic.training import task_for

        return model, task_for(load_run(path)[0]), name
    return model, get_task(model_info(name).tasks[0]), name


def predict_image(source, image_path, out_png, json_path=None):
    """Predict ``image_path`` with the model of ``source``; draw it to ``out_png`` and, with
    ``json_path``, write the prediction there. Returns the prediction (a JSON-able dict)."""
    model, task, name = load_predictor(source)
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4:
        raise DLBasicError(f"{name} does not take images; predict needs an image model")
    import keras

    _, height, width, channels = model.inputs[0].shape
    if keras.config.image_data_format() == "channels_first":
        _, channels, height, width = model.inputs[0].shape
    image = open_image(image_path, channels)  # read once: resized for the model, drawn as it is
    resized, original = pixels(image, height, width), pixels(image)
    batch = resized[None] if keras.config.image_data_format() == "channels_last" else (
        np.transpose(resized, (2, 0, 1))[None])
    prediction = task.predict(model, batch, image_size=original.shape[:2])[0]
    task.draw(original, prediction, out_png, title=f"{name}: {pathlib.Path(image_path).name}")
    if json_path:
        write_json(json_path, prediction)
    return prediction


def sample_images(run_dir, n, out_png, npz_path=None, seed=0, label=None):
    """Draw ``n`` images from the best checkpoint of the generative run ``run_dir``.

    Writes a grid PNG at ``out_png`` and, with ``npz_path``, an ``.npz`` holding
    ``images``, float32 (n, H, W, C) in [0, 1]. Both are written aside and renamed.
    A class-conditional run draws every class in turn, or only class ``label``.
    Returns the images.
    """
    from keras_dlbasic.io import atomic_path
    from keras_dlbasic.plotting import plot_image_grid
    from keras_dlbasic.recipe import load_run
    from keras_dlbasic.registry import load_model

    run_dir = pathlib.Path(run_dir)
    config, _ = load_run(run_dir)
    if not isinstance(n, int) or n < 1:
        raise DLBasicError(f"--n must be a positive number of images; got {n}")
    path = run_dir / "best.keras"
    if not path.is_file():
        raise DLBasicError(f"run {run_dir} has no best.keras (has training finished an epoch?)")
    model = load_model(path, compile=False)
    if not hasattr(model, "sample"):
        raise DLBasicError(f"{config.model} is not a generative model; sample needs a chapter-6 run")
    classes, kwargs = getattr(model, "num_classes", None), {}
    if label is not None:
        if not classes:
            raise DLBasicError(f"this {config.model} run is not class-conditional; --label needs "
                               f"one trained with --model-arg num_classes=N")
        if not 0 <= label < classes:
            raise DLBasicError(f"--label must be a class id from 0 to {classes - 1}; got {label}")
        kwargs["labels"] = np.full(n, label, np.int32)
    images = np.clip(np.asarray(model.sample(n, seed=seed, **kwargs), np.float32), 0.0, 1.0)
    what = f"class {label}" if label is not None else "every class in turn" if classes else ""
    plot_image_grid(images, out_png,
                    title=f"{config.model}: {n} samples" + (f" ({what})" if what else ""))
    if npz_path:
        with atomic_path(npz_path) as tmp, open(tmp, "wb") as f:
            np.savez(f, images=images)
    return images
