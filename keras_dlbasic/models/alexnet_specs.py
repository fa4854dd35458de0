"""AlexNet's registered variants and their reference figures, with sources.

Parameter counts, MACs, minimum input sizes and training recipes of
torchvision's single-tower AlexNet and the paper's two-tower network.
Keras-free: the builders are named as strings and live in
``keras_dlbasic.models.alexnet``.
"""
from keras_dlbasic.models.chapter2_specs import CHAPTER2_RECIPE, register_image_classifier
from keras_dlbasic.registry import Paper

ALEXNET = Paper(
    title="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="Krizhevsky, Sutskever, Hinton",
    year=2012,
    url="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
)
# The recipes train with the paper's random crops, and on CIFAR-10 its flips too
# (a mirrored digit is no digit).
_ALEXNET_RECIPE = CHAPTER2_RECIPE.replace(lr=1e-4, model_kwargs={"augment": ["crop"]})
_ALEXNET_DATASET_RECIPES = {"cifar10": _ALEXNET_RECIPE.replace(model_kwargs={"augment": ["crop", "flip"]})}
# min_input_size: 63 (67 for the paper's unpadded conv1) for the 11x11/4 conv and
# three 3x3/2 valid pools.
register_image_classifier(
    "alexnet", "alexnet", ALEXNET, "torchvision alexnet (single tower, 64/192/384/256/256)",
    61_100_840, recipe=_ALEXNET_RECIPE, dataset_recipes=_ALEXNET_DATASET_RECIPES, min_input_size=63,
    # torchvision's "GFLOPS" (``_ops``), which it counts as multiply-adds at 224x224: our MACs.
    reference_macs=0.714e9, macs_source="torchvision alexnet GFLOPS",
)
register_image_classifier(
    "alexnet_paper", "alexnet", ALEXNET,
    "hand count of the paper's two-tower net (96/256/384/384/256, groups=2 in conv2/4/5, "
    "227x227; 62,378,344 with groups=1)",
    60_965_224, input_shape=(227, 227, 3), recipe=_ALEXNET_RECIPE,
    dataset_recipes=_ALEXNET_DATASET_RECIPES, min_input_size=67,
)
