"""Chapter 4 studies: what a trained recurrent classifier does with a sequence.

Two looks at the RNN/LSTM/GRU classifiers of ``keras_dlbasic.models.rnn``:

* ``gate_activations`` / ``plot_gate_activations``: the lecture's gate figure.
  A recurrent layer is replayed step by step in a from-equation cell of
  ``keras_dlbasic.layers.recurrent`` holding its weights, and every gate is
  recorded over time: an LSTM's forget gate decides what the cell keeps from
  one step to the next.
* ``variable_length`` / ``hard_sequence_accuracy``: why sequences are hard.
  The same weights read a sequence of any length, so a trained classifier can
  be asked about trimmed, omitted and permuted sequences
  (``keras_dlbasic.data.synthetic.hard_sequence_variants``); its accuracy
  shows how much it relies on every step, and on their order.
"""
import numpy as np
from keras import ops

from keras_dlbasic.data.synthetic import hard_sequence_variants
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell

# --- Gate activations over time, for the lecture's figure ------------------------


def gate_activations(layer, sequence):
    """Run one recurrent layer step by step and record its gates.

    Args:
        layer: a built ``keras.layers.SimpleRNN``/``LSTM``/``GRU`` or a
            ``keras.layers.RNN`` wrapping a ``keras_dlbasic`` cell (e.g.
            ``model.get_layer("lstm1")``). Its weights are copied into a
            from-equation cell, which is possible because the layouts agree.
        sequence: one input sequence (time_steps, features).

    Returns:
        dict name -> numpy array (time_steps, units): the gates (LSTM:
        input, forget, candidate, output, cell; GRU: update, reset,
        candidate) and the hidden state ``hidden``.
    """
    inner = getattr(layer, "cell", layer)
    # keras's cells and ours share their class names and weight layouts.
    cells = {cell.__name__: cell for cell in (SimpleRNNCell, LSTMCell, GRUCell)}
    cell_class = cells.get(type(inner).__name__)
    if cell_class is None:
        raise ModelArgumentError(f"no gates to record in a {type(layer).__name__}")
    extra = {"reset_after": inner.reset_after} if cell_class is GRUCell else {}
    cell = cell_class(inner.units, **extra)
    sequence = np.asarray(sequence, dtype="float32")
    cell.build((1, sequence.shape[-1]))
    cell.set_weights(inner.get_weights())
    states = [ops.zeros((1, inner.units))] * cell.num_states
    records = {}
    for x_t in sequence:
        h, states, gates = cell.step(ops.convert_to_tensor(x_t[None]), states)
        for key, value in {**gates, "hidden": h}.items():
            records.setdefault(key, []).append(ops.convert_to_numpy(value)[0])
    return {key: np.stack(values) for key, values in records.items()}


def plot_gate_activations(activations, path, title=""):
    """Save a heat map (units x time) per recorded gate as one PNG."""
    from keras_dlbasic.plotting import plt, save_figure

    names = list(activations)
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.8 * len(names)), squeeze=False)
    for ax, key in zip(axes[:, 0], names):
        image = ax.imshow(activations[key].T, aspect="auto", cmap="viridis")
        ax.set_ylabel(f"{key}\nunit")
        fig.colorbar(image, ax=ax, pad=0.01)
    axes[-1, 0].set_xlabel("time step")
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


# --- Why sequences are hard: the trained classifier on changed sequences ----------


def variable_length(model):
    """The same sequence model, with the same weights, for any number of time steps.

    The recurrent weights never depend on the length, only the input layer
    fixes it; the copy is rebuilt from the model's config with time steps
    ``None``. A model that already takes any length is returned as it is.
    """
    if model.input_shape[1] is None:
        return model
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            batch, _, *features = layer["config"]["batch_shape"]
            layer["config"]["batch_shape"] = (batch, None, *features)
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def hard_sequence_accuracy(model, sequences, labels, seed=0, batch_size=256):
    """Accuracy of a trained sequence classifier on ``hard_sequence_variants``.

    Args:
        model: a classifier of (B, T, features) or token (B, T) sequences.
        sequences: test sequences, time on axis 1 (e.g. Sequential MNIST rows).
        labels: int labels (N,).
        seed: seed of the permutation.
        batch_size: prediction batch size.

    Returns:
        dict variant -> accuracy, for ``original`` (T steps), ``trimmed``
        (first 2/3), ``omitted`` (middle third missing) and ``permuted``.
    """
    model = variable_length(model)
    labels = np.asarray(labels).reshape(-1)
    accuracies = {}
    for variant, x in hard_sequence_variants(np.asarray(sequences), seed).items():
        scores = model.predict(x, batch_size=batch_size, verbose=0)  # (N, classes)
        accuracies[variant] = float(np.mean(np.argmax(scores, axis=-1) == labels))
    return accuracies
