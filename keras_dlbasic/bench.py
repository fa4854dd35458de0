"""Training and inference throughput of one model on each Keras backend, side by side.

``dlbasic bench MODEL`` runs ``measure`` once per backend, each in a fresh Python
process (Keras picks its backend at import), and prints one table: examples per
second, the ratio to the fastest row, and the first step apart, since that is
where tracing and compiling happen. With ``reference=True`` the same network,
with the same initial weights, also runs in plain PyTorch (``torch_reference``),
eagerly and through ``torch.compile``: the tool a user would pick instead. A
mixed ``precision`` is timed beside float32, so the table shows its speed-up.

Every row times the same way: a first step, ``warmup`` more, then ``steps`` timed
steps whose results are read back to the host, so asynchronous devices have
finished, on the model's default training data (the run's own task prepares it)
and the model compiled as ``dlbasic train`` compiles it (Adam; the task's loss).
The Keras rows call ``train_on_batch`` and ``predict_on_batch`` on one batch
already in memory. With ``pipeline=True`` two more rows per backend call ``fit``
and ``predict`` over a stream of batches (``measure_input``): from arrays in
memory, as the bundled sets train, and through a ``tf.data`` pipeline read as a
stream, as the TFDS sets train, so the table shows whether the input keeps up.

Run directly, this module is that worker: ``python -m keras_dlbasic.bench '{json}'``
prints one JSON line of ``measure``, ``measure_input`` or ``measure_reference``.
"""
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time

from keras_dlbasic.backend import BACKENDS, current_backend
from keras_dlbasic.errors import DLBasicError, MissingDependencyError

REFERENCE_ROWS = ("plain PyTorch", "torch.compile")


@dataclasses.dataclass
class Row:
    """One line of the table: what ran, where, and how fast.

    ``first_train_s`` and ``first_predict_s`` are the first call's seconds (tracing,
    compiling, building the optimizer); ``train_step_s`` and ``predict_step_s`` the
    mean seconds of the timed steps after warm-up; ``precision`` the Keras dtype
    policy (for the plain-PyTorch rows, the policy whose compute type
    ``torch.autocast`` takes).
    """

    engine: str
    device: str
    batch_size: int
    first_train_s: float
    train_step_s: float
    first_predict_s: float
    predict_step_s: float
    note: str = ""
    precision: str = "float32"
    feed: str = ""  # measure_input's rows: what fit and predict read (FEEDS)

    @property
    def name(self):
        """The engine, and for ``measure_input``'s rows how they were fed."""
        return f"{self.engine}, fit from {self.feed}" if self.feed else self.engine

    @property
    def train_per_s(self):
        return self.batch_size / self.train_step_s

    @property
    def predict_per_s(self):
        return self.batch_size / self.predict_step_s


def cpu_name():
    """The CPU's model name and core count, e.g. "Intel Xeon ... (2 cores)"."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name} ({os.cpu_count()} cores)"


def device_name():
    """The device the current Keras backend computes on: a GPU's name, else the CPU's."""
    backend = current_backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return cpu_name() if device.platform == "cpu" else device.device_kind
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else cpu_name()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    return cpu_name()


def time_calls(call, warmup, steps):
    """Seconds of the first ``call()``, and the mean of ``steps`` calls after ``warmup`` more."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    for _ in range(warmup):
        call()
    start = time.perf_counter()
    for _ in range(steps):
        call()
    return first, (time.perf_counter() - start) / steps


def prepared(model, batch_size=None, precision="float32", model_kwargs=None, dataset=None):
    """``(keras model, task, data, config)``: ``model`` built and compiled as ``dlbasic
    train`` builds and compiles it, its task, its default training data prepared by
    that task, and the run's ``TrainConfig``."""
    import keras

    from keras_dlbasic import training
    from keras_dlbasic.registry import get_model

    # A constant learning rate: a schedule over one epoch of one step would reach 0 at once.
    config = training.resolve_config(model, dataset=dataset, batch_size=batch_size, epochs=1,
                                     schedule="constant", precision=precision,
                                     model_kwargs=model_kwargs or {})
    keras.config.set_dtype_policy(config.precision)
    keras.utils.set_random_seed(config.seed)
    task = training.task_for(config)
    data = training.prepare_data(config, task)
    network = get_model(config.model, **{**task.builder_kwargs(data), **config.model_kwargs})
    task.compile(network, training.default_optimizer(config, steps_per_epoch=1))
    return network, task, data, config


def training_batch(model, batch_size=None, precision="float32", model_kwargs=None, dataset=None):
    """``(keras model, batch, config)``: ``model`` and ``config`` as ``prepared`` gives
    them, and one batch of its default training data as keyword arguments of
    ``train_on_batch`` (``x``, and ``y`` and ``sample_weight`` where the task has them)."""
    import keras

    network, task, data, config = prepared(model, batch_size, precision, model_kwargs, dataset)
    inputs = task.fit_inputs(data, "train", config.batch_size)
    if isinstance(inputs["x"], keras.utils.PyDataset):
        batch = dict(zip(("x", "y", "sample_weight"), inputs["x"][0]))
    else:
        batch = {key: keras.tree.map_structure(lambda a: a[:config.batch_size], inputs[key])
                 for key in ("x", "y", "sample_weight") if inputs.get(key) is not None}
    return network, batch, config


def measure(model, batch_size=None, steps=20, warmup=3, precision="float32", model_kwargs=None):
    """One ``Row`` for ``model`` on the current backend (see the module docstring)."""
    import keras

    network, batch, _ = training_batch(model, batch_size, precision, model_kwargs)
    first_train, train_step = time_calls(lambda: network.train_on_batch(**batch), warmup, steps)
    first_predict, predict_step = time_calls(lambda: network.predict_on_batch(batch["x"]),
                                             warmup, steps)
    size = int(keras.tree.flatten(batch["x"])[0].shape[0])
    return Row(f"Keras {current_backend()}", device_name(), size, first_train, train_step,
               first_predict, predict_step, precision=precision)


FEEDS = ("arrays in memory", "tf.data stream")  # measure_input's two rows


class _StepClock:
    """A Keras callback's clock: the time at the end of every training or predict step.
    Keras converts a step's logs (and predictions) to numpy before it calls a batch-end
    callback, and runs such a callback synchronously, so each time is taken once its
    step has finished."""

    def __init__(self):
        import keras

        clock = self

        class Callback(keras.callbacks.Callback):
            async_safe = False  # a clock must run in step with the steps

            def on_train_batch_end(self, batch, logs=None):
                clock.times.append(time.perf_counter())

            on_predict_batch_end = on_train_batch_end

        self.callback, self.times = Callback(), []

    def split(self, start, warmup):
        """Seconds to the first step's end from ``start``, and the mean step after ``warmup`` more."""
        first, timed = self.times[0] - start, self.times[warmup:]
        return first, (timed[-1] - timed[0]) / (len(timed) - 1)

    @classmethod
    def time(cls, call, warmup):
        """``split`` of one ``call(callbacks)`` (a ``fit`` or a ``predict``)."""
        clock, start = cls(), time.perf_counter()
        call([clock.callback])
        return clock.split(start, warmup)


def measure_input(model, batch_size=None, steps=20, warmup=3, precision="float32",
                  model_kwargs=None):
    """Two ``Row``s: ``fit`` and ``predict`` over the same examples fed from arrays already
    in memory (how the bundled sets train) and through a ``tf.data`` pipeline read as a
    ``Stream`` (``from_tensor_slices`` of those arrays, a parallel map and prefetch, then
    numpy batches through ``StreamBatches``, as the TFDS sets train, minus reading and
    decoding their files). Each row times ``steps`` batches after the first and
    ``warmup`` more, inside one ``fit`` (one ``predict``) call of a freshly compiled
    model with the same initial weights."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_dlbasic import training
    from keras_dlbasic.data.streams import Stream

    network, task, data, config = prepared(model, batch_size, precision, model_kwargs)
    x, y = data.arrays("train")
    n = len(keras.tree.flatten(x)[0])
    rows = np.resize(np.arange(n), (1 + warmup + steps) * config.batch_size)
    # What the loss compares with; none (a generative model's loss reads the images):
    # label -1, as the streamed binarized_mnist gives.
    y = task.targets(y)
    y = np.full(n, -1, np.int32) if y is None else y
    x, y = (keras.tree.map_structure(lambda a: a[rows], part) for part in (x, y))
    pipeline = tf.data.Dataset.from_tensor_slices((x, y)).map(
        lambda *example: example, num_parallel_calls=tf.data.AUTOTUNE)
    splits = {FEEDS[0]: dataclasses.replace(data, x_train=x, y_train=y),
              FEEDS[1]: dataclasses.replace(data, x_train=Stream(pipeline), y_train=None)}
    weights = network.get_weights()
    result = []
    for feed, split in splits.items():
        network.set_weights(weights)  # and a new optimizer, traced and compiled anew
        task.compile(network, training.default_optimizer(config, steps_per_epoch=1))
        inputs = task.fit_inputs(split, "train", config.batch_size)
        first_train, train_step = _StepClock.time(
            lambda callbacks: network.fit(**inputs, epochs=1, verbose=0, callbacks=callbacks), warmup)
        first_predict, predict_step = _StepClock.time(
            lambda callbacks: network.predict(inputs["x"], batch_size=inputs.get("batch_size"),
                                              verbose=0, callbacks=callbacks), warmup)
        result.append(Row(f"Keras {current_backend()}", device_name(), config.batch_size,
                          first_train, train_step, first_predict, predict_step,
                          precision=precision, feed=feed))
    return result


def measure_reference(model, batch_size=None, steps=20, warmup=3, precision="float32",
                      model_kwargs=None, engines=REFERENCE_ROWS):
    """A ``Row`` per engine: the same network, initial weights and batch in plain
    PyTorch, eager and through ``torch.compile`` (whose row says why where it cannot
    run), trained by ``reference_steps``."""
    import torch

    network, batch, config = training_batch(model, batch_size, "float32", model_kwargs)
    if "y" not in batch or batch.get("sample_weight") is not None:
        raise DLBasicError(f"{model}: the plain-PyTorch reference times classifiers only")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    reference = torch_reference(network).to(device)
    x = torch.as_tensor(reference.keras_to_torch_inputs(batch["x"]), device=device)
    y = torch.as_tensor(batch["y"], dtype=torch.long, device=device)
    name = torch.cuda.get_device_name(0) if device == "cuda" else cpu_name()
    rows = []
    for engine in engines:
        net = torch.compile(reference) if engine == "torch.compile" else reference
        train_step, predict_step = reference_steps(net, config, x, y, precision)
        try:
            net.train()
            first_train, train_step_s = time_calls(train_step, warmup, steps)
            net.eval()
            first_predict, predict_step_s = time_calls(predict_step, warmup, steps)
        except Exception as err:  # torch.compile needs a working compiler toolchain
            if engine != "torch.compile":
                raise
            rows.append(Row(engine, name, len(x), *[float("nan")] * 4,
                            note=f"failed: {str(err).splitlines()[0][:80]}", precision=precision))
            continue
        rows.append(Row(engine, name, len(x), first_train, train_step_s, first_predict,
                        predict_step_s, precision=precision))
    return rows


def reference_steps(net, config, x, y, precision="float32"):
    """``(train_step, predict_step)`` of a plain PyTorch module on one batch, as a PyTorch
    user writes them: ``F.cross_entropy`` and Adam at the run's ``lr`` and ``beta_1``
    (and Keras's epsilon, 1e-7), under ``torch.autocast`` for a mixed ``precision``.
    ``train_step()`` returns the loss before its update, as ``train_on_batch`` does."""
    import torch

    device = x.device.type
    dtype = {"mixed_bfloat16": torch.bfloat16, "mixed_float16": torch.float16}.get(precision)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, betas=(config.beta_1, 0.999),
                                 eps=1e-7)

    def autocast():
        return torch.autocast(device, dtype=dtype or torch.float32, enabled=dtype is not None)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()  # waits for the device

    def predict_step():
        with torch.no_grad(), autocast():
            return net(x).cpu()

    return train_step, predict_step


def torch_reference(model):
    """A plain ``torch.nn.Module`` computing what the Keras ``model`` computes, with its
    weights copied: the network as a PyTorch user would write it (channels-first
    images, ``nn.Conv2d``, ``nn.GRU``...), returning logits where the Keras model ends
    in a softmax (``F.cross_entropy`` applies it).

    Takes models that are one chain of ``InputLayer``, ``Conv2D``, ``MaxPooling2D``,
    ``Flatten``, ``Dense``, ``Dropout``, ``ReLU``, ``GRU`` and ``LSTM`` layers, such
    as ``cnn`` and ``gru``; anything else raises ``DLBasicError``. The module's
    ``keras_to_torch_inputs(x)`` turns the Keras model's inputs (NumPy) into its own.
    """
    import keras
    import numpy as np
    import torch
    from torch import nn

    def unsupported(why):
        return DLBasicError(f"no plain-PyTorch reference for {model.name}: {why}")

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    for previous, layer in zip(model.layers, model.layers[1:]):
        if layer.input is not previous.output:
            raise unsupported("it is not one chain of layers")
    channels_last = keras.config.image_data_format() == "channels_last"
    modules, logits = [], False

    def activation(layer, last):
        nonlocal logits
        name = keras.activations.serialize(layer.activation)
        name = name if isinstance(name, str) else name.get("config", {}).get("name", str(name))
        if name == "softmax" and last:
            logits = True
            return []
        table = {"linear": [], "relu": [nn.ReLU()], "tanh": [nn.Tanh()], "sigmoid": [nn.Sigmoid()]}
        if name not in table:
            raise unsupported(f"activation {name} of {layer.name}")
        return table[name]

    def tensor(array):
        return nn.Parameter(torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32))

    flattened_hwc = None  # (H, W, C) of the feature map a Flatten unrolled, channels last
    for index, layer in enumerate(layers):
        last = index == len(layers) - 1
        weights = [keras.ops.convert_to_numpy(w) for w in layer.weights]
        if type(layer) is keras.layers.Conv2D:
            config = layer.get_config()
            if config["padding"] != "valid" or tuple(config["dilation_rate"]) != (1, 1) \
                    or config["groups"] != 1:
                raise unsupported(f"{layer.name} is not a plain valid convolution")
            conv = nn.Conv2d(weights[0].shape[2], weights[0].shape[3], weights[0].shape[:2],
                             stride=tuple(config["strides"]), bias=config["use_bias"])
            conv.weight = tensor(weights[0].transpose(3, 2, 0, 1))  # (out, in, kh, kw)
            if config["use_bias"]:
                conv.bias = tensor(weights[1])
            modules += [conv, *activation(layer, last)]
        elif isinstance(layer, keras.layers.MaxPooling2D):
            config = layer.get_config()
            if config["padding"] != "valid":
                raise unsupported(f"{layer.name} pools with padding")
            modules.append(nn.MaxPool2d(tuple(config["pool_size"]), tuple(config["strides"])))
        elif isinstance(layer, keras.layers.Flatten):
            shape = tuple(layer.input.shape[1:])
            flattened_hwc = shape if channels_last and len(shape) == 3 else None
            modules.append(nn.Flatten())
        elif isinstance(layer, keras.layers.Dense):
            kernel = weights[0]
            if flattened_hwc is not None:  # rows in torch's (C, H, W) order of the same features
                h, w, c = flattened_hwc
                kernel = kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(h * w * c, -1)
                flattened_hwc = None
            dense = nn.Linear(kernel.shape[0], kernel.shape[1], bias=layer.use_bias)
            dense.weight = tensor(kernel.T)
            if layer.use_bias:
                dense.bias = tensor(weights[1])
            modules += [dense, *activation(layer, last)]
        elif isinstance(layer, keras.layers.Dropout):
            modules.append(nn.Dropout(layer.rate))
        elif isinstance(layer, keras.layers.ReLU):
            modules.append(nn.ReLU())
        elif type(layer) in (keras.layers.GRU, keras.layers.LSTM):
            modules.append(_recurrent(layer, type(layer) is keras.layers.GRU, weights, tensor,
                                      unsupported))
        else:
            raise unsupported(f"{type(layer).__name__} layer {layer.name}")

    class Reference(nn.Sequential):
        outputs_logits = logits

        def keras_to_torch_inputs(self, x):
            x = np.asarray(x, np.float32)
            return x.transpose(0, 3, 1, 2) if x.ndim == 4 and channels_last else x

    return Reference(*modules)


def _recurrent(layer, is_gru, weights, tensor, unsupported):
    """``nn.GRU`` or ``nn.LSTM`` with the Keras layer's weights, returning its last
    output (or every output with ``return_sequences``)."""
    import numpy as np
    from torch import nn

    config = layer.get_config()
    if config["activation"] != "tanh" or config["recurrent_activation"] != "sigmoid" \
            or config.get("go_backwards") or config.get("stateful") or not config["use_bias"]:
        raise unsupported(f"{layer.name} is not a standard tanh/sigmoid recurrent layer")
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    if is_gru:
        if not config["reset_after"]:
            raise unsupported(f"{layer.name}: torch's GRU is the reset_after=True form")
        order = [1, 0, 2]  # Keras's gates (z, r, h) -> torch's (r, z, n)

        def gates(w):
            return np.concatenate([w[..., i * units:(i + 1) * units] for i in order], axis=-1)

        rnn = nn.GRU(kernel.shape[0], units, batch_first=True)
        rnn.bias_ih_l0, rnn.bias_hh_l0 = tensor(gates(bias[0])), tensor(gates(bias[1]))
    else:  # LSTM: (i, f, c, o) in both; Keras has one bias
        def gates(w):
            return w

        rnn = nn.LSTM(kernel.shape[0], units, batch_first=True)
        rnn.bias_ih_l0, rnn.bias_hh_l0 = tensor(bias), tensor(np.zeros_like(bias))
    rnn.weight_ih_l0 = tensor(gates(kernel).T)
    rnn.weight_hh_l0 = tensor(gates(recurrent_kernel).T)

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            outputs, _ = self.rnn(x)  # (B, T, units)
            return outputs if config["return_sequences"] else outputs[:, -1]

    return Recurrent()


# --- running every backend side by side ------------------------------------------------------
def installed_backends():
    import importlib.util

    return tuple(b for b in BACKENDS if importlib.util.find_spec(b) is not None)


def run_worker(kind, backend, model, arguments):
    """``measure`` (``kind="keras"``), ``measure_input`` (``"input"``) or
    ``measure_reference`` (``"reference"``) in a fresh process on ``backend``; its
    rows, or ``DLBasicError`` with the worker's one-line error."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    payload = json.dumps({"kind": kind, "model": model, **arguments})
    done = subprocess.run([sys.executable, "-m", "keras_dlbasic.bench", payload], env=env,
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DLBasicError(last[len("Error: "):] if last.startswith("Error: ") else
                           f"the {backend} benchmark failed: {last}")
    return [Row(**row) for row in json.loads(lines[-1])]


def bench(model, backends=None, reference=False, echo=print, precision="float32", pipeline=False,
          **arguments):
    """Rows for ``model`` on each of ``backends`` (default: every installed one), with
    ``pipeline`` also ``fit`` fed from memory and from a tf.data stream on each
    (``measure_input``), then plain PyTorch and ``torch.compile`` with ``reference``. A
    mixed ``precision`` is timed beside float32, engine by engine, so the table shows
    its speed-up. ``arguments`` go to ``measure``: ``batch_size``, ``steps``,
    ``warmup``, ``model_kwargs``."""
    available = installed_backends()
    for backend in backends or ():
        if backend not in available:
            raise MissingDependencyError(f"the {backend} backend is not installed")
    if reference and "torch" not in available:
        raise MissingDependencyError("--reference runs plain PyTorch: pip install torch")
    precisions = ("float32",) if precision == "float32" else ("float32", precision)
    rows = []
    for backend in backends or available:
        for p in precisions:
            echo(f"timing {model} on {backend} ({p})...")
            rows += run_worker("keras", backend, model, {**arguments, "precision": p})
            if pipeline:
                rows += run_worker("input", backend, model, {**arguments, "precision": p})
    if reference:
        for p in precisions:
            echo(f"timing {model} in plain PyTorch and torch.compile ({p})...")
            rows += run_worker("reference", "torch", model, {**arguments, "precision": p})
    return rows


def table(rows, model, steps, warmup, markdown=False):
    """The side-by-side table: examples per second and the ratio to the fastest row; with
    rows of a mixed precision, also each one's training speed-up over the same engine's
    float32 row."""
    done = [r for r in rows if not r.note]
    fastest_train = max(r.train_per_s for r in done)
    fastest_predict = max(r.predict_per_s for r in done)
    float32 = {r.name: r for r in done if r.precision == "float32"}
    mixed = any(r.precision != "float32" for r in rows)
    header = ["engine", "device", "precision", "first train step s", "train examples/s",
              "vs fastest", "first predict s", "predict examples/s", "vs fastest"]
    header += ["train vs float32"] if mixed else []
    body = []
    for r in rows:
        if r.note:
            body.append([r.name, r.device, r.precision, "-", "-", "-", "-", "-", r.note]
                        + ["-"] * mixed)
            continue
        body.append([r.name, r.device, r.precision, f"{r.first_train_s:.2f}",
                     f"{r.train_per_s:,.0f}", f"{r.train_per_s / fastest_train:.2f}",
                     f"{r.first_predict_s:.2f}", f"{r.predict_per_s:,.0f}",
                     f"{r.predict_per_s / fastest_predict:.2f}"])
        if mixed:
            base = float32.get(r.name)
            body[-1].append(f"{r.train_per_s / base.train_per_s:.2f}" if base else "-")
    title = (f"{model}, batch {rows[0].batch_size}: {steps} timed steps after the first "
             f"and {warmup} warm-up steps")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join([title, "", *lines, *("| " + " | ".join(row) + " |" for row in body)])
    widths = [max(len(str(x)) for x in column) for column in zip(header, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in [header, *body]]
    return "\n".join([title, *lines])


def input_ratios(rows):
    """One line per backend and precision timed by ``measure_input``: training from the
    tf.data stream as a share of training from arrays in memory."""
    speed = {(r.engine, r.feed, r.precision): r.train_per_s for r in rows if not r.note}
    lines = []
    for (engine, feed, precision), stream in speed.items():
        memory = speed.get((engine, FEEDS[0], precision))
        if feed == FEEDS[1] and memory:
            lines.append(f"{engine} ({precision}): fit from the tf.data stream trains at "
                         f"{stream / memory:.2f}x fit from arrays in memory")
    return "\n".join(lines)


def _worker(payload):
    from keras_dlbasic.backend import import_keras_quietly

    import_keras_quietly()
    arguments = json.loads(payload)
    measures = {"keras": measure, "reference": measure_reference, "input": measure_input}
    result = measures[arguments.pop("kind")](**arguments)
    rows = result if isinstance(result, list) else [result]
    print(json.dumps([dataclasses.asdict(row) for row in rows]))


if __name__ == "__main__":
    try:
        _worker(sys.argv[1])
    except DLBasicError as err:
        print(f"Error: {err}", file=sys.stderr)
        sys.exit(1)
