"""Chapter 5, the Transformer: encoder–decoder built from attention alone.

Reference: Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser &
Polosukhin, "Attention Is All You Need", NeurIPS 2017
(https://arxiv.org/abs/1706.03762). The base model: d_model 512, 6 encoder and
6 decoder layers, 8 heads, d_ff 2048, dropout 0.1, one 37,000-token vocabulary
shared by the source and target embeddings and the output projection.

Lecture point: no recurrence — every position attends every other in one
step, so the sequence is processed in parallel; order comes only from the
positional encoding, and the decoder's causal mask keeps generation
autoregressive. Transformer-base has 63,082,496 parameters here (Table 3 of the
paper says 65M; ``transformer_param_formula`` gives the exact count).

Contents, bottom-up: ``SharedEmbedding`` (embedding and tied output
projection), ``PaddingMask``, ``TransformerEncoderLayer``,
``TransformerDecoderLayer`` (post-norm, as in the paper), the builders
``transformer_seq2seq`` and ``transformer_encoder_classifier``,
``transformer_param_formula``, the registered variants, ``greedy_decode`` and
``decoder_attention_weights`` (for the heat map). The attention itself is in
``keras_dlbasic.layers.attention``.
"""
import keras
import numpy as np
from keras import layers, ops

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.layers.attention import (
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    padding_mask,
)

# --- Blocks ----------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class SharedEmbedding(keras.layers.Layer):
    """One (vocab, d_model) matrix used both ways (Vaswani et al., section 3.4).

    ``reverse=False`` embeds token ids and multiplies by sqrt(d_model);
    ``reverse=True`` projects (B, T, d_model) states back onto the vocabulary,
    ``logits = x E^T``, with the same matrix (the tied output projection).

    Args:
        vocab_size: number of tokens.
        d_model: embedding size.
        embeddings_initializer: initializer of ``E``; defaults to
            N(0, d_model^-1/2), so scaled embeddings have unit variance.

    Call arguments:
        inputs: token ids (B, T), or states (B, T, d_model) when ``reverse``.
        reverse: project states to vocabulary logits instead of embedding.
        training: unused.

    Example:
        >>> embed = SharedEmbedding(100, 16)
        >>> x = embed(keras.ops.ones((2, 5), "int32"))
        >>> embed(x, reverse=True).shape
        (2, 5, 100)
    """

    def __init__(self, vocab_size, d_model, embeddings_initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(self.name, vocab_size=vocab_size, d_model=d_model)
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or keras.initializers.RandomNormal(stddev=d_model**-0.5)
        )

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.vocab_size, self.d_model), initializer=self.embeddings_initializer,
            name="embeddings",
        )

    def call(self, inputs, reverse=False, training=None):
        if reverse:
            return ops.einsum("btd,vd->btv", inputs, self.embeddings)  # (B, T, vocab)
        x = ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)  # (B, T, d_model)
        return x * ops.cast(self.d_model**0.5, x.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "d_model": self.d_model,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class PaddingMask(keras.layers.Layer):
    """Boolean (B, S) mask, ``True`` at real tokens, from token ids.

    Args:
        pad_id: the padding token.

    Call arguments:
        inputs: token ids (B, S).
        training: unused.

    Example:
        >>> PaddingMask()(keras.ops.array([[5, 3, 0]]))  # [[True, True, False]]
    """

    def __init__(self, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = int(pad_id)

    def call(self, inputs, training=None):
        return padding_mask(inputs, self.pad_id)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


class _TransformerLayer(keras.layers.Layer):
    """Arguments and sublayers shared by the encoder and decoder layers."""

    num_attentions = 1

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1, use_fused=True, epsilon=1e-6,
                 **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(self.name, d_model=d_model, num_heads=num_heads, d_ff=d_ff)
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got dropout={dropout!r}")
        self.d_model, self.num_heads, self.d_ff = d_model, num_heads, d_ff
        self.dropout, self.use_fused, self.epsilon = dropout, use_fused, epsilon
        head_dim = d_model // num_heads
        names = ["self_attention", "cross_attention"][: self.num_attentions]
        self.attentions = [
            MultiHeadAttention(num_heads, head_dim, use_fused=use_fused, name=n) for n in names
        ]
        self.norms = [
            layers.LayerNormalization(epsilon=epsilon, name=f"{n}_norm") for n in [*names, "ffn"]
        ]
        self.ffn_inner = layers.Dense(d_ff, activation="relu", name="ffn_inner")
        self.ffn_outer = layers.Dense(d_model, name="ffn_outer")
        self.drop = layers.Dropout(dropout)

    def build(self, inputs_shape):
        shape = (None, None, self.d_model)
        for attention in self.attentions:
            attention.build(shape, shape)
        for norm in self.norms:
            norm.build(shape)
        self.ffn_inner.build(shape)
        self.ffn_outer.build((None, None, self.d_ff))

    def _residual(self, x, sublayer_output, norm, training):
        # Post-norm, as in the paper: LayerNorm(x + Dropout(Sublayer(x))).
        return norm(x + self.drop(sublayer_output, training=training))

    def _feed_forward(self, x, training):
        inner = self.ffn_inner(x)  # (B, T, d_ff): max(0, x W1 + b1)
        return self._residual(x, self.ffn_outer(inner), self.norms[-1], training)

    def macs(self, input_shape, output_shape):
        """Multiply-accumulates per example (read by ``keras_dlbasic.accounting``):
        Q/K/V/output projections 4·T·d², Q K^T and weights·V 2·T·S·d per
        attention, feed-forward 2·T·d·d_ff. 0 for a variable length."""
        shapes = input_shape if isinstance(input_shape[0], (tuple, list)) else (input_shape,)
        target = output_shape[1]
        source = shapes[1][1] if self.num_attentions == 2 and len(shapes) > 1 else target
        if target is None or source is None:
            return 0
        d = self.d_model
        total = 4 * target * d * d + 2 * target * target * d + 2 * target * d * self.d_ff
        if self.num_attentions == 2:  # cross-attention: queries from T, keys/values from S
            total += 2 * target * d * d + 2 * source * d * d + 2 * target * source * d
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "d_model": self.d_model,
            "num_heads": self.num_heads,
            "d_ff": self.d_ff,
            "dropout": self.dropout,
            "use_fused": self.use_fused,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a position-wise feed-forward network, each wrapped
    as LayerNorm(x + Dropout(Sublayer(x))).

    Parameters: 4·(d² + d) attention + 2·d·d_ff + d_ff + d feed-forward + 2·2d norms.

    Args:
        d_model: model width.
        num_heads: attention heads (``d_model`` must be divisible by it).
        d_ff: inner width of the feed-forward network.
        dropout: dropout on each sublayer output.
        use_fused: use ``keras.ops.dot_product_attention`` in the attention.
        epsilon: LayerNormalization epsilon.

    Call arguments:
        inputs: (B, S, d_model).
        padding_mask: optional boolean (B, S), ``False`` at padding keys.
        training: enables dropout.

    Example:
        >>> layer = TransformerEncoderLayer(64, 4, 128)
        >>> layer(keras.ops.ones((2, 10, 64))).shape
        (2, 10, 64)
    """

    def call(self, inputs, padding_mask=None, training=None):
        mask = None if padding_mask is None else ops.expand_dims(padding_mask, 1)  # (B, 1, S)
        attended = self.attentions[0](inputs, inputs, attention_mask=mask)
        x = self._residual(inputs, attended, self.norms[0], training)
        return self._feed_forward(x, training)


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class TransformerDecoderLayer(_TransformerLayer):
    """Masked self-attention, cross-attention over the encoder output, then the
    feed-forward network; each as LayerNorm(x + Dropout(Sublayer(x))).

    Parameters: 2·4·(d² + d) attention + 2·d·d_ff + d_ff + d + 3·2d norms.

    Args:
        d_model, num_heads, d_ff, dropout, use_fused, epsilon: as in
            ``TransformerEncoderLayer``.

    Call arguments:
        inputs: decoder states (B, T, d_model).
        encoder_outputs: (B, S, d_model).
        encoder_padding_mask: optional boolean (B, S), ``False`` at padded
            source positions.
        return_attention_scores: also return a dict of the attention weights,
            ``self_attention`` (B, heads, T, T) and ``cross_attention``
            (B, heads, T, S) (forces the explicit attention path).
        training: enables dropout.

    Example:
        >>> layer = TransformerDecoderLayer(64, 4, 128)
        >>> layer(keras.ops.ones((2, 7, 64)), keras.ops.ones((2, 10, 64))).shape
        (2, 7, 64)
    """

    num_attentions = 2

    def call(self, inputs, encoder_outputs, encoder_padding_mask=None,
             return_attention_scores=False, training=None):
        self_attention, cross_attention = self.attentions
        scores = {"return_attention_scores": return_attention_scores}
        # Position t sees target positions 0..t only.
        attended = self_attention(inputs, inputs, use_causal_mask=True, **scores)
        if return_attention_scores:
            attended, self_weights = attended  # (B, heads, T, T)
        x = self._residual(inputs, attended, self.norms[0], training)
        mask = None
        if encoder_padding_mask is not None:
            mask = ops.expand_dims(encoder_padding_mask, 1)  # (B, 1, S)
        attended = cross_attention(x, encoder_outputs, attention_mask=mask, **scores)
        if return_attention_scores:
            attended, cross_weights = attended  # (B, heads, T, S)
        x = self._residual(x, attended, self.norms[1], training)
        outputs = self._feed_forward(x, training)
        if return_attention_scores:
            return outputs, {"self_attention": self_weights, "cross_attention": cross_weights}
        return outputs


# --- Builders --------------------------------------------------------------------


def transformer_param_formula(vocab_size, d_model, d_ff, encoder_layers, decoder_layers):
    """Exact parameter count of ``transformer_seq2seq`` (shared, tied embedding).

    attention 4·(d² + d); feed-forward 2·d·d_ff + d_ff + d; LayerNorm 2·d;
    encoder layer = attention + FFN + 2 norms; decoder layer = 2 attentions +
    FFN + 3 norms; embedding V·d, counted once (the output projection is E^T).
    """
    attention = 4 * (d_model * d_model + d_model)
    ffn = 2 * d_model * d_ff + d_ff + d_model
    norm = 2 * d_model
    encoder = attention + ffn + 2 * norm
    decoder = 2 * attention + ffn + 3 * norm
    return vocab_size * d_model + encoder_layers * encoder + decoder_layers * decoder


def _check_sizes(name, d_model, num_heads, **values):
    """Positive integer sizes, and a ``d_model`` that is even (sinusoidal positions
    pair sin and cos) and splits evenly over the heads."""
    check_positive_ints(name, d_model=d_model, num_heads=num_heads, **values)
    if d_model % num_heads or d_model % 2:
        raise ModelArgumentError(
            f"{name}: d_model must be even and divisible by num_heads; "
            f"got d_model={d_model}, num_heads={num_heads}"
        )


def transformer_seq2seq(
    vocab_size=37000,
    d_model=512,
    num_heads=8,
    d_ff=2048,
    encoder_layers=6,
    decoder_layers=6,
    dropout=0.1,
    source_length=None,
    target_length=None,
    pad_id=0,
    use_fused=True,
    classifier_activation="softmax",
    name="transformer",
):
    """The encoder–decoder Transformer with one shared vocabulary.

    Defaults are Transformer-base (63,082,496 parameters).

    Args:
        vocab_size: size of the shared source/target vocabulary.
        d_model: model width (even, divisible by ``num_heads``).
        num_heads: attention heads.
        d_ff: inner width of the feed-forward networks.
        encoder_layers: number of encoder layers.
        decoder_layers: number of decoder layers.
        dropout: dropout on embeddings and sublayer outputs.
        source_length: fixed source length, or ``None`` for any.
        target_length: fixed target length, or ``None`` for any.
        pad_id: padding token, masked in the source.
        use_fused: use ``keras.ops.dot_product_attention`` (fast path) instead
            of the explicit softmax(Q K^T / sqrt(d)) V.
        classifier_activation: applied to the vocabulary logits (``"linear"``
            to keep logits; ``get_model`` drops ``None`` overrides).
        name: model name.

    Returns:
        A ``keras.Model`` with inputs ``[encoder_tokens (B, S), decoder_tokens
        (B, T)]`` (int32; the decoder input starts with BOS) and output
        next-token probabilities (B, T, vocab_size).
    """
    _check_sizes(name, d_model, num_heads, vocab_size=vocab_size, d_ff=d_ff,
                 encoder_layers=encoder_layers, decoder_layers=decoder_layers)
    source = keras.Input(shape=(source_length,), dtype="int32", name="encoder_tokens")
    target = keras.Input(shape=(target_length,), dtype="int32", name="decoder_tokens")
    embedding = SharedEmbedding(vocab_size, d_model, name="shared_embedding")
    source_mask = PaddingMask(pad_id, name="source_padding_mask")(source)  # (B, S)
    block = dict(d_model=d_model, num_heads=num_heads, d_ff=d_ff, dropout=dropout,
                 use_fused=use_fused)

    x = SinusoidalPositionalEncoding(name="source_position")(embedding(source))  # (B, S, d)
    x = layers.Dropout(dropout, name="source_dropout")(x)
    for index in range(1, encoder_layers + 1):
        encoder_layer = TransformerEncoderLayer(**block, name=f"encoder_layer{index}")
        x = encoder_layer(x, padding_mask=source_mask)  # (B, S, d)

    y = SinusoidalPositionalEncoding(name="target_position")(embedding(target))  # (B, T, d)
    y = layers.Dropout(dropout, name="target_dropout")(y)
    for index in range(1, decoder_layers + 1):
        y = TransformerDecoderLayer(**block, name=f"decoder_layer{index}")(
            y, x, encoder_padding_mask=source_mask
        )
    logits = embedding(y, reverse=True)  # (B, T, vocab): tied output projection
    outputs = layers.Activation(classifier_activation, dtype="float32", name="predictions")(logits)
    return keras.Model([source, target], outputs, name=name)


def transformer_encoder_classifier(
    input_shape=None,
    classes=10,
    d_model=64,
    num_heads=4,
    d_ff=128,
    num_layers=2,
    dropout=0.1,
    use_fused=True,
    classifier_activation="softmax",
    name="transformer_encoder",
):
    """An encoder-only Transformer classifying float sequences (no masks, so
    it exports like any feed-forward model).

    Linear projection to ``d_model`` -> sinusoidal positions -> encoder layers
    -> mean over time -> dense head. Defaults (Sequential MNIST, 28 steps of
    28 features): 69,450 parameters.

    Args:
        input_shape: (time_steps, features); defaults to (28, 28).
        classes: number of output classes.
        d_model, num_heads, d_ff, dropout, use_fused: as in ``transformer_seq2seq``.
        num_layers: encoder layers.
        classifier_activation: output activation (``"linear"`` for logits or regression;
            ``get_model`` drops ``None`` overrides).
        name: model name.

    Returns:
        A ``keras.Model`` mapping (batch, time_steps, features) to (batch, classes).
    """
    _check_sizes(name, d_model, num_heads, d_ff=d_ff, num_layers=num_layers)
    input_shape = (28, 28) if input_shape is None else tuple(input_shape)
    if len(input_shape) != 2:
        raise ModelArgumentError(f"{name} takes a 2-D input_shape (time_steps, features); "
                                 f"got {input_shape}")
    inputs = keras.Input(shape=input_shape, name="sequence")
    x = layers.Dense(d_model, name="input_projection")(inputs)  # (B, T, d_model)
    x = SinusoidalPositionalEncoding(name="position")(x)
    x = layers.Dropout(dropout, name="input_dropout")(x)
    for index in range(1, num_layers + 1):
        x = TransformerEncoderLayer(d_model, num_heads, d_ff, dropout=dropout, use_fused=use_fused,
                                    name=f"encoder_layer{index}")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)  # (B, d_model)
    outputs = layers.Dense(classes, activation=classifier_activation, dtype="float32",
                           name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


# --- Registered variants -----------------------------------------------------------


def transformer_base(**kwargs):
    """Transformer-base (Vaswani et al. 2017, Table 3): 63,082,496 parameters."""
    return transformer_seq2seq(**{"name": "transformer_base", **kwargs})


def transformer(**kwargs):
    """A small Transformer for the digit-reversal task (vocabulary 13: PAD, BOS,
    EOS, digits 0-9): d_model 64, 2+2 layers, 4 heads, d_ff 128; 168,256 parameters."""
    defaults = dict(vocab_size=13, d_model=64, num_heads=4, d_ff=128, encoder_layers=2,
                    decoder_layers=2, name="transformer")
    return transformer_seq2seq(**{**defaults, **kwargs})


def transformer_encoder(**kwargs):
    """Encoder-only sequence classifier; Sequential MNIST default: 69,450 parameters."""
    return transformer_encoder_classifier(**kwargs)


# --- Inference ---------------------------------------------------------------------


def greedy_decode(model, encoder_tokens, max_length, bos_id=1, eos_id=2, pad_id=0):
    """Generate target tokens one at a time, always taking the most likely one.

    The decoder input keeps a fixed length ``max_length`` (padding after the
    tokens generated so far; the causal mask hides it), so every step runs
    the same compiled function.

    Args:
        model: a ``transformer_seq2seq`` model.
        encoder_tokens: int array (B, S).
        max_length: number of tokens to generate.
        bos_id, eos_id, pad_id: special tokens; after EOS a row is padded.

    Returns:
        int32 numpy array (B, max_length) of generated tokens (without BOS).
    """
    encoder_tokens = np.asarray(encoder_tokens, dtype="int32")
    batch = encoder_tokens.shape[0]
    decoded = np.full((batch, max_length + 1), pad_id, dtype="int32")
    decoded[:, 0] = bos_id
    finished = np.zeros(batch, dtype=bool)
    for t in range(max_length):
        probs = model.predict_on_batch([encoder_tokens, decoded[:, :-1]])  # (B, max_length, V)
        next_token = np.argmax(np.asarray(probs)[:, t], axis=-1).astype("int32")
        decoded[:, t + 1] = np.where(finished, pad_id, next_token)
        finished |= next_token == eos_id
        if finished.all():
            break
    return decoded[:, 1:]


def decoder_attention_weights(model, encoder_tokens, decoder_tokens, layer=None):
    """The attention probabilities softmax(Q K^T / sqrt(d_k)) of one decoder layer.

    The model runs as trained up to that layer; the layer is then called again
    on the same inputs with ``return_attention_scores=True`` (the explicit
    path: the fused kernels never form the weights). Padded source positions
    get weight 0, and every row sums to 1.

    Args:
        model: a ``transformer_seq2seq`` model.
        encoder_tokens: int array (B, S).
        decoder_tokens: int array (B, T), starting with BOS (e.g. BOS + the
            greedy output, to see what the model looked at while decoding).
        layer: name of the decoder layer; defaults to the last one.

    Returns:
        dict of numpy arrays: ``self_attention`` (B, heads, T, T) and
        ``cross_attention`` (B, heads, T, S), query positions along T.
    """
    decoders = [lay for lay in model.layers if isinstance(lay, TransformerDecoderLayer)]
    if not decoders:
        raise ModelArgumentError(f"{model.name} has no TransformerDecoderLayer")
    decoder = model.get_layer(layer) if layer else decoders[-1]
    # decoder.input: [decoder states (B, T, d), encoder outputs (B, S, d), source mask (B, S)]
    states, encoder_outputs, source_mask = keras.Model(model.inputs, decoder.input)(
        [np.asarray(encoder_tokens, "int32"), np.asarray(decoder_tokens, "int32")]
    )
    _, weights = decoder(states, encoder_outputs, encoder_padding_mask=source_mask,
                         return_attention_scores=True)
    return {key: ops.convert_to_numpy(value) for key, value in weights.items()}
