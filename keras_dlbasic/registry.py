"""The model registry: one ``ModelSpec`` per model, the single list of models.

Specs are plain data, so listing models and reading their metadata never
imports keras; the builder is imported only when a model is built. The CLI,
the README's model table and the parametrized tests all read this registry.
"""
import contextlib
import dataclasses
import fnmatch
import importlib
import inspect

from keras_dlbasic.errors import ModelArgumentError, UnknownNameError, close_matches_hint


@dataclasses.dataclass(frozen=True)
class Paper:
    title: str
    authors: str
    year: int
    url: str


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything known about a registered model besides its code.

    Attributes:
        name: registry name, e.g. ``"resnet50"``.
        builder: ``"module:function"`` that returns a ``keras.Model``.
        chapter: course chapter the model belongs to.
        task: e.g. ``"image-classification"``.
        paper: the paper the model comes from.
        input_shape: default input shape, channels-last, without the batch axis.
        dataset: default dataset; always available offline.
        full_dataset: the full-size TFDS dataset it trains on, or None where only
            the offline default is supported.
        reference_params: parameter count the builder must reproduce exactly.
        params_source: where ``reference_params`` comes from.
        kwargs: builder arguments that define this variant.
        recipe: training defaults (``epochs``, ``batch_size``, ``lr``).
        aliases: other accepted names.
        test_kwargs: builder arguments for a small, fast instance used by tests.
        min_input_size: smallest image side the network takes; smaller training
            images (e.g. the bundled 28x28 digits) are resized up to it.
        dataset_recipes: per-dataset changes to ``recipe``, e.g.
            ``{"adding_problem": {"lr": 1e-2, "model_kwargs": {"units": 32}}}``.
    """

    name: str
    builder: str
    chapter: int
    task: str
    paper: Paper
    input_shape: tuple
    dataset: str
    full_dataset: str
    reference_params: int
    params_source: str
    kwargs: dict = dataclasses.field(default_factory=dict)
    recipe: dict = dataclasses.field(default_factory=dict)
    aliases: tuple = ()
    test_kwargs: dict = dataclasses.field(default_factory=dict)
    min_input_size: int = None
    dataset_recipes: dict = dataclasses.field(default_factory=dict)

    def as_dict(self):
        return dataclasses.asdict(self)


_MODELS = {}
_ALIASES = {}


def register_model(spec):
    """Add ``spec`` to the registry; names and aliases must be unique."""
    for key in (spec.name, *spec.aliases):
        if key in _MODELS or key in _ALIASES:
            raise ValueError(f"model name '{key}' is registered twice")
    _MODELS[spec.name] = spec
    _ALIASES.update({alias: spec.name for alias in spec.aliases})
    return spec


def list_models(pattern=None, chapter=None):
    """Sorted registered names, filtered by a glob ``pattern`` and/or ``chapter``."""
    names = sorted(_MODELS, key=lambda n: (_MODELS[n].chapter, n))
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    if chapter is not None:
        names = [n for n in names if _MODELS[n].chapter == chapter]
    return names


def model_info(name):
    """The ``ModelSpec`` of ``name`` (or of the model ``name`` is an alias of)."""
    key = _ALIASES.get(name, name)
    if key not in _MODELS:
        hint = close_matches_hint(name, [*_MODELS, *_ALIASES])
        raise UnknownNameError(f"unknown model '{name}'{hint} (see `dlbasic list`)")
    return _MODELS[key]


def get_model(name, **overrides):
    """Build the registered model ``name``.

    Overrides set to ``None`` are dropped, so unset CLI options never replace
    a variant's defaults. Arguments the builder rejects raise
    ``ModelArgumentError`` with the builder's message.

    Example:
        >>> model = get_model("cnn", classes=10)
        >>> model.output_shape
        (None, 10)
    """
    spec = model_info(name)
    module, function = spec.builder.split(":")
    builder = getattr(importlib.import_module(module), function)
    kwargs = {**spec.kwargs, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        inspect.signature(builder).bind(**kwargs)
    except TypeError as err:
        raise ModelArgumentError(f"{spec.name}: {err}") from err
    try:
        return builder(**kwargs)
    except ModelArgumentError:
        raise
    except ValueError as err:  # keras rejecting a shape the builder let through
        raise ModelArgumentError(f"{spec.name}: {err}") from err


def load_model(path, compile=True):
    """``keras.saving.load_model`` with every keras-dlbasic layer registered.

    A ``.keras`` file names its custom layers (``keras_dlbasic>SharedEmbedding``);
    they are known once their modules are imported, which this does first.
    """
    import keras

    for module in sorted({spec.builder.split(":")[0] for spec in _MODELS.values()}):
        importlib.import_module(module)
    return keras.saving.load_model(path, compile=compile)


@contextlib.contextmanager
def shapes_only():
    """Build models without drawing their initial weights.

    Shapes, parameter counts and MACs need no weight values, and drawing them
    dominates the build time of big models (on JAX each new weight shape
    compiles its random initializer). Models built inside cannot be called.

    Example:
        >>> with shapes_only():
        ...     get_model("vgg16").count_params()
        138357544
    """
    import keras
    from keras.src.backend.common import global_state

    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        # Forget the deferred initializers, or the next stateless scope would run them.
        global_state.set_global_attribute("uninitialized_variables", [])
