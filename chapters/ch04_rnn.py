# %% [markdown]
# # Chapter 4, recurrent networks: RNN, LSTM and GRU on sequences
#
#     python chapters/ch04_rnn.py [--epochs 5] [--adding-epochs N] [--output-dir runs/ch04_rnn]
#
# A jupytext percent script: run it top to bottom, or open it as a notebook
# (where the defaults below are used). Finished runs in the output directory
# are reused, unfinished ones resumed.

# %%
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_dlbasic import get_model, load_model  # noqa: E402
from keras_dlbasic.accounting import model_stats  # noqa: E402
from keras_dlbasic.chapters import script_args, show  # noqa: E402
from keras_dlbasic.chapters.ch04 import (  # noqa: E402
    gate_activations,
    hard_sequence_accuracy,
    plot_gate_activations,
)
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.data.synthetic import (  # noqa: E402
    ADDING_BASELINE_MSE,
    hard_sequence_variants,
)
from keras_dlbasic.models.rnn import rnn_param_formula  # noqa: E402
from keras_dlbasic.summary import count, format_table  # noqa: E402
from keras_dlbasic.training import prepare_data, resolve_config  # noqa: E402

KINDS = ("rnn", "lstm", "gru")

parser = argparse.ArgumentParser(description="Chapter 4, recurrent networks")
parser.add_argument("--epochs", type=int, default=None,
                    help="Sequential MNIST epochs (default: each model's recipe)")
parser.add_argument("--adding-epochs", type=int, default=None,
                    help="adding-problem epochs (default: the recipe)")
parser.add_argument("--output-dir", default="runs/ch04_rnn")
args = script_args(parser)
out = pathlib.Path(args.output_dir)
measured = Measurements(chapter=4, output_dir=out)

# %% [markdown]
# ## 1. Parameters of one recurrent layer: 28 input features, 128 units
#
# One set of weights is reused at every time step, so the parameter count
# follows from the input and state sizes alone; the GRU does the LSTM's job
# with 3 weight blocks instead of 4.

# %%
rows = []
for kind in KINDS:
    model = get_model(kind)
    counted = model.get_layer(f"{kind}1").count_params()
    formula = rnn_param_formula(kind, 28, 128)
    rows.append([kind, rnn_param_formula(kind, 28, 128, as_text=True), count(formula),
                 count(counted), "yes" if formula == counted else "NO",
                 count(model_stats(model).macs)])
print(format_table(["Layer", "Formula", "Formula value", "Keras count", "Equal",
                    "MACs per digit (model)"], rows, align="llrrlr"))
lstm_params, gru_params = rnn_param_formula("lstm", 28, 128), rnn_param_formula("gru", 28, 128)
print(f"\nThe GRU needs {gru_params / lstm_params:.0%} of the LSTM's weights "
      f"({count(gru_params)} vs {count(lstm_params)}); the count never depends on the "
      f"sequence length.")

# %% [markdown]
# ## 2. Sequential MNIST
#
# Each of the bundled 5,000 digits is read row by row, 28 steps of 28 pixels.

# %%
results, models = [], {}
for kind in KINDS:
    run = train_or_resume(resolve_config(kind, epochs=args.epochs), out / kind)
    models[kind] = load_model(run.run_dir / "best.keras")
    results.append([kind, count(run.metrics["params"]), len(run.loss),
                    f"{run.metrics['test_accuracy']:.2%}", f"{run.seconds:.1f}"])
print(measured.table("Sequential MNIST (`dlbasic train rnn|lstm|gru`, bundled digits)",
                     ["Model", "Params", "Epochs", "Test accuracy", "Train s"], results))
print(f"(backend {keras.backend.backend()}; runs in {out}/<model>)")

# %% [markdown]
# ## 3. LSTM gates while reading one digit
#
# The input, forget, candidate and output gates, the cell and the hidden
# state over the 28 rows of one test digit.

# %%
data = prepare_data(resolve_config("lstm"))  # the same test digits for every model
digit, label = data.x_test[0], int(data.y_test[0])
gates = gate_activations(models["lstm"].get_layer("lstm1"), digit)
plot_gate_activations(gates, out / "lstm_gates.png",
                      title=f"LSTM gates over the 28 rows of a {label}")
show(out / "lstm_gates.png")

# %% [markdown]
# ## 4. The adding problem, 100 time steps
#
# Beating MSE 0.167 (always answering 1.0) needs a memory of ~50 steps, which
# the gates provide.

# %%
print(f"Always answering 1.0 gives MSE {ADDING_BASELINE_MSE:.3f}\n")
rows = []
for kind in KINDS:
    run = train_or_resume(resolve_config(kind, dataset="adding_problem", epochs=args.adding_epochs),
                          out / f"{kind}_adding")
    mse = run.metrics["test_loss"]
    verdict = ("solved" if mse < 0.01 else
               "partly" if mse < 0.9 * ADDING_BASELINE_MSE else "baseline level")
    rows.append([kind, len(run.loss), f"{mse:.4f}", f"{run.metrics['test_mae']:.3f}",
                 verdict, f"{run.seconds:.1f}"])
print(measured.table(f"The adding problem, length 100 (baseline MSE {ADDING_BASELINE_MSE:.3f})",
                     ["Model", "Epochs", "Test MSE", "Test MAE", "Verdict", "Train s"], rows,
                     align="lrrrlr"))

# %% [markdown]
# ## 5. Why sequences are hard
#
# The trained Sequential-MNIST classifiers on trimmed (only the first rows),
# omitted (middle rows missing) and permuted (rows shuffled) digits.

# %%
steps = {k: v.shape[1] for k, v in hard_sequence_variants(data.x_test[:1]).items()}
print(f"Trimmed: the first {steps['trimmed']} of {steps['original']} rows; omitted: "
      f"{steps['original'] - steps['omitted']} middle rows missing; permuted: rows shuffled\n")
rows = []
for kind in KINDS:
    accuracy = hard_sequence_accuracy(models[kind], data.x_test, data.y_test)
    rows.append([kind, *(f"{accuracy[v]:.2%}" for v in
                         ("original", "trimmed", "omitted", "permuted"))])
print(measured.table("Hard sequences, test accuracy (trimmed: first rows only; omitted: middle "
                     "rows missing; permuted: rows shuffled)",
                     ["Model", "Original", "Trimmed", "Omitted", "Permuted"], rows))
print(f"Measured tables: {measured.save()}")
