"""The adversarial autoencoder's registered variant (chapter 6), with its reference figures.

Keras-free: the builder is named as a string and lives in ``keras_dlbasic.models.aae``.
"""
from keras_dlbasic.models.vae_specs import mlp_autoencoder_params
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

AAE = Paper(
    title="Adversarial Autoencoders",
    authors="Makhzani, Shlens, Jaitly, Goodfellow, Frey",
    year=2016,
    url="https://arxiv.org/abs/1511.05644",
)


def aae_params(pixels, hidden, latent, discriminator_hidden):
    """Hand count: the autoencoder (dense layers with bias, pixels -> hidden -> latent and
    back), and the discriminator, latent -> discriminator_hidden -> 1 logit."""
    widths = [latent, *discriminator_hidden, 1]
    return mlp_autoencoder_params(pixels, hidden, latent, latent) + sum(
        a * b + b for a, b in zip(widths, widths[1:]))


register_model(
    ModelSpec(
        name="aae",
        builder="keras_dlbasic.models.aae:aae",
        chapter=6,
        tasks=("density",),
        inputs="image",
        paper=AAE,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="binarized_mnist",
        reference_params=aae_params(784, (1000, 1000), 8, (1000, 1000)),
        params_source="hand count of the paper's MNIST networks (Appendix A: encoder, decoder "
                      "and discriminator of two ReLU layers of 1,000 units), with an 8-d code",
        kwargs={"latent_dim": 8, "hidden": (1000, 1000), "discriminator_hidden": (1000, 1000)},
        # The VAE's recipe and widths on the 3,500 bundled binarised digits, and a
        # discriminator of 256-256 units.
        recipe=Recipe(epochs=40, batch_size=64, lr=1e-3, schedule="cosine",
                      model_kwargs={"latent_dim": 16, "hidden": (512, 256),
                                    "discriminator_hidden": (256, 256)}),
    )
)
