"""Export a Keras model as a TF SavedModel or an ONNX file, and verify it.

Keras 3.15 exports natively on most backends. Two combinations fail there:
on torch, ``format="tf_saved_model"`` (a torch.export dynamic-shapes error);
on jax, ``format="onnx"`` (jax2onnx emits a MaxPool node onnxruntime rejects).
For those the model goes through the backend-neutral ``.keras`` format: it is
saved, reloaded in a TensorFlow-backend subprocess and exported there. The
same route is the fallback when a native export fails for one model (torch's
ONNX exporter rejects the layer norm of the Transformer encoder, for one). Either
way the artifact is reloaded (TensorFlow / onnxruntime), run on the same input
as the Keras model, and accepted only if the largest absolute difference is
at most ``atol``. The artifact is written aside and renamed into place.

Run as ``python -m keras_dlbasic.export SRC.keras DST FORMAT`` it is the
subprocess side of that route.
"""
import dataclasses
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from keras_dlbasic.errors import DLBasicError, ExportError, UnknownNameError, require
from keras_dlbasic.io import atomic_path, remove

FORMATS = {"savedmodel": "tf_saved_model", "onnx": "onnx"}
# (backend, format) pairs Keras cannot export natively; they go through .keras.
VIA_KERAS_FILE = {("torch", "savedmodel"), ("jax", "onnx")}
EXPORT_BACKEND = "tensorflow"


@dataclasses.dataclass(frozen=True)
class ExportReport:
    path: pathlib.Path
    format: str
    route: str  # e.g. "native (torch)" or "via .keras on tensorflow"
    max_abs_diff: float


def check_format(fmt):
    if fmt not in FORMATS:
        raise UnknownNameError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")


def _check_dependencies(fmt, backend):
    if fmt == "onnx":
        require("onnx", "onnx", "ONNX export")
        require("onnxruntime", "onnx", "checking an ONNX export")
        exporter = {"tensorflow": "tf2onnx", "torch": "onnxscript"}.get(backend, "tf2onnx")
        require(exporter, "onnx", "ONNX export")
    require("tensorflow", "tensorflow", "SavedModel export" if fmt == "savedmodel" else "export")


def sample_input(model, batch=2, seed=0):
    """A fixed random batch for the model's inputs: floats in [0, 1), or token ids
    1..3 for integer inputs (valid in any vocabulary); unknown lengths become 8.
    A list of arrays for a model of several inputs (e.g. the Transformer)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = [batch] + [d if d is not None else 8 for d in tensor.shape[1:]]
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(1, 4, size=shape).astype(str(tensor.dtype)))
        else:
            arrays.append(rng.random(shape, dtype=np.float32))
    return arrays[0] if len(arrays) == 1 else arrays


def run_artifact(path, fmt, x):
    """Outputs of an exported artifact on ``x`` (an array, or a list of them) as numpy."""
    inputs = x if isinstance(x, list) else [x]
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {spec.name: value for spec, value in zip(session.get_inputs(), inputs)}
        return session.run(None, feed)[0]
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # keep a reference: serve() uses its variables
    tensors = [tf.constant(value) for value in inputs]
    return np.asarray(loaded.serve(tensors if isinstance(x, list) else tensors[0]))


def _export_native(model, path, fmt):
    model.export(str(path), format=FORMATS[fmt], verbose=False)


def _export_via_keras_file(model, path, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        source = pathlib.Path(tmp) / "model.keras"
        model.save(source)
        env = {**os.environ, "KERAS_BACKEND": EXPORT_BACKEND, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run(
            [sys.executable, "-m", "keras_dlbasic.export", str(source), str(path), fmt],
            env=env, capture_output=True, text=True,
        )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise ExportError(f"export on the {EXPORT_BACKEND} backend failed: {lines[-1]}")


def inference_outputs(model, x):
    """A model's inference outputs (an array, or a dict or list of them) as NumPy:
    compiled on JAX, where an eager call compiles each op of the network on its own
    (5 s for a small GoogLeNet's first call on a 2-core CPU, against 0.9 s compiled);
    one eager call elsewhere, which is quicker than tracing a graph for it."""
    import keras

    if keras.backend.backend() == "jax":
        return keras.tree.map_structure(np.asarray, model.predict_on_batch(x))
    return keras.tree.map_structure(keras.ops.convert_to_numpy, model(x, training=False))


def export_model(model, path, fmt, force=False, atol=1e-4):
    """Export ``model`` to ``path`` and check it against the Keras outputs.

    Args:
        model: a built ``keras.Model`` with one output (one input or several), or a
            model whose ``exportable()`` gives the network a deployment runs (the
            VAE's decoder, the GAN's generator).
        path: destination (a directory for ``savedmodel``, a file for ``onnx``).
        fmt: ``"savedmodel"`` or ``"onnx"``.
        force: replace ``path`` if it exists (otherwise that is an error).
        atol: largest accepted absolute difference from the Keras output.

    Returns:
        An ``ExportReport``.
    """
    import keras

    check_format(fmt)
    if hasattr(model, "exportable"):  # a generative model deploys one of its networks
        model = model.exportable()
    path = pathlib.Path(path)
    if path.exists() and not force:
        raise DLBasicError(f"{path} already exists; pass --force to overwrite it")
    backend = keras.backend.backend()
    _check_dependencies(fmt, backend)
    path.parent.mkdir(parents=True, exist_ok=True)

    x = sample_input(model)
    expected = inference_outputs(model, x)
    via_file = (backend, fmt) in VIA_KERAS_FILE
    native_error = None
    with atomic_path(path) as tmp:
        if not via_file:
            try:
                _export_native(model, tmp, fmt)
            except Exception as err:  # noqa: BLE001  (any exporter failure: try the other route)
                if backend == EXPORT_BACKEND:
                    raise ExportError(f"{fmt} export failed: {str(err).splitlines()[0]}") from err
                remove(tmp)
                via_file, native_error = True, type(err).__name__
        if via_file:
            _export_via_keras_file(model, tmp, fmt)
        diff = float(np.max(np.abs(run_artifact(tmp, fmt, x) - expected)))
        if not diff <= atol:
            raise ExportError(
                f"the exported {fmt} model differs from the Keras model by {diff:.3g} (> {atol}); "
                f"nothing was written"
            )
        if path.exists():
            remove(path)
    route = f"via .keras on {EXPORT_BACKEND}" if via_file else f"native ({backend})"
    if native_error:
        route += f" (native {backend} export raised {native_error})"
    return ExportReport(path, fmt, route, diff)


def _worker(source, destination, fmt):
    """Subprocess side of the ``.keras`` route: load on this backend and export."""
    from keras_dlbasic.registry import load_model

    model = load_model(source)
    model(sample_input(model))  # Keras exports only models that have been called
    _export_native(model, destination, fmt)


def load_for_export(source):
    """A model to export and its name, from a run directory, a ``.keras`` file or a model name."""
    import keras

    from keras_dlbasic.registry import get_model, load_model, model_info

    path = pathlib.Path(source)
    if path.is_dir():
        from keras_dlbasic.training import load_run

        config, _ = load_run(path)
        checkpoint = path / "best.keras"
        if not checkpoint.is_file():
            raise DLBasicError(f"run {path} has no best.keras checkpoint yet")
        return load_model(checkpoint), config.model
    if path.suffix == ".keras":
        if not path.is_file():
            raise DLBasicError(f"no such file: {path}")
        return load_model(path), path.stem
    if os.sep in source:
        raise DLBasicError(f"no run directory at {source}")
    spec = model_info(source)
    keras.utils.set_random_seed(0)
    return get_model(spec.name), spec.name


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
