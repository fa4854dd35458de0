"""The catalog of registered models, chapter by chapter.

Each entry names its builder as ``"module:function"`` so that listing models
never imports keras. Builders live in one module per model family.
"""
from keras_dlbasic.recipe import Recipe
from keras_dlbasic.registry import ModelSpec, Paper, register_model

LENET = Paper(
    title="Gradient-Based Learning Applied to Document Recognition",
    authors="LeCun, Bottou, Bengio, Haffner",
    year=1998,
    url="https://doi.org/10.1109/5.726791",
)

# --- Chapter 1: CNN basics -------------------------------------------------------
register_model(
    ModelSpec(
        name="cnn",
        builder="keras_dlbasic.models.cnn:cnn",
        chapter=1,
        tasks=("classification",),
        inputs="image",
        paper=LENET,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=225_034,
        params_source="hand count: 3·3·1·32+32 + 3·3·32·64+64 + 1600·128+128 + 128·10+10",
        recipe=Recipe(epochs=3, batch_size=32, lr=1e-3),
    )
)

# --- Chapter 2: modern CNNs ------------------------------------------------------
# min_input_size is the smallest side each builder accepts: 2^5 = 32 for the five
# stride-2 steps of VGG, GoogLeNet and the ImageNet ResNets/DenseNets; 63 (67 for the
# paper's unpadded conv1) for AlexNet's 11x11/4 conv and three 3x3/2 valid pools.
# The CIFAR nets (ResNet-20..110, plain-20/56, DenseNet-BC) take 28x28 as it is.
# Every chapter-2 model trains offline on the bundled digits and lists CIFAR-10.
# Reference counts: trainable parameters as published (torchvision's num_params
# or the paper), plus BatchNorm's moving mean/variance, which count_params()
# includes and PyTorch keeps as buffers.
CHAPTER2_RECIPE = Recipe(epochs=10, batch_size=64, lr=1e-3)


def _register_cnn(name, module, paper, source, trainable, moving=0, *, input_shape=(224, 224, 3),
                  recipe=CHAPTER2_RECIPE, min_input_size=32, **extra):
    """Register one chapter-2 image classifier (builder ``keras_dlbasic.models.<module>:<name>``)."""
    params_source = f"{source}: {trainable:,} trainable (exact)"
    if moving:
        params_source += f" + {moving:,} BatchNorm moving mean/variance (non-trainable)"
    register_model(
        ModelSpec(
            name=name,
            builder=f"keras_dlbasic.models.{module}:{name}",
            chapter=2,
            tasks=("classification",),
            inputs="image",
            paper=paper,
            input_shape=input_shape,
            dataset="mnist_5k",
            full_dataset="cifar10",
            reference_params=trainable + moving,
            params_source=params_source,
            recipe=recipe,
            min_input_size=min_input_size,
            **extra,
        )
    )


RESNET = Paper(
    title="Deep Residual Learning for Image Recognition",
    authors="He, Zhang, Ren, Sun",
    year=2016,
    url="https://arxiv.org/abs/1512.03385",
)
for _name, _trainable, _moving in [
    ("resnet18", 11_689_512, 9_600),
    ("resnet34", 21_797_672, 17_024),
    ("resnet50", 25_557_032, 53_120),
    ("resnet101", 44_549_160, 105_344),
    ("resnet152", 60_192_808, 151_424),
]:
    _register_cnn(_name, "resnet", RESNET, f"torchvision {_name}", _trainable, _moving)
# CIFAR ResNets (Sec. 4.2, option A shortcuts) have no torchvision twin: Table 6 rounds.
# `dlbasic train resnet20` is the chapter's quick recipe: >= 97% test accuracy on the
# bundled digits. Its residual branches start at BN scale 0, so Adam needs a larger
# step than 1e-3 to wake them up within 10 epochs; the cosine decay then settles the
# weights (and BatchNorm's moving statistics) in the last epochs.
for _name, _trainable, _moving, _source in [
    ("resnet20", 269_722, 1_376, "He et al. 2016 Table 6: 0.27M"),
    ("resnet32", 464_154, 2_272, "He et al. 2016 Table 6: 0.46M"),
    ("resnet44", 658_586, 3_168, "He et al. 2016 Table 6: 0.66M"),
    ("resnet56", 853_018, 4_064, "He et al. 2016 Table 6: 0.85M"),
    ("resnet110", 1_727_962, 8_096, "He et al. 2016 Table 6: 1.7M"),
    ("plain20", 269_722, 1_376, "same as resnet20: option-A shortcuts hold no weights"),
    ("plain56", 853_018, 4_064, "same as resnet56: option-A shortcuts hold no weights"),
]:
    _register_cnn(_name, "resnet", RESNET, _source, _trainable, _moving,
                  input_shape=(32, 32, 3),
                  recipe=(CHAPTER2_RECIPE.replace(lr=2e-3, schedule="cosine")
                          if _name == "resnet20" else CHAPTER2_RECIPE),
                  min_input_size=None)

DENSENET = Paper(
    title="Densely Connected Convolutional Networks",
    authors="Huang, Liu, van der Maaten, Weinberger",
    year=2017,
    url="https://arxiv.org/abs/1608.06993",
)
for _name, _trainable, _moving in [
    ("densenet121", 7_978_856, 83_648),
    ("densenet169", 14_149_480, 158_400),
    ("densenet201", 20_013_928, 229_056),
]:
    _register_cnn(_name, "densenet", DENSENET, f"torchvision {_name}", _trainable, _moving)
_register_cnn("densenet_bc", "densenet", DENSENET, "Huang et al. 2017 Table 2 (L=100, k=12): 0.8M",
              769_162, 23_988, input_shape=(32, 32, 3), min_input_size=None)

VGG = Paper(
    title="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    authors="Simonyan, Zisserman",
    year=2015,
    url="https://arxiv.org/abs/1409.1556",
)
for _name, _trainable, _moving in [
    ("vgg11", 132_863_336, 0),
    ("vgg13", 133_047_848, 0),
    ("vgg16", 138_357_544, 0),
    ("vgg19", 143_667_240, 0),
    ("vgg11_bn", 132_868_840, 5_504),
    ("vgg13_bn", 133_053_736, 5_888),
    ("vgg16_bn", 138_365_992, 8_448),
    ("vgg19_bn", 143_678_248, 11_008),
]:
    _register_cnn(_name, "vgg", VGG, f"torchvision {_name}", _trainable, _moving,
                  recipe=CHAPTER2_RECIPE.replace(lr=1e-4))

# GoogLeNet has no batch norm: Adam at 1e-3 overshoots.
_register_cnn(
    "googlenet", "googlenet",
    Paper(
        title="Going Deeper with Convolutions",
        authors="Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke, Rabinovich",
        year=2015,
        url="https://arxiv.org/abs/1409.4842",
    ),
    "paper's Table 1 network (5x5 branches, biases, no BN: 6,990,272 weights + 8,280 biases; "
    "Table 1 sums to ~6.8M with K=1024; torchvision's BN/3x3 variant has 6,624,904)",
    6_998_552, recipe=CHAPTER2_RECIPE.replace(lr=1e-4), aliases=("inception",),
)

ALEXNET = Paper(
    title="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="Krizhevsky, Sutskever, Hinton",
    year=2012,
    url="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
)
# The recipes train with the paper's random crops, and on CIFAR-10 its flips too
# (a mirrored digit is no digit).
_ALEXNET_RECIPE = CHAPTER2_RECIPE.replace(lr=1e-4, model_kwargs={"augment": ["crop"]})
_ALEXNET_DATASET_RECIPES = {"cifar10": _ALEXNET_RECIPE.replace(model_kwargs={"augment": ["crop", "flip"]})}
_register_cnn("alexnet", "alexnet", ALEXNET, "torchvision alexnet (single tower, 64/192/384/256/256)",
              61_100_840, recipe=_ALEXNET_RECIPE, dataset_recipes=_ALEXNET_DATASET_RECIPES,
              min_input_size=63)
_register_cnn(
    "alexnet_paper", "alexnet", ALEXNET,
    "hand count of the paper's two-tower net (96/256/384/384/256, groups=2 in conv2/4/5, "
    "227x227; 62,378,344 with groups=1)",
    60_965_224, input_shape=(227, 227, 3), recipe=_ALEXNET_RECIPE,
    dataset_recipes=_ALEXNET_DATASET_RECIPES, min_input_size=67,
)

# --- Chapters 4-5: sequential models (RNN, LSTM, GRU, Transformer) ---------------
ELMAN = Paper(
    title="Finding Structure in Time",
    authors="Elman",
    year=1990,
    url="https://doi.org/10.1207/s15516709cog1402_1",
)
LSTM = Paper(
    title="Long Short-Term Memory",
    authors="Hochreiter, Schmidhuber",
    year=1997,
    url="https://doi.org/10.1162/neco.1997.9.8.1735",
)
GRU = Paper(
    title="Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation",
    authors="Cho, van Merrienboer, Gulcehre, Bahdanau, Bougares, Schwenk, Bengio",
    year=2014,
    url="https://arxiv.org/abs/1406.1078",
)

# Sequential MNIST: each 28x28 image is 28 time steps of 28 features; 128 units, 10 classes.
for _name, _paper, _formula, _params in [
    ("rnn", ELMAN, "(28+128)·128+128 + 128·10+10", 21_386),
    ("lstm", LSTM, "4·((28+128)·128+128) + 128·10+10", 81_674),
    ("gru", GRU, "3·((28+128)·128+2·128) + 128·10+10 (reset_after)", 61_962),
]:
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.rnn:{_name}",
            chapter=4,
            tasks=("classification", "regression"),
            inputs="sequence",
            paper=_paper,
            input_shape=(28, 28),
            dataset="mnist_5k",
            full_dataset="imdb_reviews",
            reference_params=_params,
            params_source=f"rnn_param_formula: {_formula}",
            recipe=Recipe(epochs=15, batch_size=32, lr=3e-3),
            # The adding problem (length 100) needs a larger step to leave the 0.167
            # plateau; 32 units are enough and 4x faster than 128.
            dataset_recipes={"adding_problem": Recipe(epochs=20, batch_size=64, lr=1e-2,
                                                      model_kwargs={"units": 32})},
        )
    )

VASWANI = Paper(
    title="Attention Is All You Need",
    authors="Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser, Polosukhin",
    year=2017,
    url="https://arxiv.org/abs/1706.03762",
)
_TRANSFORMER_PARAMS = (
    "transformer_param_formula: V·d shared embedding (tied output projection) "
    "+ encoder layers·(4·(d²+d) + 2·d·d_ff+d_ff+d + 2·2d) "
    "+ decoder layers·(2·4·(d²+d) + 2·d·d_ff+d_ff+d + 3·2d)"
)

# Inputs: [encoder_tokens (B, S), decoder_tokens (B, T)] int32; output (B, T, vocab) probabilities.
register_model(
    ModelSpec(
        name="transformer",
        builder="keras_dlbasic.models.transformer:transformer",
        chapter=5,
        tasks=("seq2seq",),
        inputs="tokens",
        paper=VASWANI,
        input_shape=((None,), (None,)),
        dataset="digit_reversal",
        full_dataset=None,  # WMT14 needs a subword tokenizer: not supported offline
        reference_params=168_256,
        params_source=_TRANSFORMER_PARAMS + " with V=13, d=64, d_ff=128, 2+2 layers",
        recipe=Recipe(epochs=10, batch_size=64, lr=1e-3),
    )
)
register_model(
    ModelSpec(
        name="transformer_base",
        builder="keras_dlbasic.models.transformer:transformer_base",
        chapter=5,
        tasks=("seq2seq",),
        inputs="tokens",
        paper=VASWANI,
        input_shape=((None,), (None,)),
        dataset="digit_reversal",
        full_dataset=None,  # WMT14 needs a subword tokenizer: not supported offline
        reference_params=63_082_496,
        params_source=(
            _TRANSFORMER_PARAMS + " with V=37,000, d=512, d_ff=2048, 6+6 layers "
            "(paper Table 3: 65M)"
        ),
        recipe=Recipe(epochs=1, batch_size=32, lr=1e-4),
    )
)
register_model(
    ModelSpec(
        name="transformer_encoder",
        builder="keras_dlbasic.models.transformer:transformer_encoder",
        chapter=5,
        tasks=("classification", "regression"),
        inputs="sequence",
        paper=VASWANI,
        input_shape=(28, 28),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=69_450,
        params_source=(
            "28·64+64 input projection + 2·(4·(64²+64) + 2·64·128+128+64 + 2·128) "
            "+ 64·10+10 head"
        ),
        recipe=Recipe(epochs=5, batch_size=64, lr=1e-3),
    )
)
