"""The catalog of registered models, chapter by chapter.

Each entry names its builder as ``"module:function"`` so that listing models
never imports keras. Builders live in one module per model family.
"""
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
        task="image-classification",
        paper=LENET,
        input_shape=(28, 28, 1),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=225_034,
        params_source="hand count: 3·3·1·32+32 + 3·3·32·64+64 + 1600·128+128 + 128·10+10",
        recipe={"epochs": 3, "batch_size": 32, "lr": 1e-3},
    )
)

# --- Chapter 2: modern CNNs ------------------------------------------------------
# min_input_size is the smallest side each builder accepts: 2^5 = 32 for the five
# stride-2 steps of VGG, GoogLeNet and the ImageNet ResNets/DenseNets; 63 (67 for the
# paper's unpadded conv1) for AlexNet's 11x11/4 conv and three 3x3/2 valid pools.
# The CIFAR nets (ResNet-20..110, plain-20/56, DenseNet-BC) take 28x28 as it is.
RESNET = Paper(
    title="Deep Residual Learning for Image Recognition",
    authors="He, Zhang, Ren, Sun",
    year=2016,
    url="https://arxiv.org/abs/1512.03385",
)
# ImageNet ResNets: trainable counts equal torchvision's num_params; count_params()
# adds BatchNorm's moving mean/variance (2 per BN channel, buffers in PyTorch).
# CIFAR ResNets (Sec. 4.2, option A shortcuts) have no torchvision twin: Table 6 rounds.
# `dlbasic train resnet20` is the chapter's quick recipe: >= 97% test accuracy on the
# bundled digits. Its residual branches start at BN scale 0, so Adam needs a larger
# step than 1e-3 to wake them up within 10 epochs.
_RESNET20_RECIPE = {"epochs": 10, "batch_size": 64, "lr": 2e-3}
for _name, _trainable, _moving, _source in [
    ("resnet18", 11_689_512, 9_600, "torchvision resnet18"),
    ("resnet34", 21_797_672, 17_024, "torchvision resnet34"),
    ("resnet50", 25_557_032, 53_120, "torchvision resnet50"),
    ("resnet101", 44_549_160, 105_344, "torchvision resnet101"),
    ("resnet152", 60_192_808, 151_424, "torchvision resnet152"),
    ("resnet20", 269_722, 1_376, "He et al. 2016 Table 6: 0.27M"),
    ("resnet32", 464_154, 2_272, "He et al. 2016 Table 6: 0.46M"),
    ("resnet44", 658_586, 3_168, "He et al. 2016 Table 6: 0.66M"),
    ("resnet56", 853_018, 4_064, "He et al. 2016 Table 6: 0.85M"),
    ("resnet110", 1_727_962, 8_096, "He et al. 2016 Table 6: 1.7M"),
    ("plain20", 269_722, 1_376, "same as resnet20: option-A shortcuts hold no weights"),
    ("plain56", 853_018, 4_064, "same as resnet56: option-A shortcuts hold no weights"),
]:
    _cifar = not _source.startswith("torchvision")
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.resnet:{_name}",
            chapter=2,
            task="image-classification",
            paper=RESNET,
            input_shape=(32, 32, 3) if _cifar else (224, 224, 3),
            dataset="mnist_5k",
            full_dataset="cifar10",
            reference_params=_trainable + _moving,
            params_source=(
                f"{_source}: {_trainable:,} trainable (exact) + {_moving:,} BatchNorm "
                "moving mean/variance (non-trainable)"
            ),
            recipe=(_RESNET20_RECIPE if _name == "resnet20"
                    else {"epochs": 10, "batch_size": 64, "lr": 1e-3}),
            # Tests build the deep ImageNet variants with one block per stage (the
            # full stage_blocks are checked by the parameter count).
            test_kwargs={} if _cifar else {"input_shape": (32, 32, 3), "classes": 10,
                                           "stage_blocks": (1, 1, 1, 1)},
            min_input_size=None if _cifar else 32,
        )
    )


DENSENET = Paper(
    title="Densely Connected Convolutional Networks",
    authors="Huang, Liu, van der Maaten, Weinberger",
    year=2017,
    url="https://arxiv.org/abs/1608.06993",
)
for _name, _trainable, _moving, _source in [
    ("densenet121", 7_978_856, 83_648, "torchvision densenet121"),
    ("densenet169", 14_149_480, 158_400, "torchvision densenet169"),
    ("densenet201", 20_013_928, 229_056, "torchvision densenet201"),
    ("densenet_bc", 769_162, 23_988, "Huang et al. 2017 Table 2 (L=100, k=12): 0.8M"),
]:
    _cifar = _name == "densenet_bc"
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.densenet:{_name}",
            chapter=2,
            task="image-classification",
            paper=DENSENET,
            input_shape=(32, 32, 3) if _cifar else (224, 224, 3),
            dataset="mnist_5k",
            full_dataset="cifar10",
            reference_params=_trainable + _moving,
            params_source=(
                f"{_source}: {_trainable:,} trainable (exact) + {_moving:,} BatchNorm "
                "moving mean/variance (non-trainable)"
            ),
            recipe={"epochs": 10, "batch_size": 64, "lr": 1e-3},
            # Tests build two dense layers per block (full blocks: parameter count).
            test_kwargs={"depth": 40} if _cifar else {"input_shape": (32, 32, 3), "classes": 10,
                                                      "blocks": (2, 2, 2, 2)},
            min_input_size=None if _cifar else 32,
        )
    )

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
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.vgg:{_name}",
            chapter=2,
            task="image-classification",
            paper=VGG,
            input_shape=(224, 224, 3),
            dataset="mnist_5k",
            full_dataset="cifar10",
            reference_params=_trainable + _moving,
            params_source=(
                f"torchvision {_name}: {_trainable:,} trainable (exact)"
                + (f" + {_moving:,} BatchNorm moving mean/variance (non-trainable)" if _moving else "")
            ),
            recipe={"epochs": 10, "batch_size": 64, "lr": 1e-4},
            test_kwargs={"input_shape": (32, 32, 3), "classes": 10, "fc_units": 64},
            min_input_size=32,
        )
    )

register_model(
    ModelSpec(
        name="googlenet",
        builder="keras_dlbasic.models.googlenet:googlenet",
        chapter=2,
        task="image-classification",
        paper=Paper(
            title="Going Deeper with Convolutions",
            authors="Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke, Rabinovich",
            year=2015,
            url="https://arxiv.org/abs/1409.4842",
        ),
        input_shape=(224, 224, 3),
        dataset="mnist_5k",
        full_dataset="cifar10",
        reference_params=6_998_552,
        params_source=(
            "paper's Table 1 network (5x5 branch, biases, no BN): 6,990,272 weights "
            "(6,826K with K=1024; Table 1 sums to ~6.8M) + 8,280 biases; "
            "torchvision's BN/3x3 variant has 6,624,904"
        ),
        recipe={"epochs": 10, "batch_size": 64, "lr": 1e-4},  # no batch norm: Adam 1e-3 overshoots
        aliases=("inception",),
        test_kwargs={"input_shape": (32, 32, 3), "classes": 10},
        min_input_size=32,
    )
)

ALEXNET = Paper(
    title="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="Krizhevsky, Sutskever, Hinton",
    year=2012,
    url="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
)
for _name, _params, _shape, _min_size, _source in [
    ("alexnet", 61_100_840, (224, 224, 3), 63, "torchvision alexnet (single tower, 64/192/384/256/256)"),
    (
        "alexnet_paper",
        60_965_224,
        (227, 227, 3),
        67,
        "hand count of the paper's two-tower net (96/256/384/384/256, groups=2 in "
        "conv2/4/5, 227x227); 62,378,344 with groups=1",
    ),
]:
    register_model(
        ModelSpec(
            name=_name,
            builder=f"keras_dlbasic.models.alexnet:{_name}",
            chapter=2,
            task="image-classification",
            paper=ALEXNET,
            input_shape=_shape,
            dataset="mnist_5k",
            full_dataset="cifar10",
            reference_params=_params,
            params_source=_source,
            recipe={"epochs": 10, "batch_size": 64, "lr": 1e-4},
            test_kwargs={"input_shape": (72, 72, 3), "classes": 10, "fc_units": 64},
            min_input_size=_min_size,
        )
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
            task="sequence-classification",
            paper=_paper,
            input_shape=(28, 28),
            dataset="mnist_5k",
            full_dataset="imdb_reviews",
            reference_params=_params,
            params_source=f"rnn_param_formula: {_formula}",
            recipe={"epochs": 15, "batch_size": 32, "lr": 3e-3},
            # The adding problem (length 100) needs a larger step to leave the 0.167
            # plateau; 32 units are enough and 4x faster than 128.
            dataset_recipes={"adding_problem": {"epochs": 20, "batch_size": 64, "lr": 1e-2,
                                                "model_kwargs": {"units": 32}}},
            test_kwargs={"units": 16},
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
_TINY_SEQ2SEQ = {"d_model": 16, "num_heads": 2, "d_ff": 32, "encoder_layers": 1, "decoder_layers": 1}

# Inputs: [encoder_tokens (B, S), decoder_tokens (B, T)] int32; output (B, T, vocab) probabilities.
register_model(
    ModelSpec(
        name="transformer",
        builder="keras_dlbasic.models.transformer:transformer",
        chapter=5,
        task="sequence-to-sequence",
        paper=VASWANI,
        input_shape=((None,), (None,)),
        dataset="digit_reversal",
        full_dataset=None,  # WMT14 needs a subword tokenizer: not supported offline
        reference_params=168_256,
        params_source=_TRANSFORMER_PARAMS + " with V=13, d=64, d_ff=128, 2+2 layers",
        recipe={"epochs": 10, "batch_size": 64, "lr": 1e-3},
        test_kwargs=_TINY_SEQ2SEQ,
    )
)
register_model(
    ModelSpec(
        name="transformer_base",
        builder="keras_dlbasic.models.transformer:transformer_base",
        chapter=5,
        task="sequence-to-sequence",
        paper=VASWANI,
        input_shape=((None,), (None,)),
        dataset="digit_reversal",
        full_dataset=None,  # WMT14 needs a subword tokenizer: not supported offline
        reference_params=63_082_496,
        params_source=(
            _TRANSFORMER_PARAMS + " with V=37,000, d=512, d_ff=2048, 6+6 layers "
            "(paper Table 3: 65M)"
        ),
        recipe={"epochs": 1, "batch_size": 32, "lr": 1e-4},
        test_kwargs={"vocab_size": 64, **_TINY_SEQ2SEQ},
    )
)
register_model(
    ModelSpec(
        name="transformer_encoder",
        builder="keras_dlbasic.models.transformer:transformer_encoder",
        chapter=5,
        task="sequence-classification",
        paper=VASWANI,
        input_shape=(28, 28),
        dataset="mnist_5k",
        full_dataset="mnist",
        reference_params=69_450,
        params_source=(
            "28·64+64 input projection + 2·(4·(64²+64) + 2·64·128+128+64 + 2·128) "
            "+ 64·10+10 head"
        ),
        recipe={"epochs": 5, "batch_size": 64, "lr": 1e-3},
        test_kwargs={"d_model": 16, "num_heads": 2, "d_ff": 32, "num_layers": 1},
    )
)
