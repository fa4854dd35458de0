"""Attention layers: fused vs explicit path, masks, keras MultiHeadAttention parity,
the shared layer checks and the masked path under mixed precision."""
import keras
import numpy as np
import pytest

from keras_dlbasic.layers import (
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    causal_mask,
    scaled_dot_product_attention,
)

from conftest import to_numpy
from layer_testing import run_layer_test

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 5, 3, 8)).astype("float32")  # (B, T, heads, head_dim)
K = RNG.normal(size=(2, 6, 3, 8)).astype("float32")  # (B, S, heads, head_dim)
V = RNG.normal(size=(2, 6, 3, 8)).astype("float32")
KEY_PADDING = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)[:, None, None, :]


@pytest.mark.parametrize("mask", [None, KEY_PADDING])
def test_fused_and_explicit_paths_agree(mask):
    fused = scaled_dot_product_attention(Q, K, V, mask=mask, use_fused=True)
    explicit = scaled_dot_product_attention(Q, K, V, mask=mask, use_fused=False)
    np.testing.assert_allclose(to_numpy(fused), to_numpy(explicit), atol=1e-5)


def test_fused_and_explicit_causal_paths_agree():
    q, k, v = Q[:, :5], K[:, :5], V[:, :5]
    fused = scaled_dot_product_attention(q, k, v, is_causal=True, use_fused=True)
    explicit = scaled_dot_product_attention(q, k, v, is_causal=True, use_fused=False)
    np.testing.assert_allclose(to_numpy(fused), to_numpy(explicit), atol=1e-5)


def test_padding_mask_hides_keys():
    _, weights = scaled_dot_product_attention(Q, K, V, mask=KEY_PADDING, return_weights=True)
    weights = to_numpy(weights)  # (B, heads, T, S)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(weights[0, :, :, 4:] == 0)
    # Changing a padded value changes nothing.
    changed = V.copy()
    changed[0, 4:] += 10.0
    for fused in (True, False):
        a = scaled_dot_product_attention(Q, K, V, mask=KEY_PADDING, use_fused=fused)
        b = scaled_dot_product_attention(Q, K, changed, mask=KEY_PADDING, use_fused=fused)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-6)


def test_causal_output_ignores_the_future():
    x = RNG.normal(size=(1, 6, 16)).astype("float32")
    mha = MultiHeadAttention(num_heads=2, key_dim=8)
    before = to_numpy(mha(x, x, use_causal_mask=True))
    later = x.copy()
    later[:, 3:] = RNG.normal(size=(1, 3, 16))
    after = to_numpy(mha(later, later, use_causal_mask=True))
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-6)
    assert not np.allclose(after[:, 3:], before[:, 3:])
    np.testing.assert_array_equal(to_numpy(causal_mask(3)), np.tril(np.ones((3, 3), bool)))


@pytest.mark.parametrize("use_fused", [True, False])
def test_multi_head_attention_matches_keras(use_fused):
    query = RNG.normal(size=(2, 5, 12)).astype("float32")
    value = RNG.normal(size=(2, 7, 12)).astype("float32")
    mask = RNG.random((2, 5, 7)) > 0.3
    mask[:, :, 0] = True  # every query sees at least one key
    reference = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4)
    scratch = MultiHeadAttention(num_heads=3, key_dim=4, use_fused=use_fused)
    reference(query, value), scratch(query, value)
    assert scratch.count_params() == reference.count_params()
    weights = [w + 0.1 * np.random.default_rng(i).normal(size=w.shape).astype("float32")
               for i, w in enumerate(reference.get_weights())]
    reference.set_weights(weights)
    scratch.set_weights(weights)
    for kwargs in ({}, {"attention_mask": mask}):
        np.testing.assert_allclose(
            to_numpy(scratch(query, value, **kwargs)), to_numpy(reference(query, value, **kwargs)),
            atol=1e-5,
        )
    x = query[:, :5]
    np.testing.assert_allclose(
        to_numpy(scratch(x, x, use_causal_mask=True)),
        to_numpy(reference(x, x, use_causal_mask=True)), atol=1e-5,
    )
    _, scores = scratch(query, value, return_attention_scores=True)
    _, expected_scores = reference(query, value, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(scores), to_numpy(expected_scores), atol=1e-5)


# The shapes of the transformer layers' tests too (d_model 8, 2 heads of 4, T 4, S 5):
# on JAX every new shape and dtype compiles each op of an eager call again.
@pytest.mark.parametrize("init_kwargs,call_kwargs,output_shape", [
    ({"use_fused": True}, {}, (2, 4, 8)),
    # The explicit path, with the weights (B, heads, T, S) as a second output.
    ({"use_fused": False, "value_dim": 3, "output_dim": 6},
     {"use_causal_mask": True, "return_attention_scores": True}, [(2, 4, 6), (2, 2, 4, 5)]),
], ids=["fused", "explicit_causal_scores"])
def test_multi_head_attention_layer(init_kwargs, call_kwargs, output_shape):
    rng = np.random.default_rng(1)
    inputs = {
        "query": rng.normal(size=(2, 4, 8)).astype("float32"),
        "value": rng.normal(size=(2, 5, 8)).astype("float32"),
        "attention_mask": np.tril(np.ones((2, 4, 5), bool)) | np.eye(4, 5, k=1, dtype=bool),
    }
    run_layer_test(
        MultiHeadAttention, {"num_heads": 2, "key_dim": 4, **init_kwargs}, inputs,
        call_kwargs=call_kwargs, expected_output_shape=output_shape,
        # q·(k + b_k) adds q·b_k to a whole row of scores, which softmax ignores.
        weights_without_gradient=("key_bias",),
    )


@pytest.mark.parametrize("use_fused", [True, False])
def test_padding_mask_under_mixed_float16(use_fused):
    """The masked path in float16: the mask value must stay finite in float16
    (-1e9 is -inf there), masked keys get no weight and the outputs agree with
    float32 within float16's precision."""
    rng = np.random.default_rng(3)
    query = rng.normal(size=(2, 4, 8)).astype("float32")
    value = rng.normal(size=(2, 5, 8)).astype("float32")
    keys = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)  # (B, S): 2 padded keys
    mask = np.repeat(keys[:, None, :], 4, axis=1)  # (B, T, S)
    reference = MultiHeadAttention(num_heads=2, key_dim=4, use_fused=use_fused)
    expected = to_numpy(reference(query, value, attention_mask=mask))
    keras.config.set_dtype_policy("mixed_float16")  # the autouse fixture restores it
    mha = MultiHeadAttention(num_heads=2, key_dim=4, use_fused=use_fused)
    mha(query, value)
    mha.set_weights(reference.get_weights())

    outputs = mha(query, value, attention_mask=mask)
    assert keras.backend.standardize_dtype(outputs.dtype) == "float16"
    outputs = to_numpy(outputs).astype("float32")
    assert np.all(np.isfinite(outputs))
    np.testing.assert_allclose(outputs, expected, atol=1e-2 * max(1.0, np.abs(expected).max()))
    # A padded key's value does not reach the output.
    changed = value.copy()
    changed[0, 3:] += 5.0
    moved = to_numpy(mha(query, changed, attention_mask=mask)).astype("float32")
    np.testing.assert_allclose(moved, outputs, atol=1e-3)
    # The weights themselves (explicit path): ~0 on padded keys, rows sum to 1.
    _, weights = mha(query, value, attention_mask=mask, return_attention_scores=True)
    weights = to_numpy(weights).astype("float32")  # (B, heads, T, S)
    assert weights.shape == (2, 2, 4, 5) and np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights[0, :, :, 3:], 0.0, atol=1e-6)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-2)
    # A query that sees no key at all stays finite (a finite mask value, not -inf).
    blind = mask.copy()
    blind[1, 2] = False
    assert np.all(np.isfinite(to_numpy(mha(query, value, attention_mask=blind))))


def test_multi_head_attention_validation():
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(num_heads=0, key_dim=4)


def test_sinusoidal_positional_encoding_values():
    encoding = to_numpy(SinusoidalPositionalEncoding()(np.zeros((1, 4, 6), "float32")))[0]
    pos, i = np.arange(4)[:, None], np.arange(3)[None, :]
    angles = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(encoding[:, 0::2], np.sin(angles), atol=1e-6)
    np.testing.assert_allclose(encoding[:, 1::2], np.cos(angles), atol=1e-6)


def test_sinusoidal_positional_encoding_layer():
    x = np.random.default_rng(2).normal(size=(2, 5, 6)).astype("float32")
    run_layer_test(SinusoidalPositionalEncoding, {"max_wavelength": 100}, x,
                   expected_output_shape=(2, 5, 6), run_training_check=False)
