"""Transformer builders: exact parameter counts, masks, a few training steps, round trips."""
import keras
import numpy as np
import pytest

from keras_dlbasic import get_model, model_info
from keras_dlbasic.accounting import dense_params
from keras_dlbasic.data.synthetic import VOCAB_SIZE, digit_reversal
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models.transformer import transformer_param_formula

from conftest import SEQ2SEQ_SMALL, small_kwargs, to_numpy

SMALL = SEQ2SEQ_SMALL


def transformer_count(vocab_size, d_model, d_ff, encoder_layers, decoder_layers):
    """Parameters by hand, sublayer by sublayer (Vaswani et al. 2017, section 3)."""
    d = d_model
    attention = 4 * dense_params(d, d)  # W^Q, W^K, W^V, W^O with biases
    ffn = dense_params(d, d_ff) + dense_params(d_ff, d)
    norm = 2 * d  # LayerNorm gain and bias
    encoder = attention + ffn + 2 * norm
    decoder = 2 * attention + ffn + 3 * norm  # masked self-attention, cross-attention
    # One embedding matrix, shared by both embeddings and the output projection (3.4).
    return vocab_size * d + encoder_layers * encoder + decoder_layers * decoder


def test_transformer_base_matches_the_formula():
    expected = transformer_count(37000, 512, 2048, 6, 6)
    assert transformer_param_formula(37000, 512, 2048, 6, 6) == expected
    assert expected == model_info("transformer_base").reference_params
    assert 62e6 < expected < 66e6  # "65M" in the paper's Table 3


def test_small_transformer_matches_the_formula():
    model = get_model("transformer", **SMALL)
    expected = transformer_count(VOCAB_SIZE, 16, 32, 1, 1)
    assert model.count_params() == expected == transformer_param_formula(VOCAB_SIZE, 16, 32, 1, 1)


def test_outputs_are_next_token_distributions():
    model = get_model("transformer", **SMALL)
    data = digit_reversal(3, max_length=5)
    probs = to_numpy(model([data["encoder_tokens"], data["decoder_tokens"]]))
    assert probs.shape == (3, 6, VOCAB_SIZE)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("use_fused", [True, False])
def test_decoder_is_causal_and_source_padding_is_masked(use_fused):
    model = get_model("transformer", dropout=0.0, use_fused=use_fused, **SMALL)
    src = np.array([[4, 5, 6, 0, 0]], "int32")
    dec = np.array([[1, 8, 7, 6, 5, 4]], "int32")
    before = to_numpy(model([src, dec]))
    changed = dec.copy()
    changed[:, 3:] = 9
    after = to_numpy(model([src, changed]))
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-6)  # the past is unchanged
    assert not np.allclose(after[:, 3:], before[:, 3:])
    # Source padding: more padding changes nothing (masked keys, same positions).
    longer = np.array([[4, 5, 6, 0, 0, 0, 0]], "int32")
    np.testing.assert_allclose(to_numpy(model([longer, dec])), before, atol=1e-5)


def test_fused_and_explicit_attention_give_the_same_model():
    fused = get_model("transformer", **SMALL)
    explicit = get_model("transformer", use_fused=False, **SMALL)
    explicit.set_weights(fused.get_weights())
    data = digit_reversal(4, max_length=5)
    x = [data["encoder_tokens"], data["decoder_tokens"]]
    np.testing.assert_allclose(to_numpy(explicit(x)), to_numpy(fused(x)), atol=1e-5)


def test_a_few_training_steps_lower_the_loss():
    model = get_model("transformer", dropout=0.0, **SMALL)
    data = digit_reversal(64, max_length=5, seed=0)
    x = {"encoder_tokens": data["encoder_tokens"], "decoder_tokens": data["decoder_tokens"]}
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
    )
    before = model.evaluate(x, data["targets"], verbose=0)
    model.fit(x, data["targets"], batch_size=32, epochs=5, verbose=0)
    assert model.evaluate(x, data["targets"], verbose=0) < 0.9 * before


def test_encoder_classifier_and_config_round_trip():
    model = get_model("transformer_encoder", **small_kwargs("transformer_encoder"))
    x = np.random.default_rng(0).random((2, 28, 28), dtype=np.float32)
    assert model(x).shape == (2, 10)
    seq2seq = get_model("transformer", **SMALL)
    clone = keras.Model.from_config(seq2seq.get_config())
    clone.set_weights(seq2seq.get_weights())
    data = digit_reversal(2, max_length=4)
    x = [data["encoder_tokens"], data["decoder_tokens"]]
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(seq2seq(x)), atol=1e-6)


def test_keras_file_round_trip(tmp_path):
    model = get_model("transformer", **SMALL)
    model.save(tmp_path / "t.keras")
    reloaded = keras.saving.load_model(tmp_path / "t.keras")
    data = digit_reversal(2, max_length=4)
    x = [data["encoder_tokens"], data["decoder_tokens"]]
    np.testing.assert_allclose(to_numpy(reloaded(x)), to_numpy(model(x)), atol=1e-6)


def test_bad_arguments_are_rejected():
    with pytest.raises(ModelArgumentError, match="num_heads"):
        get_model("transformer", d_model=30, num_heads=4)
