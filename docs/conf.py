"""Sphinx configuration of the documentation site.

Build (offline, warnings as errors): `.venv/bin/python -m sphinx -W -b html docs docs/_build/html`

- Pages are Markdown (MyST); the lessons are the stored notebooks of `notebooks/`, rendered
  with their outputs as they are (`nb_execution_mode = "off"`: the test suite runs them).
- The API reference is generated from the packages' public names (`_ext/public_api.py`).
- Formulas are typeset by MathJax served from the site itself (sphinx-mathjax-offline), so
  they render without a network.
"""

from __future__ import annotations

import pathlib
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]  # the packages, and public_api


def link_notebooks() -> None:
    """Link each stored notebook `notebooks/NN_*.ipynb` into `docs/lessons/` (git ignores
    the links), so the lessons are the notebooks themselves, never a second copy."""
    lessons = DOCS / "lessons"
    wanted = {path.name: path for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
    for old in lessons.glob("*.ipynb"):
        if old.name not in wanted or not old.is_symlink():
            old.unlink()
    for name in wanted:
        link = lessons / name
        if not link.is_symlink():
            link.symlink_to(pathlib.Path("..", "..", "notebooks", name))


link_notebooks()

project = "autograd_core"
author = "the autograd_core authors"
copyright = "the autograd_core authors"  # noqa: A001 - Sphinx's name

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "public_api",
]

exclude_patterns = ["_build", "_ext", "**/.ipynb_checkpoints"]
default_role = "code"  # `x` in docstrings is code, as in the Markdown pages
nitpicky = False  # type hints name private helpers (autograd_core.engine._Switch, ...)

# MyST and the notebooks.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True
nb_render_markdown_format = "myst"  # text/markdown outputs: tables and $math$, as in Jupyter

# autodoc: signatures and docstrings of the public names.
autodoc_member_order = "bysource"
autodoc_typehints_format = "short"
autosummary_generate = False
napoleon_numpy_docstring = False
python_use_unqualified_type_names = True
toc_object_entries = False  # the right-hand contents list sections, not hundreds of names

# HTML.
html_theme = "furo"
html_title = "autograd_core"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_copy_source = False
