"""Losses that Keras's own do not cover on every backend.

* ``PixelCrossentropy``: sparse categorical cross-entropy of per-pixel class scores
  (B, H, W, classes) against class maps (B, H, W), computed on the pixels flattened
  to (B·H·W, classes). The same numbers as ``keras.losses.SparseCategoricalCrossentropy``;
  flattening first avoids keras 3.15's PyTorch backend, which moves the class axis of a
  4-D output to position 1 without making it contiguous, so the backward pass of
  ``nll_loss2d`` fails ("grad_input must be contiguous").
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class PixelCrossentropy(keras.losses.Loss):
    """Per-pixel sparse categorical cross-entropy, averaged over every pixel.

    Args:
        from_logits: ``y_pred`` holds logits, not probabilities.
        name: the loss's name.
    """

    def __init__(self, from_logits=False, name="pixel_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        classes = ops.shape(y_pred)[-1]
        loss = keras.losses.sparse_categorical_crossentropy(
            ops.reshape(y_true, (-1,)), ops.reshape(y_pred, (-1, classes)),
            from_logits=self.from_logits)
        return ops.reshape(loss, ops.shape(y_true))

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


def bernoulli_nll(x, logits):
    """-log p(x) per example in nats, each pixel of ``x`` a Bernoulli with ``logits``:
    Σ over pixels of the binary cross-entropy, softplus(l) − x·l (stable for any |l|).
    (B, ...) and (B, ...) -> (B,)."""
    x = ops.cast(ops.reshape(x, (ops.shape(x)[0], -1)), "float32")
    logits = ops.cast(ops.reshape(logits, (ops.shape(logits)[0], -1)), "float32")
    return ops.sum(ops.softplus(logits) - x * logits, axis=-1)


def gaussian_kl(mean, log_var):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per example in nats, in closed form:
    ½ Σ (μ² + σ² − log σ² − 1). (B, d) and (B, d) -> (B,)."""
    mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
    return 0.5 * ops.sum(ops.square(mean) + ops.exp(log_var) - log_var - 1.0, axis=-1)
