"""Attention from its equations: scaled dot-product and multi-head attention.

Chapter 5 of the course. Vaswani et al., "Attention Is All You Need", 2017
(https://arxiv.org/abs/1706.03762):

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                     (1)
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
        head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
    PE(pos, 2i) = sin(pos / 10000^(2i/d)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d))

Lecture point: attention is a soft, content-based lookup; masks decide what a
position may look at (padding keys are hidden, a decoder position cannot see
the future). ``scaled_dot_product_attention`` computes (1) step by step and,
beside it, the fused ``keras.ops.dot_product_attention`` (the fast path: flash
/ cuDNN / torch SDPA kernels where the backend has them); a test checks they
agree. ``MultiHeadAttention`` holds the same weights, in the same layout, as
``keras.layers.MultiHeadAttention``, so its outputs match with copied weights.

Tensors use the layout of ``keras.ops.dot_product_attention``:
queries (B, T, heads, head_dim), keys/values (B, S, heads, head_dim); masks are
boolean, ``True`` where a query may attend a key, broadcastable to (B, heads, T, S).
"""

import keras
from keras import ops


def padding_mask(tokens, pad_id=0):
    """Boolean (B, S): ``True`` at real tokens, ``False`` at padding."""
    return ops.not_equal(tokens, pad_id)


def causal_mask(query_length, key_length=None):
    """Boolean (T, S) lower-triangular mask: query t sees keys 0..t only."""
    key_length = query_length if key_length is None else key_length
    rows = ops.expand_dims(ops.arange(query_length), 1)  # (T, 1)
    cols = ops.expand_dims(ops.arange(key_length), 0)  # (1, S)
    return ops.greater_equal(rows, cols)  # (T, S)


def _mask_value(dtype):
    # Large but finite: a fully masked row stays finite instead of NaN.
    return -1e9 if keras.backend.standardize_dtype(dtype) in ("float32", "float64") else -3e4


def scaled_dot_product_attention(
    query, key, value, mask=None, is_causal=False, use_fused=True, return_weights=False
):
    """softmax(Q K^T / sqrt(d) + mask) V.

    Args:
        query: (B, T, heads, head_dim).
        key: (B, S, heads, head_dim).
        value: (B, S, heads, value_dim); ``value_dim`` may differ from
            ``head_dim`` only on the explicit path.
        mask: optional boolean mask broadcastable to (B, heads, T, S), ``True``
            where attention is allowed.
        is_causal: also hide keys after the query's position.
        use_fused: use ``keras.ops.dot_product_attention`` (ignored when
            ``return_weights`` is set: the fused kernels don't return weights;
            and for float16 on JAX, see below).
        return_weights: also return the attention weights (B, heads, T, S).

    Returns:
        (B, T, heads, value_dim), and the weights when ``return_weights``.
    """
    if is_causal:
        causal = causal_mask(ops.shape(query)[1], ops.shape(key)[1])  # (T, S)
        mask = causal if mask is None else ops.logical_and(mask, causal)
    if keras.backend.backend() == "jax" and keras.backend.standardize_dtype(query.dtype) == "float16":
        # JAX's fused attention takes float16 scores through a float32 dot that XLA's CPU
        # compiler refuses; the explicit path computes the same in float16 anywhere.
        use_fused = False
    if use_fused and not return_weights:
        if mask is not None:
            mask = ops.broadcast_to(
                mask, (ops.shape(query)[0], ops.shape(query)[2], ops.shape(query)[1],
                       ops.shape(key)[1])
            )  # (B, heads, T, S)
        return ops.dot_product_attention(query, key, value, mask=mask)
    # The explicit path, equation by equation.
    head_dim = ops.shape(query)[-1]
    scores = ops.einsum("bthd,bshd->bhts", query, key)  # (B, heads, T, S)
    scores = scores / ops.sqrt(ops.cast(head_dim, scores.dtype))
    if mask is not None:
        scores = ops.where(mask, scores, ops.cast(_mask_value(scores.dtype), scores.dtype))
    weights = ops.softmax(scores, axis=-1)  # (B, heads, T, S), rows sum to 1
    outputs = ops.einsum("bhts,bshd->bthd", weights, value)  # (B, T, heads, value_dim)
    return (outputs, weights) if return_weights else outputs


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with the weight layout of ``keras.layers.MultiHeadAttention``.

    Weights, in order: ``query_kernel`` (d_query, heads, key_dim),
    ``query_bias`` (heads, key_dim), ``key_kernel`` (d_key, heads, key_dim),
    ``key_bias``, ``value_kernel`` (d_value, heads, value_dim), ``value_bias``,
    ``output_kernel`` (heads, value_dim, d_out), ``output_bias`` (d_out,).
    Parameters: (d_q + d_k)·h·key_dim + d_v·h·value_dim + h·value_dim·d_out,
    plus (2·key_dim + value_dim)·h + d_out with biases.

    Args:
        num_heads: number of heads ``h``.
        key_dim: size of each query/key head.
        value_dim: size of each value head (defaults to ``key_dim``).
        output_dim: size of the output (defaults to the query's last axis).
        use_bias: whether the projections have biases.
        use_fused: attend with ``keras.ops.dot_product_attention`` (fast path)
            instead of the explicit softmax(Q K^T / sqrt(d)) V.
        kernel_initializer: initializer of the four kernels.
        bias_initializer: initializer of the four biases.

    Call arguments:
        query: (B, T, d_query).
        value: (B, S, d_value).
        key: (B, S, d_key); defaults to ``value``.
        attention_mask: optional boolean (B, T, S), ``True`` where a query may
            attend a key (as in keras).
        use_causal_mask: hide keys after each query position.
        return_attention_scores: also return the weights (B, heads, T, S)
            (forces the explicit path).
        training: unused (no attention dropout).

    Example:
        >>> mha = MultiHeadAttention(num_heads=8, key_dim=64)
        >>> x = keras.ops.ones((2, 10, 512))
        >>> mha(x, x, use_causal_mask=True).shape
        (2, 10, 512)
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        output_dim=None,
        use_bias=True,
        use_fused=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for arg, val in (("num_heads", num_heads), ("key_dim", key_dim),
                         ("value_dim", value_dim), ("output_dim", output_dim)):
            if val is not None and (not isinstance(val, int) or val <= 0):
                raise ValueError(f"{arg} must be a positive integer; got {arg}={val!r}")
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim
        self.output_dim = output_dim
        self.use_bias = use_bias
        self.use_fused = use_fused
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _projection(self, name, in_dim, head_dim):
        kernel = self.add_weight(
            shape=(in_dim, self.num_heads, head_dim), initializer=self.kernel_initializer,
            name=f"{name}_kernel",
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                shape=(self.num_heads, head_dim), initializer=self.bias_initializer,
                name=f"{name}_bias",
            )
        return kernel, bias

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        value_dim = self.value_dim or self.key_dim
        output_dim = self.output_dim or query_shape[-1]
        self.query_kernel, self.query_bias = self._projection(
            "query", query_shape[-1], self.key_dim
        )
        self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection("value", value_shape[-1], value_dim)
        self.output_kernel = self.add_weight(
            shape=(self.num_heads, value_dim, output_dim), initializer=self.kernel_initializer,
            name="output_kernel",
        )
        self.output_bias = None
        if self.use_bias:
            self.output_bias = self.add_weight(
                shape=(output_dim,), initializer=self.bias_initializer, name="output_bias"
            )

    @staticmethod
    def _project(x, kernel, bias):
        y = ops.einsum("bsd,dhk->bshk", x, kernel)  # (B, S, heads, head_dim)
        return y if bias is None else y + bias

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        key = value if key is None else key
        q = self._project(query, self.query_kernel, self.query_bias)  # (B, T, heads, key_dim)
        k = self._project(key, self.key_kernel, self.key_bias)  # (B, S, heads, key_dim)
        v = self._project(value, self.value_kernel, self.value_bias)  # (B, S, heads, value_dim)
        mask = None
        if attention_mask is not None:
            mask = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)  # (B, 1, T, S)
        use_fused = self.use_fused and (self.value_dim in (None, self.key_dim))
        attended = scaled_dot_product_attention(
            q, k, v, mask=mask, is_causal=use_causal_mask, use_fused=use_fused,
            return_weights=return_attention_scores,
        )
        if return_attention_scores:
            attended, weights = attended
        # Concat(head_1..head_h) W^O, as one contraction over (heads, value_dim).
        outputs = ops.einsum("bthv,hvo->bto", attended, self.output_kernel)  # (B, T, d_out)
        if self.output_bias is not None:
            outputs = outputs + self.output_bias
        return (outputs, weights) if return_attention_scores else outputs

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return (*query_shape[:-1], self.output_dim or query_shape[-1])

    def compute_output_spec(self, query, value, key=None, attention_mask=None,
                            use_causal_mask=False, return_attention_scores=False, training=None):
        # Symbolic calls: keras would pass only the shapes to compute_output_shape
        # and so lose the weights that ``return_attention_scores`` adds.
        outputs = keras.KerasTensor(self.compute_output_shape(query.shape, value.shape),
                                    dtype=self.compute_dtype)
        if not return_attention_scores:
            return outputs
        scores = (query.shape[0], self.num_heads, query.shape[1], value.shape[1])  # (B, heads, T, S)
        return outputs, keras.KerasTensor(scores, dtype=self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "output_dim": self.output_dim,
            "use_bias": self.use_bias,
            "use_fused": self.use_fused,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position signal of Vaswani et al. (no weights).

    ``PE(pos, 2i) = sin(pos / w^(2i/d))`` and ``PE(pos, 2i+1) = cos(pos / w^(2i/d))``
    with ``w = max_wavelength``; each pair of channels is a rotation at its own
    frequency, so PE(pos + k) is a linear function of PE(pos).

    Args:
        max_wavelength: the longest wavelength ``w`` (10,000 in the paper).

    Call arguments:
        inputs: (B, T, d) embeddings, ``d`` even.
        training: unused.

    Example:
        >>> SinusoidalPositionalEncoding()(keras.ops.zeros((1, 50, 64))).shape
        (1, 50, 64)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if max_wavelength <= 1:
            raise ValueError(f"max_wavelength must be > 1; got {max_wavelength!r}")
        self.max_wavelength = max_wavelength

    def build(self, input_shape):
        if input_shape[-1] is None or input_shape[-1] % 2:
            raise ValueError(f"the embedding size must be even; got input_shape={input_shape}")

    def call(self, inputs, training=None):
        length, depth = ops.shape(inputs)[1], ops.shape(inputs)[-1]
        positions = ops.cast(ops.arange(length), "float32")[:, None]  # (T, 1)
        channel = ops.arange(depth)  # (d,)
        pair = ops.cast(channel // 2 * 2, "float32") / depth  # 2i/d for channels 2i and 2i+1
        angles = positions / ops.power(float(self.max_wavelength), pair)[None, :]  # (T, d)
        encoding = ops.where(channel % 2 == 0, ops.sin(angles), ops.cos(angles))  # (T, d)
        return inputs + ops.cast(encoding, inputs.dtype)[None]  # (B, T, d)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


