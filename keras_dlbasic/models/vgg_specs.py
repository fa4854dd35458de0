"""VGG's registered variants and their reference figures, with sources.

Parameter counts, MACs, minimum input size and training recipe of the paper's
columns A, B, D and E, with and without BatchNorm. Keras-free: the builders are
named as strings and live in ``keras_dlbasic.models.vgg``.
"""
from keras_dlbasic.models.chapter2_specs import CHAPTER2_RECIPE, register_image_classifier
from keras_dlbasic.registry import Paper

VGG = Paper(
    title="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    authors="Simonyan, Zisserman",
    year=2015,
    url="https://arxiv.org/abs/1409.1556",
)

# torchvision's weight metadata: num_params and "GFLOPS" (``_ops``), which torchvision
# counts as multiply-adds at 224x224: our MACs. BatchNorm adds no MACs.
for _name, _trainable, _moving, _gflops in [
    ("vgg11", 132_863_336, 0, 7.609),
    ("vgg13", 133_047_848, 0, 11.308),
    ("vgg16", 138_357_544, 0, 15.47),
    ("vgg19", 143_667_240, 0, 19.632),
    ("vgg11_bn", 132_868_840, 5_504, 7.609),
    ("vgg13_bn", 133_053_736, 5_888, 11.308),
    ("vgg16_bn", 138_365_992, 8_448, 15.47),
    ("vgg19_bn", 143_678_248, 11_008, 19.632),
]:
    register_image_classifier(_name, "vgg", VGG, f"torchvision {_name}", _trainable, _moving,
                              recipe=CHAPTER2_RECIPE.replace(lr=1e-4),
                              reference_macs=_gflops * 1e9, macs_source=f"torchvision {_name} GFLOPS")
