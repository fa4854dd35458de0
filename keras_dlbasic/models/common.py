"""Helpers shared by the image-model builders."""
import keras

from keras_dlbasic.errors import ModelArgumentError


def image_input_shape(input_shape, default_size, channels, min_size, model_name):
    """Resolve and validate an image input shape in the current data format.

    Args:
        input_shape: user value (height, width, channels) in the current
            ``keras.config.image_data_format()``, or ``None`` for the default.
        default_size: (height, width) used when ``input_shape`` is ``None``.
        channels: default number of channels.
        min_size: smallest height/width the network can take.
        model_name: used in error messages.

    Returns:
        The input shape tuple in the current data format.
    """
    channels_last = keras.config.image_data_format() == "channels_last"
    if input_shape is None:
        height, width = default_size
        return (height, width, channels) if channels_last else (channels, height, width)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ModelArgumentError(
            f"{model_name} takes a 3-D input_shape (height, width, channels); got {input_shape}"
        )
    height, width = input_shape[:2] if channels_last else input_shape[1:]
    if (height is not None and height < min_size) or (width is not None and width < min_size):
        raise ModelArgumentError(
            f"{model_name} needs inputs of at least {min_size}x{min_size}; "
            f"got input_shape={input_shape}"
        )
    return input_shape
