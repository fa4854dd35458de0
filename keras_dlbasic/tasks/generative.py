"""Density estimation and generation: learning p(x) of images (chapter 6).

The images are the data; labels, where a set has them, are trained on only by a
class-conditional model (``num_classes`` among its builder arguments, p(x | y)):
``fit`` gives it ``{"image": x, "label": y}``, and its samples cover the classes
evenly.
Each model defines its own loss in ``compute_loss`` (a negative log-likelihood,
a negative ELBO, a reconstruction error), so the task compiles it with its
optimizer only and ``fit`` gets the images with no targets.

* ``"density"``: binary images (grey ones binarised at 0.5; ``binarized_mnist``
  comes binary), for models with a Bernoulli likelihood per pixel: NADE,
  PixelCNN, the autoencoder, the VAE. Scored beside the baseline that assumes
  what the chain rule does not, independent pixels, each a Bernoulli with its
  training-set frequency (Laplace-smoothed): ``test_independent_nll_nats``.
* ``"generation"`` (``ImageGeneration``): grey images in [0, 1] as they are, for
  models scored by their samples only (the GAN). A model without ``scores`` reports
  its own losses on the test images (a GAN's ``test_d_loss``, ``test_g_loss``).

A model of either kind gives ``scores(images)``: per-image values in nats, such
as ``{"nll_nats": -log p(x)}`` (exact, autoregressive) or ``{"neg_elbo_nats", ...}``
(a VAE's bound), reported on the test and training images (``test_nll_nats``,
``train_nll_nats``: the gap is overfitting), and ``sample(n, seed)``: images in
[0, 1]. A model that samples pixel by pixel (``sequential_sampling``) is not
scored on 1,000 samples; every other one is, by ``DigitScorer``: the
``sample_confident_share``, ``sample_class_count`` and ``sample_frechet_distance``
of ``keras_dlbasic.metrics.generative``, against test images of the task's own kind
(binary for ``"density"``, whose samples are scored as binary images too: each
pixel's most likely value).

A run saves its curves, a grid of 64 samples, and one grid per epoch in ``samples/``;
a diffusion model's run also ``denoising.png``, samples going from noise to digits.
"""
import math
import os
import pathlib

import keras
import numpy as np

from keras_dlbasic.data.streams import Stream
from keras_dlbasic.errors import DLBasicError
from keras_dlbasic.tasks.base import Task

SAMPLE_GRID = 64
QUALITY_SAMPLES = 1000
SCORER_EPOCHS = 3


def binarize(images, threshold=0.5):
    """Images in [0, 1] as float32 0/1 pixels (>= ``threshold`` is 1)."""
    return (np.asarray(images) >= threshold).astype("float32")


def independent_nll(train_images, images):
    """-log p(x) in nats per image under independent Bernoulli pixels fitted to
    ``train_images`` (frequency (ones + 1) / (N + 2)); (N,) for ``images``."""
    train = np.asarray(train_images, np.float64).reshape(len(train_images), -1)
    p = (train.sum(axis=0) + 1.0) / (len(train) + 2.0)
    x = np.asarray(images, np.float64).reshape(len(images), -1)
    return -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).sum(axis=1)


def cache_dir():
    """Where trained helpers are kept: ``$KERAS_DLBASIC_CACHE``, else ~/.keras/keras_dlbasic."""
    return pathlib.Path(os.environ.get("KERAS_DLBASIC_CACHE")
                        or pathlib.Path.home() / ".keras" / "keras_dlbasic")


class DigitScorer:
    """Chapter 1's CNN trained on the bundled digits, as the judge of generated digits.

    Trained once (3 epochs on the 3,500 training digits of ``mnist_5k``, seed 0)
    and kept in ``cache_dir()/digit_scorer.keras``; every backend reads that file.
    ``score(samples, reference)`` gives ``keras_dlbasic.metrics.generative.sample_quality``.
    """

    def __init__(self, path=None):
        from keras_dlbasic.registry import load_model
        from keras_dlbasic.training import save_model

        path = pathlib.Path(path) if path else cache_dir() / "digit_scorer.keras"
        if not path.is_file():
            from keras_dlbasic import get_model
            from keras_dlbasic.data import load_dataset

            data = load_dataset("mnist_5k")
            keras.utils.set_random_seed(0)
            model = get_model("cnn", input_shape=(28, 28, 1), classes=10)
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            model.fit(data.x_train, data.y_train, epochs=SCORER_EPOCHS, batch_size=32, verbose=0)
            path.parent.mkdir(parents=True, exist_ok=True)
            save_model(model, path)
        model = load_model(path, compile=False)
        self.model = keras.Model(model.input, [model.outputs[0], model.get_layer("fc1").output])

    def outputs(self, images, batch_size=500):
        """Class probabilities (N, 10) and fc1 features (N, 128) of images (N, 28, 28, 1)."""
        images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
        parts = [self.model.predict_on_batch(images[i:i + batch_size])
                 for i in range(0, len(images), batch_size)]
        return (np.concatenate([np.asarray(p[0]) for p in parts]),
                np.concatenate([np.asarray(p[1]) for p in parts]))

    def score(self, samples, reference):
        """``confident_share``, ``class_count``, ``frechet_distance`` of ``samples``
        against the real images ``reference``."""
        from keras_dlbasic.metrics.generative import sample_quality

        probabilities, features = self.outputs(samples)
        return sample_quality(probabilities, features, self.outputs(reference)[1])


class ImageGeneration(Task):
    """Shared by both kinds: evaluation by the model's scores and by its samples."""

    monitor = ("val_loss", "min")
    binary = False
    num_classes = None  # set for a class-conditional model (``configure``)

    def configure(self, model_kwargs):
        self.num_classes = model_kwargs.get("num_classes")

    def prepare(self, data, spec):
        data = super().prepare(data, spec)
        return data.map_inputs(binarize) if self.binary else data

    def targets(self, y):
        return None  # the model's loss reads the images

    def fit_inputs(self, data, split, batch_size):
        """The images alone, or ``{"image", "label"}`` for a class-conditional model."""
        inputs = super().fit_inputs(data, split, batch_size)
        if not self.num_classes:
            return inputs
        labels = getattr(data, f"y_{split}")
        if isinstance(getattr(data, f"x_{split}"), Stream) or labels is None or np.ndim(labels) != 1:
            raise DLBasicError("a class-conditional model (num_classes) needs a dataset of "
                               "images and their class ids held in memory")
        labels = np.asarray(labels).astype("int32")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise DLBasicError(f"the {split} labels run from {labels.min()} to {labels.max()}; "
                               f"num_classes={self.num_classes} is too few")
        return {**inputs, "x": {"image": inputs["x"], "label": labels}}

    def validation_score(self, row):
        """Lowest validation loss; a model whose losses do not rank its epochs (a GAN's
        two players only log each other's progress) keeps its latest epoch."""
        return super().validation_score(row) if self.monitor[0] in row else row["epoch"]

    def callbacks(self, run_dir):
        return [EpochSamples(run_dir / "samples")]

    def evaluate(self, model, data, batch_size=256):
        x_train, _ = data.arrays("train")
        x_test, _ = data.arrays("test")
        if not hasattr(model, "scores"):  # no likelihood: its losses on the test images
            metrics = super().evaluate(model, data, batch_size)
        else:
            metrics = {f"{split}_{name}": float(np.mean(values))
                       for split, images in (("test", x_test), ("train", x_train))
                       for name, values in model.scores(images, batch_size=batch_size).items()}
        pixels = int(np.prod(x_test.shape[1:]))
        if "test_nll_nats" in metrics:
            metrics["test_bits_per_dim"] = metrics["test_nll_nats"] / (pixels * math.log(2.0))
        if self.binary:
            metrics["test_independent_nll_nats"] = float(np.mean(independent_nll(x_train, x_test)))
        if not getattr(model, "sequential_sampling", False) and x_test.shape[1:] == (28, 28, 1):
            quality = DigitScorer().score(self.scored_samples(model, QUALITY_SAMPLES, seed=1),
                                          x_test[:QUALITY_SAMPLES])
            metrics.update({f"sample_{name}": value for name, value in quality.items()})
        return metrics

    def scored_samples(self, model, n, seed):
        """The ``n`` samples the digit CNN judges, in the data's own kind of image."""
        return model.sample(n, seed=seed)

    def figures(self, model, data, history, run_dir, title=""):
        from keras_dlbasic.plotting import plot_image_grid

        super().figures(model, data, history, run_dir, title)
        plot_image_grid(model.sample(SAMPLE_GRID, seed=0), run_dir / "samples.png",
                        title=f"{title}: samples" if title else "samples")
        if hasattr(model, "denoising_step"):  # diffusion: noise becoming digits, step by step
            plot_denoising(model, run_dir / "denoising.png")


class DensityEstimation(ImageGeneration):
    binary = True

    def scored_samples(self, model, n, seed):
        """Binary images, like the binarised test digits they are compared with: each
        pixel's most likely value under the model (``sample`` gives its probability, the
        grey mean image that the grids show)."""
        return binarize(model.sample(n, seed=seed))


class EpochSamples(keras.callbacks.Callback):
    """Saves ``epoch_NNN.png`` in ``directory``, 64 samples of the same noise, after
    every epoch: how the model learns, one grid at a time. A model whose samples cost
    many network calls sets ``epoch_sample_every`` (a DDPM: T calls, every 5 epochs;
    the last epoch always has its grid). Skipped for models that sample pixel by pixel."""

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def on_epoch_end(self, epoch, logs=None):
        from keras_dlbasic.plotting import plot_image_grid

        every = getattr(self.model, "epoch_sample_every", 1)
        last = epoch + 1 == self.params.get("epochs")
        if getattr(self.model, "sequential_sampling", False) or ((epoch + 1) % every and not last):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        plot_image_grid(self.model.sample(SAMPLE_GRID, seed=0),
                        self.directory / f"epoch_{epoch + 1:03d}.png",
                        title=f"samples after epoch {epoch + 1}")


def plot_denoising(model, path, n=8, seed=0):
    """``n`` samples of a diffusion model (rows) from pure noise x_T to x_0 (columns)."""
    from keras_dlbasic.plotting import plot_image_grid

    _, (steps, frames) = model.sample(n, seed=seed, return_trajectory=True)
    images = np.swapaxes(frames, 0, 1).reshape(-1, *frames.shape[2:])  # row by row
    plot_image_grid(images, path, columns=len(steps), column_titles=[f"t={s}" for s in steps],
                    title="from noise (left) to digits (right): ancestral sampling")
