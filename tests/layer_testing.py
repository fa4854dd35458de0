"""``run_layer_test``: the checks every custom layer of ``keras_dlbasic.layers`` passes.

In the spirit of Keras's ``TestCase.run_layer_test`` (keras/src/testing/test_case.py)
and keras-hub's ``TestCase.run_layer_test``, one call checks:

* the config: ``from_config(get_config())`` has an equal config and, given the same
  weights, the same outputs; ``serialize_keras_object`` / ``deserialize_keras_object``
  restore the layer by its registered name (``keras_dlbasic>ClassName``);
* the symbolic call (``keras.Input`` in a functional model) and the eager call give
  the same outputs with the same weights, of ``expected_output_shape``;
* a training step: two ``train_on_batch`` SGD steps on a mean-squared loss of the
  first output; the losses are finite and every trainable weight moved;
* the dtype policies ``float32``, ``mixed_float16`` and ``mixed_bfloat16``: the
  outputs have the policy's compute dtype (or ``expected_output_dtype``), are finite
  and, with the float32 weights, agree with float32 within the precision of the
  compute dtype; the variables stay float32. The global policy is restored after.

A layer that is applied step by step (a recurrent cell) passes ``wrapper``, e.g.
``keras.layers.RNN``: the config checks are about the cell, the calls go through
``wrapper(cell)``.
"""
import json

import keras
import numpy as np
from keras import tree

from conftest import to_numpy

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
# Agreement with float32, relative to the outputs' scale: about ten times the machine
# epsilon of the compute dtype.
PRECISION = {"float32": 1e-5, "float16": 1e-2, "bfloat16": 8e-2}


def run_layer_test(
    layer_class,
    init_kwargs,
    input_data,
    call_kwargs=None,
    expected_output_shape=None,
    expected_output_dtype=None,
    wrapper=None,
    run_training_check=True,
    weights_without_gradient=(),
):
    """Run the config, symbolic/eager, training and dtype-policy checks on a layer.

    Args:
        layer_class: the layer (or cell) class under test.
        init_kwargs: its constructor arguments.
        input_data: an array, a list of arrays passed as one argument
            (``[features, boxes]``), or a dict of arrays passed as keyword arguments
            (``{"query": q, "value": v}``); each becomes a ``keras.Input`` of the
            array's dtype in the functional model (batch axis unknown).
        call_kwargs: other, non-tensor call arguments (``{"reverse": True}``).
        expected_output_shape: the eager output's shape; a list of shapes for
            several outputs.
        expected_output_dtype: the outputs' dtype when it is not the policy's
            compute dtype (``"bool"`` for a mask); a list of them for several
            outputs, ``None`` where an output has the compute dtype.
        wrapper: a function from the layer to the layer that is called
            (``keras.layers.RNN`` for a cell).
        run_training_check: set ``False`` for a layer without trainable weights.
        weights_without_gradient: names of weights whose gradient is zero by
            construction (they must stay put instead of move).
    """
    call_kwargs = dict(call_kwargs or {})
    wrap = wrapper or (lambda layer: layer)

    layer = layer_class(**init_kwargs)
    called = wrap(layer)
    model = _functional_model(called, input_data, call_kwargs)
    eager = _outputs(called, input_data, call_kwargs)
    weights = called.get_weights()  # the weights of ``eager``, before training moves them
    _check_symbolic_and_eager(model, eager, input_data, expected_output_shape)
    _check_config(layer_class, layer, wrap, weights, eager, input_data, call_kwargs)
    _check_dtype_policies(layer_class, init_kwargs, wrap, weights, eager, input_data,
                          call_kwargs, expected_output_dtype)
    if run_training_check:
        _check_training_step(model, called, eager[0].shape, input_data, weights_without_gradient)


def _call(layer, inputs, call_kwargs, **extra):
    if isinstance(inputs, dict):
        return layer(**inputs, **call_kwargs, **extra)
    return layer(inputs, **call_kwargs, **extra)


def _outputs(layer, input_data, call_kwargs):
    """Eager inference-mode outputs, flattened, as numpy."""
    return [to_numpy(y) for y in tree.flatten(_call(layer, input_data, call_kwargs, training=False))]


def _functional_model(layer, input_data, call_kwargs):
    def symbolic(array, name=None):
        array = np.asarray(array)
        return keras.Input(shape=array.shape[1:], dtype=str(array.dtype), name=name)

    if isinstance(input_data, dict):
        inputs = {name: symbolic(array, name) for name, array in input_data.items()}
    elif isinstance(input_data, list):
        inputs = [symbolic(array) for array in input_data]
    else:
        inputs = symbolic(input_data)
    return keras.Model(inputs, _call(layer, inputs, call_kwargs))


def _matches(symbolic, shape):
    """Whether a symbolic shape, batch axis unknown, fits an eager one; other unknown
    axes (a detector's number of regions) fit any length."""
    return (len(symbolic) == len(shape) and symbolic[0] is None
            and all(d is None or d == e for d, e in zip(symbolic[1:], shape[1:])))


def _check_symbolic_and_eager(model, eager, input_data, expected_output_shape):
    symbolic_shapes = [tuple(t.shape) for t in tree.flatten(model.outputs)]
    batch = len(_first(input_data))
    assert len(eager) == len(symbolic_shapes) and all(
        _matches(s, y.shape) for s, y in zip(symbolic_shapes, eager)), (
        f"eager outputs {[y.shape for y in eager]}, symbolic outputs {symbolic_shapes}")
    if expected_output_shape is None:
        assert all(y.shape[0] == batch for y in eager)
    else:
        expected = (expected_output_shape if isinstance(expected_output_shape, list)
                    else [expected_output_shape])
        assert [y.shape for y in eager] == [tuple(s) for s in expected]
    for s, e in zip(_model_outputs(model, input_data), eager):
        _assert_close(s, e, "symbolic and eager calls differ")


def _check_config(layer_class, layer, wrap, weights, eager, input_data, call_kwargs):
    config = layer.get_config()
    clone = layer_class.from_config(config)
    assert clone.get_config() == config
    clone_called = wrap(clone)
    _call(clone_called, input_data, call_kwargs)  # builds it
    clone_called.set_weights(weights)
    for c, e in zip(_outputs(clone_called, input_data, call_kwargs), eager):
        _assert_close(c, e, "from_config(get_config()) differs")

    serialized = keras.saving.serialize_keras_object(layer)
    json.dumps(serialized)  # a .keras file stores it as JSON
    registered = f"keras_dlbasic>{layer_class.__name__}"
    assert keras.saving.get_registered_name(layer_class) == registered, "not registered"
    assert serialized["registered_name"] == registered
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is layer_class and restored.get_config() == config


def _check_training_step(model, layer, output_shape, input_data, weights_without_gradient):
    """Two SGD steps on mean((first output - target)²): finite losses, every weight moved."""
    trainer = keras.Model(model.input, tree.flatten(model.outputs)[0])
    target = np.random.default_rng(0).normal(size=output_shape).astype("float32")
    # One-off steps: TensorFlow and PyTorch run them faster eagerly than traced.
    trainer.compile(optimizer="sgd", loss="mse", run_eagerly=keras.backend.backend() != "jax")
    weights = layer.trainable_weights
    assert weights, "no trainable weights: pass run_training_check=False"
    before = [to_numpy(w) for w in weights]
    losses = [float(np.ravel(trainer.train_on_batch(input_data, target))[0]) for _ in range(2)]
    assert np.all(np.isfinite(losses)), losses
    for weight, old in zip(weights, before):
        new = to_numpy(weight)
        if weight.name in weights_without_gradient:
            np.testing.assert_allclose(new, old, atol=1e-6, err_msg=f"{weight.path} moved")
        else:
            assert not np.array_equal(new, old), f"{weight.path} did not change in training"


def _check_dtype_policies(layer_class, init_kwargs, wrap, weights, reference, input_data,
                          call_kwargs, expected_output_dtype):
    previous = keras.config.dtype_policy()
    for policy in POLICIES:
        keras.config.set_dtype_policy(policy)
        try:
            layer = wrap(layer_class(**init_kwargs))
            model = _functional_model(layer, input_data, call_kwargs)
        finally:
            keras.config.set_dtype_policy(previous)
        layer.set_weights(weights)
        for weight in layer.weights:
            if keras.backend.is_float_dtype(weight.dtype):
                assert keras.backend.standardize_dtype(weight.dtype) == "float32", weight.path
        symbolic = [keras.backend.standardize_dtype(t.dtype) for t in tree.flatten(model.outputs)]
        compute = keras.DTypePolicy(policy).compute_dtype
        expected_dtypes = (expected_output_dtype if isinstance(expected_output_dtype, list)
                           else [expected_output_dtype] * len(symbolic))
        expected_dtypes = [expected or compute for expected in expected_dtypes]
        assert symbolic == expected_dtypes, f"{policy}: symbolic dtypes {symbolic}"
        outputs = zip(_model_outputs(model, input_data), reference, expected_dtypes)
        for output, ref, expected in outputs:
            dtype = keras.backend.standardize_dtype(output.dtype)
            assert dtype == expected, f"{policy}: output dtype {dtype}, expected {expected}"
            if not keras.backend.is_float_dtype(dtype):
                np.testing.assert_array_equal(output, ref)
                continue
            output = output.astype("float32")
            assert np.all(np.isfinite(output)), f"{policy}: non-finite outputs"
            scale = max(1.0, float(np.max(np.abs(ref))))
            np.testing.assert_allclose(output, ref, rtol=0, atol=PRECISION[dtype] * scale,
                                       err_msg=f"{policy} differs from float32")


def _model_outputs(model, input_data):
    """A model's eager inference-mode outputs, flattened, as numpy. (Not
    ``predict_on_batch`` on JAX: XLA on CPU cannot compile its float16 matmuls.)"""
    return [to_numpy(y) for y in tree.flatten(model(input_data, training=False))]


def _assert_close(actual, expected, message):
    if np.issubdtype(expected.dtype, np.floating):
        np.testing.assert_allclose(actual, expected, atol=1e-6, err_msg=message)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=message)


def _first(input_data):
    if isinstance(input_data, dict):
        return next(iter(input_data.values()))
    return input_data[0] if isinstance(input_data, list) else input_data
