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
        full_dataset="voc/2007",
        # Figure 3's layers with biases: 24 convs 60,155,968, fc 7·7·1024 -> 4096
        # 205,524,992 and fc 4096 -> 7·7·30 6,022,590.
        reference_params=271_703_550,
        params_source="hand count of the paper's Figure 3 (S=7, B=2, C=20; 24 convs with "
                      "bias, fc 4096, fc 1470)",
        kwargs={"grid": 7, "boxes_per_cell": 2, "classes": 20},
        # From scratch on the 64x64 shapes: an 8x8 grid of 8-pixel cells from a
        # quarter-width trunk with BatchNorm ending at 1/8, and YOLOv2's convolutional
        # head (the fc head does not learn these boxes from scratch; see models/yolo.py).
        # A 4x4 grid (trunk stride 16) reaches only test mAP@0.5 0.20 in 20 epochs: its
        # 16-pixel cells hold up to two of the 13-29 pixel objects.
        recipe=Recipe(epochs=15, batch_size=16, lr=1e-3, schedule="cosine",
                      model_kwargs={"grid": 8, "width": 0.25, "fc_units": 128,
                                    "batch_norm": True, "dropout": 0.1, "trunk_stride": 8,
                                    "head": "conv"}),
        # On PASCAL VOC 2007 at 448x448: the paper's network (7x7x30) with BatchNorm, from
        # scratch (the paper pretrains the first 20 convs on ImageNet).
        dataset_recipes={"voc/2007": Recipe(epochs=20, batch_size=8, lr=1e-4, schedule="cosine",
                                            model_kwargs={"batch_norm": True})},
        aliases=("yolov1",),
    )
)
