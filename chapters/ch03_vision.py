# %% [markdown]
# # Chapter 3, vision applications: fully convolutional segmentation, and detection from R-CNN to YOLO
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
    proposal_sets,
    toy_pooling,
)
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.data import load_dataset  # noqa: E402
from keras_dlbasic.plotting import plot_boxes  # noqa: E402
from keras_dlbasic.proposals import anchor_grid  # noqa: E402
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
# ## 4. Where the regions come from: proposals and anchors
#
# R-CNN, SPPNet and Fast R-CNN score regions that something else proposes: selective
# search in the papers (OpenCV's, with the optional extra
# `keras-dlbasic[selective-search]`), fixed sliding windows inside our networks, the
# substitute that needs nothing installed. Faster R-CNN learns its proposals: 9
# anchors (3 sizes x 3 aspect ratios) at every cell of the shared 8x8 map, each
# scored and moved by the Region Proposal Network.

# %%
shapes_data = load_dataset("shapes")
x_test, y_test = shapes_data.arrays("test")
window_sizes = resolve_config("fast_rcnn").model_kwargs["window_sizes"]
proposal_rows, first_proposals = proposal_sets(x_test[:200], y_test["boxes"][:200],
                                               y_test["labels"][:200], window_sizes)
print(measured.table("Region proposals on 200 held-out shapes images",
                     ["Proposals", "Boxes per image", "Recall@0.5", "Recall@0.7", "ms per image"],
                     proposal_rows, align="lrrrr"))
anchors = anchor_grid((8, 8), 8, resolve_config("faster_rcnn").model_kwargs["anchor_scales"])
centre_cell = (4 * 8 + 4) * 9  # the 9 anchors of cell (4, 4)
panels = [("9 anchors of one cell (stride 8)", anchors[centre_cell:centre_cell + 9]),
          ("every 16th sliding window", first_proposals["sliding windows"][::16])]
panels += [(f"{method}: {len(boxes)} boxes", boxes) for method, boxes in first_proposals.items()
           if method != "sliding windows"]
plot_boxes(x_test[0], panels, out / "proposals.png", title="Anchors and proposals")
show(out / "proposals.png")

# %% [markdown]
# ## 5. The detection line: R-CNN, SPPNet, Fast R-CNN, Faster R-CNN, YOLO
#
# The same quarter-width VGG-16 with BatchNorm in the four two-stage detectors, trained
# from scratch on the shapes. R-CNN warps each window to 32x32 and runs the whole CNN on
# it; SPPNet and Fast R-CNN run the convolutions once and pool each window from the
# shared 8x8 map (a 1-2-4 pyramid, a 4x4 RoI grid); Faster R-CNN proposes its own 32
# regions. YOLO's 8x8 grid of 8-pixel cells predicts two boxes and three class
# scores per cell: an 8x8x13 output (7x7x30 at the paper's S = 7, B = 2, C = 20).

# %%
detectors = {}
for name in ("rcnn", "sppnet", "fast_rcnn", "faster_rcnn", "yolo"):
    detectors[name] = train_or_resume(resolve_config(name, epochs=args.epochs, limit=args.limit),
                                      out / name, verbose=2)
    print(f"{name}: test mAP@0.5 {detectors[name].metrics['test_map50']:.3f}")
for name in ("fast_rcnn", "faster_rcnn", "yolo"):
    print(name)
    show(detectors[name].run_dir / "detections.png")

# %% [markdown]
# ## 6. Speed: CNN passes and milliseconds per image
#
# Timed on the same 32 test images, batch 32, after a warm-up call: the network alone
# (the proposal layer's NMS is part of Faster R-CNN's), and with decoding (per-class
# NMS in NumPy) for the detectors. R-CNN runs its CNN once per window.

# %%
images = x_test[:32]
speed = []
for name, run in [*segmenters.items(), *detectors.items()]:
    model = load_model(run.run_dir / "best.keras")
    network = milliseconds_per_image(model.predict_on_batch, images)
    if "test_map50" in run.metrics:
        score = f"mAP@0.5 {run.metrics['test_map50']:.3f}"
        total = milliseconds_per_image(lambda x: model.decode(model.predict_on_batch(x)), images)
    else:
        score, total = f"mean IoU {run.metrics['test_mean_iou']:.3f}", network
    speed.append([name, score, getattr(model, "forward_passes", 1), count(run.metrics["params"]),
                  f"{run.seconds:.0f}", f"{network:.2f}", f"{total:.2f}"])
print(measured.table("Accuracy and time per image (held-out shapes, batch 32)",
                     ["Model", "Score", "CNN passes per image", "Params", "Train s",
                      "ms per image (network)", "ms per image (with decoding)"], speed,
                     align="llrrrrr"))
print(f"Measured tables: {measured.save()}")
