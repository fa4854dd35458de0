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
