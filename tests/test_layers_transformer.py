"""Transformer layers: the shared layer checks, explicit and fused attention agree,
encoder and decoder MACs."""
import numpy as np
import pytest

from keras_dlbasic import get_model
from keras_dlbasic.layers.transformer import (
    PaddingMask,
    SharedEmbedding,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
)

from conftest import SEQ2SEQ_SMALL as SMALL
from conftest import to_numpy
from layer_testing import run_layer_test

RNG = np.random.default_rng(0)
TOKENS = np.array([[5, 3, 9, 0, 0], [1, 2, 3, 4, 7]], "int32")  # (B, S), 0 pads
STATES = RNG.normal(size=(2, 4, 8)).astype("float32")  # (B, T, d_model)
MEMORY = RNG.normal(size=(2, 5, 8)).astype("float32")  # (B, S, d_model)


@pytest.mark.parametrize("reverse", [False, True])
def test_shared_embedding_layer(reverse):
    inputs = MEMORY if reverse else TOKENS
    run_layer_test(SharedEmbedding, {"vocab_size": 10, "d_model": 8}, inputs,
                   call_kwargs={"reverse": reverse},
                   expected_output_shape=(2, 5, 10) if reverse else (2, 5, 8))


def test_padding_mask_layer():
    run_layer_test(PaddingMask, {"pad_id": 0}, TOKENS, expected_output_shape=(2, 5),
                   expected_output_dtype="bool", run_training_check=False)
    np.testing.assert_array_equal(to_numpy(PaddingMask()(TOKENS)), TOKENS != 0)


# q·(k + b_k) adds q·b_k to a whole row of scores, which softmax ignores.
WITHOUT_GRADIENT = ("key_bias",)


def test_transformer_encoder_layer():
    inputs = {"inputs": MEMORY, "padding_mask": TOKENS != 0}
    run_layer_test(TransformerEncoderLayer, {"d_model": 8, "num_heads": 2, "d_ff": 16}, inputs,
                   expected_output_shape=(2, 5, 8), weights_without_gradient=WITHOUT_GRADIENT)


def test_transformer_decoder_layer():
    inputs = {"inputs": STATES, "encoder_outputs": MEMORY, "encoder_padding_mask": TOKENS != 0}
    run_layer_test(TransformerDecoderLayer,
                   {"d_model": 8, "num_heads": 2, "d_ff": 16, "use_fused": False}, inputs,
                   expected_output_shape=(2, 4, 8), weights_without_gradient=WITHOUT_GRADIENT)


def test_returning_attention_scores_keeps_the_fused_output():
    layer = TransformerDecoderLayer(8, 2, 16, dropout=0.0)  # use_fused=True
    mask = TOKENS != 0
    fused = layer(STATES, MEMORY, encoder_padding_mask=mask)
    explicit, _ = layer(STATES, MEMORY, encoder_padding_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(explicit), to_numpy(fused), atol=1e-5)


def test_encoder_and_decoder_layers_count_their_macs():
    from keras_dlbasic.accounting import layer_table

    rows = {r.name: r for r in layer_table(get_model("transformer_encoder"))}
    t, d, d_ff = 28, 64, 128
    assert rows["encoder_layer1"].macs == 4 * t * d * d + 2 * t * t * d + 2 * t * d * d_ff
    seq2seq = get_model("transformer", source_length=6, target_length=5, **SMALL)
    decoder = {r.name: r for r in layer_table(seq2seq)}["decoder_layer1"]
    s, t, d, d_ff = 6, 5, 16, 32
    cross = 2 * t * d * d + 2 * s * d * d + 2 * t * s * d
    assert decoder.macs == 4 * t * d * d + 2 * t * t * d + 2 * t * d * d_ff + cross
