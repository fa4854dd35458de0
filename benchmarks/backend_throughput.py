"""The README's performance table: training throughput of `cnn` and `gru` on each Keras
backend against the same network in plain PyTorch, measured side by side in one run.

    python benchmarks/backend_throughput.py [--models cnn,gru] [--batch-size 32] [--steps 50]

Each cell is training examples per second (``dlbasic bench``'s steady state, after
the first step and the warm-up), with the ratio to plain PyTorch in brackets; the
last column is the ratio of the fastest Keras backend to plain PyTorch. Absolute
numbers drift from run to run on a shared machine; the ratios of one run are the result.
"""
import argparse

from keras_dlbasic.bench import bench, installed_backends

ENGINES_AFTER_KERAS = ("plain PyTorch", "torch.compile")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,gru")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    engines = [f"Keras {b}" for b in installed_backends()] + list(ENGINES_AFTER_KERAS)
    lines = ["| model | " + " | ".join(engines) + " | fastest Keras vs plain PyTorch |",
             "|---|" + "---|" * (len(engines) + 1)]
    device = None
    for model in args.models.split(","):
        rows = {row.engine: row for row in bench(model, reference=True, batch_size=args.batch_size,
                                                 steps=args.steps, warmup=args.warmup)}
        device = rows["plain PyTorch"].device
        base = rows["plain PyTorch"].train_per_s
        cells = [f"{rows[e].train_per_s:,.0f} ({rows[e].train_per_s / base:.2f})"
                 if not rows[e].note else rows[e].note for e in engines]
        fastest = max(rows[e].train_per_s for e in engines if e.startswith("Keras"))
        lines.append(f"| `{model}` | " + " | ".join(cells) + f" | {fastest / base:.2f} |")
    print(f"\nTraining examples per second, batch {args.batch_size}, {args.steps} timed steps "
          f"after {args.warmup} warm-up steps, on {device}:\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
