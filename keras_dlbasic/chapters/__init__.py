"""The chapters' studies, one module per course chapter.

The scripts in the top-level ``chapters/`` folder import them: ``ch02``
(gradient flow and degradation), ``ch03`` (convolutionalization, toy
pooling, time per image), ``ch04`` (gate recordings, hard sequences),
``ch05`` (greedy decoding, attention weights), and ``runs``
(``train_or_resume``, so a chapter script can be re-run). Nothing here defines
a model; the models are in ``keras_dlbasic.models``.

The scripts are jupytext percent files, run top to bottom by ``python`` or
opened as notebooks; ``script_args`` and ``show`` let them do both.
"""
import sys


def in_notebook():
    """Whether this runs in a Jupyter kernel (an IPython shell with a kernel)."""
    ipython = sys.modules.get("IPython")  # a kernel has imported it; nothing else needs to
    shell = ipython.get_ipython() if ipython else None
    return getattr(shell, "kernel", None) is not None


def script_args(parser):
    """``parser.parse_args()``; in a notebook, where ``sys.argv`` holds the kernel's
    own arguments, the defaults."""
    return parser.parse_args([] if in_notebook() else None)


def show(path):
    """Display a saved PNG inline in a notebook; elsewhere print its path."""
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    else:
        print(path)
