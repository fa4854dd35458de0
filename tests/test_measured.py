"""The README's measured figures: the format the command writes, and the command itself."""
import pathlib
import re

import keras
import pytest

from keras_dlbasic.chapters import measured
from keras_dlbasic.chapters.measured import Measurements

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_is_in_the_format_the_command_writes():
    section = measured.readme_section(README.read_text())
    blocks = measured.parse_blocks(section)
    assert blocks, "the README has no measured blocks"
    assert section.strip() == "\n\n".join(measured.render_block(b) for b in blocks)
    for block in blocks:
        assert block.backend in measured.BACKENDS and block.chapter in measured.SCRIPTS
        assert all(len(row) == len(t.headers) for t in block.tables for row in t.rows)


def readme_with(*blocks):
    body = "\n\n".join(measured.render_block(b) for b in blocks)
    return f"# Title\n\n{measured.START}\n{body}\n{measured.END}\n\nAfter.\n"


def test_recorded_tables_replace_their_block_and_keep_the_others(tmp_path):
    record = Measurements(chapter=1, output_dir=tmp_path / "ch01")
    text = record.table("Training", ["Model", "Test accuracy"], [["cnn", "96.40%"]])
    assert text.splitlines()[0].split() == ["Model", "Test", "accuracy"]  # printed as text too
    path = record.save()
    block = measured.read_block(path)
    assert (block.chapter, block.backend) == (1, keras.backend.backend())
    assert block.tables[0].rows == [["cnn", "96.40%"]]
    assert f"keras {keras.__version__}" in block.versions and "cores" in block.machine

    others = [measured.Block(chapter, backend, "a CPU, 2 cores", "2026-01-01", "keras 3.15.1",
                             [measured.Table("Old", ["Model", "Test accuracy"], [["cnn", "1%"]])])
              for chapter, backend in [(1, keras.backend.backend()), (4, "jax")]]
    readme = tmp_path / "README.md"
    readme.write_text(readme_with(*others))
    rewritten = measured.rewrite_readme(readme.read_text(), [block])
    blocks = measured.parse_blocks(measured.readme_section(rewritten))
    assert [(b.chapter, b.backend) for b in blocks] == [(1, keras.backend.backend()), (4, "jax")]
    assert blocks[0].tables[0].rows == [["cnn", "96.40%"]] and blocks[1].tables[0].title == "Old"
    assert rewritten.startswith("# Title\n") and rewritten.endswith("After.\n")


def test_the_command_rewrites_from_measured_files(tmp_path, capsys):
    backend = keras.backend.backend()
    out = tmp_path / "measured" / backend / "ch04"
    record = Measurements(chapter=4, output_dir=out)
    record.table("Sequential MNIST", ["Model", "Test accuracy"], [["gru", "95.70%"]])
    record.save()
    readme = tmp_path / "README.md"
    readme.write_text(readme_with())
    measured.main(["--no-run", "--backend", backend, "--chapters", "4",
                   "--output-dir", str(tmp_path / "measured"), "--readme", str(readme)])
    [block] = measured.parse_blocks(measured.readme_section(readme.read_text()))
    assert (block.chapter, block.backend, block.tables[0].rows) == (4, backend, [["gru", "95.70%"]])
    assert "rewrote 1 measured block" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "measured"]  # nothing partial


def test_a_readme_without_the_section_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "measured" / keras.backend.backend() / "ch01"
    Measurements(chapter=1, output_dir=out).save()
    readme = tmp_path / "README.md"
    readme.write_text("# No measured section\n")
    with pytest.raises(SystemExit) as exit_info:
        measured.main(["--no-run", "--backend", keras.backend.backend(), "--chapters", "1",
                       "--output-dir", str(tmp_path / "measured"), "--readme", str(readme)])
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("Error: cannot rewrite") and error.count("\n") == 1
    assert readme.read_text() == "# No measured section\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "measured"]


@pytest.mark.parametrize("chapter", sorted(measured.SCRIPTS))
def test_chapter_scripts_are_notebooks_that_rerun(chapter):
    """Each script is jupytext percent format (a markdown title cell, then code and
    markdown cells) and trains only through ``train_or_resume``, so a second run reuses
    or resumes its runs instead of stopping at "already exists"."""
    import ast

    path = README.parent / measured.SCRIPTS[chapter]
    lines = path.read_text().splitlines()
    cells = [line for line in lines if line.startswith("# %%")]
    assert lines[0] == "# %% [markdown]" and lines[1].startswith(f"# # Chapter {chapter},")
    assert cells.count("# %%") >= 3 and cells.count("# %% [markdown]") >= 3
    assert set(cells) == {"# %%", "# %% [markdown]"}
    calls = {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
             for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
             and isinstance(node.func, (ast.Name, ast.Attribute))}
    assert "train_or_resume" in calls and not calls & {"train", "fit"}
    assert "Measurements" in calls and "save" in calls  # its tables reach the README


def test_the_readme_layout_names_every_module():
    """The layout section lists what is in the package: every module and subpackage."""
    text = README.read_text()
    layout = text[text.index("## Layout"):]
    layout = layout[:layout.index("```", layout.index("```") + 3)]
    package = README.parent / "keras_dlbasic"
    names = [p.name + ("/" if p.is_dir() else "") for p in package.iterdir()
             if p.name != "__init__.py" and not p.name.startswith("__") and (p.is_dir() or p.suffix == ".py")]
    missing = [name for name in names if not re.search(rf"(?<![\w./]){re.escape(name)}", layout)]
    assert not missing, f"the README's layout does not name {missing}"
