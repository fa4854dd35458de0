"""Recurrent cells written from their equations with ``keras.ops``.

Chapter 4 of the course (sequential models). Each cell computes one time step;
``keras.layers.RNN(cell)`` runs the loop over time (backend-neutral: a
``lax.scan`` on JAX, a ``tf.while_loop`` on TensorFlow, a Python loop on
PyTorch), handles ``return_sequences``/``return_state``/``go_backwards`` and so
works inside ``keras.layers.Bidirectional``.

* ``SimpleRNNCell`` — Elman, "Finding Structure in Time", 1990:
  ``h_t = tanh(x_t W + h_{t-1} U + b)``.
* ``LSTMCell`` — Hochreiter & Schmidhuber, "Long Short-Term Memory", 1997
  (with the forget gate of Gers et al. 2000): a cell state ``c_t`` updated
  additively, which lets gradients flow over long spans.
* ``GRUCell`` — Cho et al., "Learning Phrase Representations using RNN
  Encoder–Decoder", 2014: two gates, no separate cell state, fewer parameters.

Lecture point: the weights are the same three matrices as in
``keras.layers.SimpleRNN``/``LSTM``/``GRU`` (``kernel`` (input, k·units),
``recurrent_kernel`` (units, k·units), ``bias``; gate order i, f, c, o for the
LSTM and z, r, h for the GRU), so ``scratch.set_weights(keras_layer.get_weights())``
reproduces the fused keras layers exactly: the equations *are* the layer.

Each cell has ``step(inputs, states)`` returning the gate activations as well,
used by ``keras_dlbasic.chapters.ch04.gate_activations`` to plot them over time.
"""
import keras
from keras import ops


class _RecurrentCell(keras.layers.Layer):
    """Arguments, weights and config shared by the three cells.

    Subclasses set ``num_gates`` (blocks of ``units`` columns in the kernels),
    ``num_states`` and implement ``step``.
    """

    num_gates = 1
    num_states = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer; got units={units!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = [units] * self.num_states
        self.output_size = units

    def _bias_shape(self):
        return (self.num_gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        width = self.num_gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width), initializer=self.kernel_initializer, name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width), initializer=self.recurrent_initializer,
            name="recurrent_kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(), initializer=self._bias_initializer(), name="bias"
            )

    def call(self, inputs, states, training=None):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        output, new_states, _ = self.step(inputs, states)
        return output, new_states

    def step(self, inputs, states):
        """One time step: ``(output, new_states, gates)`` with ``gates`` a dict."""
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class SimpleRNNCell(_RecurrentCell):
    """Elman's recurrent cell: ``h_t = tanh(x_t W + h_{t-1} U + b)``.

    Args:
        units: size of the hidden state ``h``.
        activation: the nonlinearity (``"tanh"``).
        use_bias: whether to add ``b``.
        kernel_initializer: initializer of ``W`` (input, units).
        recurrent_initializer: initializer of ``U`` (units, units).
        bias_initializer: initializer of ``b`` (units,).

    Call arguments:
        inputs: ``x_t`` of shape (batch, features).
        states: ``[h_{t-1}]``, each (batch, units).
        training: unused (no dropout).

    Example:
        >>> rnn = keras.layers.RNN(SimpleRNNCell(16), return_sequences=True)
        >>> rnn(keras.ops.ones((2, 28, 28))).shape
        (2, 28, 16)
    """

    def step(self, inputs, states):
        (h_prev,) = states
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        h = self.activation(z)  # (B, units)
        return h, [h], {}


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class LSTMCell(_RecurrentCell):
    """The long short-term memory cell, gate order i, f, c, o as in keras::

        i = σ(x W_i + h U_i + b_i)          input gate
        f = σ(x W_f + h U_f + b_f)          forget gate
        g = tanh(x W_c + h U_c + b_c)       candidate cell state
        o = σ(x W_o + h U_o + b_o)          output gate
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(c_t)

    Args:
        units: size of ``h`` and ``c``.
        activation: nonlinearity of ``g`` and of the output (``"tanh"``).
        recurrent_activation: gate nonlinearity (``"sigmoid"``).
        use_bias: whether to add the biases.
        unit_forget_bias: initialize the forget-gate bias to 1 (Jozefowicz et
            al. 2015), as keras does.
        kernel_initializer, recurrent_initializer, bias_initializer:
            initializers of ``kernel`` (input, 4·units), ``recurrent_kernel``
            (units, 4·units) and ``bias`` (4·units,).

    Call arguments:
        inputs: ``x_t`` of shape (batch, features).
        states: ``[h_{t-1}, c_{t-1}]``, each (batch, units).
        training: unused (no dropout).

    Example:
        >>> lstm = keras.layers.RNN(LSTMCell(16), return_state=True)
        >>> h, h_again, c = lstm(keras.ops.ones((2, 28, 28)))
        >>> c.shape
        (2, 16)
    """

    num_gates = 4
    num_states = 2

    def __init__(self, units, recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def initializer(shape, dtype=None):
            return ops.concatenate([
                base((units,), dtype=dtype),
                ops.ones((units,), dtype=dtype),
                base((2 * units,), dtype=dtype),
            ])

        return initializer

    def step(self, inputs, states):
        h_prev, c_prev = states
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias  # (B, 4·units)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)  # 4 x (B, units)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        g = self.activation(z_c)
        o = self.recurrent_activation(z_o)
        c = f * c_prev + i * g
        h = o * self.activation(c)
        return h, [h, c], {"input": i, "forget": f, "candidate": g, "output": o, "cell": c}

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class GRUCell(_RecurrentCell):
    """The gated recurrent unit, gate order z, r, h as in keras::

        z = σ(x W_z + h U_z + b_z)                  update gate
        r = σ(x W_r + h U_r + b_r)                  reset gate
        ĥ = tanh(x W_h + r ⊙ (h U_h + b'_h) + b_h)  candidate (reset_after=True)
        ĥ = tanh(x W_h + (r ⊙ h) U_h + b_h)         candidate (reset_after=False, Cho et al.)
        h_t = z ⊙ h_{t-1} + (1 - z) ⊙ ĥ

    With ``reset_after=True`` (the keras and cuDNN default) the input and the
    recurrent projections have separate biases: ``bias`` is (2, 3·units).

    Args:
        units: size of ``h``.
        activation: nonlinearity of the candidate (``"tanh"``).
        recurrent_activation: gate nonlinearity (``"sigmoid"``).
        use_bias: whether to add the biases.
        reset_after: apply the reset gate after the recurrent matrix product.
        kernel_initializer, recurrent_initializer, bias_initializer:
            initializers of ``kernel`` (input, 3·units), ``recurrent_kernel``
            (units, 3·units) and ``bias``.

    Call arguments:
        inputs: ``x_t`` of shape (batch, features).
        states: ``[h_{t-1}]`` of shape (batch, units).
        training: unused (no dropout).

    Example:
        >>> gru = keras.layers.RNN(GRUCell(16))
        >>> gru(keras.ops.ones((2, 28, 28))).shape
        (2, 16)
    """

    num_gates = 3

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def step(self, inputs, states):
        (h_prev,) = states
        x_proj = ops.matmul(inputs, self.kernel)  # (B, 3·units)
        if self.use_bias:
            x_proj = x_proj + (self.bias[0] if self.reset_after else self.bias)
        x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)
        u_z, u_r, u_h = ops.split(self.recurrent_kernel, 3, axis=-1)  # 3 x (units, units)
        h_z, h_r = ops.matmul(h_prev, u_z), ops.matmul(h_prev, u_r)
        if self.use_bias and self.reset_after:
            b_z, b_r, b_h = ops.split(self.bias[1], 3, axis=-1)
            h_z, h_r = h_z + b_z, h_r + b_r
        z = self.recurrent_activation(x_z + h_z)
        r = self.recurrent_activation(x_r + h_r)
        if self.reset_after:
            h_h = ops.matmul(h_prev, u_h)
            if self.use_bias:
                h_h = h_h + b_h
            candidate = self.activation(x_h + r * h_h)
        else:
            candidate = self.activation(x_h + ops.matmul(r * h_prev, u_h))
        h = z * h_prev + (1.0 - z) * candidate
        return h, [h], {"update": z, "reset": r, "candidate": candidate}

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
