"""The README's measured figures: recorded by the chapter scripts, written by one command.

A chapter script records each table it prints that the README shows
(``Measurements.table``) and, at its end, writes them with the backend, the
machine and the date to ``<output-dir>/measured.json``. This module's command
reruns chapter scripts on a chosen backend and rewrites the README's
"Measured" blocks from those files:

    python -m keras_dlbasic.chapters.measured --backend jax --chapters 1 4
    python -m keras_dlbasic.chapters.measured --no-run   # rewrite from existing files

The README keeps one block per chapter and backend between the markers
``<!-- measured:start -->`` and ``<!-- measured:end -->``; a rerun replaces the
blocks it measured and keeps the others. ``parse_blocks`` reads the blocks
back, so a test can check that the README is in the format ``render_block``
writes. Nothing here imports keras until a script records a table.
"""
import argparse
import dataclasses
import datetime
import importlib
import json
import os
import pathlib
import platform
import re
import subprocess
import sys

from keras_dlbasic.io import atomic_path, write_json
from keras_dlbasic.summary import format_markdown, format_table

START, END = "<!-- measured:start -->", "<!-- measured:end -->"
BACKENDS = ("tensorflow", "jax", "torch")
SCRIPTS = {
    1: "chapters/ch01_cnn_basics.py",
    2: "chapters/ch02_modern_cnns.py",
    3: "chapters/ch03_vision.py",
    4: "chapters/ch04_rnn.py",
    5: "chapters/ch05_transformer.py",
    6: "chapters/ch06_generative.py",
}


def machine():
    """The CPU model and its core count, e.g. "AMD EPYC 7B13, 2 cores"."""
    name = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


@dataclasses.dataclass
class Table:
    title: str
    headers: list
    rows: list


@dataclasses.dataclass
class Block:
    """One chapter's measured tables on one backend."""

    chapter: int
    backend: str
    machine: str
    date: str
    versions: str
    tables: list


class Measurements:
    """The tables a chapter script measures, saved to ``<output_dir>/measured.json``.

    Example:
        >>> measured = Measurements(chapter=1, output_dir="runs/ch01_cnn")
        >>> print(measured.table("Training", ["Model", "Test accuracy"], [["cnn", "96.4%"]]))
        >>> measured.save()
    """

    def __init__(self, chapter, output_dir):
        self.chapter, self.output_dir, self.tables = chapter, pathlib.Path(output_dir), []

    def table(self, title, headers, rows, align=None):
        """Record a table and return it as text, to print."""
        rows = [[str(cell) for cell in row] for row in rows]
        self.tables.append(Table(title, [str(h) for h in headers], rows))
        return format_table(headers, rows, align=align)

    def save(self):
        import keras

        backend = keras.backend.backend()
        versions = f"keras {keras.__version__}, {backend} {importlib.import_module(backend).__version__}"
        block = Block(self.chapter, backend, machine(), datetime.date.today().isoformat(),
                      versions, self.tables)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.output_dir / "measured.json", dataclasses.asdict(block))
        return self.output_dir / "measured.json"


# --- README blocks: written by render_block, read back by parse_blocks -------------------
def heading(chapter, backend):
    return f"### Chapter {chapter}, {backend} backend"


def render_block(block):
    lines = [heading(block.chapter, block.backend), "",
             f"`python {SCRIPTS[block.chapter]}` on {block.machine} ({block.versions}), {block.date}."]
    for table in block.tables:
        lines += ["", f"{table.title}:", "", format_markdown(table.headers, table.rows)]
    return "\n".join(lines)


_HEADING = re.compile(r"^### Chapter (\d+), (\w+) backend$")
_ORIGIN = re.compile(r"^`python \S+` on (.+) \((.+)\), (\d{4}-\d{2}-\d{2})\.$")


def parse_blocks(text):
    """The blocks of a README's measured section (the text between the markers)."""
    blocks, lines = [], text.strip().splitlines()
    i = 0
    while i < len(lines):
        found = _HEADING.match(lines[i])
        if not found:
            raise ValueError(f"measured section, line {i + 1}: expected a chapter heading, got {lines[i]!r}")
        origin = _ORIGIN.match(lines[i + 2])
        if lines[i + 1] or not origin:
            raise ValueError(f"measured section: no origin line under {lines[i]!r}")
        block = Block(int(found[1]), found[2], origin[1], origin[3], origin[2], [])
        i += 3
        while i < len(lines) and not _HEADING.match(lines[i]):
            if lines[i] == "":
                i += 1
                continue
            title = lines[i].removesuffix(":")
            table_lines = []
            i += 2  # the title and the blank line under it
            while i < len(lines) and lines[i].startswith("|"):
                table_lines.append(lines[i])
                i += 1
            cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in table_lines]
            block.tables.append(Table(title, cells[0], cells[2:]))
        blocks.append(block)
    return blocks


def _section_bounds(readme_text):
    """Where the measured section starts (after START) and ends (at END)."""
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"the README has no {START} ... {END} section")
    return readme_text.index(START) + len(START), readme_text.index(END)


def readme_section(readme_text):
    start, end = _section_bounds(readme_text)
    return readme_text[start:end]


def rewrite_readme(readme_text, new_blocks):
    """The README with ``new_blocks`` replacing the blocks of the same chapter and backend."""
    blocks = {(b.chapter, b.backend): b for b in parse_blocks(readme_section(readme_text))}
    blocks.update({(b.chapter, b.backend): b for b in new_blocks})
    ordered = sorted(blocks.values(), key=lambda b: (b.chapter, BACKENDS.index(b.backend)))
    body = "\n\n".join(render_block(b) for b in ordered)
    start, end = _section_bounds(readme_text)
    return f"{readme_text[:start]}\n{body}\n{readme_text[end:]}"


def read_block(path):
    data = json.loads(pathlib.Path(path).read_text())
    data["tables"] = [Table(**t) for t in data["tables"]]
    return Block(**data)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rerun chapter scripts and rewrite the README's measured figures")
    parser.add_argument("--backend", default="tensorflow", choices=BACKENDS)
    parser.add_argument("--chapters", type=int, nargs="+", default=sorted(SCRIPTS), choices=sorted(SCRIPTS))
    parser.add_argument("--output-dir", default="runs/measured",
                        help="where the chapters' runs go (finished runs are reused)")
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--no-run", action="store_true", help="only rewrite from existing measured.json files")
    args = parser.parse_args(argv)
    blocks = []
    for chapter in args.chapters:
        out = pathlib.Path(args.output_dir) / args.backend / f"ch{chapter:02d}"
        if not args.no_run:
            print(f"== chapter {chapter} on {args.backend} -> {out}", flush=True)
            code = subprocess.run([sys.executable, SCRIPTS[chapter], "--output-dir", str(out)],
                                  env={**os.environ, "KERAS_BACKEND": args.backend}).returncode
            if code:
                parser.exit(1, f"Error: {SCRIPTS[chapter]} failed (exit status {code}); "
                               f"the README is unchanged\n")
        if not (out / "measured.json").is_file():
            parser.exit(1, f"Error: {out / 'measured.json'} does not exist; run without --no-run\n")
        blocks.append(read_block(out / "measured.json"))
    readme = pathlib.Path(args.readme)
    try:
        text = rewrite_readme(readme.read_text(), blocks)
    except (OSError, ValueError) as err:
        parser.exit(1, f"Error: cannot rewrite {readme}: {err}\n")
    with atomic_path(readme) as tmp:
        pathlib.Path(tmp).write_text(text)
    print(f"rewrote {len(blocks)} measured block(s) in {readme}")


if __name__ == "__main__":
    main()
