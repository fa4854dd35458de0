"""The autoencoder's and the VAE's registered variants (chapter 6), with their reference figures.

Keras-free: the builders are named as strings and live in ``keras_dlbasic.models.vae``.

For scale: a VAE's test -log p(x) on binarised MNIST is 86.76 nats (Burda et al. 2016,
Table 1, importance-weighted estimate of the 1-layer VAE; ``REFERENCE_NLL_NATS``). Our
``test_neg_elbo_nats`` is the ELBO's bound, which lies above -log p(x).
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

AUTOENCODER = Paper(
    title="Reducing the Dimensionality of Data with Neural Networks",
    authors="Hinton, Salakhutdinov",
    year=2006,
    url="https://doi.org/10.1126/science.1127647",
)
VAE = Paper(
    title="Auto-Encoding Variational Bayes",
    authors="Kingma, Welling",
    year=2014,
    url="https://arxiv.org/abs/1312.6114",
)

REFERENCE_NLL_NATS = {"vae": (86.76, "Burda, Grosse & Salakhutdinov 2016, Table 1 (VAE, k = 1)")}


def mlp_autoencoder_params(pixels, hidden, latent, code_outputs):
    """Dense layers with bias: pixels -> hidden... -> code_outputs, then latent -> reversed
    hidden... -> pixels."""
    widths = [pixels, *hidden]
    encoder = sum(a * b + b for a, b in zip(widths, widths[1:])) + hidden[-1] * code_outputs \
        + code_outputs
    back = [latent, *hidden[::-1], pixels]
    return encoder + sum(a * b + b for a, b in zip(back, back[1:]))


# 3,500 bundled binarised digits: 16-d codes, 512-256 hidden units.
_RECIPE = Recipe(epochs=40, batch_size=64, lr=1e-3, schedule="cosine",
                 model_kwargs={"latent_dim": 16, "hidden": (512, 256)})

register_model(
    ModelSpec(
        name="autoencoder",
        builder="keras_dlbasic.models.vae:autoencoder",
        chapter=6,
        tasks=("density",),
        inputs="image",
        paper=AUTOENCODER,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="binarized_mnist",
        # + the code's BatchNorm moving mean and variance (2 x 30, not trained).
        reference_params=mlp_autoencoder_params(784, (1000, 500, 250), 30, 30) + 2 * 30,
        params_source="the paper's MNIST autoencoder, 784-1000-500-250-30 and back, dense "
                      "layers with bias, 2,837,314 (hand count), + 60 code-normalisation "
                      "statistics",
        kwargs={"latent_dim": 30, "hidden": (1000, 500, 250)},
        recipe=_RECIPE,
    )
)

register_model(
    ModelSpec(
        name="vae",
        builder="keras_dlbasic.models.vae:vae",
        chapter=6,
        tasks=("density",),
        inputs="image",
        paper=VAE,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="binarized_mnist",
        reference_params=mlp_autoencoder_params(784, (500,), 20, 40),  # 815,824
        params_source="the paper's MNIST model (Appendix C): 500 hidden units each side, "
                      "20-d latent (the encoder's μ and log σ² layer has 40 outputs); hand count",
        kwargs={"latent_dim": 20, "hidden": (500,)},
        recipe=_RECIPE,
    )
)
