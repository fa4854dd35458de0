"""``dlbasic bench``: the Keras rows, the plain-PyTorch reference network, the table and the CLI."""
import json
import math

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from keras_dlbasic import get_model
from keras_dlbasic.backend import current_backend
from keras_dlbasic.bench import Row, measure, reference_steps, table, torch_reference, training_batch
from keras_dlbasic.cli.main import main

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name, shape", [("cnn", (3, 28, 28, 1)), ("gru", (3, 28, 28)),
                                         ("lstm", (3, 28, 28))])
def test_reference_network_computes_what_the_keras_model_does(name, shape):
    model = get_model(name)
    reference = torch_reference(model).eval()
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    logits = reference(torch.as_tensor(reference.keras_to_torch_inputs(x)))
    np.testing.assert_allclose(torch.softmax(logits, -1).detach().numpy(),
                               keras.ops.convert_to_numpy(model(x)), atol=1e-5)
    # Same weights, parameter for parameter (torch's LSTM adds a second, zero, bias).
    extra = 4 * 128 if name == "lstm" else 0
    assert sum(p.numel() for p in reference.parameters()) == model.count_params() + extra


def test_reference_trains_like_keras():
    # Without dropout both compute the same losses, so the same Adam must follow the same path.
    model, batch, config = training_batch("cnn", batch_size=16, model_kwargs={"dropout": 0.0})
    reference = torch_reference(model)
    x = torch.as_tensor(reference.keras_to_torch_inputs(batch["x"]))
    train_step, _ = reference_steps(reference, config, x, torch.as_tensor(batch["y"]).long())
    torch_losses = [train_step() for _ in range(4)]
    keras_losses = [float(model.train_on_batch(**batch, return_dict=True)["loss"]) for _ in range(4)]
    np.testing.assert_allclose(torch_losses, keras_losses, rtol=1e-3)
    assert torch_losses[-1] < torch_losses[0]


def test_reference_refuses_other_networks():
    from keras_dlbasic.errors import DLBasicError

    with pytest.raises(DLBasicError, match="no plain-PyTorch reference for resnet20: it is not one chain"):
        torch_reference(get_model("resnet20"))


def test_measure_times_a_training_and_an_inference_step():
    row = measure("cnn", batch_size=8, steps=2, warmup=1)
    assert row.engine == f"Keras {current_backend()}" and row.batch_size == 8
    assert row.device
    assert min(row.first_train_s, row.train_step_s, row.first_predict_s, row.predict_step_s) > 0
    assert row.train_per_s == pytest.approx(8 / row.train_step_s)


def test_table_gives_ratios_to_the_fastest_row():
    rows = [Row("Keras jax", "cpu", 10, 2.0, 0.1, 1.0, 0.02),  # 100 and 500 per second
            Row("Keras torch", "cpu", 10, 0.1, 0.4, 0.1, 0.01),  # 25 and 1,000 per second
            Row("torch.compile", "cpu", 10, *[math.nan] * 4, note="failed: no compiler")]
    text = table(rows, "cnn", steps=5, warmup=1)
    lines = text.splitlines()
    assert lines[0] == "cnn, batch 10: 5 timed steps after the first and 1 warm-up steps"
    assert lines[2].split()[-6:] == ["2.00", "100", "1.00", "1.00", "500", "0.50"]
    assert lines[3].split()[-6:] == ["0.10", "25", "0.25", "0.10", "1,000", "1.00"]
    assert lines[4].endswith("failed: no compiler")
    assert "| Keras jax | cpu | 2.00 | 100 | 1.00 |" in table(rows, "cnn", 5, 1, markdown=True)


def test_bench_cli_times_the_current_backend(tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, ["bench", "cnn", "--backends", current_backend(), "--steps", "2",
                                       "--warmup", "0", "--batch-size", "4", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Keras {current_backend()}" in result.output and "vs fastest" in result.output
    saved = json.loads(out.read_text())
    assert [row["engine"] for row in saved["rows"]] == [f"Keras {current_backend()}"]
    assert saved["rows"][0]["batch_size"] == 4


@pytest.mark.parametrize("args, message", [
    (["nosuchmodel"], "unknown model 'nosuchmodel'"),
    (["cnn", "--backends", "tensorflow,theano"], "expected a comma-separated list"),
    (["cnn", "--steps", "0"], "0 is not in the range x>=1"),
    (["cnn", "--model-arg", "colour=3"], "colour"),
])
def test_bench_cli_refuses_bad_input_in_one_line(args, message):
    result = CliRunner().invoke(main, ["bench", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1
