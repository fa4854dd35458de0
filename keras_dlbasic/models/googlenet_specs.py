"""GoogLeNet's registered variant and its reference figures, with sources.

Parameter count, minimum input size and training recipe of the paper's
Table 1 network. Keras-free: the builder is named as a string and lives in
``keras_dlbasic.models.googlenet``.
"""
from keras_dlbasic.models.chapter2_specs import CHAPTER2_RECIPE, register_image_classifier
from keras_dlbasic.registry import Paper

GOOGLENET = Paper(
    title="Going Deeper with Convolutions",
    authors="Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke, Rabinovich",
    year=2015,
    url="https://arxiv.org/abs/1409.4842",
)

# GoogLeNet has no batch norm: Adam at 1e-3 overshoots.
# No reference MACs: the paper's "1.5 billion multiply-adds" is a round figure that
# this network's 5x5 branches exceed by 5.5% (googlenet.py), beyond the rounding of a
# published figure; torchvision's 1.498 GFLOPS are for its 3x3/BN variant.
register_image_classifier(
    "googlenet", "googlenet", GOOGLENET,
    "paper's Table 1 network (5x5 branches, biases, no BN: 6,990,272 weights + 8,280 biases; "
    "Table 1 sums to ~6.8M with K=1024; torchvision's BN/3x3 variant has 6,624,904)",
    6_998_552, recipe=CHAPTER2_RECIPE.replace(lr=1e-4), aliases=("inception",),
)
