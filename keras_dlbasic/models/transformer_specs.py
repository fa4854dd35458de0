"""The Transformer's registered variants and their reference figures, with sources.

Parameter counts and training recipes of the small and base encoder–decoders
and the encoder-only classifier. Keras-free: the builders are named as
strings and live in ``keras_dlbasic.models.transformer``.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

VASWANI = Paper(
    title="Attention Is All You Need",
    authors="Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser, Polosukhin",
    year=2017,
    url="https://arxiv.org/abs/1706.03762",
)
_TRANSFORMER_PARAMS = (
    "transformer_param_formula: V·d shared embedding (tied output projection) "
    "+ encoder layers·(4·(d²+d) + 2·d·d_ff+d_ff+d + 2·2d) "
    "+ decoder layers·(2·4·(d²+d) + 2·d·d_ff+d_ff+d + 3·2d)"
)

# Inputs: [encoder_tokens (B, S), decoder_tokens (B, T)] int32; output (B, T, vocab) probabilities.
for _name, _params, _sizes, _recipe in [
    ("transformer", 168_256, "V=13, d=64, d_ff=128, 2+2 layers",
     Recipe(epochs=10, batch_size=64, lr=1e-3)),
    ("transformer_base", 63_082_496,
     "V=37,000, d=512, d_ff=2048, 6+6 layers (paper Table 3: 65M)",
     Recipe(epochs=1, batch_size=32, lr=1e-4)),
]:
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.transformer:{_name}",
            chapter=5,
            tasks=("seq2seq",),
            inputs="tokens",
            paper=VASWANI,
            input_shape=((None,), (None,)),
            dataset="digit_reversal",
            full_dataset=None,  # WMT14 needs a subword tokenizer: not supported offline
            reference_params=_params,
            params_source=f"{_TRANSFORMER_PARAMS} with {_sizes}",
            recipe=_recipe,
        )
    )
register_model(
    ModelSpec(
        name="transformer_encoder",
        builder="keras_dlbasic.models.transformer:transformer_encoder",
        chapter=5,
        tasks=("classification", "regression"),
        inputs="sequence",
        paper=VASWANI,
        input_shape=(28, 28),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=69_450,
        params_source=(
            "28·64+64 input projection + 2·(4·(64²+64) + 2·64·128+128+64 + 2·128) "
            "+ 64·10+10 head"
        ),
        recipe=Recipe(epochs=5, batch_size=64, lr=1e-3),
    )
)
