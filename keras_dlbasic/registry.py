"""The model registry: one ``ModelSpec`` per model, the single list of models.

Specs are plain data, so listing models and reading their metadata never
imports keras; the builder is imported only when a model is built. Each
family registers its specs, with their reference figures and sources, in a
keras-free ``keras_dlbasic/models/<family>_specs.py`` beside its builder. The
CLI, the README's model table and the parametrized tests all read this registry.
"""
import contextlib
import dataclasses
import fnmatch
import importlib
import inspect
import os

from keras_dlbasic.errors import DLBasicError, ModelArgumentError, UnknownNameError, close_matches_hint
from keras_dlbasic.recipe import Recipe, check_keys


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
        tasks: the task types it trains for (``keras_dlbasic.tasks``), the
            first being its default: a dataset's ``kind`` must be one of them.
        inputs: what it reads: ``"image"``, ``"sequence"`` (time steps of
            features; images are read row by row) or ``"tokens"``.
        paper: the paper the model comes from.
        input_shape: default input shape, channels-last, without the batch axis.
        dataset: default dataset; always available offline.
        full_dataset: the full-size TFDS dataset it trains on, or None where only
            the offline default is supported.
        reference_params: parameter count the builder must reproduce exactly.
        params_source: where ``reference_params`` comes from.
        reference_macs: published multiply-accumulates per example at
            ``input_shape`` (``keras_dlbasic.accounting``'s convention), or None
            where no figure agrees with that convention; the builder must
            reproduce it to the figure's rounding.
        macs_source: where ``reference_macs`` comes from.
        kwargs: builder arguments that define this variant.
        recipe: the training ``Recipe``.
        aliases: other accepted names.
        min_input_size: smallest image side the network takes; smaller training
            images (e.g. the bundled 28x28 digits) are resized up to it.
        dataset_recipes: dataset name -> the ``Recipe`` used on that dataset
            instead of ``recipe``.
    """

    name: str
    builder: str
    chapter: int
    tasks: tuple
    inputs: str
    paper: Paper
    input_shape: tuple
    dataset: str
    full_dataset: str
    reference_params: int
    params_source: str
    reference_macs: float = None
    macs_source: str = None
    kwargs: dict = dataclasses.field(default_factory=dict)
    recipe: Recipe = Recipe()
    aliases: tuple = ()
    min_input_size: int = None
    dataset_recipes: dict = dataclasses.field(default_factory=dict)

    def recipe_for(self, dataset):
        """The recipe on ``dataset``: its own entry in ``dataset_recipes``, else ``recipe``."""
        return self.dataset_recipes.get(dataset, self.recipe)

    def load_builder(self):
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)


def variant_of(base, fixed=()):
    """Mark a builder ``variant(**kwargs)`` as passing its arguments on to ``base``.

    The variant then accepts the arguments of ``base`` except those it fixes
    itself (``fixed``), and ``builder_parameters`` lists them, so an unknown
    or misspelt argument is refused before anything is built.
    """
    def mark(variant):
        variant.variant_of = (base, tuple(fixed))
        return variant

    return mark


def builder_parameters(builder):
    """The argument names ``builder`` accepts, following ``variant_of`` marks.

    Returns ``None`` when it takes any keyword (``**kwargs`` with no mark).
    """
    names, open_ended = [], False
    for parameter in inspect.signature(builder).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            open_ended = True
        elif parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
            names.append(parameter.name)
    if open_ended:
        if not hasattr(builder, "variant_of"):
            return None
        base, fixed = builder.variant_of
        inherited = builder_parameters(base)
        if inherited is None:
            return None
        names += [n for n in inherited if n not in fixed and n not in names]
    return tuple(names)


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
    builder = spec.load_builder()
    kwargs = {**spec.kwargs, **{k: v for k, v in overrides.items() if v is not None}}
    check_builder_kwargs(spec, kwargs, builder)
    try:
        return builder(**kwargs)
    except ModelArgumentError:
        raise
    except (TypeError, ValueError) as err:  # keras rejecting a value the builder let through
        raise ModelArgumentError(f"{spec.name}: {str(err).splitlines()[0]}") from err


def check_builder_kwargs(spec, kwargs, builder=None):
    """Refuse builder arguments that ``spec``'s builder does not take, naming the valid ones."""
    valid = builder_parameters(builder or spec.load_builder())
    if valid is not None:
        check_keys("", kwargs, valid, noun="argument", owner=spec.name)


def load_model(path, compile=True):
    """``keras.saving.load_model`` with every keras-dlbasic layer registered.

    A ``.keras`` file names its custom layers and losses (``keras_dlbasic>SharedEmbedding``);
    they are known once their modules are imported, which this does first. A
    file that cannot be read (truncated, not a model) raises a one-line
    ``DLBasicError``.
    """
    import keras

    modules = {spec.builder.split(":")[0] for spec in _MODELS.values()} | {"keras_dlbasic.losses"}
    for module in sorted(modules):
        importlib.import_module(module)
    import zipfile

    if str(path).endswith(".keras") and os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise DLBasicError(f"cannot load {path}: not a complete .keras file (truncated?)")
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as err:  # noqa: BLE001  (zip, h5 and deserialization errors alike)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DLBasicError(f"cannot load {path}: {reason}") from None


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
