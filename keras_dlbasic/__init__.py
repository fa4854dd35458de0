"""keras-dlbasic: the DL Basic course's models, written once in Keras 3.

Importing this package does not import keras; building a model does.

    >>> from keras_dlbasic import get_model, list_models, model_info
    >>> list_models(chapter=1)
    ['cnn']
"""
from keras_dlbasic import models as _catalog  # noqa: F401  (fills the registry)
from keras_dlbasic.registry import get_model, list_models, load_model, model_info

__version__ = "0.1.0"
__all__ = ["get_model", "list_models", "load_model", "model_info", "__version__"]
