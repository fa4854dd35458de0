"""Operations that ``keras.ops`` lacks, written with ``keras.ops`` only (chapter 3).

* ``boxes``: ``box_iou``, ``encode_boxes`` / ``decode_boxes``, ``clip_boxes``,
  ``non_max_suppression``, ``crop_and_resize``.

Importing this package imports keras.
"""
from keras_dlbasic.ops.boxes import (
    box_area,
    box_iou,
    clip_boxes,
    crop_and_resize,
    decode_boxes,
    encode_boxes,
    non_max_suppression,
)

__all__ = ["box_area", "box_iou", "clip_boxes", "crop_and_resize", "decode_boxes",
           "encode_boxes", "non_max_suppression"]
