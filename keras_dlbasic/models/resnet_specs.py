"""ResNet's registered variants and their reference figures, with sources.

Parameter counts, MACs, minimum input sizes and training recipes of the
ImageNet ResNets (torchvision's "v1.5") and the CIFAR-10 ResNets and plain
nets of Sec. 4.2. Keras-free: the builders are named as strings and live in
``keras_dlbasic.models.resnet``.
"""
from keras_dlbasic.models.chapter2_specs import CHAPTER2_RECIPE, register_image_classifier
from keras_dlbasic.registry import Paper

RESNET = Paper(
    title="Deep Residual Learning for Image Recognition",
    authors="He, Zhang, Ren, Sun",
    year=2016,
    url="https://arxiv.org/abs/1512.03385",
)

# torchvision's weight metadata: num_params and "GFLOPS" (``_ops``), which torchvision
# counts as multiply-adds at 224x224: our MACs.
for _name, _trainable, _moving, _gflops in [
    ("resnet18", 11_689_512, 9_600, 1.814),
    ("resnet34", 21_797_672, 17_024, 3.664),
    ("resnet50", 25_557_032, 53_120, 4.089),
    ("resnet101", 44_549_160, 105_344, 7.801),
    ("resnet152", 60_192_808, 151_424, 11.514),
]:
    register_image_classifier(_name, "resnet", RESNET, f"torchvision {_name}", _trainable, _moving,
                              reference_macs=_gflops * 1e9, macs_source=f"torchvision {_name} GFLOPS")

# CIFAR ResNets (Sec. 4.2, option A shortcuts) have no torchvision twin: Table 6 rounds.
# They take the 28x28 digits as they are (no min_input_size).
# `dlbasic train resnet20` is the chapter's quick recipe: >= 97% test accuracy on the
# bundled digits. Its residual branches start at BN scale 0, so Adam needs a larger
# step than 1e-3 to wake them up within 10 epochs; the cosine decay then settles the
# weights (and BatchNorm's moving statistics) in the last epochs.
for _name, _trainable, _moving, _source in [
    ("resnet20", 269_722, 1_376, "He et al. 2016 Table 6: 0.27M"),
    ("resnet32", 464_154, 2_272, "He et al. 2016 Table 6: 0.46M"),
    ("resnet44", 658_586, 3_168, "He et al. 2016 Table 6: 0.66M"),
    ("resnet56", 853_018, 4_064, "He et al. 2016 Table 6: 0.85M"),
    ("resnet110", 1_727_962, 8_096, "He et al. 2016 Table 6: 1.7M"),
    ("plain20", 269_722, 1_376, "same as resnet20: option-A shortcuts hold no weights"),
    ("plain56", 853_018, 4_064, "same as resnet56: option-A shortcuts hold no weights"),
]:
    register_image_classifier(_name, "resnet", RESNET, _source, _trainable, _moving,
                              input_shape=(32, 32, 3),
                              recipe=(CHAPTER2_RECIPE.replace(lr=2e-3, schedule="cosine")
                                      if _name == "resnet20" else CHAPTER2_RECIPE),
                              min_input_size=None)
