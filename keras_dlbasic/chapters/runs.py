"""Training runs a chapter script can re-run.

``train_or_resume`` trains one configuration into a run directory or, when the
directory already holds that run, continues it after its last finished epoch
(a finished run is only re-evaluated). Its ``TrainingCurve`` carries the
per-epoch training loss, the test metrics and the training time.
"""
import dataclasses
import json
import pathlib

from keras_dlbasic.errors import DLBasicError
from keras_dlbasic.io import read_csv
from keras_dlbasic.training import load_run, resume, train


@dataclasses.dataclass
class TrainingCurve:
    """One finished run: per-epoch training losses, test metrics, where it lives.

    ``losses`` maps each training loss in history.csv to its per-epoch values:
    ``loss`` for one network, ``d_loss`` and ``g_loss`` for two players (a GAN,
    an adversarial autoencoder). ``seconds`` adds up the epochs' times from
    history.csv, so it stays the training time when a finished run is only
    re-evaluated.
    """

    model: str
    losses: dict
    metrics: dict
    run_dir: pathlib.Path
    seconds: float

    @property
    def loss(self):
        """The per-epoch training loss of a one-network run."""
        return self.losses["loss"]


def train_or_resume(config, run_dir, verbose=0):
    """``train(config, run_dir)``, or ``resume`` if ``run_dir`` holds a run of ``config``.

    A run with the same configuration, or the same with fewer epochs, continues
    after its last finished epoch (a finished one is only re-evaluated); any
    other run there raises ``DLBasicError``.

    Returns:
        The run's ``TrainingCurve``.
    """
    run_dir = pathlib.Path(run_dir)
    if (run_dir / "config.json").is_file():
        _check_same_run(run_dir, config)
        metrics = resume(run_dir, epochs=config.epochs, verbose=verbose)
    else:
        metrics = train(config, run_dir, verbose=verbose)
    history = read_csv(run_dir / "history.csv")
    losses = {name: [row[name] for row in history] for name in history[0]
              if name.endswith("loss") and not name.startswith("val_")}
    return TrainingCurve(config.model, losses, metrics, run_dir,
                         round(sum(row["seconds"] for row in history), 2))


def _check_same_run(run_dir, config):
    stored, _ = load_run(run_dir)
    differs = []
    for field in (f.name for f in dataclasses.fields(config)):
        # As config.json holds them: a tuple read back is a list.
        there, here = (json.loads(json.dumps(getattr(c, field))) for c in (stored, config))
        if there != here and not (field == "epochs" and there < here):
            differs.append(f"{field}: {there!r} there, {here!r} here")
    if differs:
        raise DLBasicError(f"{run_dir} holds a different run ({'; '.join(differs)}); "
                           f"choose another output directory")
