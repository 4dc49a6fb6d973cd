"""The README's examples run, and what they claim holds, so they cannot go stale.

Every ```python block of README.md runs, in order, in one namespace (later blocks use names
earlier ones made, as a reader's session would), in a temporary working directory so the
files the examples write do not litter the repository. Tracebacks point at README lines.

A value written as a comment after an expression is checked: in

    x1.grad, x2.grad  # (tensor(5.5), tensor(1.7163))

the numbers of the comment must be those of the result, to the digits shown. A comment is
taken as a value when it starts like one (a digit, `(`, `[`, `tensor(`, `True`, `False`), and
ends at the first ": " (the rest is prose); the comment may also stand alone on the line
right after the expression.

Markers on the line just before a block (keep them rare):

- `<!-- excerpt: path/to/file.py -->`: the block is quoted from that file and must appear in
  it verbatim (it is not run);
- `<!-- not-tested: reason -->`: the block is not run.

Blocks that render or pipe a graph need Graphviz's `dot` program and are skipped without it.
Python blocks must also be formatted as `ruff format` writes them (when ruff is installed).
```bash blocks are not run, but the files they name must exist, and so must every
repository path and `python -m` module the README mentions.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import importlib.util
import io
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"<!--\s*(excerpt|not-tested):\s*(.*?)\s*-->\s*$")
VALUE_START = re.compile(r"(\d|-\d|\(|\[|tensor\(|True\b|False\b)")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class Block:
    """One fenced code block of a markdown file."""

    language: str
    code: str
    line: int  # the line of the block's first code line, 1-based
    marker: tuple[str, str] | None  # ("excerpt", path) or ("not-tested", reason)

    @property
    def needs_dot(self) -> bool:
        return "draw_graph(" in self.code and (".render(" in self.code or ".pipe(" in self.code)


def blocks(text: str) -> list[Block]:
    """The fenced blocks of markdown text, with the marker comment just above each."""
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 2
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        found.append(
            Block(match.group(1), match.group(2), line, marker.groups() if marker else None)
        )
    return found


def expected_values(code: str) -> dict[int, str]:
    """Comments that state a value, by the line (1-based, in `code`) they stand on."""
    values = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if VALUE_START.match(text):
                values[token.start[0]] = text.split(": ", 1)[0]
    return values


def leaves(value: Any) -> list[float]:
    """The numbers inside a result: tensors, arrays, numbers, bools, nested tuples and lists."""
    if isinstance(value, tuple | list):
        return [x for item in value for x in leaves(item)]
    if hasattr(value, "numpy"):
        value = value.numpy()
    return [float(x) for x in np.ravel(np.asarray(value, dtype=float))]


def check_value(actual: Any, expected: str) -> None:
    """The numbers in `expected` are those of `actual`, to the digits written."""
    written = re.sub(r"dtype=\w+", "", expected).replace("True", "1").replace("False", "0")
    numbers = NUMBER.findall(written)
    values = leaves(actual)
    assert len(numbers) == len(values), f"the comment says {expected}, the result is {actual!r}"
    for text, value in zip(numbers, values, strict=True):
        mantissa, _, exponent = text.lower().partition("e")
        tolerance = 0.5 * 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
        assert math.isclose(value, float(text), abs_tol=tolerance * (1 + 1e-9)), (
            f"the comment says {expected}, the result is {actual!r}"
        )


def run_block(block: Block, namespace: dict[str, Any], filename: str) -> None:
    """Run a python block statement by statement, checking the values its comments state."""
    tree = ast.parse(block.code)
    values = expected_values(block.code)
    for statement in tree.body:
        expected = values.get(statement.end_lineno or 0)
        if expected is None:  # a value comment alone on the next line
            expected = values.get((statement.end_lineno or 0) + 1)
            if expected is not None and statement.end_lineno is not None:
                next_line = block.code.split("\n")[statement.end_lineno]
                expected = expected if next_line.lstrip().startswith("#") else None
        ast.increment_lineno(statement, block.line - 1)
        if isinstance(statement, ast.Expr):
            code = compile(ast.Expression(statement.value), filename, "eval")
            result = eval(code, namespace)
            if expected is not None:
                check_value(result, expected)
        else:
            module = ast.Module(body=[statement], type_ignores=[])
            exec(compile(module, filename, "exec"), namespace)


@contextlib.contextmanager
def working_directory(path: pathlib.Path) -> Iterator[None]:
    previous = pathlib.Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_markdown(text: str, workdir: pathlib.Path, filename: str) -> dict[int, str | None]:
    """Run every python block of `text` in order, in one namespace, inside `workdir`.

    Returns, for every python block (by its first line), None when it ran and every stated
    value held, the error otherwise, or "skipped: ..." for a block that was not run.
    """
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    results: dict[int, str | None] = {}
    with working_directory(workdir):
        for block in blocks(text):
            if block.language != "python":
                continue
            if block.marker is not None:
                results[block.line] = f"skipped: {block.marker[0]} {block.marker[1]}"
            elif block.needs_dot and shutil.which("dot") is None:
                results[block.line] = "skipped: needs Graphviz's dot program"
            else:
                try:
                    run_block(block, namespace, filename)
                    results[block.line] = None
                except Exception as error:  # report it as this block's failure
                    results[block.line] = f"{type(error).__name__}: {error}"
    return results


@pytest.fixture(scope="module")
def readme_results(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str | None]:
    return run_markdown(README.read_text(), tmp_path_factory.mktemp("readme"), str(README))


README_BLOCKS = blocks(README.read_text())
PYTHON_LINES = [b.line for b in README_BLOCKS if b.language == "python"]


@pytest.mark.parametrize("line", PYTHON_LINES, ids=[f"README.md:{n}" for n in PYTHON_LINES])
def test_python_block_runs(line: int, readme_results: dict[int, str | None]) -> None:
    outcome = readme_results[line]
    if outcome is not None and outcome.startswith("skipped: "):
        block = next(b for b in README_BLOCKS if b.line == line)
        if block.marker is not None and block.marker[0] == "excerpt":
            return  # checked by test_excerpts_are_verbatim
        pytest.skip(outcome)
    assert outcome is None, f"the python block at README.md:{line} fails: {outcome}"


def test_excerpts_are_verbatim() -> None:
    excerpts = [b for b in README_BLOCKS if b.marker is not None and b.marker[0] == "excerpt"]
    for block in excerpts:
        source = ROOT / (block.marker[1] if block.marker else "")
        assert source.is_file(), f"README.md:{block.line} quotes {source}, which does not exist"
        assert block.code.strip() in source.read_text(), (
            f"the block at README.md:{block.line} is no longer a verbatim excerpt of {source}"
        )


def test_not_tested_markers_give_a_reason() -> None:
    for block in README_BLOCKS:
        if block.marker is not None:
            assert block.marker[1], f"the marker above README.md:{block.line} gives no reason"


def ruff_formatted(code: str) -> str:
    """`code` as `ruff format` writes it, with the project's settings (skips without ruff)."""
    ruff = shutil.which("ruff", path=pathlib.Path(sys.executable).parent) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    return subprocess.run(
        [ruff, "format", "--stdin-filename", "block.py", "-"],
        input=code,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout


def test_python_blocks_are_formatted_as_ruff_formats_them() -> None:
    for block in README_BLOCKS:
        if block.language == "python":
            formatted = ruff_formatted(block.code)
            assert formatted == block.code, (
                f"ruff formats the block at README.md:{block.line} differently:\n{formatted}"
            )


def test_files_named_in_shell_blocks_exist() -> None:
    for block in README_BLOCKS:
        if block.language in ("bash", "sh", "shell"):
            for word in re.findall(r"[\w./-]+\.(?:py|sh)\b", block.code):
                assert (ROOT / word).is_file(), f"README.md:{block.line} runs {word}, missing"


def generated(path: str) -> bool:
    """Whether git ignores `path`: a place the project's commands write, not a source."""
    check = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    return check.returncode == 0


def test_repository_paths_and_modules_exist() -> None:
    text = README.read_text()
    top = "autograd_core|nn|tests|scripts|notebooks|benchmarks|docs|examples"
    for path in set(re.findall(rf"(?<![\w/.])((?:{top})/[\w./*-]*)", text)):
        if generated(path.rstrip(".")):
            continue  # an output the README's commands write (benchmarks/results/)
        assert glob.glob(str(ROOT / path.rstrip("."))), f"the README names {path}, missing"
    for module in set(re.findall(r"python -m ([\w.]+)", text)):
        assert importlib.util.find_spec(module) is not None, f"no module {module} (README)"


# The runner itself: it must report a raising block and a wrong stated value.
SAMPLE = """
```python
import numpy as np
total = np.arange(4).sum()
total  # 6
```

```python
(total / 4, [True, 2.5])  # (1.5, [True, 2.50]): prose after the value is ignored
```

```python
total + 1  # 8
```

```python
undefined_name
```

<!-- not-tested: shows a traceback on purpose -->
```python
raise RuntimeError("never runs")
```
"""


def test_runner_reports_failures_and_wrong_values(tmp_path: pathlib.Path) -> None:
    results = list(run_markdown(SAMPLE, tmp_path, "SAMPLE.md").values())
    assert results[:2] == [None, None]
    assert results[2] is not None and "the comment says 8" in results[2]
    assert results[3] == "NameError: name 'undefined_name' is not defined"
    assert results[4] == "skipped: not-tested shows a traceback on purpose"


def test_values_are_compared_to_the_digits_written() -> None:
    check_value(np.float64(1.71634), "1.7163")
    with pytest.raises(AssertionError):
        check_value(np.float64(1.7165), "1.7163")
    check_value(np.array([1234.0]), "[1.23e3]")
    with pytest.raises(AssertionError):
        check_value(np.array([1236.0]), "[1.23E3]")
    with pytest.raises(AssertionError):
        check_value((1.0, 2.0), "(1.0,)")
