"""Chapter 5 studies: a trained Transformer generating, and where it looks.

Two looks at the ``transformer_seq2seq`` models of ``keras_dlbasic.models.transformer``:

* ``greedy_decode``: the decoder is trained with teacher forcing (the whole
  shifted target at once, hidden by the causal mask), but generates one token
  at a time, feeding each output back in; a whole sequence is right only if
  every step is.
* ``decoder_attention_weights``: the attention probabilities
  softmax(Q K^T / sqrt(d_k)) of one decoder layer, for the lecture's heat map.
  To reverse a digit string, each output position attends the mirrored source
  position.
"""
import keras
import numpy as np
from keras import ops

from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.layers.transformer import TransformerDecoderLayer


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
