"""Chapter 2 studies: gradient flow at init, degradation runs and their resumption."""
import numpy as np
import pytest

from keras_dlbasic import load_model
from keras_dlbasic.chapters.ch02 import degradation_experiment, gradient_flow
from keras_dlbasic.data import load_dataset
from keras_dlbasic.errors import DLBasicError, ModelArgumentError
from keras_dlbasic.plotting import plot_curves

from conftest import predict


def test_gradient_flow_compares_plain_and_residual_nets():
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 8, 8, 1), dtype=np.float32), np.arange(4, dtype="int32")
    zero_init = gradient_flow(x, y, depths=(8,))
    paper_init = gradient_flow(x, y, depths=(8,), zero_init_residual=False)
    plain, residual = zero_init[8, "plain"], zero_init[8, "residual"]
    # Stem conv, 2 convs in each of 3 blocks, classifier: the same layers in both nets.
    assert list(plain) == list(residual) == list(paper_init[8, "residual"])
    assert len(plain) == 8 and list(plain)[0] == "conv1_conv" and list(plain)[-1] == "predictions"
    assert paper_init[8, "plain"] == plain  # same seed, same weights, same gradients
    branches = [name for name in plain if "_block" in name]
    # A zero BN scale ends every residual branch: no gradient enters the branches yet.
    assert all(residual[name] == 0 for name in branches)
    assert all(paper_init[8, "residual"][name] > 0 and plain[name] > 0 for name in branches)
    assert residual["conv1_conv"] > 0
    with pytest.raises(ModelArgumentError, match=r"6n\+2.*\[21\]"):
        gradient_flow(x, y, depths=(21,))


def test_degradation_experiment_trains_resumes_and_refuses_other_runs(tmp_path):
    # The small chapter-1 CNN keeps this fast; the mechanics do not depend on the model.
    options = dict(models=("cnn",), epochs=1, batch_size=32, limit=32)
    first = degradation_experiment(tmp_path, **options)
    curve = first["cnn"]
    assert curve.run_dir == tmp_path / "cnn" and len(curve.loss) == 1
    assert np.isfinite(curve.loss[0])
    # The test accuracy is best.keras's, recomputed here from its predictions.
    test = load_dataset("mnist_5k").limit(32)
    predicted = np.argmax(predict(load_model(curve.run_dir / "best.keras"), test.x_test), -1)
    assert curve.metrics["test_accuracy"] == pytest.approx(np.mean(predicted == test.y_test))
    assert curve.seconds > 0

    again = degradation_experiment(tmp_path, **options)["cnn"]  # finished: only re-evaluated
    assert (again.loss, again.seconds, again.metrics["epochs"]) == (curve.loss, curve.seconds, 1)

    with pytest.raises(DLBasicError, match=r"different run \(lr: 0.001 there, 0.1 here"):
        degradation_experiment(tmp_path, lr=0.1, **options)
    with pytest.raises(DLBasicError, match=r"schedule: 'constant' there, 'cosine' here"):
        degradation_experiment(tmp_path, schedule="cosine", **options)

    longer = degradation_experiment(tmp_path, **{**options, "epochs": 2})["cnn"]  # resumed
    assert longer.loss[0] == curve.loss[0] and len(longer.loss) == 2

    plot_curves({name: c.loss for name, c in first.items()}, tmp_path / "loss.png",
                "epoch", "training loss")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="non-empty curve"):
        plot_curves({"empty": []}, tmp_path / "empty.png", "x", "y")
