"""Chapter 4, recurrent networks: RNN, LSTM and GRU on sequences.

    python chapters/ch04_rnn.py [--epochs 5] [--adding-epochs N] [--output-dir runs/ch04_rnn]

Finished runs in the output directory are reused (unfinished ones resumed).

1. One set of weights is reused at every time step, so the parameter count
   follows from the input and state sizes alone; the GRU does the LSTM's job
   with 3 weight blocks instead of 4.
2. Sequential MNIST: each digit is read row by row, 28 steps of 28 pixels.
3. The LSTM's gates over the 28 rows of one digit (a PNG).
4. The adding problem over 100 steps: beating MSE 0.167 (always answering 1.0)
   needs a memory of ~50 steps, which the gates provide.
5. Why sequences are hard: the trained classifiers on trimmed, omitted and
   permuted digits.
"""
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_dlbasic import get_model, load_model  # noqa: E402
from keras_dlbasic.accounting import model_stats  # noqa: E402
from keras_dlbasic.data.synthetic import (  # noqa: E402
    ADDING_BASELINE_MSE, hard_sequence_variants,
)
from keras_dlbasic.models.rnn import (  # noqa: E402
    gate_activations, hard_sequence_accuracy, plot_gate_activations, rnn_param_formula,
)
from keras_dlbasic.experiments import train_or_resume  # noqa: E402
from keras_dlbasic.summary import count, format_table  # noqa: E402
from keras_dlbasic.training import prepare_data, resolve_config  # noqa: E402

KINDS = ("rnn", "lstm", "gru")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="Sequential MNIST epochs (default: each model's recipe)")
    parser.add_argument("--adding-epochs", type=int, default=None,
                        help="adding-problem epochs (default: the recipe)")
    parser.add_argument("--output-dir", default="runs/ch04_rnn")
    args = parser.parse_args()
    out = pathlib.Path(args.output_dir)

    print("1. Parameters of one recurrent layer: 28 input features, 128 units\n")
    rows = []
    for kind in KINDS:
        model = get_model(kind)
        counted = model.get_layer(f"{kind}1").count_params()
        formula = rnn_param_formula(kind, 28, 128)
        rows.append([kind, rnn_param_formula(kind, 28, 128, as_text=True), count(formula), count(counted),
                     "yes" if formula == counted else "NO", count(model_stats(model).macs)])
    print(format_table(["Layer", "Formula", "Formula value", "Keras count", "Equal",
                        "MACs per digit (model)"], rows, align="llrrlr"))
    lstm_params, gru_params = rnn_param_formula("lstm", 28, 128), rnn_param_formula("gru", 28, 128)
    print(f"\nThe GRU needs {gru_params / lstm_params:.0%} of the LSTM's weights "
          f"({count(gru_params)} vs {count(lstm_params)}); the count never depends on the "
          f"sequence length.")

    print("\n2. Sequential MNIST (bundled 5,000 digits, rows as time steps)\n")
    results, models = [], {}
    for kind in KINDS:
        config = resolve_config(kind, epochs=args.epochs)
        metrics = train_or_resume(config, out / kind).metrics
        models[kind] = load_model(out / kind / "best.keras")
        results.append([kind, count(metrics["params"]), metrics["epochs"],
                        f"{metrics['test_accuracy']:.2%}", f"{metrics['train_seconds']:.1f}"])
    print(format_table(["Model", "Params", "Epochs", "Test accuracy", "Train s"], results))
    print(f"(backend {keras.backend.backend()}; runs in {out}/<model>)")

    data = prepare_data(config)  # the same test digits for every model
    print("\n3. LSTM gates while reading one digit")
    digit, label = data.x_test[0], int(data.y_test[0])
    gates = gate_activations(models["lstm"].get_layer("lstm1"), digit)
    path = out / "lstm_gates.png"
    plot_gate_activations(gates, path, title=f"LSTM gates over the 28 rows of a {label}")
    print(f"Saved {path}: input, forget, candidate and output gates, cell and hidden state.")

    print("\n4. The adding problem, 100 time steps "
          f"(always answering 1.0 gives MSE {ADDING_BASELINE_MSE:.3f})\n")
    rows = []
    for kind in KINDS:
        config = resolve_config(kind, dataset="adding_problem", epochs=args.adding_epochs)
        metrics = train_or_resume(config, out / f"{kind}_adding").metrics
        mse = metrics["test_loss"]
        verdict = ("solved" if mse < 0.01 else
                   "partly" if mse < 0.9 * ADDING_BASELINE_MSE else "baseline level")
        rows.append([kind, metrics["epochs"], f"{mse:.4f}", f"{metrics['test_mae']:.3f}",
                     verdict, f"{metrics['train_seconds']:.1f}"])
    print(format_table(["Model", "Epochs", "Test MSE", "Test MAE", "Verdict", "Train s"], rows,
                       align="lrrrlr"))

    steps = {k: v.shape[1] for k, v in hard_sequence_variants(data.x_test[:1]).items()}
    print("\n5. Why sequences are hard: Sequential MNIST test accuracy when the rows change\n"
          f"   (trimmed: the first {steps['trimmed']} of {steps['original']} rows; omitted: "
          f"{steps['original'] - steps['omitted']} middle rows missing; permuted: rows shuffled)\n")
    rows = []
    for kind in KINDS:
        accuracy = hard_sequence_accuracy(models[kind], data.x_test, data.y_test)
        rows.append([kind, *(f"{accuracy[v]:.2%}" for v in
                             ("original", "trimmed", "omitted", "permuted"))])
    print(format_table(["Model", "Original", "Trimmed", "Omitted", "Permuted"], rows))


if __name__ == "__main__":
    main()
