# %% [markdown]
# # Chapter 6, generative models: counting, autoregressive models, autoencoder vs VAE,
# # adversarial autoencoder, GAN and diffusion
#
#     python chapters/ch06_generative.py [--epochs N] [--output-dir runs/ch06_generative]
#
# A jupytext percent script: run it top to bottom, or open it as a notebook
# (where the defaults below are used). A finished run in the output directory
# is reused, an unfinished one resumed. Every model trains on the 3,500 bundled
# MNIST digits (``mnist_5k``): binarised at 0.5 for the density models, grey for the
# GAN and the DDPM.

# %%
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_dlbasic import load_model  # noqa: E402
from keras_dlbasic.chapters import script_args, show  # noqa: E402
from keras_dlbasic.chapters.ch06 import BAYES, DERIVATIONS, counting_rows  # noqa: E402
from keras_dlbasic.chapters.measured import Measurements  # noqa: E402
from keras_dlbasic.chapters.runs import train_or_resume  # noqa: E402
from keras_dlbasic.data import load_dataset  # noqa: E402
from keras_dlbasic.models.autoregressive_specs import REFERENCE_NLL_NATS as AUTOREGRESSIVE_NATS  # noqa: E402
from keras_dlbasic.models.vae_specs import REFERENCE_NLL_NATS as VAE_NATS  # noqa: E402
from keras_dlbasic.plotting import plot_code_scatter, plot_image_grid  # noqa: E402
from keras_dlbasic.tasks.generative import DigitScorer, binarize, independent_nll  # noqa: E402
from keras_dlbasic.training import resolve_config  # noqa: E402

parser = argparse.ArgumentParser(description="Chapter 6, generative models")
parser.add_argument("--epochs", type=int, default=None, help="epochs of every run (default: recipes)")
parser.add_argument("--output-dir", default="runs/ch06_generative")
args = script_args(parser)
out = pathlib.Path(args.output_dir)
measured = Measurements(chapter=6, output_dir=out)
data = load_dataset("mnist_5k")
x_train, x_test = binarize(data.x_train), binarize(data.x_test)

# %% [markdown]
# ## 1. Counting the parameters of a distribution
#
# A distribution over n variables of k values each needs k^n - 1 numbers: one
# probability per outcome, less one because they sum to 1. Structure is what makes
# a model of images possible at all.

# %%
for structure, derivation in DERIVATIONS.items():
    print(f"{structure}: {derivation}")
print(BAYES)
print(measured.table("Free parameters of a distribution", ["Variables", "Structure", "Parameters"],
                     counting_rows(), align="llr"))

# %% [markdown]
# ## 2. Autoregressive models: the chain rule, exactly
#
# NADE and PixelCNN model every factor p(x_i | x_<i) of the chain rule with a network
# that sees the earlier pixels only, so log p(x) is exact and training maximises it.
# The baseline is the independence assumption: one Bernoulli per pixel.

# %%
runs = {}
for name in ("nade", "pixelcnn"):
    runs[name] = train_or_resume(resolve_config(name, epochs=args.epochs), out / name, verbose=2)
    show(runs[name].run_dir / "samples.png")
baseline = float(np.mean(independent_nll(x_train, x_test)))
rows = [["independent pixels", f"{np.mean(independent_nll(x_train, x_train)):.1f}", f"{baseline:.1f}",
         "-", "-", "-", "-"]]
for name, run in runs.items():
    m = run.metrics
    paper, source = AUTOREGRESSIVE_NATS[name]
    rows.append([name, f"{m['train_nll_nats']:.1f}", f"{m['test_nll_nats']:.1f}",
                 f"{m['test_bits_per_dim']:.3f}", f"{baseline - m['test_nll_nats']:.1f}",
                 f"{paper} ({source}, full binarised MNIST)", f"{run.seconds:.0f}"])
print(measured.table("Exact likelihood on the 1,000 test digits (nats per image, lower is better)",
                     ["Model", "Train NLL", "Test NLL", "Bits/dim", "Better than independent by",
                      "Paper", "Train s"], rows, align="lrrrrlr"))

# %% [markdown]
# ## 3. Maximum likelihood overfits: NADE with less data
#
# The same NADE on the first 500, 1,000 and all 3,500 training digits, each for the same
# number of updates (fewer digits, more epochs) and taken at its last epoch (pure
# maximum likelihood, no early stopping), scored on the same 1,000 test digits:
# with less data the training likelihood is better and the test likelihood worse, the
# gap that maximum likelihood alone does nothing about.

# %%
rows = []
full = resolve_config("nade", epochs=args.epochs)
for count in (500, 1000, len(x_train)):
    run = runs["nade"] if count == len(x_train) else train_or_resume(
        resolve_config("nade", epochs=full.epochs * len(x_train) // count, limit=count),
        out / f"nade_{count}", verbose=0)
    model = load_model(run.run_dir / "last.keras", compile=False)  # no early stopping
    train_nll = -float(np.mean(model.log_likelihood(x_train[:count])))
    test_nll = -float(np.mean(model.log_likelihood(x_test)))
    rows.append([f"{count:,}", f"{train_nll:.1f}", f"{test_nll:.1f}", f"{test_nll - train_nll:.1f}"])
print(measured.table("NADE: training digits against the train-test gap (nats per image)",
                     ["Training digits", "Train NLL", "Test NLL", "Gap"], rows, align="rrrr"))

# %% [markdown]
# ## 4. Is an autoencoder a generative model? No. A VAE is.
#
# Both compress a digit to a 16-number code and decode it. The autoencoder's codes are
# standardised (mean 0, variance 1 over the digits), yet decoding random codes
# z ~ N(0, I) gives no digits: nothing made the digits' codes fill that space. Decoding
# z ~ N(0, I) through the VAE does. Section 8 scores 1,000 samples of each.

# %%
for name in ("autoencoder", "vae"):
    runs[name] = train_or_resume(resolve_config(name, epochs=args.epochs), out / name, verbose=2)
models = {name: load_model(runs[name].run_dir / "best.keras", compile=False)
          for name in ("autoencoder", "vae")}
originals = x_test[:8]
panels = [originals] + [models[name].decode(models[name].encode(originals)) for name in models]
plot_image_grid(np.concatenate(panels), out / "reconstructions.png",
                title="test digits; autoencoder; VAE reconstructions")
plot_image_grid(np.concatenate([models[name].sample(16, seed=0) for name in models]),
                out / "random_codes.png",
                title="decoded random codes: autoencoder (top 2 rows), VAE (bottom 2 rows)")
show(out / "reconstructions.png")
show(out / "random_codes.png")
print(f"VAE test -ELBO {runs['vae'].metrics['test_neg_elbo_nats']:.1f} nats; reference "
      f"{VAE_NATS['vae'][0]} nats ({VAE_NATS['vae'][1]}, full binarised MNIST, -log p(x), "
      f"below its ELBO)")

# %% [markdown]
# ## 5. Code spaces: the VAE's KL term against the AAE's discriminator
#
# With a 2-number code the test digits' codes can be plotted. The VAE's KL term pulls
# each digit's posterior towards the prior N(0, I); the adversarial autoencoder has no
# KL term: a discriminator tells codes from prior samples and the encoder learns to
# fool it, so the codes of all digits together come to fill the prior.

# %%
code_runs = {name: train_or_resume(resolve_config(name, epochs=args.epochs,
                                                  model_kwargs={"latent_dim": 2}),
                                   out / f"{name}_2d", verbose=2) for name in ("vae", "aae")}
rows = []
for name, run in code_runs.items():
    codes = load_model(run.run_dir / "best.keras", compile=False).encode(x_test)
    plot_code_scatter(codes, data.y_test, out / f"{name}_codes.png",
                      title=f"{name.upper()}, 2-D codes of test digits")
    show(out / f"{name}_codes.png")
    rows.append([name, *(f"{v:.2f}" for v in (*codes.mean(0), *codes.std(0))),
                 f"{run.metrics['test_reconstruction_nats']:.1f}"])
print(measured.table("2-D codes of the 1,000 test digits (the prior: mean 0, std 1)",
                     ["Model", "Mean z1", "Mean z2", "Std z1", "Std z2",
                      "Test reconstruction (nats)"], rows, align="lrrrrr"))

# %% [markdown]
# ## 6. A GAN: the counterfeiter against the police
#
# The generator turns noise into grey digits; the discriminator learns to tell them
# from real ones, and the generator to fool it: two networks, two losses, two
# optimizers. One grid of the same 64 noise vectors is saved after every epoch.
# The recipe's GAN is conditional (Mirza & Osindero): both players also see the
# digit's class, the generator as a one-hot vector beside its noise, the discriminator
# through a class embedding projected on its features, so it learns p(x | y) and draws
# every class in turn (`--model-arg num_classes=null` gives the unconditional GAN).

# %%
runs["aae"] = train_or_resume(resolve_config("aae", epochs=args.epochs), out / "aae", verbose=2)
runs["gan"] = train_or_resume(resolve_config("gan", epochs=args.epochs), out / "gan", verbose=2)
epochs = sorted((runs["gan"].run_dir / "samples").glob("epoch_*.png"))
show(epochs[0])
show(epochs[-1])

# %% [markdown]
# ## 7. Diffusion: digits from noise
#
# A fixed process adds a little Gaussian noise in each of T steps; a U-Net learns to
# tell the noise from the noisy image at any step, and sampling runs the chain
# backwards from pure noise, T network calls per image. Like the GAN, the recipe's
# DDPM is told the digit's class: a class embedding joins its time embedding, and 10%
# of the labels are dropped in training, so that it also learns the unconditional
# noise; it samples with classifier-free guidance, w = 0.3: each step moves 1.3 times
# its class's noise estimate less 0.3 times the unconditional one.

# %%
runs["ddpm"] = train_or_resume(resolve_config("ddpm", epochs=args.epochs), out / "ddpm", verbose=2)
show(runs["ddpm"].run_dir / "denoising.png")

# %% [markdown]
# ## 8. Sample quality
#
# Chapter 1's CNN, trained on the same digits, judges 1,000 samples of each model: its
# confidence, the digit classes it sees and a Fréchet distance between its features of
# the samples and of 1,000 test digits (a "digit FID"). The density models learn the
# binarised digits and are compared with binarised test digits; the GAN and the DDPM
# learn the grey ones, given their class (100 samples of each digit). Real training
# digits against the test digits give the scale:
# the target for the GAN and the DDPM is a digit FID at most 3 times theirs.

# %%
scorer = DigitScorer()
rows = []
references = {"binarised": (binarize(data.x_train[:1000]), x_test),
              "grey": (data.x_train[:1000], data.x_test)}
for kind, (train_images, test_images) in references.items():
    for label, images in ((f"real test digits ({kind})", test_images),
                          (f"real train digits ({kind})", train_images)):
        quality = scorer.score(images, test_images)
        rows.append([label, f"{quality['confident_share']:.3f}", quality["class_count"],
                     f"{quality['frechet_distance']:.2f}", "-"])
for name in ("autoencoder", "vae", "aae", "gan", "ddpm"):
    m = runs[name].metrics
    bound = f"{m['test_neg_elbo_nats']:.1f}" if "test_neg_elbo_nats" in m else "-"
    rows.append([name, f"{m['sample_confident_share']:.3f}", m["sample_class_count"],
                 f"{m['sample_frechet_distance']:.2f}", bound])
print(measured.table("1,000 samples scored by the digit CNN (real digits for scale)",
                     ["Samples", "Confident share (>= 0.9)", "Digit classes", "Digit FID",
                      "Test -ELBO (nats)"], rows, align="lrrrr"))
print(f"Measured tables: {measured.save()}")
