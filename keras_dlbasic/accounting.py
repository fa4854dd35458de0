"""Counting parameters and multiply-accumulates (MACs).

Two kinds of tools live here:

* closed-form formulas for the lecture's claims (chapter 1): a stack of two
  3x3 convolutions sees as far as one 5x5 but has fewer weights; a 1x1
  bottleneck cuts the cost of a 3x3; fully connected layers hold most of a
  small CNN's parameters;
* ``layer_table`` / ``model_stats``, which read any built ``keras.Model``.

MAC convention (as in torchvision's GFLOPS column and fvcore): one
multiply-accumulate per weight use in convolutions, dense layers and
attention projections; biases, normalisation, activations and pooling are
not counted. A recurrent layer uses its kernel and recurrent kernel once per
time step: time_steps · blocks · (input + units) · units, with blocks = 1 for
SimpleRNN, 4 for LSTM, 3 for GRU (the gate products ⊙ are not counted);
Bidirectional counts both directions. A variable time axis (None) counts 0.
"""
import dataclasses
import math

# --- Closed-form counts -----------------------------------------------------------


def conv_params(kernel_size, in_channels, out_channels, bias=True, groups=1):
    """Weights of a 2-D convolution: k_h·k_w·(C_in/groups)·C_out (+ C_out bias)."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"channels ({in_channels}, {out_channels}) must divide by groups={groups}")
    return kh * kw * (in_channels // groups) * out_channels + (out_channels if bias else 0)


def dense_params(in_features, units, bias=True):
    """Weights of a fully connected layer: in·units (+ units bias)."""
    return in_features * units + (units if bias else 0)


def receptive_field(kernel_sizes, strides=None):
    """Receptive field (in input pixels) of a stack of conv/pool layers.

    r_0 = 1; r_l = r_{l-1} + (k_l - 1)·∏_{i<l} s_i.

    >>> receptive_field([3, 3])
    5
    """
    strides = strides or [1] * len(kernel_sizes)
    field, jump = 1, 1
    for kernel, stride in zip(kernel_sizes, strides):
        field += (kernel - 1) * jump
        jump *= stride
    return field


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Two ways to build the same mapping, with their weight counts."""

    name: str
    option_a: str
    params_a: int
    option_b: str
    params_b: int

    @property
    def ratio(self):
        return self.params_a / self.params_b


def stacked_vs_single(channels=128, small=3, depth=2, bias=False):
    """``depth`` stacked ``small``x``small`` convs vs one conv of the same receptive field.

    With 128 channels and no bias: 2·3·3·128·128 = 294,912 vs 5·5·128·128 = 409,600.
    """
    large = receptive_field([small] * depth)
    return Comparison(
        name=f"receptive field {large}x{large}, {channels}->{channels} channels",
        option_a=f"{depth} x conv {small}x{small}",
        params_a=depth * conv_params(small, channels, channels, bias),
        option_b=f"1 x conv {large}x{large}",
        params_b=conv_params(large, channels, channels, bias),
    )


def bottleneck_vs_direct(channels=128, reduced=32, kernel_size=3, bias=False):
    """1x1 reduction then a k x k conv vs a direct k x k conv, same in/out channels.

    128->32->128 with 3x3: 128·32 + 3·3·32·128 = 40,960 vs 3·3·128·128 = 147,456.
    """
    k = kernel_size
    return Comparison(
        name=f"{k}x{k} conv, {channels}->{channels} channels",
        option_a=f"1x1 to {reduced}, then {k}x{k}",
        params_a=conv_params(1, channels, reduced, bias) + conv_params(k, reduced, channels, bias),
        option_b=f"direct {k}x{k}",
        params_b=conv_params(k, channels, channels, bias),
    )


# --- Counting the parameters of a distribution (chapter 6) ---------------------------

DISTRIBUTION_STRUCTURES = ("joint", "independent", "markov")


def distribution_params(n_variables, n_values=2, structure="joint"):
    """Free parameters of a distribution over ``n_variables`` discrete variables.

    Each variable takes ``n_values`` values; a categorical over ``k`` outcomes
    has ``k - 1`` free parameters (the last probability is 1 minus the others).

    * ``"joint"``: any distribution, one probability per outcome, ``k^n - 1``.
      The chain rule p(x1..xn) = p(x1) p(x2 | x1) ... p(xn | x1..xn-1) is exact and
      counts the same: (k-1)(1 + k + ... + k^(n-1)) = k^n - 1.
    * ``"independent"``: p(x1..xn) = p(x1) ... p(xn), ``n (k - 1)``.
    * ``"markov"``: each variable depends on the one before it only,
      p(xi | x1..xi-1) = p(xi | xi-1): ``(k - 1) + (n - 1) k (k - 1)``.

    Exact Python integers: one RGB pixel, ``distribution_params(3, 256)``, is
    256³ − 1 = 16,777,215; a 28x28 binary image needs 2⁷⁸⁴ − 1 jointly, 784 if
    independent, 1,567 under the Markov assumption.

    >>> [distribution_params(4, 2, s) for s in DISTRIBUTION_STRUCTURES]
    [15, 4, 7]
    """
    if not isinstance(n_variables, int) or n_variables < 1:
        raise ValueError(f"n_variables must be a positive integer; got {n_variables!r}")
    if not isinstance(n_values, int) or n_values < 2:
        raise ValueError(f"n_values must be an integer of at least 2; got {n_values!r}")
    k, n = n_values, n_variables
    if structure == "joint":
        return k ** n - 1
    if structure == "independent":
        return n * (k - 1)
    if structure == "markov":
        return (k - 1) + (n - 1) * k * (k - 1)
    raise ValueError(f"structure must be one of {', '.join(DISTRIBUTION_STRUCTURES)}; "
                     f"got {structure!r}")


# --- Reading a built model --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int


def _prod(values):
    return math.prod(int(v) for v in values if v is not None)


def _spatial(shape, channels_last=True):
    """Spatial dims of a (batch, ..., channels) or (batch, channels, ...) shape."""
    return shape[1:-1] if channels_last else shape[2:]


def layer_macs(layer, input_shape, output_shape):
    """Multiply-accumulates of one forward pass of ``layer`` for one example."""
    from keras import layers

    if hasattr(layer, "macs"):  # custom layers may count themselves
        return int(layer.macs(input_shape, output_shape))
    if isinstance(layer, layers.DepthwiseConv2D):
        channels_last = layer.data_format == "channels_last"
        kernel = _prod(layer.kernel.shape)  # (kh, kw, C_in, multiplier)
        return kernel * _prod(_spatial(output_shape, channels_last))
    if isinstance(layer, layers.SeparableConv2D):
        channels_last = layer.data_format == "channels_last"
        depthwise = _prod(layer.depthwise_kernel.shape) * _prod(_spatial(output_shape, channels_last))
        pointwise = _prod(layer.pointwise_kernel.shape) * _prod(_spatial(output_shape, channels_last))
        return depthwise + pointwise
    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        channels_last = layer.data_format == "channels_last"
        return _prod(layer.kernel.shape) * _prod(_spatial(input_shape, channels_last))
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        # kernel (k..., C_in / groups, C_out): one MAC per kernel weight per output position.
        channels_last = layer.data_format == "channels_last"
        return _prod(layer.kernel.shape) * _prod(_spatial(output_shape, channels_last))
    if isinstance(layer, layers.Dense):
        return _prod(layer.kernel.shape) * _prod(output_shape[1:-1])
    if isinstance(layer, layers.Bidirectional):
        return sum(layer_macs(direction, input_shape, output_shape)
                   for direction in (layer.forward_layer, layer.backward_layer))
    if isinstance(layer, layers.RNN):  # SimpleRNN, LSTM, GRU and RNN(cell) alike
        return _recurrent_macs(layer, input_shape)
    return 0


def _recurrent_macs(layer, input_shape):
    """time_steps · Σ_cells (kernel (input, blocks·units) + recurrent_kernel
    (units, blocks·units)) = time_steps · blocks · (input + units) · units."""
    time_steps = input_shape[1]
    if time_steps is None:
        return 0
    cells = getattr(layer.cell, "cells", [layer.cell])  # StackedRNNCells holds several
    per_step = sum(_prod(cell.kernel.shape) + _prod(cell.recurrent_kernel.shape)
                   for cell in cells if hasattr(cell, "recurrent_kernel"))
    return int(time_steps) * per_step


def _leaf_layers(model):
    """Layers of a functional model, with nested models flattened in place."""
    from keras import layers

    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _shape(tensor_or_list):
    if isinstance(tensor_or_list, (list, tuple)):
        return tuple(t.shape for t in tensor_or_list)
    return tuple(tensor_or_list.shape)


def layer_table(model):
    """One ``LayerRow`` per layer of a built functional model."""
    rows = []
    for layer in _leaf_layers(model):
        input_shape, output_shape = _shape(layer.input), _shape(layer.output)
        single = not isinstance(output_shape[0], tuple)
        macs = layer_macs(layer, input_shape, output_shape) if single else 0
        rows.append(
            LayerRow(layer.name, type(layer).__name__, output_shape, layer.count_params(), macs)
        )
    return rows


def _weight_count(weights):
    return sum(_prod(w.shape) for w in weights)


@dataclasses.dataclass(frozen=True)
class ModelStats:
    params: int
    trainable: int
    non_trainable: int
    macs: int
    depth: int  # layers with a weight matrix or kernel (conv, dense)
    fc_params: int

    @property
    def fc_share(self):
        return self.fc_params / self.params if self.params else 0.0


def model_stats(model, rows=None):
    """Totals of ``layer_table``: parameters, MACs, depth, fully connected share."""
    from keras import layers

    rows = rows if rows is not None else layer_table(model)
    leaves = list(_leaf_layers(model))
    return ModelStats(
        params=model.count_params(),
        trainable=_weight_count(model.trainable_weights),
        non_trainable=_weight_count(model.non_trainable_weights),
        macs=sum(row.macs for row in rows),
        depth=sum(1 for layer in leaves if hasattr(layer, "kernel")),
        fc_params=sum(layer.count_params() for layer in leaves if isinstance(layer, layers.Dense)),
    )
