"""Figures saved as PNG with matplotlib (Agg: no display needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from keras_dlbasic.io import atomic_path  # noqa: E402


def save_figure(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)


def plot_history(rows, path, title=""):
    """Training curves from history rows (``epoch``, ``loss``, ``val_loss``, ...).

    One panel per metric, training and validation on the same axes.
    """
    metrics = [k for k in rows[0] if k != "epoch" and not k.startswith("val_") and k != "seconds"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    epochs = [int(r["epoch"]) + 1 for r in rows]
    for ax, metric in zip(axes[0], metrics):
        ax.plot(epochs, [r[metric] for r in rows], "o-", label="train")
        if f"val_{metric}" in rows[0]:
            ax.plot(epochs, [r[f"val_{metric}"] for r in rows], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_attention(weights, source_labels, target_labels, path, title=""):
    """Attention heat maps, one panel per head: rows are target (query)
    positions, columns source (key) positions, colour the weight in [0, 1].

    ``weights`` is (heads, T, S) or (T, S) for one example; the labels name
    the S source and T target positions (e.g. the digits).
    """
    import numpy as np

    weights = np.asarray(weights)
    weights = weights[None] if weights.ndim == 2 else weights  # (heads, T, S)
    heads, t, s = weights.shape
    if (len(target_labels), len(source_labels)) != (t, s):
        raise ValueError(f"need {t} target and {s} source labels for weights of shape "
                         f"{weights.shape}; got {len(target_labels)} and {len(source_labels)}")
    size = (max(2.5, 0.35 * s + 1), max(2.5, 0.35 * t + 1))
    fig, axes = plt.subplots(1, heads, figsize=(size[0] * heads, size[1]), squeeze=False)
    for head, ax in enumerate(axes[0]):
        image = ax.imshow(weights[head], vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_xticks(range(s), [str(label) for label in source_labels])
        ax.set_yticks(range(t), [str(label) for label in target_labels])
        ax.set_xlabel("source (key)")
        ax.set_title(f"head {head + 1}" if heads > 1 else "")
    axes[0, 0].set_ylabel("target (query)")
    fig.colorbar(image, ax=list(axes[0]), fraction=0.02, pad=0.02)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_curves(curves, path, xlabel, ylabel, title="", log_y=False, first_x=1):
    """Several named curves on one axes, e.g. training loss per epoch of four models.

    ``curves`` maps a label to its y values; point i is drawn at x = first_x + i.
    ``log_y`` suits quantities spanning decades, such as gradient norms per layer.
    """
    if not curves or any(len(ys) == 0 for ys in curves.values()):
        raise ValueError(f"need at least one non-empty curve; got {list(curves)}")
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ys in curves.items():
        ax.plot(range(first_x, first_x + len(ys)), list(ys), "o-" if len(ys) <= 30 else "-",
                markersize=3, label=label)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    save_figure(fig, path)


def plot_image_grid(images, path, title="", columns=8, column_titles=None):
    """Images (N, H, W, C) in [0, 1], grey or RGB, as a grid of ``columns`` per row,
    with ``column_titles`` over the first row if given."""
    count = len(images)
    rows = max(1, -(-count // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9 + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < count:
            image = images[i]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0,
                      vmax=1, interpolation="nearest")
        if column_titles is not None and i < columns:
            ax.set_title(column_titles[i], fontsize=8)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_code_scatter(codes, labels, path, title=""):
    """2-D codes (N, 2) as points coloured by their label (a digit), with a legend."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    scatter = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5,
                         vmax=9.5)
    fig.colorbar(scatter, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    save_figure(fig, path)


def plot_masks(images, true_masks, predicted_masks, path, classes, title=""):
    """Rows of images, their true class maps and the predicted ones (one column each)."""
    rows = [("image", images), ("true", true_masks), ("predicted", predicted_masks)]
    count = len(images)
    fig, axes = plt.subplots(3, count, figsize=(1.6 * count, 5), squeeze=False)
    for row, (label, pictures) in enumerate(rows):
        for column in range(count):
            ax = axes[row, column]
            if row == 0:
                ax.imshow(pictures[column].squeeze())
            else:
                ax.imshow(pictures[column], vmin=0, vmax=classes - 1, cmap="tab10",
                          interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_mask_overlay(image, mask, path, classes, title=""):
    """The image, and the image with its class map laid over it (background left clear)."""
    import numpy as np

    colours = plt.get_cmap("tab10")(np.arange(classes) % 10)[:, :3]
    overlay = np.where((mask > 0)[..., None], 0.45 * image[..., :3] + 0.55 * colours[mask],
                       image[..., :3])
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    axes[0].imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
    axes[1].imshow(np.clip(overlay, 0, 1))
    for ax, label in zip(axes, ["image", "predicted classes"]):
        ax.set_title(label)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_classes(image, classes, path, title=""):
    """The image beside a bar chart of its top class scores."""
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
    axes[0].imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    labels = [str(c["label"]) for c in classes][::-1]
    axes[1].barh(labels, [c["score"] for c in classes][::-1])
    axes[1].set_xlim(0, 1)
    axes[1].set_xlabel("score")
    axes[1].set_ylabel("class")
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_boxes(image, panels, path, title=""):
    """One image, several times, each panel with its own set of boxes.

    Args:
        image: (H, W, C) in [0, 1].
        panels: ``[(caption, boxes (K, 4)), ...]``; a panel's boxes are drawn in one
            colour each, cycling through ``tab10``.
    """
    import matplotlib.patches as patches

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.5), squeeze=False)
    colours = plt.get_cmap("tab10")
    for ax, (caption, boxes) in zip(axes[0], panels):
        ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        for index, (x1, y1, x2, y2) in enumerate(boxes):
            ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                           edgecolor=colours(index % 10), linewidth=1))
        ax.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_detections(images, detections, path, truth=None, threshold=0.3, class_names=None,
                    title=""):
    """Images with their detections above ``threshold`` (solid, labelled with class and
    score) and, given ``truth``, the true boxes (dashed white)."""
    import matplotlib.patches as patches

    count = len(images)
    fig, axes = plt.subplots(1, count, figsize=(2.4 * count, 2.8), squeeze=False)
    colours = plt.get_cmap("tab10")
    for ax, image, found, true in zip(axes[0], images, detections, truth or [None] * count):
        ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        if true is not None:
            for (x1, y1, x2, y2), label in zip(true["boxes"], true["labels"]):
                if label >= 0:
                    ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                                   edgecolor="white", linestyle="--", linewidth=1))
        for (x1, y1, x2, y2), score, label in zip(found["boxes"], found["scores"], found["labels"]):
            if score < threshold:
                continue
            colour = colours(int(label) % 10)
            ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                           edgecolor=colour, linewidth=1.5))
            name = class_names[int(label)] if class_names else str(int(label))
            ax.text(x1, y1, f"{name} {score:.2f}", color="white", fontsize=6,
                    bbox={"facecolor": colour, "pad": 1, "linewidth": 0})
    if title:
        fig.suptitle(title)
    save_figure(fig, path)
