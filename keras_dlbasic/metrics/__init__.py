"""Evaluation scores beyond ``model.evaluate``, in NumPy.

* ``vision`` (chapter 3): ``mean_average_precision`` (VOC mAP@0.5),
  ``average_precision``, ``mean_iou``, ``greedy_nms``, ``per_class_nms``.

Nothing here imports keras.
"""
from keras_dlbasic.metrics.vision import (
    average_precision,
    greedy_nms,
    iou_matrix,
    mean_average_precision,
    mean_iou,
    per_class_nms,
)

__all__ = ["average_precision", "greedy_nms", "iou_matrix", "mean_average_precision", "mean_iou",
           "per_class_nms"]
