"""Task types: one object per kind of learning problem, found by name.

A dataset's ``kind`` names the task that trains on it ("classification",
"regression", "seq2seq"; chapters 3 and 6 add theirs); a model lists the tasks
it can do in ``ModelSpec.tasks``. The trainer (``keras_dlbasic.training``) asks
the task for everything that differs between problems: the loss and metrics,
what the data fixes about the model, what ``fit`` receives, evaluation beyond
``model.evaluate`` and the figures a run saves (see ``keras_dlbasic.tasks.base.Task``).

A new kind of problem is one new module and one call, from inside the package
or outside it:

    >>> register_task("parity", "my_package.tasks:Parity")   # or the class itself

Registering imports nothing; the task's module is imported when a run needs it.
Nothing here imports keras.
"""
import importlib

from keras_dlbasic.errors import UnknownNameError, close_matches_hint

_TASKS = {}


def register_task(name, task):
    """Register ``task`` (a ``Task`` subclass, or ``"module:Class"``) under ``name``."""
    if name in _TASKS:
        raise ValueError(f"task '{name}' is registered twice")
    _TASKS[name] = task
    return task


def list_tasks():
    return sorted(_TASKS)


def get_task(name):
    """A new instance of the task registered as ``name``."""
    if name not in _TASKS:
        hint = close_matches_hint(name, _TASKS)
        raise UnknownNameError(f"unknown task '{name}'{hint}; registered: {', '.join(list_tasks())}")
    task = _TASKS[name]
    if isinstance(task, str):
        module, attribute = task.split(":")
        task = getattr(importlib.import_module(module), attribute)
    return task()


register_task("classification", "keras_dlbasic.tasks.classification:Classification")
register_task("regression", "keras_dlbasic.tasks.classification:Regression")
register_task("seq2seq", "keras_dlbasic.tasks.seq2seq:SequenceToSequence")
register_task("segmentation", "keras_dlbasic.tasks.segmentation:Segmentation")
register_task("detection", "keras_dlbasic.tasks.detection:Detection")
register_task("density", "keras_dlbasic.tasks.generative:DensityEstimation")
register_task("generation", "keras_dlbasic.tasks.generative:ImageGeneration")
