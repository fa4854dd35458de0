"""Transformer: exact parameter counts, masks, a few training steps, greedy decoding."""
import keras
import numpy as np
import pytest

from conftest import to_numpy
from keras_dlbasic import get_model, model_info
from keras_dlbasic.data.synthetic import VOCAB_SIZE, digit_reversal
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.models.transformer import greedy_decode, transformer_param_formula

SMALL = dict(d_model=16, num_heads=2, d_ff=32, encoder_layers=1, decoder_layers=1)


def test_transformer_base_matches_the_formula():
    model = get_model("transformer_base")
    expected = transformer_param_formula(37000, 512, 2048, 6, 6)
    assert model.count_params() == expected == model_info("transformer_base").reference_params
    assert 62e6 < expected < 66e6  # "65M" in the paper's Table 3


def test_small_transformer_matches_the_formula():
    assert get_model("transformer").count_params() == transformer_param_formula(13, 64, 128, 2, 2)


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


def test_greedy_decode_shape_and_stops_after_eos():
    model = get_model("transformer", **SMALL)
    src = digit_reversal(3, max_length=5)["encoder_tokens"]
    out = greedy_decode(model, src, max_length=6)
    assert out.shape == (3, 6) and out.dtype == np.int32
    for row in out:
        eos = np.flatnonzero(row == 2)
        if eos.size:
            assert np.all(row[eos[0] + 1 :] == 0)


def test_encoder_classifier_and_config_round_trip():
    model = get_model("transformer_encoder", **model_info("transformer_encoder").test_kwargs)
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



def test_cross_attention_weights_and_heat_map(tmp_path):
    from keras_dlbasic.models.transformer import decoder_attention_weights
    from keras_dlbasic.plotting import plot_attention

    model = get_model("transformer", **{**SMALL, "decoder_layers": 2})
    src = np.array([[4, 5, 6, 7, 0, 0]], "int32")  # 4 digits, 2 padding
    dec = np.array([[1, 10, 9, 8, 7, 0, 0]], "int32")
    weights = decoder_attention_weights(model, src, dec)  # the last layer, decoder_layer2
    cross, self_weights = weights["cross_attention"], weights["self_attention"]
    assert cross.shape == (1, 2, 7, 6) and self_weights.shape == (1, 2, 7, 7)
    np.testing.assert_allclose(cross.sum(-1), 1.0, atol=1e-5)  # each query's row is a distribution
    np.testing.assert_allclose(cross[..., 4:], 0.0, atol=1e-7)  # padded source keys get nothing
    assert np.all(cross[..., :4] > 0)
    np.testing.assert_allclose(np.triu(self_weights[0, 0], k=1), 0.0, atol=1e-7)  # causal
    first = decoder_attention_weights(model, src, dec, layer="decoder_layer1")["cross_attention"]
    assert not np.allclose(first, cross)
    plot_attention(cross[0], list("4567__"), ["BOS", *"7654", "_", "_"], tmp_path / "a.png",
                   title="cross-attention")
    assert (tmp_path / "a.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="source labels"):
        plot_attention(cross[0], list("4567"), list("1234567"), tmp_path / "b.png")


def test_returning_attention_scores_keeps_the_fused_output():
    from keras_dlbasic.models.transformer import TransformerDecoderLayer

    layer = TransformerDecoderLayer(16, 2, 32, dropout=0.0)  # use_fused=True
    rng = np.random.default_rng(0)
    x, memory = rng.random((2, 5, 16), "float32"), rng.random((2, 4, 16), "float32")
    mask = np.array([[True, True, True, False], [True, True, True, True]])
    fused = layer(x, memory, encoder_padding_mask=mask)
    explicit, _ = layer(x, memory, encoder_padding_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(explicit), to_numpy(fused), atol=1e-5)
