"""Chapter 5, the Transformer: encoder–decoder built from attention alone.

Reference: Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser &
Polosukhin, "Attention Is All You Need", NeurIPS 2017
(https://arxiv.org/abs/1706.03762). The base model: d_model 512, 6 encoder and
6 decoder layers, 8 heads, d_ff 2048, dropout 0.1, one 37,000-token vocabulary
shared by the source and target embeddings and the output projection.

Lecture point: no recurrence — every position attends every other in one
step, so the sequence is processed in parallel; order comes only from the
positional encoding, and the decoder's causal mask keeps generation
autoregressive. Transformer-base's exact parameter count
(``transformer_param_formula``, in ``transformer_specs``) is 3% under the 65M of
the paper's Table 3.

Contents: ``transformer_param_formula``, the builders ``transformer_seq2seq``
and ``transformer_encoder_classifier``, and the registered variants. The
layers they stack (``SharedEmbedding``, ``PaddingMask``,
``TransformerEncoderLayer``, ``TransformerDecoderLayer``, post-norm as in the
paper) are in ``keras_dlbasic.layers.transformer``, the attention in
``keras_dlbasic.layers.attention``; greedy decoding and the attention heat map
are chapter studies, in ``keras_dlbasic.chapters.ch05``.
"""
import keras
from keras import layers

from keras_dlbasic.errors import ModelArgumentError, check_positive_ints
from keras_dlbasic.layers.attention import SinusoidalPositionalEncoding
from keras_dlbasic.layers.transformer import (
    PaddingMask,
    SharedEmbedding,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
)
from keras_dlbasic.registry import variant_of

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

    Defaults are Transformer-base.

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
    28 features).

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


@variant_of(transformer_seq2seq)
def transformer_base(**kwargs):
    """Transformer-base (Vaswani et al. 2017, Table 3; reference count: ``dlbasic info``)."""
    return transformer_seq2seq(**{"name": "transformer_base", **kwargs})


@variant_of(transformer_seq2seq)
def transformer(**kwargs):
    """A small Transformer for the digit-reversal task (vocabulary 13: PAD, BOS,
    EOS, digits 0-9): d_model 64, 2+2 layers, 4 heads, d_ff 128."""
    defaults = dict(vocab_size=13, d_model=64, num_heads=4, d_ff=128, encoder_layers=2,
                    decoder_layers=2, name="transformer")
    return transformer_seq2seq(**{**defaults, **kwargs})


@variant_of(transformer_encoder_classifier)
def transformer_encoder(**kwargs):
    """Encoder-only sequence classifier, by default for Sequential MNIST."""
    return transformer_encoder_classifier(**kwargs)

