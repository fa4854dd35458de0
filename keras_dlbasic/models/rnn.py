"""Chapter 4, recurrent networks: RNN, LSTM and GRU sequence classifiers.

References:
* Elman, "Finding Structure in Time", Cognitive Science, 1990 (simple RNN);
* Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation, 1997;
* Cho et al., "Learning Phrase Representations using RNN Encoder–Decoder for
  Statistical Machine Translation", EMNLP 2014 (GRU).

Lecture point: one set of weights is applied at every time step, so the
parameter count depends on the input and state sizes, never on the sequence
length (``rnn_param_formula``); gates let the LSTM and GRU carry information
across many steps, and the GRU does the LSTM's job with 3 weight blocks
instead of 4. The default task is Sequential MNIST: each 28x28 image is read
row by row, 28 time steps of 28 features.

Contents: ``rnn_param_formula``, the generic ``recurrent_classifier`` (fast
``keras.layers`` path or the from-equation cells of
``keras_dlbasic.layers.recurrent``, same weights either way) and the registered
``rnn``/``lstm``/``gru`` builders. The chapter's studies of these models (the
gate figure, trimmed, omitted and permuted sequences) are in
``keras_dlbasic.chapters.ch04``.
"""
import keras
from keras import layers

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from keras_dlbasic.registry import variant_of

# kind -> (keras layer, from-equation cell, weight blocks)
_KINDS = {
    "rnn": (layers.SimpleRNN, SimpleRNNCell, 1),
    "lstm": (layers.LSTM, LSTMCell, 4),
    "gru": (layers.GRU, GRUCell, 3),
}


def rnn_param_formula(kind, input_dim, units, reset_after=True, as_text=False):
    """Parameters of one recurrent layer, from the equations.

    * rnn: (input + units)·units + units
    * lstm: 4·((input + units)·units + units)     — gates i, f, c, o
    * gru: 3·((input + units)·units + 2·units)    — gates z, r, h; ``reset_after``
      keeps separate input and recurrent biases (3·units fewer without it)

    With ``as_text`` the formula itself, e.g. ``"4·((28+128)·128 + 128)"``.
    """
    if kind not in _KINDS:
        raise ModelArgumentError(
            f"unknown recurrent kind '{kind}'; choose one of {', '.join(_KINDS)}"
        )
    blocks = _KINDS[kind][2]
    biases = 2 if kind == "gru" and reset_after else 1
    if as_text:
        block = f"({input_dim}+{units})·{units} + {'2·' if biases == 2 else ''}{units}"
        return block if blocks == 1 else f"{blocks}·({block})"
    return blocks * ((input_dim + units) * units + biases * units)


def _recurrent_layer(kind, units, cell, return_sequences, name):
    keras_layer, cell_class, _ = _KINDS[kind]
    if cell == "keras":
        return keras_layer(units, return_sequences=return_sequences, name=name)
    return layers.RNN(
        cell_class(units, name=f"{name}_cell"), return_sequences=return_sequences, name=name
    )


def recurrent_classifier(
    kind,
    input_shape=None,
    classes=10,
    units=128,
    num_layers=1,
    bidirectional=False,
    cell="keras",
    vocab_size=None,
    embedding_dim=128,
    dropout=0.0,
    classifier_activation="softmax",
    name=None,
):
    """A stack of recurrent layers read by a dense head on the last state.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_shape: (time_steps, features) of float inputs, or (time_steps,)
            of token ids when ``vocab_size`` is set; ``time_steps`` may be
            ``None``. Defaults to (28, 28), Sequential MNIST.
        classes: number of output classes.
        units: hidden state size of every recurrent layer.
        num_layers: stacked recurrent layers (all but the last return sequences).
        bidirectional: read the sequence both ways (``keras.layers.Bidirectional``,
            doubling the recurrent parameters).
        cell: ``"keras"`` (fused ``keras.layers`` path) or ``"scratch"`` (the
            from-equation cells in ``keras.layers.RNN``); same weights either way.
        vocab_size: when set, inputs are token ids (0 = padding, masked) embedded
            by a ``keras.layers.Embedding`` of ``embedding_dim`` (for text, e.g. IMDB).
        embedding_dim: embedding size when ``vocab_size`` is set.
        dropout: dropout rate before the output layer.
        classifier_activation: output activation (``"linear"`` for logits or regression;
            ``get_model`` drops ``None`` overrides).
        name: model name (defaults to ``kind``).

    Returns:
        A ``keras.Model`` mapping sequences to class scores (batch, classes).
    """
    if kind not in _KINDS:
        raise ModelArgumentError(
            f"unknown recurrent kind '{kind}'; choose one of {', '.join(_KINDS)}"
        )
    if cell not in ("keras", "scratch"):
        raise ModelArgumentError(f"cell must be 'keras' or 'scratch'; got cell={cell!r}")
    check_positive_ints(kind, units=units, num_layers=num_layers)
    name = name or kind
    if input_shape is None:
        input_shape = (None,) if vocab_size else (28, 28)
    input_shape = tuple(input_shape)
    expected_rank = 1 if vocab_size else 2
    if len(input_shape) != expected_rank:
        what = "(time_steps,) of token ids" if vocab_size else "(time_steps, features)"
        raise ModelArgumentError(
            f"{name} takes a {expected_rank}-D input_shape {what}; got {input_shape}"
        )

    if vocab_size:
        inputs = keras.Input(shape=input_shape, dtype="int32", name="tokens")
        x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    else:
        inputs = keras.Input(shape=input_shape, name="sequence")
        x = inputs
    for index in range(1, num_layers + 1):
        layer_name = f"{kind}{index}"
        recurrent = _recurrent_layer(kind, units, cell, index < num_layers, layer_name)
        if bidirectional:
            recurrent = layers.Bidirectional(recurrent, name=f"bi{layer_name}")
        x = recurrent(x)  # (B, T, units) between layers, (B, units) after the last
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(
        classes, activation=classifier_activation, dtype="float32", name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name)


@variant_of(recurrent_classifier, fixed=("kind",))
def rnn(**kwargs):
    """Elman RNN classifier: one weight block, (input + units)·units + units."""
    return recurrent_classifier("rnn", **kwargs)


@variant_of(recurrent_classifier, fixed=("kind",))
def lstm(**kwargs):
    """LSTM classifier: four weight blocks (input, forget, candidate, output)."""
    return recurrent_classifier("lstm", **kwargs)


@variant_of(recurrent_classifier, fixed=("kind",))
def gru(**kwargs):
    """GRU classifier (reset_after, as keras): three weight blocks (update, reset, candidate)."""
    return recurrent_classifier("gru", **kwargs)

