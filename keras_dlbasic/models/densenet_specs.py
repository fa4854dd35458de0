"""DenseNet's registered variants and their reference figures, with sources.

Parameter counts, MACs, minimum input sizes and training recipes of the
ImageNet DenseNets and the CIFAR DenseNet-BC. Keras-free: the builders are
named as strings and live in ``keras_dlbasic.models.densenet``.
"""
from keras_dlbasic.models.chapter2_specs import register_image_classifier
from keras_dlbasic.registry import Paper

DENSENET = Paper(
    title="Densely Connected Convolutional Networks",
    authors="Huang, Liu, van der Maaten, Weinberger",
    year=2017,
    url="https://arxiv.org/abs/1608.06993",
)

# torchvision's weight metadata: num_params and "GFLOPS" (``_ops``), which torchvision
# counts as multiply-adds at 224x224: our MACs.
for _name, _trainable, _moving, _gflops in [
    ("densenet121", 7_978_856, 83_648, 2.834),
    ("densenet169", 14_149_480, 158_400, 3.36),
    ("densenet201", 20_013_928, 229_056, 4.291),
]:
    register_image_classifier(_name, "densenet", DENSENET, f"torchvision {_name}", _trainable, _moving,
                              reference_macs=_gflops * 1e9, macs_source=f"torchvision {_name} GFLOPS")
# The CIFAR net takes the 28x28 digits as they are (no min_input_size).
register_image_classifier("densenet_bc", "densenet", DENSENET,
                          "Huang et al. 2017 Table 2 (L=100, k=12): 0.8M", 769_162, 23_988,
                          input_shape=(32, 32, 3), min_input_size=None)
