"""The API reference, generated from the packages' public names, so it cannot go stale.

What is public is decided where Python decides it: a module's `__all__`, or, for a module
without one, the names it defines or assigns itself that do not start with an underscore.
The public modules are found the same way: `autograd_core`, `autograd_core.testing` (imported
on demand, so no `__all__` lists it) and `nn`, then every module that a public module lists
as a public name (`nn.functional`, `nn.optim`, `nn.optim.lr_scheduler`, ...).

At the start of each build this writes one page per public module to `docs/api/` (git
ignores them): a section per defining module, each with a summary table and the autodoc
entries of its names. An object reachable under several public names (`nn.Conv2d` is
`nn.convolution.Conv2d`; `nn.functional.relu` is `autograd_core.relu`) is documented once,
where it is first met, and the other pages link to it.

`tests/test_docs.py` imports this module: the reference and the test that every public name
has a docstring read the same list of names.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pathlib
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterator
from typing import Any

ROOTS = ("autograd_core", "autograd_core.testing", "nn")

# The order of a page's sections (one per defining module) as a reader meets them: the class
# users hold, the ops, the transforms, then the machinery. A module not named here gets its
# section after these, in the order of its name.
FIRST = (
    "autograd_core.tensor",
    "autograd_core.ops.creation",
    "autograd_core.ops.elementwise",
    "autograd_core.ops.reductions",
    "autograd_core.ops.shape",
    "autograd_core.ops.linalg",
    "autograd_core.ops.neural",
    "autograd_core.ops.conv",
    "autograd_core.ops.pooling",
    "autograd_core.ops.recurrent",
    "autograd_core.transforms",
    "autograd_core.checking",
    "autograd_core.custom",
    "autograd_core.drawing",
    "autograd_core.engine",
    "nn.module",
    "nn.layers",
    "nn.losses",
    "nn.convolution",
    "nn.recurrent",
    "nn.embedding",
    "nn.attention",
    "nn.transformer",
    "nn.graph",
    "nn.training",
    "nn.serialization",
)


# ------------------------------------------------------------------------------------------
# Public modules and names.
# ------------------------------------------------------------------------------------------


def _assigned_names(module: types.ModuleType) -> tuple[str, ...]:
    """Names a module binds with a top-level assignment (constants and aliases)."""
    return _assigned_in(module.__name__)


@functools.cache
def _assigned_in(module_name: str) -> tuple[str, ...]:
    module = sys.modules[module_name]
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return ()
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:  # `x = ...`, and `a, b = ...`
            elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            names += [e.id for e in elements if isinstance(e, ast.Name)]
    return tuple(names)


def public_names(module: types.ModuleType) -> list[str]:
    """The module's `__all__`, or the public names it defines or assigns itself."""
    listed = getattr(module, "__all__", None)
    if listed is not None:
        return list(listed)
    own = [
        name
        for name, obj in vars(module).items()
        if getattr(obj, "__module__", None) == module.__name__
        and (inspect.isclass(obj) or inspect.isfunction(obj))
    ]
    names = dict.fromkeys([*own, *_assigned_names(module)])
    return [n for n in names if not n.startswith("_") and hasattr(module, n)]


@functools.cache
def public_modules() -> tuple[str, ...]:
    """Every public module, breadth first from `ROOTS` (a package before its submodules)."""
    found: list[str] = []
    queue = list(ROOTS)
    while queue:
        name = queue.pop(0)
        if name in found:
            continue
        found.append(name)
        module = importlib.import_module(name)
        for attr in public_names(module):
            obj = getattr(module, attr)
            if inspect.ismodule(obj) and obj.__name__.split(".")[0] in ("autograd_core", "nn"):
                queue.append(obj.__name__)
    return tuple(found)


def is_type_alias(obj: Any) -> bool:
    """A name for a type, used in annotations (`Shape = tuple[int, ...]`, `DType = Any`)."""
    return isinstance(obj, types.GenericAlias | types.UnionType | typing.TypeVar) or (
        type(obj).__module__ == "typing"
    )


def kind(obj: Any) -> str:
    """The autodoc directive for an object ("data" for values and type aliases)."""
    if inspect.ismodule(obj):
        return "module"
    if is_type_alias(obj):
        return "data"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def _identity(obj: Any) -> int | None:
    """What tells two public names apart as one object (None: plain values never count)."""
    return id(obj) if kind(obj) != "data" or isinstance(obj, dict) else None


@functools.cache
def canonical_names() -> dict[int, str]:
    """For every object with a public name: the full name it is documented under."""
    canonical: dict[int, str] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in public_names(module):
            obj = getattr(module, name)
            key = _identity(obj)
            if key is not None and kind(obj) != "module":
                canonical.setdefault(key, f"{module_name}.{name}")
    return canonical


def defining_module(module: types.ModuleType, name: str) -> str:
    """The module whose source defines the public name `module.name`."""
    obj = getattr(module, name)
    own = getattr(obj, "__module__", None)
    own = own if kind(obj) != "data" and isinstance(own, str) and own in sys.modules else None
    if own is not None and getattr(sys.modules[own], name, None) is obj:
        return own  # defined there under this name (def, class, or an alias beside it)
    package = (own or module.__name__).split(".")[0]
    for candidate in _package_modules(package):  # `add = binary_function(ADD, ...)`, `PAD = 0`
        if name in _assigned_names(candidate) and getattr(candidate, name, None) is obj:
            return candidate.__name__
    return own or module.__name__


def _package_modules(package: str) -> Iterator[types.ModuleType]:
    for name, module in sorted(sys.modules.items()):
        if (name == package or name.startswith(package + ".")) and module is not None:
            yield module


def attribute_doc(module_name: str, name: str) -> str | None:
    """The docstring or `#:` comment of a module-level assignment, as Sphinx finds it."""
    from sphinx.pycode import ModuleAnalyzer, PycodeError

    try:
        docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except PycodeError:
        return None
    lines = docs.get(("", name))
    return "\n".join(lines).strip() if lines else None


def docstring(module: types.ModuleType, name: str) -> str | None:
    """The documentation of a public name: its own docstring, or, for a plain value, the
    docstring written under its assignment in the module that defines it."""
    obj = getattr(module, name)
    if kind(obj) == "data":
        return attribute_doc(defining_module(module, name), name)
    text = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
    return text.strip() if isinstance(text, str) and text.strip() else None


# ------------------------------------------------------------------------------------------
# Docstrings as reStructuredText: plain text, except for code.
# ------------------------------------------------------------------------------------------

_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")  # a `code` span (default_role = "code")
_SPECIAL = re.compile(r"[|*]|(?<=\w)_(?=\W|$)")  # substitutions, emphasis, name_ references


def _escape_prose(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def escape_inline_markup(lines: list[str]) -> list[str]:
    """Escape what reStructuredText would read as markup in the prose of a docstring.

    The docstrings are written as plain text with `code` in backticks: `|x|` (an absolute
    value, as in gradcheck's docstring) would be a substitution, `**params` emphasis and
    `zeros_` a hyperlink reference. Code spans, literal blocks (after a line ending in
    `::`), doctest blocks and bullet markers are left as they are.
    """
    out = []
    literal_indent: int | None = None  # inside a literal block: the indent of its `::` line
    doctest = False
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if doctest or stripped.startswith(">>>"):
            doctest = bool(stripped)
            out.append(line)
            continue
        bullet = re.match(r"([-*+] |\d+\. )", stripped)
        head = line[: indent + (bullet.end() if bullet else 0)]
        body = line[len(head) :]
        pieces, start = [], 0
        for match in _CODE.finditer(body):
            pieces += [_escape_prose(body[start : match.start()]), match.group(0)]
            start = match.end()
        pieces.append(_escape_prose(body[start:]))
        if _introduces_preformatted(lines, number):
            pieces.append(":")
        out.append(head + "".join(pieces))
        if stripped.endswith("::") or _introduces_preformatted(lines, number):
            literal_indent = indent
    return out


# Section headers napoleon turns into fields (Google style): their indented blocks are fields.
_SECTIONS = re.compile(
    r"(Args|Arguments|Attributes|Example|Examples|Keyword Args|Methods|Note|Notes|"
    r"Other Parameters|Parameters|Raises|References|Return|Returns|See Also|Warning|"
    r"Warnings|Warns|Yield|Yields):$"
)


def _introduces_preformatted(lines: list[str], number: int) -> bool:
    """Whether line `number` ends in one colon and is followed, after a blank line, by an
    indented block: in a plain-text docstring that block is preformatted (a diagram, a
    formula laid out by hand), so it becomes a literal block, as after `::`."""
    line = lines[number].rstrip()
    stripped = line.lstrip()
    if not line.endswith(":") or line.endswith("::") or _SECTIONS.fullmatch(stripped):
        return False
    following = lines[number + 1 : number + 3]
    if len(following) < 2 or following[0].strip() or not following[1].strip():
        return False
    return len(following[1]) - len(following[1].lstrip()) > len(line) - len(stripped)


def process_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """autodoc-process-docstring: escape inline markup in place."""
    lines[:] = escape_inline_markup(lines)


# ------------------------------------------------------------------------------------------
# The pages.
# ------------------------------------------------------------------------------------------


def _summary(module: types.ModuleType) -> tuple[str, str]:
    """A section's title and its intro paragraph, from the defining module's docstring."""
    paragraph = (module.__doc__ or "").strip().split("\n\n")[0]
    intro = " ".join(paragraph.split())
    first = intro.split(". ")[0].rstrip(".")
    title = first.split(":")[0] if ":" in first else first
    if len(title) > 50:
        title = title.split(",")[0]
    if len(title) > 50:
        title = module.__name__
    title, intro = escape_inline_markup([title.replace("`", ""), intro])
    return title, intro


def _heading(text: str, underline: str) -> str:
    return f"{text}\n{underline * len(text)}\n"


def _directive(full_name: str, obj: Any, module: types.ModuleType, name: str) -> str:
    """The autodoc entry of one object."""
    what = kind(obj)
    if what == "data":
        doc = docstring(module, name) or ""
        body = textwrap.indent("\n".join(escape_inline_markup(doc.splitlines())), "   ")
        shown = repr(obj)
        if is_type_alias(obj) or len(shown) <= 70:
            option = f":value: {shown}"
        else:
            option = f":type: {type(obj).__name__}"
        return f".. py:data:: {full_name}\n   {option}\n\n{body}\n"
    if what in ("class", "exception"):
        return f".. auto{what}:: {full_name}\n   :members:\n"
    return f".. autofunction:: {full_name}\n"


def page(module_name: str) -> str:
    """The reStructuredText of one public module's reference page."""
    module = importlib.import_module(module_name)
    canonical = canonical_names()
    sections: dict[str, list[str]] = {}
    elsewhere: list[str] = []
    submodules: list[str] = []
    for name in public_names(module):
        obj = getattr(module, name)
        full = f"{module_name}.{name}"
        key = _identity(obj)
        if kind(obj) == "module":
            submodules.append(obj.__name__)
        elif key is not None and canonical.get(key, full) != full:
            elsewhere.append(f"`{name}` (:py:obj:`{canonical[key]}`)")
        else:
            sections.setdefault(defining_module(module, name), []).append(name)

    doc = (module.__doc__ or "").strip()
    lines = [
        f".. This page is generated by docs/_ext/public_api.py from {module_name}'s public names.",
        "",
        _heading(module_name, "="),
        f".. py:module:: {module_name}",
        "   :no-index:",
        "",
        "\n".join(escape_inline_markup(doc.splitlines())),
        "",
    ]
    if submodules:
        links = ", ".join(f":doc:`{m}`" for m in submodules)
        lines += [f"Modules: {links}.", ""]
    if elsewhere:
        lines += [
            "Also here, documented where they are first public: " + ", ".join(elsewhere) + ".",
            "",
        ]

    def order(defining: str) -> tuple[int, str]:
        return (FIRST.index(defining) if defining in FIRST else len(FIRST), defining)

    for defining in sorted(sections, key=order):
        names = sections[defining]
        if defining != module_name or len(sections) > 1:
            title, intro = _summary(importlib.import_module(defining))
            lines += [_heading(title, "-"), f"*From* `{defining}`. {intro}", ""]
        callables = [n for n in names if kind(getattr(module, n)) != "data"]
        if len(callables) > 1:
            lines += [".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   {n}" for n in callables] + [""]
        for name in names:
            lines.append(_directive(f"{module_name}.{name}", getattr(module, name), module, name))
    return "\n".join(lines)


def write_pages(app: Any) -> None:
    """builder-inited: (re)write docs/api/<module>.rst for every public module, touching a
    file only when its text changed (so an unchanged page is not read again)."""
    folder = pathlib.Path(app.srcdir) / "api"
    folder.mkdir(exist_ok=True)
    wanted = {f"{name}.rst": page(name) for name in public_modules()}
    for stale in folder.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    for filename, text in wanted.items():
        path = folder / filename
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", write_pages)
    app.connect("autodoc-process-docstring", process_docstring, priority=400)  # before napoleon
    return {"parallel_read_safe": True, "parallel_write_safe": True}
