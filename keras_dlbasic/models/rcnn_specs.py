"""The R-CNN line's registered models (chapter 3) and their reference figures, with sources.

Keras-free: the builders are named as strings and live in ``keras_dlbasic.models.rcnn``.

Parameter counts are hand counts of the paper-size configurations: the VGG-16 trunk
of Fast and Faster R-CNN for all four, 21 classes (PASCAL VOC's 20 and background),
layer by layer as in py-faster-rcnn's ``VGG16/faster_rcnn_end2end/train.prototxt``
(rbgirshick/py-faster-rcnn):

* VGG-16's 13 convs: 14,714,688;
* fc6 on a 7x7x512 grid (R-CNN's pool5 of a 224x224 warp, Fast R-CNN's RoI pool):
  25,088·4096 + 4096 = 102,764,544; on SPPNet's 50-bin pyramid (1, 2, 3, 6) of 512
  channels: 25,600·4096 + 4096 = 104,861,696;
* fc7: 4096·4096 + 4096 = 16,781,312;
* cls_score: 4096·21 + 21 = 86,037; bbox_pred, four offsets for each of the 21
  classes (background's unused, as in the prototxt): 4096·84 + 84 = 344,148;
* Faster R-CNN's RPN: rpn_conv/3x3 512·9·512 + 512 = 2,359,808, rpn_cls_score
  512·18 + 18 = 9,234, rpn_bbox_pred 512·36 + 36 = 18,468: 2,387,510.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

PAPERS = {
    "rcnn": Paper(
        title="Rich feature hierarchies for accurate object detection and semantic segmentation",
        authors="Girshick, Donahue, Darrell, Malik", year=2014,
        url="https://arxiv.org/abs/1311.2524"),
    "sppnet": Paper(
        title="Spatial Pyramid Pooling in Deep Convolutional Networks for Visual Recognition",
        authors="He, Zhang, Ren, Sun", year=2014, url="https://arxiv.org/abs/1406.4729"),
    "fast_rcnn": Paper(title="Fast R-CNN", authors="Girshick", year=2015,
                       url="https://arxiv.org/abs/1504.08083"),
    "faster_rcnn": Paper(
        title="Faster R-CNN: Towards Real-Time Object Detection with Region Proposal Networks",
        authors="Ren, He, Girshick, Sun", year=2015, url="https://arxiv.org/abs/1506.01497"),
}

_CONVS, _FC7, _HEAD = 14_714_688, 16_781_312, 86_037 + 344_148
_FC6_GRID, _FC6_SPP = 102_764_544, 104_861_696
RPN_HEAD = 2_387_510

# From scratch on the 64x64 shapes: a quarter-width VGG-16 with BatchNorm whose shared
# map stays at 1/8 (8x8), 256-unit fc layers; windows and anchors of 16, 24 and 32
# pixels, the objects' sizes (13 to 29). Epochs fit each run in about 10 minutes on a
# 2-core CPU (an epoch takes about 140 s for R-CNN, 100 s for SPPNet, 70 s for Fast
# R-CNN, 55 s for Faster R-CNN on TensorFlow).
_SMALL = {"width": 16, "batch_norm": True, "fc_units": 256, "dropout": 0.1}
_WINDOWS = {"window_sizes": (16, 24, 32)}
_RECIPES = {
    "rcnn": Recipe(epochs=3, batch_size=16, lr=1e-3, schedule="cosine",
                   model_kwargs={**_SMALL, **_WINDOWS, "warp_size": 32, "train_regions": 32}),
    "sppnet": Recipe(epochs=4, batch_size=16, lr=1e-3, schedule="cosine",
                     model_kwargs={**_SMALL, **_WINDOWS, "feature_stride": 8, "bins": (1, 2, 4)}),
    "fast_rcnn": Recipe(epochs=5, batch_size=16, lr=1e-3, schedule="cosine",
                        model_kwargs={**_SMALL, **_WINDOWS, "feature_stride": 8, "pool_size": 4}),
    "faster_rcnn": Recipe(epochs=6, batch_size=16, lr=1e-3, schedule="cosine",
                          model_kwargs={**_SMALL, "feature_stride": 8, "pool_size": 4,
                                        "anchor_scales": (16, 24, 32), "pre_nms_top": 300,
                                        "train_proposals": 64, "test_proposals": 32}),
}

# On PASCAL VOC 2007 (--dataset voc/2007, 448x448): the paper-size network with BatchNorm,
# from scratch (the papers fine-tune ImageNet weights, which cannot be downloaded here).
VOC_RECIPE = Recipe(epochs=20, batch_size=8, lr=1e-4, schedule="cosine",
                    model_kwargs={"batch_norm": True})

for _name, _count, _source in [
    ("rcnn", _CONVS + _FC6_GRID + _FC7 + _HEAD,
     "VGG-16 on 224x224 warps: 13 convs, fc6, fc7, cls_score, bbox_pred"),
    ("sppnet", _CONVS + _FC6_SPP + _FC7 + _HEAD,
     "VGG-16 convs, fc6 on a (1, 2, 3, 6) pyramid of conv5_3, fc7, cls_score, bbox_pred"),
    ("fast_rcnn", _CONVS + _FC6_GRID + _FC7 + _HEAD,
     "VGG-16 convs, fc6 on a 7x7 RoI pool of conv5_3, fc7, cls_score, bbox_pred"),
    ("faster_rcnn", _CONVS + _FC6_GRID + _FC7 + _HEAD + RPN_HEAD,
     "Fast R-CNN's VGG-16 network plus the RPN head (2,387,510)"),
]:
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.rcnn:{_name}",
            chapter=3,
            tasks=("detection",),
            inputs="image",
            paper=PAPERS[_name],
            input_shape=(512, 512, 3),
            dataset="shapes",
            full_dataset="voc/2007",
            reference_params=_count,
            params_source=f"hand count, 21 classes: {_source}",
            kwargs={"classes": 20},
            recipe=_RECIPES[_name],
            dataset_recipes={"voc/2007": VOC_RECIPE},
        )
    )
