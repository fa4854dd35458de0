# %% [markdown]
# # Chapter 2, modern CNNs: deeper nets with fewer parameters, and why depth needs shortcuts
#
#     python chapters/ch02_modern_cnns.py [--epochs 3] [--resnet20-epochs N] [--limit N]
#                                         [--output-dir runs/ch02_modern_cnns]
#
# A jupytext percent script: run it top to bottom, or open it as a notebook
# (where the defaults below are used). Finished runs in the output directory
# are reused, unfinished ones resumed. `--limit` trains on the first N
# examples only, for a quick look.

# %%
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_dlbasic.chapters import script_args, show  # noqa: E402
from keras_dlbasic.chapters.ch02 import degradation_experiment, gradient_flow  # noqa: E402
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.data import load_dataset  # noqa: E402
from keras_dlbasic.models.googlenet import BLOCKS, inception_block_params  # noqa: E402
from keras_dlbasic.plotting import plot_curves  # noqa: E402
from keras_dlbasic.summary import compare_models, count, format_table  # noqa: E402
from keras_dlbasic.training import resolve_config  # noqa: E402

DEPTHS = (20, 56)

parser = argparse.ArgumentParser(description="Chapter 2, modern CNNs")
parser.add_argument("--epochs", type=int, default=3, help="epochs of the degradation runs")
parser.add_argument("--resnet20-epochs", type=int, default=None,
                    help="epochs of the ResNet-20 run (default: its recipe)")
parser.add_argument("--limit", type=int, default=None,
                    help="train on the first N examples of each split (default: all)")
parser.add_argument("--output-dir", default="runs/ch02_modern_cnns")
args = script_args(parser)
out = pathlib.Path(args.output_dir)
out.mkdir(parents=True, exist_ok=True)
measured = Measurements(chapter=2, output_dir=out)

# %% [markdown]
# ## 1. Five ImageNet classifiers at 224x224
#
# AlexNet -> VGG -> GoogLeNet -> ResNet -> DenseNet: many more layers, far
# fewer parameters.

# %%
print(compare_models(["alexnet", "vgg16", "googlenet", "resnet50", "densenet121"]))

# %% [markdown]
# ## 2. GoogLeNet's inception blocks with and without 1x1 reductions (Table 1)
#
# GoogLeNet's 1x1 "reduction" convolutions cut each inception block's weights
# several-fold.

# %%
rows, channels = [], 192  # channels entering block 3a
for block in filter(None, BLOCKS):
    name, (c1, c3r, c3, c5r, c5, pool_proj) = block
    naive = inception_block_params(channels, c1, c3r, c3, c5r, c5, pool_proj, reductions=False)
    reduced = inception_block_params(channels, c1, c3r, c3, c5r, c5, pool_proj)
    rows.append([name, channels, count(naive), count(reduced), f"{naive / reduced:.1f}x"])
    channels = c1 + c3 + c5 + pool_proj
print(format_table(["Block", "In channels", "Naive params", "With 1x1", "Saving"], rows))

# %% [markdown]
# ## 3. ||dL/dW|| of the first conv at initialisation, 64 digits
#
# The gradient that reaches the first layer at initialisation: a plain net's
# changes by orders of magnitude between 20 and 56 layers, a ResNet's does not
# (dH/dx = F'(x) + 1).
#
# ResNet: the builder's init, every residual branch ending in a BN scale of 0,
# so each block starts as the identity. "BN scale 1": the paper's init, the
# plain net's weights. With batch statistics the plain net's gradient explodes
# with depth and the ResNet's does not; with the moving statistics (no
# normalisation yet) the plain net's vanishes, and ResNet-56's 27 unnormalised
# branches of scale 1 add up and blow up instead: the problem the zero init
# avoids.

# %%
data = load_dataset("mnist_5k")
x, y = data.x_train[:64], data.y_train[:64]
rows, per_layer = [], {}
for training, stats in [(True, "batch (training)"), (False, "moving (inference)")]:
    zero = gradient_flow(x, y, DEPTHS, training=training)
    ones = gradient_flow(x, y, DEPTHS, training=training, zero_init_residual=False)
    for depth in DEPTHS:
        nets = (zero[depth, "plain"], zero[depth, "residual"], ones[depth, "residual"])
        first = [next(iter(norms.values())) for norms in nets]  # conv1_conv
        rows.append([stats, depth, *(f"{n:.3g}" for n in first)])
    if training:
        per_layer = {"plain-20": zero[20, "plain"], "plain-56": zero[56, "plain"],
                     "ResNet-56 (BN scale 1)": ones[56, "residual"]}
print(measured.table("First-conv gradient norm at initialisation",
                     ["BN statistics", "Depth", "plain", "ResNet", "ResNet, BN scale 1"], rows,
                   align="lrrrr"))
plot_curves({label: list(norms.values()) for label, norms in per_layer.items()},
            out / "gradient_norms.png", "weight layer (input to output)", "||dL/dW|| at init",
            title="Gradient norm per layer at initialisation (BN batch statistics)", log_y=True)
print("\nPer-layer gradient norms:")
show(out / "gradient_norms.png")

# %% [markdown]
# ## 4. Degradation: training loss of plain and residual nets
#
# He et al. 2016, Fig. 6: plain-56 trains worse than plain-20; ResNet-56 does
# not. The nets use the paper's init, BN scale 1 everywhere, so they differ
# only in their shortcuts.

# %%
print(f"Degradation runs, {args.epochs} epochs each\n")
curves = degradation_experiment(out / "degradation", epochs=args.epochs, limit=args.limit,
                                verbose=2, model_kwargs={"zero_init_residual": False})
print(measured.table(
    f"Degradation: training loss per epoch ({args.epochs} epochs)",
    ["Model", *(f"Epoch {i + 1} loss" for i in range(args.epochs)), "Test accuracy", "Seconds"],
    [[name, *(f"{loss:.4f}" for loss in c.loss), f"{c.metrics['test_accuracy']:.2%}",
      f"{c.seconds:.0f}"] for name, c in curves.items()],
))
plot_curves({name: c.loss for name, c in curves.items()}, out / "degradation.png",
            "epoch", "training loss",
            title="Plain vs residual nets on the bundled MNIST digits")
print("\nTraining-loss curves:")
show(out / "degradation.png")

# %% [markdown]
# ## 5. ResNet-20 trained with its recipe on the bundled MNIST digits

# %%
config = resolve_config("resnet20", epochs=args.resnet20_epochs, limit=args.limit)
print(f"ResNet-20: {config.epochs} epochs, batch {config.batch_size}, "
      f"lr {config.lr} ({config.schedule})\n")
run = train_or_resume(config, out / "resnet20", verbose=2)
print(measured.table(
    f"`dlbasic train resnet20` (lr {config.lr}, {config.schedule})",
    ["Model", "Epochs", "Test accuracy", "Train s"],
    [["resnet20", len(run.loss), f"{run.metrics['test_accuracy']:.2%}", f"{run.seconds:.1f}"]]))
print("Training curves:")
show(run.run_dir / "curves.png")
print(f"Measured tables: {measured.save()}")
