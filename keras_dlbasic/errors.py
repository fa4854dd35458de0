"""Errors a user can fix.

The CLI prints the message of any ``DLBasicError`` on one line and exits
non-zero; anything else is a bug and keeps its traceback.
"""
import math


class DLBasicError(Exception):
    """Base class for errors caused by the user's input or environment."""


class UnknownNameError(DLBasicError, ValueError):
    """An unknown model, dataset, backend or format name."""


class ModelArgumentError(DLBasicError, ValueError):
    """A builder argument (input shape, classes, ...) the model cannot take."""


def check_positive_ints(owner, **values):
    """Raise ``ModelArgumentError`` unless each value is a positive int, or a non-empty
    tuple/list of them (``bool`` is not an int here).

    ``owner`` (a model or layer name) starts the message, which repeats the bad value:
    ``"vgg16: fc_units must be a positive integer; got fc_units=0"``.
    """
    for arg, value in values.items():
        items = value if isinstance(value, (tuple, list)) else [value]
        if not items or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in items):
            what = "positive integers" if isinstance(value, (tuple, list)) else "a positive integer"
            raise ModelArgumentError(f"{owner}: {arg} must be {what}; got {arg}={value!r}")


def check_non_negative_ints(owner, **values):
    """Raise ``ModelArgumentError`` unless each value is an int of 0 or more (``bool`` is
    not an int here): ``"ddpm: seed must be a non-negative integer; got seed=-1"``."""
    for arg, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelArgumentError(
                f"{owner}: {arg} must be a non-negative integer; got {arg}={value!r}")


def check_positive_numbers(owner, **values):
    """Raise ``ModelArgumentError`` unless each value is a finite int or float above 0
    (``bool`` is not a number here): ``"aae: adversarial_weight must be a positive number;
    got adversarial_weight=0"``. ``owner`` may be ``None`` (no prefix)."""
    for arg, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                value > 0 and math.isfinite(value)):
            prefix = f"{owner}: " if owner else ""
            raise ModelArgumentError(f"{prefix}{arg} must be a positive number; got {arg}={value!r}")


def check_non_negative_numbers(owner, **values):
    """Raise ``ModelArgumentError`` unless each value is a finite int or float of 0 or more
    (``bool`` is not a number here): ``"ddpm: guidance must be a non-negative number;
    got guidance=-1"``."""
    for arg, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                value >= 0 and math.isfinite(value)):
            raise ModelArgumentError(
                f"{owner}: {arg} must be a non-negative number; got {arg}={value!r}")


class MissingDependencyError(DLBasicError, ImportError):
    """An optional package is not installed; the message names the extra."""


class DatasetUnavailableError(DLBasicError):
    """A dataset is neither prepared locally nor downloadable."""


class TrainingDivergedError(DLBasicError):
    """The loss became NaN or infinite."""


class ExportError(DLBasicError):
    """An export failed or its artifact disagrees with the Keras model."""


def close_matches_hint(name, candidates):
    """Return ``"; did you mean a, b?"`` for names close to ``name``, else ``""``."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(matches)}?" if matches else ""


def require(module, extra, purpose):
    """Import ``module`` or raise a ``MissingDependencyError`` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"{purpose} needs the '{module}' package: pip install 'keras-dlbasic[{extra}]'"
        ) from err
