"""Chapter 1, CNN basics: the conv–pool–FC network for MNIST.

Reference: LeCun, Bottou, Bengio & Haffner, "Gradient-Based Learning Applied
to Document Recognition", 1998; the lecture's simplified variant:

    input 28x28x1
    -> [conv 3x3 -> ReLU -> max-pool 2x2] x 2      feature extraction
    -> flatten -> dense 128 -> ReLU -> dropout     decision making
    -> dense 10 -> softmax

Lecture point: a convolution shares its kernel over every position, so the two
conv layers hold 18,816 parameters while the one hidden dense layer holds
204,928, 92% of the network (see ``keras_dlbasic.accounting``).
"""
import keras
from keras import layers

from keras_dlbasic.models.common import image_input_shape


def cnn(
    input_shape=None,
    classes=10,
    filters=(32, 64),
    kernel_size=3,
    hidden_units=128,
    dropout=0.5,
    classifier_activation="softmax",
    name="cnn",
):
    """The course's conv–pool–FC classifier.

    Defaults reproduce the chapter-1 MNIST network (its parameter and MAC
    hand counts are in ``cnn_specs``).

    Args:
        input_shape: (height, width, channels) in the current image data
            format; defaults to 28x28x1.
        classes: number of output classes.
        filters: output channels of each conv–pool stage.
        kernel_size: side of the square conv kernels ("valid" padding).
        hidden_units: width of the hidden fully connected layer.
        dropout: dropout rate before the output layer.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.

    Returns:
        A ``keras.Model`` mapping images to class scores of shape (batch, classes).
    """
    # Each stage maps a side s to (s - kernel_size + 1) // 2; the last must stay >= 1.
    min_size = 1
    for _ in filters:
        min_size = 2 * min_size + kernel_size - 1
    input_shape = image_input_shape(input_shape, (28, 28), 1, min_size, name)

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for stage, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, kernel_size, activation="relu", name=f"conv{stage}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden_units, activation="relu", name="fc1")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    # float32 output keeps softmax stable under mixed precision.
    outputs = layers.Dense(
        classes, activation=classifier_activation, dtype="float32", name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name)
