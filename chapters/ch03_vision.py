# %% [markdown]
# # Chapter 3, vision applications: fully convolutional segmentation and one-stage detection
#
#     python chapters/ch03_vision.py [--epochs N] [--output-dir runs/ch03_vision]
#
# A jupytext percent script: run it top to bottom, or open it as a notebook
# (where the defaults below are used). A finished run in the output directory
# is reused, an unfinished one resumed. Every model trains on the generated
# `shapes` (64x64 circles, squares and triangles, with masks and boxes).

# %%
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_dlbasic import get_model, load_model  # noqa: E402
from keras_dlbasic.chapters import script_args, show  # noqa: E402
from keras_dlbasic.chapters.ch03 import (  # noqa: E402
    convolutionalization_check,
    milliseconds_per_image,
    toy_pooling,
)
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.data import load_dataset  # noqa: E402
from keras_dlbasic.summary import count  # noqa: E402
from keras_dlbasic.training import resolve_config  # noqa: E402

parser = argparse.ArgumentParser(description="Chapter 3, vision applications")
parser.add_argument("--epochs", type=int, default=None, help="epochs of every run (default: recipes)")
parser.add_argument("--limit", type=int, default=None, help="examples per split (quick runs)")
parser.add_argument("--output-dir", default="runs/ch03_vision")
args = script_args(parser)
out = pathlib.Path(args.output_dir)
measured = Measurements(chapter=3, output_dir=out)

# %% [markdown]
# ## 1. Convolutionalization
#
# VGG-16's first fully connected layer reads the 7x7x512 map of a 224x224 image: it
# is a 7x7 convolution with 4096 filters, and the next two are 1x1 convolutions. The
# same weights, reshaped, give the classifier's scores at 224x224 and a map of
# scores, one per 32 pixels, on a larger image: FCN's starting point.

# %%
difference, score_map = convolutionalization_check(get_model("vgg16"), larger_size=384)
print(measured.table(
    "Convolutionalization of VGG-16 (random weights)",
    ["Check", "Result"],
    [["largest score difference from the classifier at 224x224", f"{difference:.2e}"],
     ["fully convolutional output at 384x384", "x".join(map(str, score_map))]],
    align="lr",
))

# %% [markdown]
# ## 2. Pooling a region: SPP and RoI pooling on a toy map
#
# Each cell of a 6x6 feature map holds its own index, so every pooled value names
# the cell it came from. Spatial pyramid pooling (SPPNet) turns a map of any size
# into a fixed vector (1 + 4 bins here); RoI pooling (Fast R-CNN) max-pools each
# region, given in image pixels (stride 16), into a fixed 2x2 grid.

# %%
feature_map, spp, rois, boxes = toy_pooling()
print("feature map (cell indices):\n", feature_map.astype(int))
print("SPP, bins 1 and 2:", spp.astype(int).tolist())
for box, pooled in zip(boxes, rois):
    print(f"RoI {box.astype(int).tolist()} -> {pooled.astype(int).tolist()}")

# %% [markdown]
# ## 3. FCN: skips sharpen the masks
#
# FCN-32s upsamples the coarsest scores (1/32 of the image, 2x2 here) in one step;
# FCN-16s and FCN-8s first add the scores of pool4 and pool3. Same recipe for all
# three: a quarter-width VGG-16 with BatchNorm, from scratch.

# %%
rows, segmenters = [], {}
for name in ("fcn32s", "fcn16s", "fcn8s"):
    run = train_or_resume(resolve_config(name, epochs=args.epochs, limit=args.limit),
                          out / name, verbose=2)
    segmenters[name] = run
    rows.append([name, count(run.metrics["params"]), len(run.loss),
                 f"{run.metrics['test_mean_iou']:.3f}", f"{run.metrics['test_accuracy']:.2%}",
                 f"{run.seconds:.1f}"])
print(measured.table("Segmentation of held-out shapes (`dlbasic train fcn8s`)",
                     ["Model", "Params", "Epochs", "Test mean IoU", "Pixel accuracy", "Train s"],
                     rows))
for name, run in segmenters.items():
    print(name)
    show(run.run_dir / "masks.png")

# %% [markdown]
# ## 4. YOLO: one pass, an S x S grid of boxes and classes
#
# At 448x448 with S = 7, B = 2 and C = 20 the output is 7x7x30. On the 64x64 shapes a
# 4x4 grid of 16-pixel cells, each with two boxes and three class scores: 4x4x13.

# %%
yolo = train_or_resume(resolve_config("yolo", epochs=args.epochs, limit=args.limit),
                       out / "yolo", verbose=2)
print(f"test mAP@0.5: {yolo.metrics['test_map50']:.3f}")
show(yolo.run_dir / "detections.png")

# %% [markdown]
# ## 5. Speed: CNN passes and milliseconds per image
#
# One forward pass per image for the fully convolutional models and for YOLO,
# timed on the test images, network only (decoding and NMS excluded), batch 32.

# %%
x_test, _ = load_dataset("shapes").arrays("test")
images = x_test[:32]
speed = []
for name, run, score in [
    *[(n, r, f"mean IoU {r.metrics['test_mean_iou']:.3f}") for n, r in segmenters.items()],
    ("yolo", yolo, f"mAP@0.5 {yolo.metrics['test_map50']:.3f}"),
]:
    model = load_model(run.run_dir / "best.keras")
    speed.append([name, score, 1, f"{milliseconds_per_image(model.predict_on_batch, images):.2f}"])
print(measured.table("Accuracy and time per image (held-out shapes, batch 32)",
                     ["Model", "Score", "CNN passes per image", "ms per image"], speed,
                     align="llrr"))
print(f"Measured tables: {measured.save()}")
