"""Shared helpers of the notebook generators: assemble cells, execute, save with outputs.

Run a generator from the repository root, e.g. `python notebooks/build/build_01.py`; the
project must be importable (`pip install -e .`, or PYTHONPATH pointing at the repository).
"""

from __future__ import annotations

import pathlib
import textwrap
import time

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent


def md(text: str) -> nbformat.NotebookNode:
    """A markdown cell (the text is dedented and stripped)."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    """A code cell (the text is dedented and stripped)."""
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


def build(name: str, cells: list[nbformat.NotebookNode]) -> None:
    """Execute the cells in a fresh kernel with cwd = notebooks/ and save `name` with outputs.

    Cell ids are derived from the notebook's number and the cell's position, so a rebuild
    changes only what changed.
    """
    nb = nbformat.v4.new_notebook(cells=cells)
    for k, cell in enumerate(nb.cells):
        cell.id = f"nb{name[:2]}-{k:02d}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    path = NOTEBOOKS / name
    nbformat.write(nb, path)
    print(f"wrote {path} (executed in {time.perf_counter() - start:.1f} s)")
