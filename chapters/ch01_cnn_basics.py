# %% [markdown]
# # Chapter 1, CNN basics: the lecture's parameter arithmetic, then the MNIST CNN
#
#     python chapters/ch01_cnn_basics.py [--epochs 3] [--output-dir runs/ch01_cnn]
#
# A jupytext percent script: run it top to bottom, or open it as a notebook
# (where the defaults below are used). A finished run in the output directory
# is reused, an unfinished one resumed.

# %%
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_dlbasic import get_model  # noqa: E402
from keras_dlbasic.accounting import (  # noqa: E402
    bottleneck_vs_direct,
    receptive_field,
    stacked_vs_single,
)
from keras_dlbasic.chapters import script_args, show  # noqa: E402
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.summary import count, model_summary  # noqa: E402
from keras_dlbasic.training import resolve_config  # noqa: E402

parser = argparse.ArgumentParser(description="Chapter 1, CNN basics")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--output-dir", default="runs/ch01_cnn")
args = script_args(parser)
measured = Measurements(chapter=1, output_dir=args.output_dir)

# %% [markdown]
# ## 1-2. Same job, fewer weights
#
# Two stacked 3x3 convolutions see a 5x5 window with fewer weights than one
# 5x5. A 1x1 bottleneck before a 3x3 convolution cuts its weights by 3.6x.
# Both with 128 channels and no bias.

# %%
comparisons = [stacked_vs_single(channels=128), bottleneck_vs_direct(channels=128, reduced=32)]
print(measured.table(
    "Same job, fewer weights (128 channels, no bias)",
    ["Mapping", "Option A", "Weights", "Option B", "Weights", "A / B"],
    [[c.name, c.option_a, count(c.params_a), c.option_b, count(c.params_b), f"{c.ratio:.3f}"]
     for c in comparisons],
    align="llrlrr",
))
print(f"\nReceptive field of 2 stacked 3x3 convs: {receptive_field([3, 3])}x"
      f"{receptive_field([3, 3])}; of 3: {receptive_field([3, 3, 3])}x{receptive_field([3, 3, 3])}")

# %% [markdown]
# ## 3. Where the parameters of the conv-pool-FC network are
#
# In a small conv-pool-FC network, the fully connected layers hold most
# parameters.

# %%
print(model_summary(get_model("cnn"), "cnn"))

# %% [markdown]
# ## 4. Training the CNN
#
# That network trains to over 95% test accuracy on the bundled 5,000 MNIST
# digits.

# %%
print(f"Training cnn on the bundled MNIST digits for {args.epochs} epochs\n")
run = train_or_resume(resolve_config("cnn", epochs=args.epochs), f"{args.output_dir}/cnn",
                      verbose=2)
print(measured.table("`dlbasic train cnn` (bundled digits)",
                     ["Model", "Params", "Epochs", "Test accuracy", "Train s"],
                     [["cnn", count(run.metrics["params"]), len(run.loss),
                       f"{run.metrics['test_accuracy']:.2%}", f"{run.seconds:.1f}"]]))
print("Training curves:")
show(run.run_dir / "curves.png")
print(f"Measured tables: {measured.save()}")
