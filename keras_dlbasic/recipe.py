"""Training recipes and the training options' choices, without importing keras.

A ``Recipe`` is what the catalog says about training one model (on one
dataset): epochs, batch size, Adam's learning rate and its schedule, and the
builder arguments the recipe needs. ``TrainConfig`` is a recipe resolved for
one run, as its ``config.json`` holds it (``resolve_config``, ``load_run``). The CLI reads its choices from here, so
``dlbasic --help`` never imports keras.

    >>> Recipe(epochs=15, lr=3e-3).replace(batch_size=64).batch_size
    64
    >>> Recipe.from_dict({"epoch": 3})   # ModelArgumentError: unknown recipe key 'epoch';
    ...                                   # did you mean epochs?; valid keys: epochs, ...
"""
import dataclasses
import json
import pathlib

from keras_dlbasic.errors import DLBasicError, ModelArgumentError, check_positive_numbers, close_matches_hint
from keras_dlbasic.io import read_json

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
SCHEDULES = ("constant", "cosine")
# How a run spreads over devices: one, or a replica per device (keras_dlbasic.distribute).
DISTRIBUTIONS = ("none", "data-parallel")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a model trains by default.

    Attributes:
        epochs: passes over the training split.
        batch_size: examples per step.
        lr: Adam's learning rate (its peak under the ``"cosine"`` schedule).
        schedule: ``"constant"``, or ``"cosine"``: decayed to 0 over the run.
        beta_1: Adam's decay rate of its gradient average (0.5 in DCGAN's recipe).
        model_kwargs: builder arguments the recipe sets (e.g. ``units=32``);
            checked against the builder's signature when the model is built.
    """

    epochs: int = 3
    batch_size: int = 32
    lr: float = 1e-3
    schedule: str = "constant"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    beta_1: float = 0.9

    def __post_init__(self):
        for field in ("epochs", "batch_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ModelArgumentError(f"{field} must be at least 1; got {value!r}")
        check_positive_numbers(None, lr=self.lr)
        check_choice("schedule", self.schedule, SCHEDULES)
        if isinstance(self.beta_1, bool) or not isinstance(self.beta_1, (int, float)) or not (
                0 <= self.beta_1 < 1):
            raise ModelArgumentError(f"beta_1 must be in [0, 1); got {self.beta_1!r}")
        if not isinstance(self.model_kwargs, dict):
            raise ModelArgumentError(
                f"model_kwargs must be a dict of builder arguments; got {self.model_kwargs!r}")

    @classmethod
    def keys(cls):
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values):
        """A recipe from a plain mapping; an unknown key is refused, naming the valid ones."""
        check_keys("recipe", values, cls.keys())
        return cls(**values)

    def replace(self, **changes):
        """This recipe with ``changes`` (``None`` values keep the recipe's own)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        check_keys("recipe", changes, self.keys())
        return dataclasses.replace(self, **changes)

    def as_dict(self):
        return {**dataclasses.asdict(self), "model_kwargs": dict(self.model_kwargs)}

    def describe(self):
        """``"10 epochs, batch 64, Adam lr 0.001, constant schedule, units=32"``."""
        return ", ".join([f"{self.epochs} epochs", f"batch {self.batch_size}",
                          f"Adam lr {self.lr:g}" + (f" beta_1 {self.beta_1:g}"
                                                    if self.beta_1 != 0.9 else ""),
                          f"{self.schedule} schedule",
                          *(f"{k}={v}" for k, v in self.model_kwargs.items())])


def check_keys(what, values, valid, noun="key", owner=None):
    """Refuse a key of ``values`` outside ``valid`` with one line naming the valid ones:
    ``"[owner: ]unknown <what> <noun> 'x'; did you mean y?; valid <noun>s: ..."``."""
    for key in values:
        if key not in valid:
            hint = close_matches_hint(key, valid)
            raise ModelArgumentError(
                f"{owner + ': ' if owner else ''}unknown {what + ' ' if what else ''}{noun} "
                f"'{key}'{hint}; valid {noun}s: {', '.join(valid)}")


def check_choice(what, value, choices):
    if value not in choices:
        raise ModelArgumentError(f"unknown {what} '{value}'; choose one of {', '.join(choices)}")


# --- One run's configuration ---------------------------------------------------------


@dataclasses.dataclass
class TrainConfig:
    """A recipe resolved for one run, as saved in its ``config.json``."""

    model: str
    dataset: str
    epochs: int
    batch_size: int
    lr: float
    schedule: str = "constant"
    seed: int = 0
    precision: str = "float32"
    data_dir: str = None
    limit: int = None
    backend: str = ""
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    beta_1: float = 0.9
    distribute: str = "none"

    def recipe(self):
        return Recipe(self.epochs, self.batch_size, self.lr, self.schedule, self.model_kwargs,
                      self.beta_1)

    @classmethod
    def from_dict(cls, values):
        """A config from ``config.json``'s mapping, validated as ``resolve_config`` does."""
        if not isinstance(values, dict):
            raise ModelArgumentError(f"expected a JSON object; got {type(values).__name__}")
        check_keys("config", values, [f.name for f in dataclasses.fields(cls)])
        try:
            config = cls(**values)
        except TypeError as err:  # a required key missing
            raise ModelArgumentError(str(err).split(".", 1)[-1].strip()) from None
        validate(config)
        return config


def resolve_config(model, dataset=None, epochs=None, batch_size=None, lr=None, schedule=None,
                   seed=None, precision=None, data_dir=None, limit=None, model_kwargs=None,
                   distribute=None):
    """Fill unset options from the model's recipe (for that dataset) and validate them.

    Precedence: the options given here, then the model's recipe for the
    dataset (``ModelSpec.recipe_for``). ``model_kwargs`` are added to the
    recipe's builder arguments; a ``None`` there replaces the recipe's value with
    ``None`` (``--model-arg min_snr_gamma=null`` unsets the DDPM recipe's weighting).
    """
    from keras_dlbasic.backend import current_backend
    from keras_dlbasic.data import dataset_info
    from keras_dlbasic.registry import model_info

    spec = model_info(model)
    dataset = dataset or spec.dataset
    dataset_info(dataset)
    recipe = spec.recipe_for(dataset).replace(epochs=epochs, batch_size=batch_size, lr=lr,
                                              schedule=schedule)
    config = TrainConfig(
        model=spec.name, dataset=dataset, epochs=recipe.epochs, batch_size=recipe.batch_size,
        lr=recipe.lr, schedule=recipe.schedule, beta_1=recipe.beta_1,
        seed=0 if seed is None else seed,
        precision=precision or "float32", data_dir=data_dir, limit=limit,
        backend=current_backend(), model_kwargs={**recipe.model_kwargs, **(model_kwargs or {})},
        distribute=distribute or "none",
    )
    validate(config)
    return config


def validate(config):
    """Raise ``ModelArgumentError`` for a value no run could use."""
    config.recipe()  # epochs, batch size, learning rate, schedule
    check_choice("precision", config.precision, PRECISIONS)
    check_choice("distribute", config.distribute, DISTRIBUTIONS)
    if config.limit is not None and (not isinstance(config.limit, int) or config.limit < 1):
        raise ModelArgumentError(f"limit must be at least 1; got {config.limit!r}")
    if isinstance(config.seed, bool) or not isinstance(config.seed, int):
        raise ModelArgumentError(f"seed must be an integer; got {config.seed!r}")


def load_run(run_dir):
    """The ``TrainConfig`` and state of an existing run directory.

    A missing, unreadable or malformed ``config.json`` or ``state.json`` is a
    one-line ``DLBasicError``.
    """
    run_dir = pathlib.Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise DLBasicError(f"no training run at {run_dir} (config.json not found)")
    try:
        config = TrainConfig.from_dict(_read_run_file(run_dir / "config.json"))
    except ModelArgumentError as err:
        raise DLBasicError(f"{run_dir / 'config.json'} is corrupt: {err}") from None
    state_file = run_dir / "state.json"
    state = _read_run_file(state_file) if state_file.is_file() else None
    if state is not None and not (isinstance(state, dict) and isinstance(state.get("epochs_done"), int)):
        raise DLBasicError(f"{state_file} is corrupt: no epochs_done count")
    return config, state


def _read_run_file(path):
    try:
        return read_json(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DLBasicError(f"{path} is corrupt: {str(err).splitlines()[0]}") from None
