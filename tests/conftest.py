"""Shared pytest setup: quiet TensorFlow, a fixed seed and small helpers.

The backend is chosen by KERAS_BACKEND before keras is imported; run the whole
suite on every backend with ``python tests/run_all_backends.py``.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# XLA (JAX, and TensorFlow's jit-compiled steps) compiling fast rather than well: tests
# run each compiled program a few times, so compiling faster matters more than running
# faster. Without LLVM's optimisations and with XLA's older loop emitters instead of its
# fusion emitters, a random-normal draw of a new shape (one per weight shape when a model
# is built) compiles in 0.1 s (0.2 s with the fusion emitters, 1.5 s with LLVM's
# optimisations too), and a small GoogLeNet is built, called and takes its first training
# step in 16 s instead of 29 s, on a 2-core CPU; steps run at the same speed. The JAX
# suite took 616 s instead of 940 s.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0 "
                                   "--xla_cpu_use_fusion_emitters=false")

import functools  # noqa: E402
import pathlib  # noqa: E402
import tempfile  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Inference-mode outputs as NumPy, compiled on JAX.
from keras_dlbasic.export import inference_outputs as predict  # noqa: E402, F401

if keras.backend.backend() == "torch" and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", 1)) > 1:
    # Several pytest-xdist workers share the cores: one intra-op thread each, instead
    # of every worker starting one per core and all of them contending.
    import torch

    torch.set_num_threads(1)

if keras.backend.backend() == "jax":
    # XLA's compilation cache, kept for this session only: a cloned or reloaded model
    # compiles to the same program as its original, and a cache hit saves the compile
    # (about 75% of a ResNet-56 predict call on a 2-core CPU).
    # pytest-xdist's workers share one cache (a program compiled by one is a hit for the
    # other); the controller removes it at the end (pytest_unconfigure).
    import jax

    _run = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()  # the controller
    _JAX_CACHE = os.path.join(tempfile.gettempdir(), f"dlbasic-jax-cache-{_run}")
    jax.config.update("jax_compilation_cache_dir", _JAX_CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def pytest_unconfigure(config):
    if keras.backend.backend() == "jax" and not os.environ.get("PYTEST_XDIST_WORKER"):
        import shutil

        shutil.rmtree(_JAX_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _seed_and_policy():
    keras.utils.set_random_seed(0)
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


# One model per family and block type; the other variants change only depth and
# width integers, which the exact parameter count checks on every backend.
FAMILIES = ["cnn", "alexnet_paper", "vgg11_bn", "googlenet", "resnet50", "resnet20",
            "densenet_bc", "fcn8s", "rcnn", "faster_rcnn", "yolo", "rnn", "lstm", "gru", "transformer", "transformer_encoder",
            "nade", "pixelcnn", "vae", "gan"]


# Depth variants whose builder fixes their depth: each has its representative's blocks,
# more of them (the exact parameter count pins how many). Their small instance runs
# forward and survives the `.keras` round trip on every backend; its training steps are
# its representative's, since compiling them costs the most (20 s for ResNet-110's on JAX).
DEPTH_VARIANTS = {
    **{f"vgg{d}{bn}": f"vgg11{bn}" for d in (13, 16, 19) for bn in ("", "_bn")},
    **{f"resnet{d}": "resnet20" for d in (32, 44, 56, 110)},
    "plain56": "plain20",
}


# Small instances for the tests, by model: test-only sizes live here, not in the
# catalog. The deep ImageNet variants get one block per stage (ResNet) or two
# dense layers per block (DenseNet); their full depths are checked by the exact
# parameter count. Every registered model needs an entry (test_registry checks).
_IMAGENET_SMALL = {"input_shape": (32, 32, 3), "classes": 10}
_ALEXNET_SMALL = {"input_shape": (72, 72, 3), "classes": 10, "fc_units": 64}
_TWO_STAGE_SMALL = {"input_shape": (64, 64, 3), "classes": 3, "width": 8, "batch_norm": True,
                    "fc_units": 16}
_WINDOWS_SMALL = {"window_sizes": (16, 32)}  # 169 + 25 windows
SEQ2SEQ_SMALL = {"d_model": 16, "num_heads": 2, "d_ff": 32, "encoder_layers": 1,
                  "decoder_layers": 1}
SMALL = {
    "cnn": {},
    "alexnet": _ALEXNET_SMALL,
    "alexnet_paper": _ALEXNET_SMALL,
    **{f"resnet{d}": {**_IMAGENET_SMALL, "stage_blocks": (1, 1, 1, 1)} for d in (18, 34, 50, 101, 152)},
    **{f"resnet{d}": {} for d in (20, 32, 44, 56, 110)},
    "plain20": {},
    "plain56": {},
    **{f"densenet{d}": {**_IMAGENET_SMALL, "blocks": (2, 2, 2, 2)} for d in (121, 169, 201)},
    "densenet_bc": {"depth": 40},
    **{f"vgg{d}{bn}": {**_IMAGENET_SMALL, "fc_units": 64} for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    "googlenet": _IMAGENET_SMALL,
    **{f"fcn{s}s": {"input_shape": (64, 64, 3), "classes": 4, "width": 8, "fc_units": 16}
       for s in (8, 16, 32)},
    **{name: {**_TWO_STAGE_SMALL, **extra} for name, extra in [
        ("rcnn", {"warp_size": 32, "train_regions": 8, **_WINDOWS_SMALL}),
        ("sppnet", {"feature_stride": 8, "bins": (1, 2), **_WINDOWS_SMALL}),
        ("fast_rcnn", {"feature_stride": 8, "pool_size": 2, **_WINDOWS_SMALL}),
        ("faster_rcnn", {"feature_stride": 8, "pool_size": 2, "anchor_scales": (16, 32),
                         "pre_nms_top": 64, "train_proposals": 16, "test_proposals": 8}),
    ]},
    "yolo": {"input_shape": (64, 64, 3), "classes": 3, "grid": 8, "width": 0.125, "fc_units": 16,
             "batch_norm": True, "trunk_stride": 8, "head": "conv"},  # its shapes recipe's layout
    **{name: {"units": 16} for name in ("rnn", "lstm", "gru")},
    "transformer": SEQ2SEQ_SMALL,
    "transformer_base": {"vocab_size": 64, **SEQ2SEQ_SMALL},
    "transformer_encoder": {"d_model": 16, "num_heads": 2, "d_ff": 32, "num_layers": 1},
    "nade": {"input_shape": (8, 8, 1), "hidden": 8},
    "pixelcnn": {"input_shape": (8, 8, 1), "filters": 4, "blocks": 1, "head_filters": 8},
    **{name: {"input_shape": (8, 8, 1), "latent_dim": 2, "hidden": (16,)}
       for name in ("autoencoder", "vae")},
    "aae": {"input_shape": (8, 8, 1), "latent_dim": 2, "hidden": (16,),
            "discriminator_hidden": (8,)},
    "gan": {"input_shape": (8, 8, 1), "latent_dim": 4, "filters": 4},
    "ddpm": {"input_shape": (8, 8, 1), "timesteps": 10, "filters": (8, 8), "embedding_dim": 8,
             "groups": 4},
}


def small_kwargs(name):
    """Builder arguments of the model's small test instance."""
    from keras_dlbasic import model_info

    return SMALL[model_info(name).name]


@functools.lru_cache(maxsize=None)
def small_model(name):
    """The model's small test instance, built once a session and shared by the test files
    (on JAX a new model's first call compiles; the same model's next calls do not).
    Tests read it and must not train or change it: train a reloaded copy instead."""
    from keras_dlbasic import get_model

    keras.utils.set_random_seed(0)
    return get_model(name, **small_kwargs(name))


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def random_batch(model, batch=2, seed=0):
    """A fixed batch of inputs and integer labels for a classifier or a seq2seq model.

    Classifiers get floats of ``model.input_shape`` and one label per example;
    GANs get the generator's noise;
    generative models (with ``sample``) get binary images and no targets;
    detectors (models with ``decode``) get ``shapes`` images and their padded boxes;
    token models (integer inputs) get tokens below the output vocabulary and one
    label per output position. Unknown lengths become 6.
    """
    rng = np.random.default_rng(seed)
    if hasattr(model, "noise"):  # a GAN generates from noise; it trains on real images
        return rng.standard_normal((batch, model.latent_dim)).astype("float32"), None
    if hasattr(model, "sample"):  # a generative model: binary images, no targets
        shape = getattr(model, "generator", model).input_shape[1:]  # an AAE's: its autoencoder's
        return (rng.random((batch, *shape)) < 0.5).astype("float32"), None
    if hasattr(model, "decode"):  # a detector: images of shapes and their boxes
        from keras_dlbasic.data.shapes import shapes

        data = shapes(batch, model.input_shape[1:3], seed=seed)
        return data["images"], {"boxes": data["boxes"], "labels": data["labels"]}
    classes = model.output_shape[-1]
    xs = []
    for tensor in model.inputs:
        shape = [batch, *(6 if d is None else d for d in tensor.shape[1:])]
        if "int" in str(tensor.dtype):
            xs.append(rng.integers(1, classes, size=shape).astype("int32"))
        else:
            xs.append(rng.random(shape, dtype=np.float32))
    label_shape = [batch, *(6 if d is None else d for d in model.output_shape[1:-1])]
    y = rng.integers(0, classes, size=label_shape).astype("int32")
    return (xs[0] if len(xs) == 1 else xs), y


@pytest.fixture
def channels_first():
    """Runs the test with ``keras.config.image_data_format() == "channels_first"``;
    the previous format comes back afterwards, also when the test fails."""
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        yield
    finally:
        keras.config.set_image_data_format(previous)


@pytest.fixture(scope="session")
def scorer_cache(tmp_path_factory):
    """Where the first test that scores samples trains the digit scorer and the others
    read it (a ``.keras`` file that every backend reads): the folder that
    ``tests/run_all_backends.py`` shares between its pytest processes and backends
    (``$DLBASIC_TEST_CACHE``), else this process's own."""
    shared = os.environ.get("DLBASIC_TEST_CACHE")
    return pathlib.Path(shared) if shared else tmp_path_factory.mktemp("cache")


@pytest.fixture
def quick_scorer(scorer_cache, monkeypatch):
    """The digit scorer trained for one epoch into the session's cache (3 in the product),
    judging 200 samples (1,000 in the product)."""
    from keras_dlbasic.tasks import generative

    monkeypatch.setenv("KERAS_DLBASIC_CACHE", str(scorer_cache))
    monkeypatch.setattr(generative, "SCORER_EPOCHS", 1)
    monkeypatch.setattr(generative, "QUALITY_SAMPLES", 200)
