"""The documentation site: every public name is documented, and every example runs.

- Every public name of every public module (the list the API reference is generated from,
  `docs/_ext/public_api.py`) has a docstring; a plain value or type alias has one written
  under its assignment (or a `#:` comment above it), as Sphinx reads them.
- A module's `__all__` lists every class and function it exposes from its own package, so
  the reference (which follows `__all__`) misses none.
- Every ```python block of the site's Markdown pages (docs/**/*.md) runs, in order, one
  namespace per page, in a temporary working directory, with the value comments checked as
  tests/test_readme.py checks the README's (its helpers are reused here). Markers on the line
  just before a block: `<!-- not-tested: reason -->` (not run), `<!-- needs: module -->`
  (skipped where the module is missing, as torch in CI), and, before a ```text block,
  `<!-- output -->`: that block is what the python block before it prints, exactly.
  Blocks must also be formatted as `ruff format` writes them.

The site build itself (about 30 s) runs in .ci/run with warnings as errors: a broken
`literalinclude` of the engine's source, a README section the pages include that moved,
or a docstring that is not valid reStructuredText fails CI there.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import io
import pathlib
import shutil
import sys
import types
from dataclasses import dataclass
from typing import Any

import pytest

from tests.test_readme import Block as ReadmeBlock
from tests.test_readme import check_value, ruff_formatted, run_block, working_directory

pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e .[docs]")
MarkdownIt = pytest.importorskip("markdown_it").MarkdownIt  # comes with myst-parser

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _load_public_api() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("public_api", DOCS / "_ext" / "public_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("public_api", module)
    spec.loader.exec_module(module)
    return module


public_api = _load_public_api()
PUBLIC_MODULES = public_api.public_modules()


# ------------------------------------------------------------------------------------------
# Docstrings and __all__.
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = public_api.public_names(module)
    missing = [n for n in names if public_api.docstring(module, n) is None]
    assert not missing, (
        f"public names of {module_name} without a docstring (a value or type alias needs a "
        f"docstring under its assignment or a `#:` comment above it): {missing}"
    )


@pytest.mark.parametrize(
    "module_name", [m for m in PUBLIC_MODULES if hasattr(importlib.import_module(m), "__all__")]
)
def test_all_lists_every_class_and_function_the_module_exposes(module_name: str) -> None:
    module = importlib.import_module(module_name)
    listed = set(module.__all__)
    unlisted = sorted(
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and name not in listed
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and (obj.__module__ == module_name or obj.__module__.startswith(module_name + "."))
    )
    assert not unlisted, (
        f"{module_name} exposes {unlisted} but its __all__ does not list them, so the API "
        f"reference leaves them out: add them to __all__ (or give them a leading underscore)"
    )


def test_public_modules_are_found_from_the_packages() -> None:
    for expected in ("autograd_core", "autograd_core.testing", "nn", "nn.functional", "nn.init"):
        assert expected in PUBLIC_MODULES
    for expected in ("nn.optim.lr_scheduler", "nn.data", "nn.datasets", "nn.transforms"):
        assert expected in PUBLIC_MODULES
    for expected in ("nn.models", "nn.utils"):
        assert expected in PUBLIC_MODULES
    assert "autograd_core.engine" not in PUBLIC_MODULES  # its public names live in the package


def test_api_pages_describe_every_public_name_once() -> None:
    described: dict[str, str] = {}
    for module_name in PUBLIC_MODULES:
        text = public_api.page(module_name)
        module = importlib.import_module(module_name)
        for name in public_api.public_names(module):
            obj = getattr(module, name)
            full = f"{module_name}.{name}"
            if public_api.kind(obj) == "module":
                assert f":doc:`{obj.__name__}`" in text, f"{module_name} does not link {name}"
                continue
            if f":: {full}\n" in text:
                assert full not in described, f"{full} is described twice"
                described[full] = module_name
            else:  # described where it is first public, and linked from here
                key = public_api._identity(obj)
                target = public_api.canonical_names().get(key)
                assert target is not None and f":py:obj:`{target}`" in text, (
                    f"the API page of {module_name} neither describes nor links {name}"
                )
    assert "autograd_core.Tensor" in described and "nn.Linear" in described


def test_docstring_prose_is_escaped_and_code_is_left_alone() -> None:
    escape = public_api.escape_inline_markup
    assert escape(["|a - n| <= atol + rtol * |n|"]) == [r"\|a - n\| <= atol + rtol \* \|n\|"]
    assert escape(["fill with `zeros_` or zeros_, `x|y`"]) == [
        r"fill with `zeros_` or zeros\_, `x|y`"
    ]
    assert escape(["- a **bold** claim"]) == [r"- a \*\*bold\*\* claim"]
    literal = ["Example::", "", "    y = |x| * 2", "", "after |x|"]
    assert escape(literal) == ["Example::", "", "    y = |x| * 2", "", r"after \|x\|"]
    diagram = ["laid out as:", "", "    a -> b", "       -> c", "done"]
    assert escape(diagram) == ["laid out as::", "", "    a -> b", "       -> c", "done"]
    assert escape(["Args:", "", "    x: the input"])[0] == "Args:"  # napoleon's sections
    assert escape([">>> abs(-2) * 3", "6"]) == [">>> abs(-2) * 3", "6"]


# ------------------------------------------------------------------------------------------
# The pages' examples.
# ------------------------------------------------------------------------------------------


@dataclass
class Fence:
    """One fenced block of a page: its language (or directive), code, line and marker."""

    info: str
    code: str
    line: int  # the block's first code line, 1-based
    marker: tuple[str, str] | None  # ("not-tested" | "needs" | "output", argument)


def fences(text: str) -> list[Fence]:
    """The fenced blocks of a MyST page, as markdown-it parses them (so a directive's
    closing fence is never taken for an opening one), each with the marker just above."""
    lines = text.split("\n")
    found = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        before = lines[token.map[0] - 1].strip() if token.map[0] > 0 else ""
        marker = None
        if before.startswith("<!--") and before.endswith("-->"):
            kind_, _, argument = before[4:-3].strip().partition(":")
            marker = (kind_.strip(), argument.strip())
        found.append(Fence(token.info.strip(), token.content, token.map[0] + 2, marker))
    return found


PAGES = sorted(DOCS.glob("**/*.md"))
PAGES = [p for p in PAGES if "_build" not in p.parts]
EXAMPLES = [
    (page, fence) for page in PAGES for fence in fences(page.read_text()) if fence.info == "python"
]


def run_page(page: pathlib.Path, workdir: pathlib.Path) -> dict[int, str | None]:
    """Run the page's python blocks in order in one namespace; by first line, None when a
    block ran and held, else the failure, or "skipped: ..."."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    results: dict[int, str | None] = {}
    blocks = fences(page.read_text())
    with working_directory(workdir):
        for index, fence in enumerate(blocks):
            if fence.info != "python":
                continue
            marker = fence.marker
            block = ReadmeBlock("python", fence.code, fence.line, None)
            if marker is not None and marker[0] == "not-tested":
                results[fence.line] = f"skipped: not tested: {marker[1]}"
                continue
            needs = marker[1] if marker is not None and marker[0] == "needs" else None
            if needs is not None and importlib.util.find_spec(needs) is None:
                results[fence.line] = f"skipped: needs {needs}"
                continue
            if block.needs_dot and shutil.which("dot") is None:
                results[fence.line] = "skipped: needs Graphviz's dot program"
                continue
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    run_block(block, namespace, str(page))
            except Exception as error:  # this block's failure, reported by its test
                results[fence.line] = f"{type(error).__name__}: {error}"
                continue
            shown = blocks[index + 1] if index + 1 < len(blocks) else None
            expected = shown.code if shown is not None and shown.marker == ("output", "") else None
            if expected is None or printed.getvalue().rstrip() == expected.rstrip():
                results[fence.line] = None
            else:
                results[fence.line] = (
                    f"it prints\n{printed.getvalue()}\nbut the page shows\n{expected}"
                )
    return results


_RESULTS: dict[pathlib.Path, dict[int, str | None]] = {}


@pytest.fixture
def page_results(tmp_path_factory: pytest.TempPathFactory) -> Any:
    def results(page: pathlib.Path) -> dict[int, str | None]:
        if page not in _RESULTS:
            _RESULTS[page] = run_page(page, tmp_path_factory.mktemp(page.stem))
        return _RESULTS[page]

    return results


@pytest.mark.parametrize(
    ("page", "line"),
    [(page, fence.line) for page, fence in EXAMPLES],
    ids=[f"{page.relative_to(DOCS)}:{fence.line}" for page, fence in EXAMPLES],
)
def test_python_block_runs(page: pathlib.Path, line: int, page_results: Any) -> None:
    outcome = page_results(page)[line]
    if outcome is not None and outcome.startswith("skipped: "):
        pytest.skip(outcome)
    assert outcome is None, f"the python block at {page.relative_to(ROOT)}:{line} fails: {outcome}"


def test_markers_are_known_and_output_follows_python() -> None:
    for page in PAGES:
        blocks = fences(page.read_text())
        for index, fence in enumerate(blocks):
            where = f"{page.relative_to(ROOT)}:{fence.line}"
            if fence.marker is None:
                continue
            kind_, argument = fence.marker
            assert kind_ in ("not-tested", "needs", "output"), f"unknown marker at {where}"
            if kind_ == "output":
                assert fence.info == "text", f"an output marker stands before {where}"
                assert index > 0 and blocks[index - 1].info == "python", (
                    f"the output at {where} follows no python block"
                )
            else:
                assert argument, f"the marker above {where} gives no reason or module"


def test_python_blocks_are_formatted_as_ruff_formats_them() -> None:
    for page, fence in EXAMPLES:
        formatted = ruff_formatted(fence.code)
        assert formatted == fence.code, (
            f"ruff formats the block at {page.relative_to(ROOT)}:{fence.line} differently:\n"
            f"{formatted}"
        )


def test_runner_checks_printed_output_and_values(tmp_path: pathlib.Path) -> None:
    page = tmp_path / "sample.md"
    page.write_text(
        "```{literalinclude} x.py\n:pyobject: f\n```\n\n"
        "```python\nprint('hello')\n```\n\n<!-- output -->\n```text\nhello\n```\n\n"
        "```python\nprint('a')\n```\n\n<!-- output -->\n```text\nb\n```\n\n"
        "```python\n1 + 1  # 3\n```\n\n"
        "<!-- needs: a_module_that_is_not_there -->\n```python\nimport a\n```\n"
    )
    results = list(run_page(page, tmp_path).values())
    assert results[0] is None  # the directive's closing fence opened nothing
    assert results[1] is not None and "but the page shows" in results[1]
    assert results[2] is not None and "the comment says 3" in results[2]
    assert results[3] == "skipped: needs a_module_that_is_not_there"
    check_value(2, "2")
