"""The DDPM's registered variant (chapter 6), with its reference figures.

Keras-free: the builder is named as a string and lives in ``keras_dlbasic.models.diffusion``.

Ho et al. give no MNIST model (their CIFAR-10 U-Net has 35.7M parameters, two residual
blocks per level and self-attention); the default here is their recipe's T = 1000 and
linear schedule on the small U-Net of ``diffusion.unet``, whose count is
``unet_params``. There is no likelihood to score: the task judges the samples.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

DDPM = Paper(
    title="Denoising Diffusion Probabilistic Models",
    authors="Ho, Jain, Abbeel",
    year=2020,
    url="https://arxiv.org/abs/2006.11239",
)


def unet_params(channels, filters, embedding_dim):
    """Hand count of ``diffusion.unet``: the time MLP (two dense layers), a 3x3 stem, per
    level a residual block down (after a stride-2 3x3 conv from the second level on), a
    middle block, per level a block up on [x, skip] (then upsampling and a 3x3 conv to the
    next level's width, but at the top), and GroupNorm + 3x3 conv out. A block a -> b:
    GroupNorm(a), 3x3 conv, dense from the embedding, GroupNorm(b), 3x3 conv, and a 1x1
    shortcut when a != b."""
    def conv(a, b, k=3):
        return k * k * a * b + b

    def block(a, b):
        return 2 * a + conv(a, b) + embedding_dim * b + b + 2 * b + conv(b, b) \
            + (conv(a, b, 1) if a != b else 0)

    total = 2 * (embedding_dim * embedding_dim + embedding_dim) + conv(channels, filters[0])
    width = filters[0]
    for level, f in enumerate(filters):
        total += (conv(width, width) if level else 0) + block(width, f)
        width = f
    total += block(width, width)
    for level in reversed(range(len(filters))):
        total += block(width + filters[level], filters[level])
        width = filters[level]
        if level:
            total += conv(width, filters[level - 1])
            width = filters[level - 1]
    return total + 2 * width + conv(width, channels)


_DEFAULT = {"timesteps": 1000, "schedule": "linear", "filters": (64, 128, 128),
            "embedding_dim": 256}

register_model(
    ModelSpec(
        name="ddpm",
        builder="keras_dlbasic.models.diffusion:ddpm",
        chapter=6,
        tasks=("generation",),
        inputs="image",
        paper=DDPM,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=unet_params(1, _DEFAULT["filters"], _DEFAULT["embedding_dim"]),
        params_source="hand count of the U-Net denoiser (unet_params): widths 64-128-128 at "
                      "28, 14 and 7 pixels, a 256-d time embedding; the paper's T = 1000 and "
                      "linear schedule (it gives no MNIST network)",
        kwargs=_DEFAULT,
        aliases=("diffusion",),
        # 3,500 bundled grey digits on a 2-core CPU (TensorFlow): 10-35 s an epoch of 55
        # steps, 700 s for 40 (2026-12-03); 100 steps of the (scaled) linear schedule.
        # (The cosine one's last β of 0.999 amplifies the first reverse step's error
        # 32-fold: saturated samples.) Sampling with σ² = β̃: on the same weights, 0.470
        # of 1,000 samples confident and a digit FID of 8.9, against 0.446 and 9.8 with β.
        # Hang et al.'s min-SNR weighting (γ = 5) raised that to 0.514 / 7.9 (919 s,
        # 2026-12-07); self-attention in the U-Net's middle did not help (0.480 / 9.7).
        # Sampling at temperature 0.9 (σ_t z scaled by 0.9), on the same weights: 0.556 /
        # 7.7 against 0.495 / 8.4 at 1 (2026-12-08; 0.8: 0.584 / 8.9, more confident,
        # less varied). 80 epochs reach 0.723 / 4.7 at 0.8, in over 20 minutes.
        # Conditioned on the digit's class (2026-12-08), the same 40 epochs scored 0.618 /
        # 10 / 4.9 at temperature 1 (TensorFlow), better on both scores than any of the
        # above; classifier-free guidance at w = 0.3 and 45 epochs: 0.723 / 10 / 3.6 in
        # 718 s (12.3 minutes in all), 60 epochs 0.872 / 10 / 2.2 in 14.5 minutes.
        recipe=Recipe(epochs=45, batch_size=64, lr=2e-3, schedule="cosine",
                      model_kwargs={"timesteps": 100, "schedule": "linear",
                                    "variance": "posterior", "filters": (16, 32, 32),
                                    "embedding_dim": 64, "min_snr_gamma": 5.0,
                                    "num_classes": 10, "guidance": 0.3}),
    )
)
