"""Chapter 1, CNN basics: the lecture's parameter arithmetic, then the MNIST CNN.

    python chapters/ch01_cnn_basics.py [--epochs 3] [--output-dir runs/ch01]

1. Two stacked 3x3 convolutions see a 5x5 window with fewer weights than one 5x5.
2. A 1x1 bottleneck before a 3x3 convolution cuts its weights by 3.6x.
3. In a small conv-pool-FC network, the fully connected layers hold most parameters.
4. That network trains to over 95% test accuracy on the bundled 5,000 MNIST digits.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_dlbasic import get_model  # noqa: E402
from keras_dlbasic.accounting import (  # noqa: E402
    bottleneck_vs_direct, receptive_field, stacked_vs_single,
)
from keras_dlbasic.summary import count, format_table, model_summary  # noqa: E402
from keras_dlbasic.training import resolve_config, train  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--output-dir", default="runs/ch01_cnn")
    args = parser.parse_args()

    print("1-2. Same job, fewer weights (128 channels, no bias)\n")
    comparisons = [stacked_vs_single(channels=128), bottleneck_vs_direct(channels=128, reduced=32)]
    print(format_table(
        ["Mapping", "Option A", "Weights", "Option B", "Weights", "A / B"],
        [[c.name, c.option_a, count(c.params_a), c.option_b, count(c.params_b), f"{c.ratio:.3f}"]
         for c in comparisons],
        align="llrlrr",
    ))
    print(f"\nReceptive field of 2 stacked 3x3 convs: {receptive_field([3, 3])}x"
          f"{receptive_field([3, 3])}; of 3: {receptive_field([3, 3, 3])}x{receptive_field([3, 3, 3])}")

    print("\n3. Where the parameters of the conv-pool-FC network are\n")
    print(model_summary(get_model("cnn"), "cnn"))

    print(f"\n4. Training cnn on the bundled MNIST digits for {args.epochs} epochs\n")
    config = resolve_config("cnn", epochs=args.epochs)
    metrics = train(config, args.output_dir)
    print(f"\nTest accuracy {metrics['test_accuracy']:.2%} after {metrics['epochs']} epochs "
          f"in {metrics['train_seconds']:.1f} s on {metrics['backend']}; "
          f"curves in {args.output_dir}/curves.png")


if __name__ == "__main__":
    main()
