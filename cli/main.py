"""The ``dlbasic`` command line.

Heavy imports (keras, the backends, TFDS) happen inside command bodies, so
``dlbasic --help``, ``--version``, ``list``, ``datasets`` and shell completion
never import keras. Errors the user can fix print one line and exit 1.

Shell completion (bash; use zsh_source / fish_source for other shells):

    eval "$(_DLBASIC_COMPLETE=bash_source dlbasic)"
"""
import functools
import json
import os
import pathlib

import click

from keras_dlbasic import __version__
from keras_dlbasic.backend import BACKENDS, import_keras_quietly, use_backend
from keras_dlbasic.distribute import check_launch, chief_process
from keras_dlbasic.errors import DLBasicError
from keras_dlbasic.export import FORMATS
from keras_dlbasic.recipe import DISTRIBUTIONS, PRECISIONS, SCHEDULES
from keras_dlbasic.registry import list_models, model_info

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def user_errors(command):
    """Turn ``DLBasicError`` into Click's one-line ``Error: ...`` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DLBasicError as err:
            raise click.ClickException(str(err)) from None

    return wrapper


def complete_models(ctx, param, incomplete):
    return [name for name in list_models() if name.startswith(incomplete)]


def parse_shape(ctx, param, value):
    if value is None:
        return None
    try:
        return tuple(int(v) for v in value.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"expected integers like 32,32,3; got '{value}'") from None


def parse_model_args(ctx, param, values):
    """``("units=64", "bidirectional=true")`` -> ``{"units": 64, "bidirectional": True}``."""
    parsed = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected KEY=VALUE; got '{item}'")
        try:
            parsed[key] = json.loads(text.lower() if text.lower() in ("true", "false") else text)
        except json.JSONDecodeError:
            parsed[key] = text  # a plain string such as cell=scratch
    return parsed


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="dlbasic")
@click.option("--backend", type=click.Choice(BACKENDS),
              help="Keras backend (default: $KERAS_BACKEND, else ~/.keras/keras.json).")
@user_errors
def main(backend):
    """keras-dlbasic: the DL Basic course's models on TensorFlow, JAX or PyTorch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    backend = backend or os.environ.get("KERAS_BACKEND")
    if backend:
        use_backend(backend)


@main.command("list")
@click.argument("pattern", required=False)
@click.option("--chapter", type=int, help="Only models of this course chapter.")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (as in the README).")
def list_command(pattern, chapter, markdown):
    """List registered models, optionally filtered by a glob PATTERN (e.g. 'resnet*')."""
    from keras_dlbasic.summary import format_markdown, format_table

    headers = ["Model", "Ch", "Tasks", "Input", "Params", "MACs", "Default data", "Paper"]
    rows = [spec_row(model_info(name), markdown) for name in list_models(pattern, chapter)]
    if markdown:
        click.echo(format_markdown(headers, rows))
    else:
        click.echo(format_table(headers, rows, align="lrlrrrll"))


def spec_row(spec, link=False):
    from keras_dlbasic.summary import macs

    alias = f" ({', '.join(spec.aliases)})" if spec.aliases else ""
    paper = f"{spec.paper.authors.split(',')[0]} {spec.paper.year}"
    return [spec.name + alias, spec.chapter, ", ".join(spec.tasks), input_text(spec.input_shape),
            f"{spec.reference_params:,}", macs(spec.reference_macs) if spec.reference_macs else "-",
            spec.dataset, f"[{paper}]({spec.paper.url})" if link else paper]


def input_text(shape):
    """``(28, 28, 1)`` -> ``28x28x1``; several inputs joined by `` + ``; ``None`` as ``T``."""
    if shape and isinstance(shape[0], (tuple, list)):
        return " + ".join(input_text(s) for s in shape)
    return "x".join("T" if d is None else str(d) for d in shape)


@main.command()
def datasets():
    """List datasets usable with --dataset."""
    from keras_dlbasic.data import DATASETS
    from keras_dlbasic.summary import format_table

    click.echo(format_table(
        ["Dataset", "Source", "Kind", "Input", "Classes", "Train / val / test", "Description"],
        [[d.name, d.source, ", ".join(d.kinds), input_text(d.input_shape), d.num_classes or "-", d.size,
          d.description] for d in DATASETS.values()],
        align="lllrrrl",
    ))


@main.command()
@click.argument("model", shell_complete=complete_models)
@user_errors
def info(model):
    """Show a model's paper, defaults and reference figures."""
    from keras_dlbasic.summary import macs

    spec = model_info(model)
    click.echo("\n".join([
        f"{spec.name} (chapter {spec.chapter}; {spec.inputs} -> {', '.join(spec.tasks)})",
        f"  paper:      {spec.paper.title} ({spec.paper.authors}, {spec.paper.year})",
        f"  link:       {spec.paper.url}",
        f"  input:      {spec.input_shape}",
        f"  params:     {spec.reference_params:,} ({spec.params_source})",
        *([f"  MACs:       {macs(spec.reference_macs)} per example ({spec.macs_source})"]
          if spec.reference_macs else []),
        f"  datasets:   {spec.dataset} (default, offline); {spec.full_dataset or '-'} (full size)",
        f"  recipe:     {spec.recipe.describe()}",
        *(f"    on {name}: {recipe.describe()}" for name, recipe in spec.dataset_recipes.items()),
        f"  aliases:    {', '.join(spec.aliases) or '-'}",
    ]))


@main.command()
@click.argument("models", nargs=-1, required=True, shell_complete=complete_models)
@click.option("--compare", is_flag=True, help="One table comparing all MODELS.")
@click.option("--input-shape", callback=parse_shape, help="e.g. 224,224,3 (default: the model's).")
@click.option("--classes", type=int, help="Number of output classes.")
@user_errors
def summary(models, compare, input_shape, classes):
    """Per-layer output shapes, parameters and multiply-accumulates of MODEL.

    With --compare: depth, parameters, MACs and FC share of several models.
    """
    for name in models:
        model_info(name)
    import_keras_quietly()
    from keras_dlbasic import get_model
    from keras_dlbasic.registry import shapes_only
    from keras_dlbasic.summary import compare_models, model_summary

    if compare:
        click.echo(compare_models(models, input_shape=input_shape, classes=classes))
        return
    for i, name in enumerate(models):
        if i:
            click.echo()
        with shapes_only():
            model = get_model(name, input_shape=input_shape, classes=classes)
        click.echo(model_summary(model, name))


@main.command()
@click.argument("model", required=False, shell_complete=complete_models)
@click.option("--dataset", help="Dataset name (default: the model's offline default; see `dlbasic datasets`).")
@click.option("--epochs", type=int, help="Epochs (default: the model's recipe).")
@click.option("--batch-size", type=int, help="Batch size (default: the model's recipe).")
@click.option("--lr", type=float, help="Adam learning rate (default: the model's recipe).")
@click.option("--schedule", type=click.Choice(SCHEDULES),
              help="Learning rate: constant, or cosine-decayed to 0 (default: the model's recipe).")
@click.option("--seed", type=int, help="Random seed (default 0); a seeded run is reproducible.")
@click.option("--precision", type=click.Choice(PRECISIONS), help="Keras dtype policy (default float32).")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="Run directory (default: runs/MODEL-DATASET-TIME).")
@click.option("--data-dir", type=click.Path(file_okay=False), help="TFDS data directory.")
@click.option("--limit", type=int, help="Use only the first N examples of each split (quick runs).")
@click.option("--cell", type=click.Choice(["keras", "scratch"]),
              help="Recurrent models: keras.layers (fast) or the from-equation cells.")
@click.option("--model-arg", "model_args", multiple=True, callback=parse_model_args,
              metavar="KEY=VALUE", help="Builder argument, e.g. --model-arg units=64 (repeatable).")
@click.option("--distribute", type=click.Choice(DISTRIBUTIONS),
              help="data-parallel: a replica per device, the batch split between them "
                   "(default none; on torch, launch with torchrun).")
@click.option("--resume", "resume_dir", type=click.Path(),
              help="Continue the run in RUN_DIR after its last finished epoch.")
@user_errors
def train(model, dataset, epochs, batch_size, lr, schedule, seed, precision, output_dir, data_dir,
          limit, cell, model_args, distribute, resume_dir):
    """Train MODEL and write a run directory (config, history, checkpoints, metrics, curves).

    \b
    Examples:
      dlbasic train cnn
      dlbasic train gru --cell scratch
      dlbasic train lstm --dataset adding_problem
      dlbasic train transformer --epochs 5
    """
    from keras_dlbasic.recipe import load_run, resolve_config

    # Names and options are checked before keras is imported: a typo answers at once.
    if resume_dir:
        config, _ = load_run(resume_dir)
        if model and model_info(model).name != config.model:
            raise DLBasicError(f"{resume_dir} is a run of {config.model}, not {model}")
    elif not model:
        raise click.UsageError("give a MODEL to train, or --resume RUN_DIR")
    else:
        config = resolve_config(model, dataset=dataset, epochs=epochs, batch_size=batch_size,
                                lr=lr, schedule=schedule, seed=seed, precision=precision,
                                data_dir=data_dir, limit=limit, distribute=distribute,
                                model_kwargs={**model_args, **({"cell": cell} if cell else {})})
    check_launch(config.distribute)
    import_keras_quietly()
    from keras_dlbasic import training

    echo = click.echo if chief_process() else (lambda message: None)  # one report per run
    if resume_dir:
        echo(f"Resuming {config.model} on {config.dataset} in {resume_dir}")
        metrics = training.resume(resume_dir, epochs=epochs)
        run_dir = pathlib.Path(resume_dir)
    else:
        run_dir = pathlib.Path(output_dir) if output_dir else training.default_run_dir(config)
        echo(f"Training {config.model} on {config.dataset} ({config.backend}) -> {run_dir}")
        metrics = training.train(config, run_dir)
    echo(_metrics_line(metrics))
    echo(f"Run directory: {run_dir}")


def _metrics_line(metrics):
    return "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in metrics.items())


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--checkpoint", type=click.Choice(["best", "last"]), default="best", show_default=True)
@user_errors
def evaluate(run_dir, checkpoint):
    """Test-set metrics of a training run's checkpoint."""
    from keras_dlbasic.recipe import load_run

    load_run(run_dir)
    import_keras_quietly()
    from keras_dlbasic.training import evaluate_run

    click.echo(_metrics_line(evaluate_run(run_dir, checkpoint)))


@main.command()
@click.argument("source", metavar="MODEL_OR_RUN_DIR", shell_complete=complete_models)
@click.option("--format", "fmt", type=click.Choice(tuple(FORMATS)), required=True)
@click.option("-o", "--output", type=click.Path(),
              help="Destination (default: exports/NAME.onnx or exports/NAME_savedmodel).")
@click.option("--force", is_flag=True, help="Overwrite an existing destination.")
@click.option("--atol", type=float, default=1e-4, show_default=True,
              help="Largest accepted difference from the Keras output.")
@user_errors
def export(source, fmt, output, force, atol):
    """Export a registered model or a run's best checkpoint, then check it numerically."""
    import_keras_quietly()
    from keras_dlbasic.export import export_model, load_for_export

    model, name = load_for_export(source)
    default = f"{name}.onnx" if fmt == "onnx" else f"{name}_savedmodel"
    report = export_model(model, output or pathlib.Path("exports") / default, fmt,
                          force=force, atol=atol)
    click.echo(f"Wrote {report.path} ({fmt}, {report.route}); "
               f"max |artifact - keras| = {report.max_abs_diff:.3g} <= {atol}")


@main.command()
@click.argument("source", metavar="MODEL_OR_RUN_DIR", shell_complete=complete_models)
@click.option("--image", "image_path", type=click.Path(), required=True, help="PNG or JPEG to predict.")
@click.option("--out", "out_png", type=click.Path(dir_okay=False), required=True,
              help="PNG to draw the prediction into.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Also write the prediction as JSON.")
@user_errors
def predict(source, image_path, out_png, json_path):
    """Predict one image with a run's best checkpoint (or a model) and draw the result."""
    import_keras_quietly()
    from keras_dlbasic.predict import predict_image

    predict_image(source, image_path, out_png, json_path)
    click.echo(f"Wrote {out_png}" + (f" and {json_path}" if json_path else ""))


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--n", "count", type=click.IntRange(min=1), default=64, show_default=True,
              help="Images to draw.")
@click.option("--out", "out_png", type=click.Path(dir_okay=False), required=True,
              help="PNG grid of the samples.")
@click.option("--npz", "npz_path", type=click.Path(dir_okay=False),
              help="Also write the samples as an array 'images' (n, H, W, C) in [0, 1].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws.")
@click.option("--label", type=int, help="A class-conditional run: draw only this class "
                                       "(default: every class in turn).")
@user_errors
def sample(run_dir, count, out_png, npz_path, seed, label):
    """Draw images from a generative run's best checkpoint (chapter 6)."""
    from keras_dlbasic.recipe import load_run

    load_run(run_dir)
    import_keras_quietly()
    from keras_dlbasic.predict import sample_images

    sample_images(run_dir, count, out_png, npz_path, seed, label)
    click.echo(f"Wrote {out_png}" + (f" and {npz_path}" if npz_path else ""))


def parse_backends(ctx, param, value):
    if value is None:
        return None
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise click.BadParameter(f"expected a comma-separated list of {', '.join(BACKENDS)}; "
                                 f"got '{value}'")
    return names


@main.command()
@click.argument("model", shell_complete=complete_models)
@click.option("--backends", callback=parse_backends, metavar="NAMES",
              help="Comma-separated backends to time (default: every installed one).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (default: the model's recipe).")
@click.option("--steps", type=click.IntRange(min=1), default=20, show_default=True,
              help="Timed steps, after the first and the warm-up ones.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True,
              help="Untimed steps after the first.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="float32", show_default=True,
              help="Keras dtype policy (torch.autocast for the reference).")
@click.option("--reference", is_flag=True,
              help="Also time the same network in plain PyTorch, eager and torch.compile.")
@click.option("--pipeline", is_flag=True,
              help="Also time fit fed from arrays in memory and from a tf.data stream.")
@click.option("--model-arg", "model_args", multiple=True, callback=parse_model_args,
              metavar="KEY=VALUE", help="Builder argument (repeatable).")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the rows as JSON.")
@user_errors
def bench(model, backends, batch_size, steps, warmup, precision, reference, pipeline, model_args,
          markdown, json_path):
    """Time MODEL's training and inference steps on each backend, side by side.

    \b
    Examples:
      dlbasic bench cnn
      dlbasic bench gru --backends jax,torch --reference
      dlbasic bench resnet50 --batch-size 256 --precision mixed_bfloat16
      dlbasic bench cnn --pipeline --steps 100

    \b
    A mixed --precision is timed beside float32 (its speed-up in the last column).
    --pipeline adds, per backend, fit and predict over the training data fed from
    arrays in memory and from a tf.data stream (the TFDS sets' path).
    """
    import dataclasses

    from keras_dlbasic.bench import bench as run_bench
    from keras_dlbasic.bench import input_ratios, table
    from keras_dlbasic.io import write_json
    from keras_dlbasic.recipe import resolve_config

    config = resolve_config(model, batch_size=batch_size, model_kwargs=model_args)  # checks them
    rows = run_bench(config.model, backends, reference, echo=click.echo, batch_size=batch_size,
                     steps=steps, warmup=warmup, precision=precision, pipeline=pipeline,
                     model_kwargs=model_args)
    click.echo(table(rows, config.model, steps, warmup, markdown=markdown))
    if pipeline:
        click.echo(input_ratios(rows))
    if json_path:
        write_json(json_path, {"model": config.model, "steps": steps, "warmup": warmup,
                               "precision": precision, "pipeline": pipeline,
                               "rows": [dataclasses.asdict(r) for r in rows]})
        click.echo(f"Wrote {json_path}")


if __name__ == "__main__":
    main()
