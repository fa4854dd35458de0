"""The registered models, one module per family.

Each family's builder lives in ``<family>.py`` and imports keras; its
registered variants, with their reference figures (parameter count, MACs,
minimum input size, recipe) and sources, live beside it in the keras-free
``<family>_specs.py``, which names the builder as ``"module:function"``.
Importing this package registers them all, chapter by chapter, without
importing keras.
"""
# In chapter order, not sorted: registration order stays the catalog's.
from keras_dlbasic.models import (  # noqa: F401, I001  (each fills the registry)
    cnn_specs,
    resnet_specs,
    densenet_specs,
    vgg_specs,
    googlenet_specs,
    alexnet_specs,
    fcn_specs,
    rcnn_specs,
    yolo_specs,
    rnn_specs,
    transformer_specs,
    autoregressive_specs,
    vae_specs,
    gan_specs,
    diffusion_specs,
    aae_specs,
)
