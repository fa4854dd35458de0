"""What the chapter-2 image classifiers' specs share: the default recipe and one registration helper.

The variants themselves, with their reference figures and sources, are in
each family's ``<family>_specs.py``. Keras-free, like them.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, register_model

# Every chapter-2 model trains offline on the bundled digits and lists CIFAR-10.
CHAPTER2_RECIPE = Recipe(epochs=10, batch_size=64, lr=1e-3)


def register_image_classifier(name, module, paper, source, trainable, moving=0, *,
                              input_shape=(224, 224, 3), recipe=CHAPTER2_RECIPE, min_input_size=32,
                              **extra):
    """Register one chapter-2 image classifier (builder ``keras_dlbasic.models.<module>:<name>``).

    The reference count is ``trainable`` parameters as published (torchvision's
    num_params or the paper) plus ``moving``, BatchNorm's moving mean/variance,
    which ``count_params()`` includes and PyTorch keeps as buffers.
    ``min_input_size`` is the smallest side the builder accepts: 2^5 = 32 for
    the five stride-2 steps of VGG, GoogLeNet and the ImageNet ResNets/DenseNets.
    ``extra`` are further ``ModelSpec`` fields (``reference_macs``, ``aliases`` ...).
    """
    params_source = f"{source}: {trainable:,} trainable (exact)"
    if moving:
        params_source += f" + {moving:,} BatchNorm moving mean/variance (non-trainable)"
    register_model(
        ModelSpec(
            name=name,
            builder=f"keras_dlbasic.models.{module}:{name}",
            chapter=2,
            tasks=("classification",),
            inputs="image",
            paper=paper,
            input_shape=input_shape,
            dataset="mnist_5k",
            full_dataset="cifar10",
            reference_params=trainable + moving,
            params_source=params_source,
            recipe=recipe,
            min_input_size=min_input_size,
            **extra,
        )
    )
