"""Chapter 2 studies: why deep plain nets fail and residual nets do not.

Reference: He, Zhang, Ren & Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016, https://arxiv.org/abs/1512.03385, Fig. 1 and Fig. 6.

Two measurements on the CIFAR-style nets of Sec. 4.2, which differ only in
their shortcuts (``plain20`` / ``plain56`` against ``resnet20`` / ``resnet56``):

* ``gradient_flow``: the gradient norm of every kernel at initialisation. A
  residual block outputs H(x) = F(x) + x, so dH/dx = F'(x) + 1 and the
  gradient reaches the first layer at about the same size at any depth; a
  plain net multiplies one Jacobian per layer, so its first-layer gradient
  changes by orders of magnitude with depth (see ``keras_dlbasic.gradients``).
  The paper notes that with BatchNorm the plain nets' gradients do not
  vanish, and indeed with batch statistics they explode at initialisation:
  the degradation is an optimisation difficulty, not simply vanishing gradients.
* ``degradation_experiment``: the training loss per epoch. The paper's
  degradation problem is that plain-56 trains *worse* than plain-20 although
  it could copy it and set its extra layers to the identity; ResNet-56 does not
  suffer from it. Its runs go through ``keras_dlbasic.chapters.runs.train_or_resume``,
  so the chapter script can be re-run.
"""
import pathlib

import keras

from keras_dlbasic.chapters.runs import train_or_resume
from keras_dlbasic.errors import ModelArgumentError
from keras_dlbasic.gradients import kernel_gradient_norms
from keras_dlbasic.models.resnet import resnet
from keras_dlbasic.training import resolve_config

DEGRADATION_MODELS = ("plain20", "plain56", "resnet20", "resnet56")


def gradient_flow(x, y, depths=(20, 56), classes=10, training=False, zero_init_residual=True,
                  seed=0):
    """Per-layer gradient norms at initialisation of plain and residual CIFAR nets.

    For each depth 6n+2 a plain and a residual net are built from the same
    seed, so their kernels start equal. By default the builder also starts
    the last BatchNorm scale of every residual branch at 0 (Goyal et al.
    2017), so the untrained ResNet is the identity around a stem and a head,
    and no gradient enters its branches yet; ``zero_init_residual=False``
    starts those scales at 1, as the paper and the plain net do, so that only
    the shortcuts differ.

    Args:
        x: a batch of images (N, H, W, C) in the current image data format.
        y: their integer labels (N,).
        depths: network depths, each 6n + 2 (20, 32, 44, 56, 110, ...).
        classes: classifier width.
        training: BatchNorm with batch statistics (as in ``fit``) instead of
            its moving statistics; see ``kernel_gradient_norms``.
        zero_init_residual: passed to ``resnet``: residual branches end in a
            BatchNorm scale of 0 (``True``) or 1.
        seed: initialisation seed.

    Returns:
        A dict ``(depth, "plain" | "residual")`` -> {layer name: ||dL/dW||_2},
        layers ordered input to output; the first value is the first layer's.
    """
    bad = [d for d in depths if not isinstance(d, int) or d < 8 or (d - 2) % 6]
    if not depths or bad:
        raise ModelArgumentError(
            f"depths must be 6n+2 with n >= 1 (8, 14, 20, ...); got {list(depths)!r}")
    norms = {}
    for depth in depths:
        n = (depth - 2) // 6
        for kind in ("plain", "residual"):
            keras.utils.set_random_seed(seed)
            model = resnet([n, n, n], cifar=True, plain=kind == "plain",
                           zero_init_residual=zero_init_residual, input_shape=x.shape[1:],
                           classes=classes, name=f"{kind}{depth}")
            norms[depth, kind] = kernel_gradient_norms(model, x, y, training=training)
    return norms


def degradation_experiment(output_dir, models=DEGRADATION_MODELS, epochs=None, batch_size=None,
                           lr=None, schedule=None, verbose=0, **options):
    """Train ``models`` with one shared recipe; their per-epoch training losses.

    Every model trains with the same epochs, batch size and learning rate
    schedule (the first model's recipe unless given), so that only the architecture
    differs. Runs go to ``output_dir/<model>`` through ``train_or_resume``,
    so an interrupted or shorter experiment continues where it stopped.

    Args:
        output_dir: parent directory of the run directories.
        models: registered model names.
        epochs, batch_size, lr, schedule: shared training options.
        verbose: passed to ``keras.Model.fit``.
        **options: other ``resolve_config`` options (``dataset``, ``seed``, ``limit``, ...).

    Returns:
        A dict model name -> ``TrainingCurve``, in the order of ``models``.
    """
    if not models:
        raise ModelArgumentError("degradation_experiment needs at least one model")
    reference = resolve_config(models[0], epochs=epochs, batch_size=batch_size, lr=lr,
                               schedule=schedule, **options)
    shared = {field: getattr(reference, field) for field in ("epochs", "batch_size", "lr", "schedule")}
    curves = {}
    for name in models:
        config = resolve_config(name, **shared, **options)
        curves[config.model] = train_or_resume(config, pathlib.Path(output_dir) / config.model,
                                               verbose=verbose)
    return curves
