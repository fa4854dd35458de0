"""The dlbasic command line, through Click's CliRunner (and a subprocess for import checks)."""
import subprocess
import sys

import pytest
from click.testing import CliRunner

from keras_dlbasic import __version__
from keras_dlbasic.cli.main import main

from conftest import predict, small_kwargs


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_help_version_and_list_do_not_import_keras():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from keras_dlbasic.cli.main import main\n"
        "for args in (['--help'], ['-h'], ['--version'], ['list'], ['datasets'], ['info', 'cnn']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_info_shows_the_training_recipe(run):
    result = run("info", "resnet20")
    assert result.exit_code == 0
    assert "recipe:     10 epochs, batch 64, Adam lr 0.002, cosine schedule" in result.output
    result = run("info", "lstm")
    assert ("on adding_problem: 20 epochs, batch 64, Adam lr 0.01, constant schedule, units=32"
            in result.output)


def test_info_shows_the_reference_macs_and_their_source(run):
    assert ("MACs:       4.09 G per example (torchvision resnet50 GFLOPS)"
            in run("info", "resnet50").output)
    assert "MACs:" not in run("info", "googlenet").output  # no published figure agrees


def test_version(run):
    assert run("--version").output.strip() == f"dlbasic, version {__version__}"


def test_list_and_chapter_filter(run):
    result = run("list", "--chapter", "1")
    assert result.exit_code == 0
    assert "cnn" in result.output and "225,034" in result.output


def test_summary_shows_layers_and_reference(run):
    result = run("summary", "cnn")
    assert result.exit_code == 0
    assert "conv2 (Conv2D)" in result.output and "2,230,272" in result.output
    assert "Reference params:     225,034" in result.output and "matches" in result.output


def test_summary_compare(run):
    result = run("summary", "--compare", "cnn", "cnn", "--classes", "3")
    assert result.exit_code == 0
    assert result.output.count("cnn ") == 2 and "FC share" in result.output


def test_train_evaluate_export(run, tmp_path):
    out = tmp_path / "run"
    result = run("train", "cnn", "--epochs", "1", "--limit", "64", "--batch-size", "16",
                 "--output-dir", out)
    assert result.exit_code == 0, result.output
    assert "test_accuracy=" in result.output and (out / "best.keras").is_file()
    result = run("evaluate", out)
    assert result.exit_code == 0 and "test_accuracy=" in result.output
    target = tmp_path / "cnn.onnx"
    result = run("export", out, "--format", "onnx", "-o", target)
    assert result.exit_code == 0, result.output
    assert "max |artifact - keras|" in result.output and target.is_file()
    # A second export to the same path is refused and leaves the file as it was.
    before = target.read_bytes()
    result = run("export", out, "--format", "onnx", "-o", target)
    assert result.exit_code == 1 and "pass --force" in result.output
    assert target.read_bytes() == before
    result = run("train", "--resume", out, "--epochs", "2")
    assert result.exit_code == 0 and "epochs=2" in result.output


@pytest.mark.parametrize("args,message", [
    (("summary", "resnet5O"), "unknown model 'resnet5O'"),
    (("train", "cnn", "--dataset", "mnsit"), "unknown dataset 'mnsit'; did you mean mnist"),
    (("summary", "cnn", "--input-shape", "4,4,1"), "at least 10x10"),
    (("evaluate", "no/such/run"), "no training run at no/such/run"),
    (("export", "no/such/run", "--format", "onnx"), "no run directory at no/such/run"),
    (("train",), "give a MODEL to train"),
    (("train", "gru", "--model-arg", "unit=8"), "unknown argument 'unit'; did you mean units?"),
    (("train", "cnn", "--epochs", "0"), "epochs must be at least 1"),
])
def test_bad_input_gives_one_line_error(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


def test_unknown_backend_is_a_usage_error(run):
    result = run("--backend", "theano", "list")
    assert result.exit_code == 2 and "'theano' is not one of" in result.output


def test_readme_model_table_matches_registry(run):
    import pathlib

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("<!-- models:start -->\n")[1].split("<!-- models:end -->")[0]
    assert table.strip() == run("list", "--markdown").output.strip()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished one-epoch run, trained once for the tests that damage copies of it."""
    from keras_dlbasic import training

    run_dir = tmp_path_factory.mktemp("finished") / "run"
    training.train(training.resolve_config("cnn", epochs=1, limit=32, batch_size=16),
                   run_dir, verbose=0)
    return run_dir


def damaged_copy(finished_run, tmp_path, damage):
    import json
    import shutil

    run_dir = shutil.copytree(finished_run, tmp_path / "run")
    if damage == "config":
        (run_dir / "config.json").write_text('{"model": "cnn", ')
    elif damage == "config_key":
        config = json.loads((run_dir / "config.json").read_text())
        config["epoch"] = config.pop("epochs")
        (run_dir / "config.json").write_text(json.dumps(config))
    else:
        name = "last.keras" if damage == "last" else "best.keras"
        data = (run_dir / name).read_bytes()
        (run_dir / name).write_bytes(data[: len(data) // 2])
    return run_dir


@pytest.mark.parametrize("damage,args,message", [
    ("config", ("evaluate", "{run}"), "config.json is corrupt"),
    ("config", ("export", "{run}", "--format", "onnx"), "config.json is corrupt"),
    ("config", ("train", "--resume", "{run}"), "config.json is corrupt"),
    ("config_key", ("train", "--resume", "{run}"), "unknown config key 'epoch'"),
    ("checkpoint", ("evaluate", "{run}"), "not a complete .keras file"),
    ("checkpoint", ("export", "{run}", "--format", "onnx"), "not a complete .keras file"),
    ("last", ("train", "--resume", "{run}", "--epochs", "2"), "not a complete .keras file"),
])
def test_damaged_run_gives_one_line_error(run, finished_run, tmp_path, monkeypatch, damage, args,
                                          message):
    run_dir = damaged_copy(finished_run, tmp_path, damage)
    monkeypatch.chdir(tmp_path)  # where export would write exports/cnn.onnx
    result = run(*(a.format(run=run_dir) for a in args))
    assert result.exit_code == 1
    # One line on stderr; progress lines ("Resuming ...") go to stdout.
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.output
    assert not [p for p in run_dir.iterdir() if "partial" in p.name]
    assert not (tmp_path / "exports").exists()


def test_stderr_holds_only_the_error_line(finished_run, tmp_path):
    """Through a real process: no traceback and no TensorFlow start-up logging."""
    run_dir = damaged_copy(finished_run, tmp_path, "checkpoint")
    done = subprocess.run([sys.executable, "-m", "keras_dlbasic.cli.main", "evaluate", str(run_dir)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == f"Error: cannot load {run_dir / 'best.keras'}: not a complete .keras " \
                          f"file (truncated?)\n"


def test_unknown_model_is_refused_before_keras_is_imported():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from keras_dlbasic.cli.main import main\n"
        "result = CliRunner().invoke(main, ['train', 'no_such_model'])\n"
        "assert result.exit_code == 1 and \"unknown model 'no_such_model'\" in result.output\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_predict_draws_and_writes_json(run, finished_run, tmp_path):
    """A digit from the bundled test split, saved as a PNG, goes through the run's
    best checkpoint: the JSON's top classes are the model's own scores for it."""
    import json

    import numpy as np
    from PIL import Image

    from keras_dlbasic import load_model
    from keras_dlbasic.data import load_dataset

    digit = load_dataset("mnist_5k").x_test[0]
    Image.fromarray(np.round(digit[..., 0] * 255).astype("uint8")).save(tmp_path / "digit.png")
    result = run("predict", finished_run, "--image", tmp_path / "digit.png",
                 "--out", tmp_path / "digit_pred.png", "--json", tmp_path / "digit.json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "digit_pred.png").stat().st_size > 1000
    top = json.loads((tmp_path / "digit.json").read_text())["classes"]
    pixels = np.round(digit * 255) / 255  # what the PNG holds
    scores = np.asarray(load_model(finished_run / "best.keras").predict_on_batch(pixels[None]))[0]
    assert [c["label"] for c in top] == list(np.argsort(-scores)[:5])
    np.testing.assert_allclose([c["score"] for c in top], np.sort(scores)[::-1][:5], rtol=1e-4)


def test_predict_segmentation_overlays_the_mask(run, tmp_path):
    """The mask comes back in the image file's pixels: each pixel takes the class of the
    model pixel (of the 64x64 input) its centre falls in."""
    import json

    import numpy as np
    from PIL import Image

    from keras_dlbasic import get_model
    from keras_dlbasic.predict import open_image, pixels

    model = get_model("fcn8s", input_shape=(64, 64, 3), classes=4, width=4, fc_units=8)
    rng = np.random.default_rng(1)
    for layer in model.layers:  # the score layers start at 0: give them weights to show
        if layer.name.startswith("score"):
            layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    model.save(tmp_path / "fcn8s.keras")
    image = (np.random.default_rng(0).random((80, 70, 3)) * 255).astype("uint8")
    Image.fromarray(image).save(tmp_path / "image.png")  # resized to the model's 64x64
    result = run("predict", tmp_path / "fcn8s.keras", "--image", tmp_path / "image.png",
                 "--out", tmp_path / "mask.png", "--json", tmp_path / "mask.json")
    assert result.exit_code == 0, result.output
    prediction = json.loads((tmp_path / "mask.json").read_text())
    mask = np.array(prediction["mask"])
    assert mask.shape == (80, 70)
    small = np.argmax(predict(model, pixels(open_image(tmp_path / "image.png"), 64, 64)[None])[0], -1)
    rows, cols = (np.arange(80) * 2 + 1) * 64 // 160, (np.arange(70) * 2 + 1) * 64 // 140
    np.testing.assert_array_equal(mask, small[rows][:, cols])
    np.testing.assert_allclose(prediction["class_share"], np.bincount(mask.ravel(), minlength=4) / mask.size)
    assert (tmp_path / "mask.png").stat().st_size > 1000


def test_predict_detection_writes_boxes_in_the_image_pixels(run, tmp_path):
    """A detector's boxes, decoded at its 64x64 input, come back scaled to the 128x96 file."""
    import json

    import numpy as np
    from PIL import Image

    from keras_dlbasic import get_model
    from keras_dlbasic.predict import open_image, pixels

    model = get_model("yolo", **small_kwargs("yolo"))
    kernel, bias = model.get_layer("grid").get_weights()
    bias[4:10:5] = 1.0  # every predictor confident: each cell's box is found
    model.get_layer("grid").set_weights([kernel, bias])
    model.save(tmp_path / "yolo.keras")
    image = (np.random.default_rng(0).random((96, 128, 3)) * 255).astype("uint8")
    Image.fromarray(image).save(tmp_path / "image.png")
    result = run("predict", tmp_path / "yolo.keras", "--image", tmp_path / "image.png",
                 "--out", tmp_path / "boxes.png", "--json", tmp_path / "boxes.json")
    assert result.exit_code == 0, result.output
    prediction = json.loads((tmp_path / "boxes.json").read_text())
    expected = model.decode(predict(model, pixels(open_image(tmp_path / "image.png"), 64, 64)[None]))[0]
    assert len(expected["boxes"]) > 0 and expected["boxes"].max() > 32
    np.testing.assert_allclose(prediction["boxes"], expected["boxes"] * [2.0, 1.5, 2.0, 1.5], atol=0.02)
    np.testing.assert_allclose(prediction["scores"], expected["scores"], atol=1e-4)
    assert prediction["labels"] == expected["labels"].tolist()
    assert (tmp_path / "boxes.png").stat().st_size > 1000


@pytest.mark.parametrize("make,message", [
    (lambda path: None, "no such image"),
    (lambda path: path.write_text("not an image"), "cannot read image"),
])
def test_predict_bad_image_is_one_line_and_writes_nothing(run, finished_run, tmp_path, make, message):
    image = tmp_path / "input.png"
    make(image)
    result = run("predict", finished_run, "--image", image, "--out", tmp_path / "out.png")
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()
