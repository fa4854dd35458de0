"""YOLO's registered variant (chapter 3) and its reference figures, with sources.

Keras-free: the builder is named as a string and lives in ``keras_dlbasic.models.yolo``.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

YOLO = Paper(
    title="You Only Look Once: Unified, Real-Time Object Detection",
    authors="Redmon, Divvala, Girshick, Farhadi",
    year=2016,
    url="https://arxiv.org/abs/1506.02640",
)

register_model(
    ModelSpec(
        name="yolo",
        builder="keras_dlbasic.models.yolo:yolo",
        chapter=3,
        tasks=("detection",),
        inputs="image",
        paper=YOLO,
        input_shape=(448, 448, 3),
        dataset="shapes",
        full_dataset=None,
        # Figure 3's layers with biases: 24 convs 60,155,968, fc 7·7·1024 -> 4096
        # 205,524,992 and fc 4096 -> 7·7·30 6,022,590.
        reference_params=271_703_550,
        params_source="hand count of the paper's Figure 3 (S=7, B=2, C=20; 24 convs with "
                      "bias, fc 4096, fc 1470)",
        kwargs={"grid": 7, "boxes_per_cell": 2, "classes": 20},
        # From scratch on the 64x64 shapes: a 4x4 grid of 16-pixel cells from a
        # quarter-width trunk with BatchNorm ending at 1/16, and YOLOv2's convolutional
        # head (the fc head does not learn these boxes from scratch; see models/yolo.py).
        recipe=Recipe(epochs=20, batch_size=16, lr=1e-3, schedule="cosine",
                      model_kwargs={"grid": 4, "width": 0.25, "fc_units": 128,
                                    "batch_norm": True, "dropout": 0.1, "trunk_stride": 16,
                                    "head": "conv"}),
        aliases=("yolov1",),
    )
)
