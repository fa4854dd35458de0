"""Semantic segmentation: a class for every pixel (chapter 3).

Targets are int class maps (N, H, W), 0 = background, or the ``"masks"`` of a
dataset whose targets are a dict (``shapes``). The model outputs per-pixel class
probabilities (N, H, W, classes), so the loss is the per-pixel sparse
cross-entropy (``keras_dlbasic.losses.PixelCrossentropy``). The best epoch has the highest validation mean IoU (FCN's "mean
IU"); evaluation reports it over the test split as ``test_mean_iou``, with each
class's IoU, and a run saves the test images beside their true and predicted masks.
"""
import keras
import numpy as np

from keras_dlbasic.losses import PixelCrossentropy
from keras_dlbasic.metrics import mean_iou
from keras_dlbasic.tasks.base import Task, sparse_crossentropy


class Segmentation(Task):
    monitor = ("val_mean_iou", "max")

    def prepare(self, data, spec):
        return data  # images and masks stay aligned: no resizing

    def builder_kwargs(self, data):
        return {"input_shape": data.input_shape, "classes": data.num_classes + 1}

    def compile_kwargs(self, model):
        classes = model.output_shape[-1]
        return {
            "loss": PixelCrossentropy(from_logits=sparse_crossentropy(model).from_logits),
            "metrics": ["accuracy", keras.metrics.MeanIoU(classes, sparse_y_pred=False,
                                                          name="mean_iou")],
        }

    def targets(self, y):
        return y["masks"].astype("int32") if isinstance(y, dict) else y

    def predict(self, model, images, image_size=None):
        """Each image's class map, of ``image_size`` (default: the model's), and the share
        of its pixels in each class. A map is resized by nearest neighbour: each image
        pixel takes the class of the model pixel its centre falls in."""
        classes = model.output_shape[-1]
        predictions = []
        for mask in self.predict_masks(model, images):
            if image_size is not None:
                rows, cols = ((np.arange(n) + 0.5) * m / n for m, n in zip(mask.shape, image_size))
                mask = mask[rows.astype(int)[:, None], cols.astype(int)[None, :]]
            predictions.append({"mask": mask.tolist(), "class_share": (
                np.bincount(mask.ravel(), minlength=classes) / mask.size).tolist()})
        return predictions

    def draw(self, image, prediction, path, title=""):
        from keras_dlbasic.plotting import plot_mask_overlay

        plot_mask_overlay(image, np.array(prediction["mask"]), path,
                          classes=len(prediction["class_share"]), title=title)

    def predict_masks(self, model, x, batch_size=64):
        """Predicted class maps (N, H, W) of images ``x``."""
        return np.concatenate([np.argmax(model.predict_on_batch(x[i:i + batch_size]), axis=-1)
                               for i in range(0, len(x), batch_size)])

    def evaluate(self, model, data, batch_size=256):
        metrics = super().evaluate(model, data, batch_size)
        x, y = data.arrays("test")
        classes = model.output_shape[-1]
        mean, per_class = mean_iou(self.predict_masks(model, x), self.targets(y), classes)
        metrics["test_mean_iou"] = mean
        metrics.update({f"test_iou_class{c}": iou for c, iou in enumerate(per_class)
                        if not np.isnan(iou)})
        return metrics

    def figures(self, model, data, history, run_dir, title=""):
        from keras_dlbasic.plotting import plot_masks

        super().figures(model, data, history, run_dir, title)
        x, y = data.arrays("test")
        x, y = x[:8], self.targets(y)[:8]
        plot_masks(x, y, self.predict_masks(model, x), run_dir / "masks.png",
                   classes=model.output_shape[-1], title=title)
