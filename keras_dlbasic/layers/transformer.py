"""The Transformer's layers: shared embedding, padding mask, encoder and decoder layers.

Chapter 5 of the course. Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez,
Kaiser & Polosukhin, "Attention Is All You Need", NeurIPS 2017
(https://arxiv.org/abs/1706.03762), section 3:

    block(x) = LayerNorm(x + Dropout(Sublayer(x)))         (post-norm, 3.1 and 5.4)
    FFN(x) = max(0, x W1 + b1) W2 + b2                     (2)
    encoder layer: self-attention block, then FFN block
    decoder layer: causal self-attention block, cross-attention block over the
                   encoder output, then FFN block

Lecture point: a layer is attention and a position-wise feed-forward network,
each wrapped in a residual connection and a LayerNorm; the decoder's causal
mask keeps generation autoregressive, and the output projection reuses the
embedding matrix (section 3.4).

Contents, bottom-up: ``SharedEmbedding`` (embedding and tied output
projection), ``PaddingMask``, ``TransformerEncoderLayer`` and
``TransformerDecoderLayer`` (with their ``macs``). The attention itself is in
``keras_dlbasic.layers.attention``, the models built from these layers in
``keras_dlbasic.models.transformer``. ``.keras`` files refer to the layers by
their registered names (``keras_dlbasic>SharedEmbedding``, ...): keep them.
"""
import keras
from keras import layers, ops

from keras_dlbasic.errors import check_positive_ints
from keras_dlbasic.layers.attention import MultiHeadAttention, padding_mask


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
        # As keras.layers.Embedding: PyTorch's symbolic call gathers from the float32
        # variable, so cast to the compute dtype (float16 under mixed precision).
        x = ops.cast(x, self.compute_dtype)
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
