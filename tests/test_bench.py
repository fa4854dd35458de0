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
    assert "| Keras jax | cpu | float32 | 2.00 | 100 | 1.00 |" in table(rows, "cnn", 5, 1, markdown=True)
    assert "vs float32" not in text


def test_table_gives_a_mixed_precisions_speed_up_over_float32():
    rows = [Row("Keras jax", "gpu", 10, 2.0, 0.1, 1.0, 0.02),  # 100 per second
            Row("Keras jax", "gpu", 10, 2.0, 0.04, 1.0, 0.01, precision="mixed_bfloat16"),  # 250
            Row("Keras torch", "gpu", 10, 1.0, 0.2, 1.0, 0.02, precision="mixed_bfloat16")]
    header, *body = table(rows, "cnn", 5, 1).splitlines()[1:]
    assert header.endswith("train vs float32")
    assert [line.split()[-1] for line in body] == ["1.00", "2.50", "-"]  # torch has no float32 row


def test_bench_times_a_mixed_precision_beside_float32(monkeypatch):
    from keras_dlbasic import bench as bench_module

    calls = []

    def fake_worker(kind, backend, model, arguments):
        calls.append((kind, backend, arguments["precision"]))
        return [Row(f"Keras {backend}", "cpu", 4, 1.0, 0.1, 1.0, 0.1, precision=arguments["precision"])]

    monkeypatch.setattr(bench_module, "run_worker", fake_worker)
    monkeypatch.setattr(bench_module, "installed_backends", lambda: ("jax", "torch"))
    bench_module.bench("cnn", precision="mixed_float16", reference=True, echo=lambda _: None, steps=1)
    assert calls == [("keras", "jax", "float32"), ("keras", "jax", "mixed_float16"),
                     ("keras", "torch", "float32"), ("keras", "torch", "mixed_float16"),
                     ("reference", "torch", "float32"), ("reference", "torch", "mixed_float16")]
    calls.clear()
    bench_module.bench("cnn", backends=("jax",), echo=lambda _: None)
    assert calls == [("keras", "jax", "float32")]


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


@pytest.mark.parametrize("name, model_kwargs", [
    ("fcn8s", {"width": 4, "fc_units": 8}),  # dict targets: the task takes the masks
    ("vae", {"latent_dim": 2, "hidden": (16,)}),  # no targets: the loss reads the images
])
def test_measure_input_times_fit_from_memory_and_from_a_tf_data_stream(name, model_kwargs):
    from keras_dlbasic.bench import FEEDS, input_ratios, measure_input

    rows = measure_input(name, batch_size=8, steps=3, warmup=1, model_kwargs=model_kwargs)
    assert [(r.name, r.feed) for r in rows] == [
        (f"Keras {current_backend()}, fit from {feed}", feed) for feed in FEEDS]
    for row in rows:
        assert row.batch_size == 8
        assert min(row.first_train_s, row.train_step_s, row.first_predict_s, row.predict_step_s) > 0
        # Each feed is compiled anew: its first step traces (and, off torch, compiles).
        assert row.first_train_s > row.train_step_s
    ratio = rows[1].train_per_s / rows[0].train_per_s
    assert input_ratios(rows) == (f"Keras {current_backend()} (float32): fit from the tf.data stream "
                                  f"trains at {ratio:.2f}x fit from arrays in memory")


def test_step_clock_reads_each_step_and_splits_first_from_steady():
    from keras_dlbasic.bench import _StepClock

    clock = _StepClock()
    clock.times = [1.5, 2.0, 2.2, 2.4, 2.6]  # first step ends 0.5 s after the start
    assert clock.split(start=1.0, warmup=1) == (0.5, pytest.approx(0.2))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    clock = _StepClock()
    model.fit(np.zeros((12, 2)), np.zeros((12, 1)), batch_size=4, verbose=0, callbacks=[clock.callback])
    model.predict(np.zeros((8, 2)), batch_size=4, verbose=0, callbacks=[clock.callback])
    assert len(clock.times) == 3 + 2 and clock.times == sorted(clock.times)
