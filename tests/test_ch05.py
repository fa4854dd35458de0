"""Chapter 5 studies: greedy decoding and the decoder's attention weights."""
import numpy as np
import pytest

from keras_dlbasic import get_model
from keras_dlbasic.chapters.ch05 import decoder_attention_weights, greedy_decode
from keras_dlbasic.data.synthetic import digit_reversal

from conftest import SEQ2SEQ_SMALL as SMALL


def test_greedy_decode_shape_and_stops_after_eos():
    model = get_model("transformer", **SMALL)
    src = digit_reversal(3, max_length=5)["encoder_tokens"]
    out = greedy_decode(model, src, max_length=6)
    assert out.shape == (3, 6) and out.dtype == np.int32
    for row in out:
        eos = np.flatnonzero(row == 2)
        if eos.size:
            assert np.all(row[eos[0] + 1 :] == 0)


def test_cross_attention_weights_and_heat_map(tmp_path):
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
