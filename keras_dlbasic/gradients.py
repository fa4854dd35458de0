"""Gradient norms per weight layer, on whichever backend keras runs.

Lecture point (chapter 2): in a plain deep net the gradient that reaches the
first layer is a product of one Jacobian per layer, so its size depends
exponentially on depth. A residual block computes H(x) = F(x) + x, so

    dH/dx = F'(x) + 1,

and the gradient always has a path around every block (He, Zhang, Ren & Sun,
"Deep Residual Learning for Image Recognition", CVPR 2016,
https://arxiv.org/abs/1512.03385; the gradient form is spelled out in He et
al., "Identity Mappings in Deep Residual Networks", ECCV 2016,
https://arxiv.org/abs/1603.05027). ``first_layer_gradient_norm`` measures
it: with ``training=False`` (BatchNorm applies its moving statistics) the
gradient of an untrained plain-56 shrinks towards 0, with ``training=True``
(batch statistics, what ``fit`` sees) it explodes instead (Yang et al., "A
Mean Field Theory of Batch Normalization", ICLR 2019,
https://arxiv.org/abs/1902.08129); the residual net's stays about the same
at any depth.

What this file holds:

* ``weight_layers``: the layers with a ``kernel``, input to output;
* ``kernel_gradient_norms``: ||dL/dW||_2 of every kernel (layer name -> norm);
* ``first_layer_gradient_norm``: the same for one layer, the first by default.

The model's weights are left as they were: JAX differentiates
``model.stateless_call``, TensorFlow and PyTorch restore the non-trainable
state (BatchNorm's moving statistics, seeds) that a ``training=True`` call
updates. Backend modules are imported inside their branch only.
"""
import keras
import numpy as np

from keras_dlbasic.errors import DLBasicError, ModelArgumentError
from keras_dlbasic.tasks.base import sparse_crossentropy


def weight_layers(model):
    """The layers of ``model`` that own a ``kernel`` (Conv, Dense, ...), input to output.

    Nested models are searched too, in the order they appear.
    """
    if not isinstance(model, keras.Model):
        raise ModelArgumentError(f"expected a keras.Model; got {type(model).__name__}")
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(weight_layers(layer))
        elif getattr(layer, "kernel", None) is not None:
            found.append(layer)
    return found


def kernel_gradient_norms(model, x, y, loss_fn=None, training=False):
    """L2 norm of dL/dW for the kernel W of every weight layer, at the current weights.

    Args:
        model: a built ``keras.Model``.
        x: a batch of inputs the model takes.
        y: the targets of that batch.
        loss_fn: ``loss_fn(y_true, y_pred)`` returning a scalar; defaults to
            sparse categorical cross-entropy (``tasks.base.sparse_crossentropy``).
        training: call the model in training mode (BatchNorm uses the batch
            statistics, dropout is on), as ``fit`` does. The model's state
            is restored afterwards.

    Returns:
        A dict layer name -> ||dL/dW||_2 (a float), ordered input to output.

    Example:
        >>> norms = kernel_gradient_norms(get_model("resnet20"), x, y)
        >>> list(norms)[:2]
        ['conv1_conv', 'conv2_block1_1_conv']
    """
    layers = weight_layers(model)
    if not layers:
        raise ModelArgumentError(f"model '{model.name}' has no layer with a kernel")
    gradients = _kernel_gradients(model, x, y, [l.kernel for l in layers], loss_fn, training)
    return {l.name: _l2(g) for l, g in zip(layers, gradients)}


def first_layer_gradient_norm(model, x, y, loss_fn=None, layer=None, training=False):
    """||dL/dW||_2 for the kernel of the first weight layer (or of ``layer``).

    The gradient that reaches the first layer of a plain net passes through
    every layer's Jacobian; in a residual net each block adds the identity,
    dH/dx = F'(x) + 1, so it cannot vanish (He et al. 2016).

    Args:
        model, x, y, loss_fn, training: as in ``kernel_gradient_norms``.
        layer: a layer name or layer of ``model`` that has a kernel;
            ``None`` for the first weight layer.

    Returns:
        The norm as a float.
    """
    candidates = weight_layers(model)
    if layer is None:
        if not candidates:
            raise ModelArgumentError(f"model '{model.name}' has no layer with a kernel")
        target = candidates[0]
    else:
        target = _find_layer(candidates, layer, model)
    return _l2(_kernel_gradients(model, x, y, [target.kernel], loss_fn, training)[0])


# --- Backend dispatch ---------------------------------------------------------------


def _find_layer(candidates, layer, model):
    name = layer if isinstance(layer, str) else getattr(layer, "name", None)
    for candidate in candidates:
        if candidate is layer or (isinstance(layer, str) and candidate.name == name):
            return candidate
    names = ", ".join(c.name for c in candidates[:5]) + (", ..." if len(candidates) > 5 else "")
    raise ModelArgumentError(
        f"layer {layer!r} is not a weight layer of model '{model.name}'; weight layers: {names}"
    )


def _l2(gradient):
    return float(np.linalg.norm(np.asarray(gradient, dtype=np.float64).ravel()))


def _kernel_gradients(model, x, y, kernels, loss_fn, training):
    """dL/dW for each variable in ``kernels``, as numpy arrays."""
    if loss_fn is None:
        loss_fn = sparse_crossentropy(model)
    elif not callable(loss_fn):
        raise ModelArgumentError(
            f"loss_fn must be callable as loss_fn(y_true, y_pred); got {loss_fn!r}")
    batch = {len(a) for a in keras.tree.flatten(x)} | {len(a) for a in keras.tree.flatten(y)}
    if len(batch) != 1:
        raise ModelArgumentError(
            f"x and y must hold the same number of examples; got sizes {sorted(batch)}")
    frozen = [k.path for k in kernels if not k.trainable]
    if frozen:
        raise ModelArgumentError(f"kernels {frozen} are not trainable, so they have no gradient")
    x = keras.tree.map_structure(keras.ops.convert_to_tensor, x)
    y = keras.ops.convert_to_tensor(y)

    backend = keras.backend.backend()
    if backend == "jax":
        gradients = _jax_gradients(model, x, y, kernels, loss_fn, training)
    elif backend in ("tensorflow", "torch"):
        state = [v.numpy() for v in model.non_trainable_variables]
        try:
            gradients = (_tf_gradients if backend == "tensorflow" else _torch_gradients)(
                model, x, y, kernels, loss_fn, training)
        finally:
            for variable, value in zip(model.non_trainable_variables, state):
                variable.assign(value)
    else:
        raise DLBasicError(f"gradient norms are not implemented for the {backend} backend")
    return [keras.ops.convert_to_numpy(g) for g in gradients]


def _tf_gradients(model, x, y, kernels, loss_fn, training):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=training))
    return tape.gradient(loss, kernels)


def _jax_gradients(model, x, y, kernels, loss_fn, training):
    import jax

    trainable = model.trainable_variables
    positions = [next(i for i, v in enumerate(trainable) if v is k) for k in kernels]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss_of(trainable_values):
        y_pred, _ = model.stateless_call(trainable_values, non_trainable, x, training=training)
        return loss_fn(y, y_pred)

    gradients = jax.grad(loss_of)([v.value for v in trainable])
    return [gradients[i] for i in positions]


def _torch_gradients(model, x, y, kernels, loss_fn, training):
    import torch

    with torch.enable_grad():
        loss = loss_fn(y, model(x, training=training))
        return torch.autograd.grad(loss, [k.value for k in kernels])
