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
