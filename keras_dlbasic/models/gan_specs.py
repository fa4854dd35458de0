"""The GAN's registered variant (chapter 6), with its reference figures.

Keras-free: the builder is named as a string and lives in ``keras_dlbasic.models.gan``.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

DCGAN = Paper(
    title="Unsupervised Representation Learning with Deep Convolutional Generative "
          "Adversarial Networks",
    authors="Radford, Metz, Chintala",
    year=2016,
    url="https://arxiv.org/abs/1511.06434",
)


def dcgan_params(height, width, channels, latent, filters, refine_layers=0, num_classes=0):
    """Hand count of ``dcgan``: batch norms hold 4 numbers a channel (2 trained, 2 statistics).
    A conditional GAN's projection also reads the one-hot label, and its discriminator
    embeds each class as a vector of the flattened features' size."""
    cells = height // 4 * width // 4
    generator = ((latent + num_classes) * cells * 4 * filters              # projection
                 + 4 * cells * 4 * filters                                # its BN
                 + refine_layers * (25 * (4 * filters) ** 2 + 4 * 4 * filters)  # 5x5 + BN
                 + 16 * 4 * filters * 2 * filters + 4 * 2 * filters       # up1 + BN
                 + 16 * 2 * filters * channels + channels)                # up2
    discriminator = (16 * channels * filters + filters                   # down1
                     + 16 * filters * 2 * filters + 4 * 2 * filters       # down2 + BN
                     + cells * 2 * filters + 1                            # logit
                 + num_classes * cells * 2 * filters)                     # class embedding
    return generator + discriminator


register_model(
    ModelSpec(
        name="gan",
        aliases=("dcgan",),
        builder="keras_dlbasic.models.gan:dcgan",
        chapter=6,
        tasks=("generation",),
        inputs="image",
        paper=DCGAN,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=dcgan_params(28, 28, 1, 100, 64),  # 1,970,370
        params_source="hand count of DCGAN's layout at 28x28 (the paper's 64x64 LSUN model "
                      "has one more stage each side): z = 100 projected to 7x7x256, transposed "
                      "convolutions to 128 and 1 channels; discriminator 64 and 128 channels",
        kwargs={"latent_dim": 100, "filters": 64},
        # 3,500 bundled digits; DCGAN's Adam (lr 2e-4, beta_1 0.5); half DCGAN's widths
        # (2.5 times faster an epoch) with the TensorFlow tutorial's stride-1 layer at 7x7.
        # On a 2-core CPU (TensorFlow, 2026-12-07) it scored 0.551 of 1,000 samples
        # confident at a digit FID of 7.0 in 548 s (120 epochs), where it without the
        # stride-1 layer scored 0.518 / 11.9. Conditioned on the digit's class (a one-hot
        # label into the generator, a projection discriminator), 120 epochs scored 0.947 /
        # 10 / 2.0 in 811 s (2026-12-08, a slow hour); the recipe keeps 80 of them.
        recipe=Recipe(epochs=80, batch_size=64, lr=2e-4, beta_1=0.5,
                      model_kwargs={"latent_dim": 100, "filters": 32, "refine_layers": 1,
                                    "num_classes": 10}),
    )
)
