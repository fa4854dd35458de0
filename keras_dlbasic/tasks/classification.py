"""Classification and regression: one output per example.

* ``Classification``: integer labels, sparse cross-entropy and accuracy; the
  best epoch has the highest validation accuracy. Token inputs (text) set the
  model's vocabulary.
* ``Regression``: float targets, mean squared error (the loss) and mean
  absolute error; the classifier's head becomes one linear output, so every
  classifier of sequences can also regress (the adding problem of chapter 4).
"""

import numpy as np

from keras_dlbasic.tasks.base import Task, sparse_crossentropy


class Classification(Task):
    monitor = ("val_accuracy", "max")

    def builder_kwargs(self, data):
        kwargs = {"input_shape": data.input_shape, "classes": data.num_classes}
        if data.vocab_size:
            kwargs["vocab_size"] = data.vocab_size
        return kwargs

    def compile_kwargs(self, model):
        return {
            "loss": sparse_crossentropy(model),
            "metrics": ["accuracy"],
        }

    def predict(self, model, images, image_size=None, top=5):
        """The ``top`` classes of each image, best first, with their scores."""
        scores = np.asarray(model.predict_on_batch(images), np.float64)
        return [{"classes": [{"label": int(c), "score": float(row[c])}
                             for c in np.argsort(-row)[:top]]} for row in scores]

    def draw(self, image, prediction, path, title=""):
        from keras_dlbasic.plotting import plot_classes

        plot_classes(image, prediction["classes"], path, title=title)


class Regression(Task):
    monitor = ("val_loss", "min")

    def builder_kwargs(self, data):
        return {"input_shape": data.input_shape, "classes": 1, "classifier_activation": "linear"}

    def compile_kwargs(self, model):
        return {"loss": "mse", "metrics": ["mae"]}
