"""Synthetic sequence tasks: shapes, determinism and the facts the lecture quotes."""
import numpy as np
import pytest

from keras_dlbasic.data.synthetic import (
    ADDING_BASELINE_MSE,
    BOS,
    EOS,
    PAD,
    adding_problem,
    digit_reversal,
    digit_sort,
    hard_sequence_variants,
    seq2seq_fit_arrays,
    tokens_to_digits,
)


def test_adding_problem_targets_and_baseline():
    x, y = adding_problem(20_000, length=50, seed=1)
    assert x.shape == (20_000, 50, 2) and y.shape == (20_000,) and x.dtype == np.float32
    markers = x[..., 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :25].sum(1) == 1)  # one marker in each half
    np.testing.assert_allclose(y, (x[..., 0] * markers).sum(1), rtol=1e-6)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 0.005
    np.testing.assert_array_equal(adding_problem(5, seed=3)[0], adding_problem(5, seed=3)[0])
    with pytest.raises(ValueError, match="length"):
        adding_problem(1, length=1)


def test_digit_reversal_pairs():
    data = digit_reversal(100, min_length=2, max_length=6, seed=0)
    src, dec, tgt = data["encoder_tokens"], data["decoder_tokens"], data["targets"]
    assert src.shape == (100, 6) and dec.shape == tgt.shape == (100, 7)
    assert np.all(dec[:, 0] == BOS)
    # Teacher forcing: the decoder input is the target shifted right by one.
    np.testing.assert_array_equal(dec[:, 1:][tgt[:, :-1] != EOS], tgt[:, :-1][tgt[:, :-1] != EOS])
    for s, t in zip(tokens_to_digits(src), tokens_to_digits(tgt)):
        assert t == s[::-1] and 2 <= len(s) <= 6
    assert np.all((tgt == EOS).sum(1) == 1) and np.all(src[:, :2] != PAD)
    again = digit_reversal(4, seed=9)["targets"]
    np.testing.assert_array_equal(digit_reversal(4, seed=9)["targets"], again)


def test_digit_sort_pairs():
    data = digit_sort(20, seed=0)
    for s, t in zip(tokens_to_digits(data["encoder_tokens"]), tokens_to_digits(data["targets"])):
        assert t == "".join(sorted(s))


def test_hard_sequence_variants():
    x = np.arange(2 * 9 * 3).reshape(2, 9, 3)
    variants = hard_sequence_variants(x, seed=0)
    np.testing.assert_array_equal(variants["trimmed"], x[:, :6])
    np.testing.assert_array_equal(variants["omitted"], np.concatenate([x[:, :3], x[:, 6:]], 1))
    permuted = variants["permuted"]
    assert permuted.shape == x.shape and not np.array_equal(permuted, x)
    np.testing.assert_array_equal(np.sort(permuted[:, :, 0], 1), x[:, :, 0])


def test_seq2seq_fit_arrays_weight_only_real_targets():
    inputs, targets, weights = seq2seq_fit_arrays(digit_reversal(8, max_length=4))
    assert set(inputs) == {"encoder_tokens", "decoder_tokens"}
    np.testing.assert_array_equal(weights, targets != PAD)
