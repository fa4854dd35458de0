"""FCN's registered variants (chapter 3) and their reference figures, with sources.

Keras-free: the builders are named as strings and live in ``keras_dlbasic.models.fcn``.

Parameter counts are those of the paper's released Caffe nets
(``voc-fcn{32,16,8}s/train.prototxt`` of shelhamer/fcn.berkeleyvision.org) with
21 classes, counted layer by layer: the VGG-16 convs (14,714,688), fc6 as a 7x7x512
conv to 4096 (102,764,544), fc7 as a 1x1 conv (16,781,312), the 1x1 score layers with
bias (4096·21+21 = 86,037; pool4 512·21+21 = 10,773; pool3 256·21+21 = 5,397) and the
bias-free upsampling layers (2s x 2s x 21 x 21: 7,056 at s = 2, 451,584 at 16,
112,896 at 8, 1,806,336 at 32). The paper's Table 1 gives FCN-VGG16 as "134M".
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

FCN = Paper(
    title="Fully Convolutional Networks for Semantic Segmentation",
    authors="Long, Shelhamer, Darrell",
    year=2015,
    url="https://arxiv.org/abs/1411.4038",
)

# On the Oxford-IIIT pets (--dataset oxford_iiit_pet, 224x224, 3 classes): the paper-size
# network with BatchNorm, from scratch.
PETS_RECIPE = Recipe(epochs=20, batch_size=8, lr=1e-4, schedule="cosine",
                     model_kwargs={"batch_norm": True})

_TRUNK = 14_714_688 + 102_764_544 + 16_781_312 + 86_037  # VGG-16 convs, fc6, fc7, score_fr

# On the bundled shapes, from scratch: a quarter-width trunk with BatchNorm (the
# paper fine-tunes ImageNet weights, which cannot be downloaded here).
SHAPES_RECIPE = Recipe(epochs=8, batch_size=32, lr=2e-3, schedule="cosine",
                       model_kwargs={"width": 16, "fc_units": 256, "batch_norm": True,
                                     "dropout": 0.1})

for _name, _layers, _count in [
    ("fcn32s", "score_fr, upscore32", _TRUNK + 1_806_336),
    ("fcn16s", "score_fr, upscore2, score_pool4, upscore16", _TRUNK + 7_056 + 10_773 + 451_584),
    ("fcn8s", "score_fr, 2 x upscore2, score_pool4, score_pool3, upscore8",
     _TRUNK + 2 * 7_056 + 10_773 + 5_397 + 112_896),
]:
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.fcn:{_name}",
            chapter=3,
            tasks=("segmentation",),
            inputs="image",
            paper=FCN,
            input_shape=(224, 224, 3),
            dataset="shapes",
            full_dataset="oxford_iiit_pet",
            reference_params=_count,
            params_source=f"Caffe voc-{_name} prototxt, 21 classes: VGG-16 trunk, fc6/fc7 as "
                          f"convs, {_layers} (hand count, exact)",
            kwargs={"classes": 21},
            recipe=SHAPES_RECIPE,
            dataset_recipes={"oxford_iiit_pet": PETS_RECIPE},
        )
    )
