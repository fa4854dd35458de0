# %% [markdown]
# # Chapter 5, the Transformer: attention from its equations, then a small model reversing digits
#
#     python chapters/ch05_transformer.py [--epochs 10] [--output-dir runs/ch05_transformer]
#
# A jupytext percent script: run it top to bottom, or open it as a notebook
# (where the defaults below are used). A finished run in the output directory
# is reused, an unfinished one resumed.

# %%
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlbasic import get_model, load_model, model_info  # noqa: E402
from keras_dlbasic.chapters import script_args, show  # noqa: E402
from keras_dlbasic.chapters.ch05 import decoder_attention_weights, greedy_decode  # noqa: E402
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.data.synthetic import BOS, tokens_to_digits  # noqa: E402
from keras_dlbasic.layers.attention import scaled_dot_product_attention  # noqa: E402
from keras_dlbasic.models.transformer import transformer_param_formula  # noqa: E402
from keras_dlbasic.plotting import plot_attention  # noqa: E402
from keras_dlbasic.summary import count, format_table  # noqa: E402
from keras_dlbasic.training import prepare_data, resolve_config  # noqa: E402

PAPER_BASE_PARAMS = 65e6  # Vaswani et al. 2017, Table 3, "base"

parser = argparse.ArgumentParser(description="Chapter 5, the Transformer")
parser.add_argument("--epochs", type=int, default=None,
                    help="digit-reversal epochs (default: the recipe)")
parser.add_argument("--output-dir", default="runs/ch05_transformer")
args = script_args(parser)
out = pathlib.Path(args.output_dir)
measured = Measurements(chapter=5, output_dir=out)

# %% [markdown]
# ## 1. Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, explicit vs fused
#
# The equation written out step by step gives what the fused kernel
# (`keras.ops.dot_product_attention`) gives; masked keys get weight 0.

# %%
rng = np.random.default_rng(0)
q, k, v = (rng.normal(size=(2, length, 4, 16)).astype("float32") for length in (5, 7, 7))
keys_seen = np.array([[True] * 7, [True] * 4 + [False] * 3])[:, None, None, :]  # (B, 1, 1, S)
rows = []
for is_causal in (False, True):
    fused = scaled_dot_product_attention(q, k, v, keys_seen, is_causal, use_fused=True)
    explicit, weights = scaled_dot_product_attention(q, k, v, keys_seen, is_causal,
                                                     use_fused=False, return_weights=True)
    fused, explicit, weights = map(keras.ops.convert_to_numpy, (fused, explicit, weights))
    difference = np.abs(fused - explicit).max()  # weights: (B, heads, T, S)
    row_sums = np.abs(weights.sum(-1) - 1).max()
    on_padding = weights[1, ..., 4:].max()  # example 2: keys 4-6 are padding
    rows.append(["causal + padding" if is_causal else "padding", f"{difference:.1e}",
                 f"{row_sums:.1e}", f"{on_padding:.1e}"])
print(format_table(["Mask", "max |fused - explicit|", "max |row sum - 1|",
                    "max weight on padding"], rows))

# %% [markdown]
# ## 2. Transformer-base from its layers
#
# d_model 512, 6+6 layers, 8 heads, d_ff 2048, 37,000 tokens: 63.1M parameters
# against the paper's "65M".

# %%
base = get_model("transformer_base")
formula = transformer_param_formula(37000, 512, 2048, 6, 6)
embedding = 37000 * 512
print(format_table(["", "Parameters"], [
    ["shared embedding = output projection (V·d)", count(embedding)],
    ["6 encoder layers", count(transformer_param_formula(0, 512, 2048, 6, 0))],
    ["6 decoder layers", count(transformer_param_formula(0, 512, 2048, 0, 6))],
    ["total, transformer_param_formula", count(formula)],
    ["total, keras count_params()", count(base.count_params())],
    ["paper, Table 3", f"{PAPER_BASE_PARAMS / 1e6:.0f}M"],
], align="lr"))
print(f"\nThe exact count is {base.count_params() / PAPER_BASE_PARAMS:.1%} of the paper's "
      f"rounded 65M; without tying the embedding it would be "
      f"{(formula + 2 * embedding) / 1e6:.1f}M.")
del base

# %% [markdown]
# ## 3. Reversing digit strings
#
# A 2+2-layer Transformer learns to reverse strings of 3-10 digits (a
# 13-token vocabulary); whole sequences are generated one token at a time
# (greedy decoding).

# %%
config = resolve_config("transformer", epochs=args.epochs)
run = train_or_resume(config, out / "transformer")
print(measured.table(
    "Digit reversal (`dlbasic train transformer`), test accuracy",
    ["Model", "Params", "Epochs", "Whole sequence (greedy)", "Per token", "Train s"],
    [["transformer", count(run.metrics["params"]), len(run.loss),
      f"{run.metrics['test_sequence_accuracy']:.2%}", f"{run.metrics['test_token_accuracy']:.2%}",
      f"{run.seconds:.1f}"]],
))
print(f"(backend {keras.backend.backend()}; reference count "
      f"{count(model_info('transformer').reference_params)}; run in {run.run_dir})")

model = load_model(run.run_dir / "best.keras")
data = prepare_data(config)
sources, targets = data.x_test["encoder_tokens"][:8], data.y_test[:8]
decoded = greedy_decode(model, sources, max_length=targets.shape[1])
print("\nGreedy decoding, test examples:\n")
print(format_table(["Source", "Reversed", "Decoded", ""], [
    [source, target, output, "ok" if output == target else "WRONG"]
    for source, target, output in zip(tokens_to_digits(sources), tokens_to_digits(targets),
                                      tokens_to_digits(decoded))
], align="llll"))

# %% [markdown]
# ## 4. Cross-attention of the last decoder layer, first test example
#
# To write the reversed string, each output position looks at the mirrored
# source position.

# %%
digits = tokens_to_digits(sources[:1])[0]
n = len(digits)
decoder_input = np.concatenate([[[BOS]], decoded[:1, :-1]], axis=1)  # BOS + the output
weights = decoder_attention_weights(model, sources[:1], decoder_input)["cross_attention"]
# Rows: the n digits and EOS being written; columns: the n source digits (padding gets 0).
written = [*tokens_to_digits(decoded[:1])[0].ljust(n, "?")[:n], "EOS"]
plot_attention(weights[0, :, : n + 1, :n], list(digits), written, out / "cross_attention.png",
               title=f"reversing {digits}: where each output position looks")
show(out / "cross_attention.png")
looked_at = np.argmax(weights[0].mean(0)[:n, :n], axis=-1).tolist()  # head-averaged
print(f"Most-attended source position per output digit: {looked_at} "
      f"(the mirror image would be {list(range(n - 1, -1, -1))})")
print(f"Measured tables: {measured.save()}")
