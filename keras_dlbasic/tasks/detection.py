"""Object detection: a varying number of labelled boxes per image (chapter 3).

Targets are the padded ``{"boxes": (N, M, 4), "labels": (N, M)}`` of
``keras_dlbasic.data.pad_boxes`` (label -1 marks padding), in pixels of the model's
input. A detector is a ``keras.Model`` that brings its own loss (``compute_loss``,
one definition for every backend), since how targets are assigned (grid cells,
anchors, proposals) is the model's design, and a ``decode(outputs)`` method that
turns its outputs into per-image ``{"boxes", "scores", "labels"}``. Evaluation adds
VOC mAP@0.5 over the test split (``test_map50``, and each class's AP); a run saves
test images with their predicted and true boxes.
"""
import numpy as np

from keras_dlbasic.metrics import mean_average_precision
from keras_dlbasic.tasks.base import Task, image_hw

DRAW_THRESHOLD = 0.3  # the score from which figures draw a detection
REGIONS_PER_BATCH = 4096  # CNN passes one inference batch may hold (R-CNN: one per window)


def images_per_batch(model, batch_size):
    """``batch_size``, or fewer images for a model that runs its CNN once per region
    (R-CNN's 258 windows an image: 15 images, not 256 x 258 warped crops at once)."""
    return max(1, min(batch_size, REGIONS_PER_BATCH // getattr(model, "forward_passes", 1)))


class Detection(Task):
    monitor = ("val_loss", "min")

    def prepare(self, data, spec):
        return data  # boxes are in the images' pixels: no resizing

    def builder_kwargs(self, data):
        return {"input_shape": data.input_shape, "classes": data.num_classes}

    def targets(self, y):
        return {"boxes": y["boxes"], "labels": y["labels"]}

    def detect(self, model, x, batch_size=64):
        """Decoded detections of images ``x``, one dict per image."""
        batch_size = images_per_batch(model, batch_size)
        return [d for i in range(0, len(x), batch_size)
                for d in model.decode(model.predict_on_batch(x[i:i + batch_size]))]

    def evaluate(self, model, data, batch_size=256):
        metrics = super().evaluate(model, data, images_per_batch(model, batch_size))
        x, y = data.arrays("test")
        truth = [{"boxes": b, "labels": l} for b, l in zip(y["boxes"], y["labels"])]
        mean, per_class = mean_average_precision(self.detect(model, x), truth, data.num_classes)
        metrics["test_map50"] = mean
        metrics.update({f"test_ap50_class{c}": ap for c, ap in enumerate(per_class)
                        if not np.isnan(ap)})
        return metrics

    def figures(self, model, data, history, run_dir, title=""):
        from keras_dlbasic.plotting import plot_detections

        super().figures(model, data, history, run_dir, title)
        x, y = data.arrays("test")
        plot_detections(x[:8], self.detect(model, x[:8]), run_dir / "detections.png",
                        truth=[{"boxes": b, "labels": l} for b, l in zip(y["boxes"][:8], y["labels"][:8])],
                        threshold=DRAW_THRESHOLD, class_names=data.class_names, title=title)

    def predict(self, model, images, image_size=None):
        """Each image's boxes (x1, y1, x2, y2 in the pixels of an image of ``image_size``,
        scaled from the model's input), scores and labels, best first."""
        height, width = image_hw(images)
        image_height, image_width = image_size or (height, width)
        scale = np.array([image_width / width, image_height / height] * 2)
        return [{"boxes": (d["boxes"] * scale).round(2).tolist(), "scores": d["scores"].round(4).tolist(),
                 "labels": d["labels"].tolist()} for d in self.detect(model, images)]

    def draw(self, image, prediction, path, title=""):
        from keras_dlbasic.plotting import plot_detections

        detections = {key: np.asarray(value) for key, value in prediction.items()}
        plot_detections(image[None], [detections], path, threshold=DRAW_THRESHOLD, title=title)
