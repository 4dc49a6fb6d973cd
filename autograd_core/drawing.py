"""Computation graphs as pictures, and the backward pass as a table.

`draw_graph(root)` walks the graph that produced `root` (breadth-first from the root, with an
explicit queue: no recursion, linear time) and returns a `graphviz.Digraph`: one box per
tensor (name, shape, dtype; values and gradients on request), one oval per op (the name it
has in the registry). Ops recorded inside nn modules sit in nested, labelled clusters, or are
collapsed into one box per module call. `show_grads=True` colours tensors by the norm of their
gradient on a log scale, so vanishing and exploding gradients show at a glance. Large graphs
stay readable: the layout runs top-down, the middle of a long chain of ops becomes one box,
and past `max_nodes` the ops farthest from the root become one "… N more ops" box.

`backward_steps(root)` replays the backward pass of a small graph step by step, the δ
recursion of backpropagation: at each op, the upstream gradient δ = ∂L/∂out, the vector-
Jacobian product applied, and the gradient it sends to each input.

graphviz is imported only inside the functions that need it, so `import autograd_core` stays
light; rendering needs the Graphviz `dot` program (`apt-get install graphviz`).
"""

from __future__ import annotations

import contextlib
import functools
import html
import itertools
import math
import pathlib
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_core import engine
from autograd_core.engine import Node
from autograd_core.tensor import Tensor

__all__ = [
    "BackwardStep",
    "BackwardSteps",
    "GraphvizNotFoundError",
    "InputGradient",
    "backward_steps",
    "draw_graph",
    "gradient_color",
    "module_label",
    "summarize",
]

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on your PATH. draw_graph() built the graph, but "
    "turning it into an image needs Graphviz itself (the `graphviz` Python package is only a "
    "wrapper around it). Install it, then restart Python or the Jupyter kernel:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz   (or: bash scripts/setup.sh)\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz\n"
    "  Windows:        winget install graphviz   (and add its bin folder to PATH)\n"
    "Meanwhile the DOT text is in `graph.source` (paste it into any Graphviz viewer)."
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs the Graphviz `dot` program, and it is not installed."""


# --------------------------------------------------------------------------------------------
# Colours and styles.
# --------------------------------------------------------------------------------------------

_VIRIDIS = (
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
)
"""Nine anchors of the viridis colormap (dark purple: small, yellow: large), interpolated."""

NO_GRAD_COLOR = "#d9d9d9"
NONFINITE_COLOR = "#ff3030"


def gradient_color(t: float) -> str:
    """The viridis-like colour at `t` in [0, 1] (clipped), as "#rrggbb"."""
    t = min(max(float(t), 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(t), len(_VIRIDIS) - 2)
    frac = t - i
    lo, hi = _VIRIDIS[i], _VIRIDIS[i + 1]
    r, g, b = (round(a + (c - a) * frac) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


_SHAPE = {
    "param": 'shape=box style="rounded,filled" penwidth=1.5',
    "input": 'shape=box style="filled,dashed"',
    "intermediate": "shape=box style=filled",
    "root": 'shape=box style="filled,bold" peripheries=2',
    "op": 'shape=ellipse style=filled margin="0.05,0.02"',
    "const": 'shape=plaintext fontsize=10 fontcolor="#555555"',
    "module": "shape=box3d style=filled",
    "more": "shape=note style=filled",
    "chain": 'shape=box style="filled,diagonals" margin="0.12,0.04"',
}
_FILL = {
    "param": "#cfe2ff",
    "input": "#eeeeee",
    "intermediate": "#ffffff",
    "root": "#ffd966",
    "op": "#d9ead3",
    "module": "#e1d5e7",
    "more": "#f8cecc",
    "chain": "#fde9d9",
}
"""Kinds differ by shape and outline; the fill says the kind, or the gradient norm."""


def _style(kind: str, fill: str | None = None, font: str | None = None) -> str:
    """DOT attributes of a node kind, with its own fill or the given one."""
    text = _SHAPE[kind]
    fill = fill or _FILL.get(kind)
    if fill:
        text += f' fillcolor="{fill}"'
    if font:
        text += f' fontcolor="{font}"'
    return text


_LEGEND = (
    ("param", "parameter (leaf, requires grad)"),
    ("input", "input / constant tensor (no grad)"),
    ("intermediate", "intermediate result"),
    ("root", "output (the root)"),
    ("op", "op"),
    ("const", "Python constant"),
    ("module", "module call (collapsed)"),
    ("more", "ops left out (max_nodes)"),
    ("chain", "middle of a long chain (max_chain)"),
)
_CLUSTER_FILLS = ("#f4f6fb", "#e9edf6", "#dfe5f1")


# --------------------------------------------------------------------------------------------
# Text of labels.
# --------------------------------------------------------------------------------------------

_FULL_SIZE = 12  # arrays up to this many elements are shown in full


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def summarize(array: np.ndarray, full_size: int = _FULL_SIZE) -> str:
    """Small arrays in full, larger ones as mean / min / max (one or a few lines)."""
    a = np.asarray(array)
    if a.size == 0:
        return "empty"
    if a.size <= full_size:
        if a.ndim == 0:
            return _fmt(float(a))
        return np.array2string(
            a, precision=4, separator=", ", suppress_small=True, max_line_width=60
        )
    with np.errstate(all="ignore"):
        mean, lo, hi = float(np.mean(a)), float(np.min(a)), float(np.max(a))
    return f"mean {_fmt(mean)}  min {_fmt(lo)}  max {_fmt(hi)}"


def _one_line(array: np.ndarray, full_size: int = 8) -> str:
    """A summary that fits one table cell."""
    a = np.asarray(array)
    if 0 < a.size <= full_size:
        return " ".join(summarize(a, full_size).split())
    if a.size == 0:
        return "empty"
    with np.errstate(all="ignore"):
        norm = float(np.linalg.norm(a.ravel()))
    return f"{a.shape} ‖·‖ {_fmt(norm)}, {summarize(a, 0)}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _format_index(index: Any) -> str:
    """numpy-style text of an index: `[0:2, :]`, `[array(3,)]`."""
    parts = index if isinstance(index, tuple) else (index,)
    texts = []
    for part in parts:
        if isinstance(part, slice):
            start = "" if part.start is None else str(part.start)
            stop = "" if part.stop is None else str(part.stop)
            step = "" if part.step is None else f":{part.step}"
            texts.append(f"{start}:{stop}{step}")
        elif part is None:
            texts.append("None")
        elif part is Ellipsis:
            texts.append("...")
        elif isinstance(part, np.ndarray):
            texts.append(f"{'mask' if part.dtype.kind == 'b' else 'array'}{part.shape}")
        else:
            texts.append(repr(part))
    return "[" + ", ".join(texts) + "]"


def _format_params(params: dict[str, Any]) -> str:
    """A short line of an op's parameters (axis, shape, index...)."""
    texts = []
    for key, value in params.items():
        if value is None or value is False:  # defaults (axis=None, keepdims=False) say nothing
            continue
        if key == "index":
            texts.append(_format_index(value))
            continue
        if isinstance(value, np.ndarray):
            text = f"array{value.shape}"
        elif isinstance(value, np.dtype):
            text = str(value)
        else:
            text = repr(value)
        if len(text) > 24:
            text = text[:23] + "…"
        texts.append(f"{key}={text}")
    return " ".join(texts)


def _constant_text(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return _fmt(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, np.ndarray):
        return f"array{value.shape} {value.dtype}"
    text = repr(value)
    return text if len(text) <= 20 else text[:19] + "…"


def _split_top_level(text: str) -> list[str]:
    """Split `a=1, b=(2, 3)` at commas outside brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _is_integer_text(value: str) -> bool:
    stripped = value.strip("()[] ").replace(",", " ").split()
    return bool(stripped) and all(p.lstrip("-").isdigit() for p in stripped)


def module_label(module: Any, name: str | None = None) -> str:
    """`layers.0: Linear(64, 64)`: name, class and a short form of `extra_repr()`.

    Integer settings keep only their values (`in_features=64` -> `64`), flags that are on
    (`bias=True`) are dropped, everything else stays `key=value`.
    """
    extra = getattr(module, "extra_repr", None)
    text = extra() if callable(extra) else ""
    short = []
    for part in _split_top_level(str(text)):
        key, eq, value = part.partition("=")
        if not eq:
            short.append(part)
        elif value.strip() == "True":
            continue
        elif _is_integer_text(value):
            short.append(value.strip())
        else:
            short.append(f"{key.strip()}={value.strip()}")
    body = ", ".join(short)
    if len(body) > 40:
        body = body[:39] + "…"
    label = f"{type(module).__name__}({body})" if body else type(module).__name__
    return f"{name}: {label}" if name else label


# --------------------------------------------------------------------------------------------
# Walking the graph.
# --------------------------------------------------------------------------------------------


class _Box:
    """One tensor of the drawing: a leaf (keyed by id) or the output of a node."""

    __slots__ = ("tensor", "node", "kind", "ident", "consumers")

    def __init__(self, tensor: Tensor | None, node: Node | None, kind: str, ident: str) -> None:
        self.tensor = tensor
        self.node = node
        self.kind = kind
        self.ident = ident
        self.consumers: list[int] = []  # indices of the ops that read it

    def shape_dtype(self) -> tuple[tuple[int, ...], Any] | None:
        if self.tensor is not None:
            return self.tensor.shape, self.tensor.dtype
        node = self.node  # a node box has a tensor while its value lives (see _box_of)
        if node is not None and node.out_meta is not None:
            return node.out_meta
        return None

    def grad(self) -> np.ndarray | None:
        """The gradient stored for this tensor, if any (leaves, or `retain_grad()`)."""
        tensor = self.tensor
        if self.node is not None and self.node.retained is not None:
            kept = self.node.retained()
            tensor = kept if kept is not None else tensor
        if tensor is not None and tensor.grad is not None:
            return tensor.grad.data
        return None


class _Graph:
    """What the walk found: ops in breadth-first order from the roots, and tensor boxes."""

    def __init__(self, roots: Sequence[Tensor]) -> None:
        self.ops: list[Node] = []
        self.op_index: dict[Node, int] = {}
        self.boxes: list[_Box] = []
        self.node_box: dict[Node, _Box] = {}
        self.leaf_box: dict[int, _Box] = {}
        self.op_output: list[_Box] = []
        self.op_inputs: list[list[_Box | Any]] = []  # a box, or a constant value
        self.root_boxes: list[_Box] = []
        queue: deque[Node] = deque()
        for root in roots:
            box = self._box_of(root, queue)
            box.kind = "root"
            if box not in self.root_boxes:
                self.root_boxes.append(box)
        while queue:
            node = queue.popleft()
            index = len(self.ops)
            self.ops.append(node)
            self.op_index[node] = index
            self.op_output.append(self.node_box[node])
            inputs: list[_Box | Any] = []
            for x in node.inputs:
                if isinstance(x, Tensor | Node):
                    box = self._box_of(x, queue)
                    box.consumers.append(index)
                    inputs.append(box)
                else:
                    inputs.append(x)
            self.op_inputs.append(inputs)

    def _box_of(self, x: Tensor | Node, queue: deque[Node]) -> _Box:
        tensor: Tensor | None
        node: Node | None
        if isinstance(x, Node):
            node, tensor = x, None
        else:
            node, tensor = x._node, x
        if node is None:
            assert tensor is not None
            box = self.leaf_box.get(id(tensor))
            if box is None:
                kind = "param" if tensor.requires_grad else "input"
                box = self.leaf_box[id(tensor)] = self._new_box(tensor, None, kind)
            return box
        box = self.node_box.get(node)
        if box is None:
            if tensor is None and node.value is not None:  # the graph keeps results as nodes
                tensor = node.lift(Tensor(0.0))
            box = self.node_box[node] = self._new_box(tensor, node, "intermediate")
            queue.append(node)
        elif box.tensor is None and tensor is not None:
            box.tensor = tensor
        return box

    def _new_box(self, tensor: Tensor | None, node: Node | None, kind: str) -> _Box:
        box = _Box(tensor, node, kind, f"t{len(self.boxes)}")
        self.boxes.append(box)
        return box


# --------------------------------------------------------------------------------------------
# Names of parameters and modules.
# --------------------------------------------------------------------------------------------


def _names(model: Any, ops: Sequence[Node]) -> tuple[dict[int, str], dict[int, str]]:
    """Parameter names and module names by id, from `model` or the outermost modules seen."""
    if model is not None:
        owners = [model]
    else:
        owners, seen = [], set()
        for node in ops:
            if node.scope and id(node.scope[0]) not in seen:
                seen.add(id(node.scope[0]))
                owners.append(node.scope[0])
    params: dict[int, str] = {}
    modules: dict[int, str] = {}
    for owner in owners:
        named_parameters = getattr(owner, "named_parameters", None)
        if callable(named_parameters):
            for name, p in named_parameters():
                params.setdefault(id(p), name)
        named_modules = getattr(owner, "named_modules", None)
        if callable(named_modules):
            for name, m in named_modules():
                modules.setdefault(id(m), name)
    return params, modules


# --------------------------------------------------------------------------------------------
# The drawing.
# --------------------------------------------------------------------------------------------


@functools.cache
def _drawing_class() -> Any:
    """`GraphDrawing`, a `graphviz.Digraph` whose rendering explains a missing `dot`."""
    import graphviz

    @contextlib.contextmanager
    def explain_missing_dot() -> Iterator[None]:
        try:
            yield
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(INSTALL_HINT) from error

    class GraphDrawing(graphviz.Digraph):  # type: ignore[misc]
        """A `graphviz.Digraph` of a computation graph, as returned by `draw_graph`.

        Everything of `graphviz.Digraph` works (`.source`, `.pipe()`, Jupyter display);
        `render("graph.png")` writes that file (the format comes from the suffix) and by
        default removes the intermediate DOT file. `omitted_ops` counts the ops left out
        by `max_nodes`.
        """

        omitted_ops = 0

        def render(
            self,
            filename: Any = None,
            directory: Any = None,
            view: bool = False,
            cleanup: bool = True,
            format: str | None = None,  # noqa: A002 - graphviz's name
            **kwargs: Any,
        ) -> str:
            suffix = pathlib.Path(str(filename)).suffix.lstrip(".") if filename else ""
            if format is None and kwargs.get("outfile") is None and suffix in _IMAGE_FORMATS:
                kwargs["outfile"], filename = filename, None
            with explain_missing_dot():
                return super().render(  # type: ignore[no-any-return]
                    filename,
                    directory=directory,
                    view=view,
                    cleanup=cleanup,
                    format=format,
                    **kwargs,
                )

        def __repr__(self) -> str:  # no memory address: stored notebooks rebuild unchanged
            return f"<GraphDrawing: {len(self.body)} lines of DOT>"

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            with explain_missing_dot():
                return super().pipe(*args, **kwargs)

        def view(self, *args: Any, **kwargs: Any) -> Any:
            with explain_missing_dot():
                return super().view(*args, **kwargs)

    GraphDrawing.__module__ = __name__
    return GraphDrawing


_IMAGE_FORMATS = {"png", "svg", "pdf", "jpg", "jpeg", "gif", "ps", "eps"}


def draw_graph(
    root: Tensor | Sequence[Tensor],
    show_values: bool = False,
    show_grads: bool = False,
    rankdir: str = "TB",
    model: Any = None,
    collapse_modules: bool | int = False,
    max_nodes: int | None = 50,
    max_chain: int | None = 8,
    legend: bool = True,
    title: str | None = None,
) -> Any:
    """The computation graph that produced `root` as a `graphviz.Digraph` (a `GraphDrawing`).

    Args:
        root: the output tensor (or several) whose graph to draw.
        show_values: print each tensor's data (small arrays in full, else mean/min/max).
        show_grads: print each tensor's `.grad` and colour the tensor by the gradient's
            norm on a log scale (a colour bar in the legend); tensors without one are grey.
        rankdir: Graphviz layout direction: "TB" (inputs on top; a graph is usually much
            deeper than wide, and in "TB" a step down costs a line of text, not a box's
            width) or "LR" (inputs left; fine for small graphs).
        model: the network, to name parameters (`layers.0.weight`) and module clusters via
            its `named_parameters()` / `named_modules()`; by default the outermost modules
            found in the graph are asked.
        collapse_modules: True draws each module call as one box; an int d collapses the
            modules nested d deep (1: outermost; with `model`, 1 means its children).
        max_nodes: draw at most this many ops (the nearest to the root, each with its
            output; a collapsed module or an elided chain counts as one); the rest becomes
            one "… N more ops" box. None draws everything.
        max_chain: a chain longer than this (ops in a row, each reading only the previous
            one's result, which nothing else reads, in one module call) keeps its first and
            last `max_chain // 2` ops; one "… N ops in a chain" box stands for the rest.
            None draws every op.
        legend: add a legend of the node kinds (and the colour bar with `show_grads`).
        title: a caption under the drawing.

    Render with `.render("graph.png")`, `.pipe(format="svg")`, or display it in Jupyter.
    """
    import graphviz

    roots = [root] if isinstance(root, Tensor) else list(root) if _is_sequence(root) else []
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError(
            f"draw_graph: root must be a Tensor (the output whose graph to draw) or a "
            f"non-empty sequence of Tensors, got {_describe(root)}"
        )
    if rankdir not in {"LR", "RL", "TB", "BT"}:
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1 or None, got {max_nodes}")
    if max_chain is not None and max_chain < 2:
        raise ValueError(f"draw_graph: max_chain must be at least 2 or None, got {max_chain}")

    graph = _Graph(roots)
    param_names, module_names = _names(model, graph.ops)
    depth = int(collapse_modules)
    if depth < 0:
        raise ValueError("draw_graph: collapse_modules must be a bool or a depth >= 1")

    # Which module call (if any) each op is collapsed into, and which ops are drawn.
    group_of: list[tuple[int, ...] | None] = []
    for node in graph.ops:
        key = None
        if depth and node.scope:
            offset = _model_offset(node.scope, model)
            if len(node.scope) >= offset + depth:
                key = tuple(id(m) for m in node.scope[: offset + depth])
        group_of.append(key)
    chains = [] if max_chain is None else _long_chains(graph, group_of, max_chain)
    chain_of: list[int | None] = [None] * len(graph.ops)  # which chain's middle each op is in
    for number, middle in enumerate(chains):
        for index in middle:
            chain_of[index] = number
    kept = _keep_nearest(graph, group_of, chain_of, max_nodes)
    omitted_ops = len(graph.ops) - sum(kept)

    drawing = _Drawing(graph, kept, group_of, param_names, module_names, show_values, show_grads)
    drawing.chains, drawing.chain_of = chains, chain_of
    drawing.build()

    cls = _drawing_class()
    dot = cls(
        name="computation_graph",
        graph_attr={
            "rankdir": rankdir,
            "fontname": "Helvetica",
            "nodesep": "0.2",
            "ranksep": "0.15" if rankdir in ("TB", "BT") else "0.3",
            "newrank": "true",
        },
        node_attr={
            "fontname": "Helvetica",
            "fontsize": "10",
            "height": "0.2",
            "margin": "0.08,0.02",
        },
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    dot.omitted_ops = omitted_ops
    dot.body.extend(drawing.top)
    clusters = drawing.clusters
    for path in list(clusters):  # a module with no ops of its own still frames its children
        for n in range(1, len(path)):
            clusters.setdefault(path[:n], [])
    subgraphs = {
        path: graphviz.Digraph(
            name=f"cluster_{i}",
            graph_attr={
                "label": drawing.cluster_labels[path].replace("\\", "\\\\"),
                "labeljust": "l",
                "labelloc": "t",
                "style": "rounded,filled",
                "color": "#9aa5bd",
                "fillcolor": _CLUSTER_FILLS[(len(path) - 1) % len(_CLUSTER_FILLS)],
                "fontsize": "11",
            },
            body=lines,
        )
        for i, (path, lines) in enumerate(clusters.items())
    }
    for path in sorted(subgraphs, key=len, reverse=True):  # innermost first, no recursion
        parent = subgraphs.get(path[:-1]) if len(path) > 1 else None
        (parent if parent is not None else dot).subgraph(subgraphs[path])
    dot.body.extend(drawing.edges)

    notes = []
    if omitted_ops:
        notes.append(
            f"{omitted_ops} of {len(graph.ops)} ops not drawn (max_nodes={max_nodes}); "
            f"pass max_nodes=None to draw them all"
        )
    if title:
        notes.insert(0, title)
    if notes:
        dot.attr(label="\\n".join(notes), labelloc="b", fontsize="11")
    if legend:
        _add_legend(dot, graphviz, drawing)
    return dot


def _model_offset(scope: tuple[Any, ...], model: Any) -> int:
    """Depth of `model` in a scope (its children are depth 1), or 0 if it is not there."""
    if model is not None:
        for i, m in enumerate(scope):
            if m is model:
                return i + 1
    return 0


def _is_sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"a numpy array of shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:80]


def _long_chains(
    graph: _Graph, group_of: list[tuple[int, ...] | None], max_chain: int
) -> list[list[int]]:
    """The middles of the chains longer than `max_chain` ops (each nearest-first).

    A chain is a run of ops, each reading the previous one's result and no other result
    (its other inputs are leaves or constants), where each such result is read once, by the
    next op, and the ops sit in the same module call: a straight line in the drawing. Its
    `max_chain // 2` ops at each end are drawn, the middle becomes one box.
    """
    ends = max_chain // 2
    previous: dict[int, int] = {}  # op -> the op whose result it continues
    for j, inputs in enumerate(graph.op_inputs):
        results = [x for x in inputs if isinstance(x, _Box) and x.node is not None]
        if len(results) != 1 or group_of[j] is not None:
            continue
        box = results[0]
        i = graph.op_index[box.node]  # type: ignore[index]
        if (
            box.consumers == [j]
            and box.kind != "root"
            and group_of[i] is None
            and graph.ops[i].scope == graph.ops[j].scope
        ):
            previous[j] = i
    continued = set(previous.values())
    middles = []
    for last in previous:
        if last in continued:
            continue  # not the end nearest the root
        chain = [last]
        while chain[-1] in previous:
            chain.append(previous[chain[-1]])
        if len(chain) > max_chain:
            middles.append(chain[ends : len(chain) - ends])
    return middles


def _keep_nearest(
    graph: _Graph,
    group_of: list[tuple[int, ...] | None],
    chain_of: list[int | None],
    max_nodes: int | None,
) -> list[bool]:
    """Which ops to draw: the first `max_nodes` units (ops, collapsed modules or elided
    chains) by distance."""
    if max_nodes is None:
        return [True] * len(graph.ops)
    kept_units: set[Any] = set()
    kept = []
    for i, key in enumerate(group_of):
        chain = chain_of[i]
        unit = ("chain", chain) if chain is not None else ("op", i) if key is None else key
        if unit not in kept_units and len(kept_units) < max_nodes:
            kept_units.add(unit)
        kept.append(unit in kept_units)
    return kept


class _Drawing:
    """Turns a walked graph into DOT lines: top-level nodes, clusters, edges."""

    def __init__(
        self,
        graph: _Graph,
        kept: list[bool],
        group_of: list[tuple[int, ...] | None],
        param_names: dict[int, str],
        module_names: dict[int, str],
        show_values: bool,
        show_grads: bool,
    ) -> None:
        self.graph = graph
        self.kept = kept
        self.group_of = group_of
        self.param_names = param_names
        self.module_names = module_names
        self.show_values = show_values
        self.show_grads = show_grads
        self.top: list[str] = []
        self.edges: list[str] = []
        self.clusters: dict[tuple[int, ...], list[str]] = {}
        self.cluster_labels: dict[tuple[int, ...], str] = {}
        self.norm_range: tuple[float, float] | None = None
        self.group_ident: dict[tuple[int, ...], str] = {}
        self.drawn_kinds: set[str] = set()
        self.chains: list[list[int]] = []  # middles of long chains (set by draw_graph)
        self.chain_of: list[int | None] = [None] * len(graph.ops)

    # -- placement ------------------------------------------------------------------------

    def _scope_path(self, node: Node, limit: int | None = None) -> tuple[int, ...]:
        scope = node.scope or ()
        if limit is not None:
            scope = scope[:limit]
        path = tuple(id(m) for m in scope)
        for i in range(len(scope)):
            sub = path[: i + 1]
            if sub not in self.cluster_labels:
                self.cluster_labels[sub] = module_label(
                    scope[i], self.module_names.get(id(scope[i]))
                )
        return path

    def _emit(self, path: tuple[int, ...], line: str) -> None:
        if path:
            self.clusters.setdefault(path, []).append(line)
        else:
            self.top.append(line)

    def _op_path(self, index: int) -> tuple[int, ...]:
        key = self.group_of[index]
        node = self.graph.ops[index]
        return self._scope_path(node, None if key is None else len(key) - 1)

    # -- building ---------------------------------------------------------------------------

    def build(self) -> None:
        graph, kept, group_of = self.graph, self.kept, self.group_of
        if self.show_grads:
            self._find_norm_range()
        # Where each box is represented in the drawing: its own node, a module box, or hidden.
        absorbed: dict[_Box, tuple[int, ...]] = {}
        for box in graph.boxes:
            if box.node is None and box.kind == "param" and box.consumers:
                keys = {group_of[c] for c in box.consumers}
                if len(keys) == 1 and None not in keys and all(kept[c] for c in box.consumers):
                    absorbed[box] = next(iter(keys))  # type: ignore[arg-type]
        group_params: dict[tuple[int, ...], list[_Box]] = {}
        for box, key in absorbed.items():
            group_params.setdefault(key, []).append(box)

        def source_of(box: _Box) -> str | None:
            """The DOT node an edge from `box` starts at (None: drawn inside a module box)."""
            if box in absorbed:
                return None
            if box.node is not None and box.kind != "root":
                index = graph.op_index[box.node]
                if kept[index] and group_of[index] is not None:
                    return self.group_ident[group_of[index]]  # type: ignore[index]
            return box.ident

        # Module boxes first, so edges can refer to them.
        group_members: dict[tuple[int, ...], list[int]] = {}
        for index, member_of in enumerate(group_of):
            if member_of is not None and kept[index]:
                group_members.setdefault(member_of, []).append(index)
        for key in group_members:
            self.group_ident[key] = f"m{len(self.group_ident)}"

        drawn_boxes: set[_Box] = set()
        edges: set[tuple[str, str]] = set()
        edge_lines = self.edges
        more_targets: list[str] = []

        def edge(tail: str, head: str) -> None:
            if tail != head and (tail, head) not in edges:
                edges.add((tail, head))
                edge_lines.append(f"\t{tail} -> {head}\n")

        for index, node in enumerate(graph.ops):
            if not kept[index]:
                continue
            group = group_of[index]
            out_box = graph.op_output[index]
            chain = self.chain_of[index]
            if chain is not None:  # one box for the middle of a long chain
                middle = self.chains[chain]
                head = f"e{chain}"
                if index == middle[0]:  # nearest the root: the box, and the chain's result
                    path = self._op_path(index)
                    self._emit(path, self._chain_line(head, middle))
                    drawn_boxes.add(out_box)
                    self._emit(path, self._box_line(out_box))
                    edge_lines.append(f"\t{head} -> {out_box.ident}\n")
                if index != middle[-1]:
                    continue  # inside the chain: nothing more to draw
            elif group is None:
                ident = f"o{index}"
                path = self._op_path(index)
                self._emit(path, self._op_line(ident, node))
                if out_box not in drawn_boxes:
                    drawn_boxes.add(out_box)
                    self._emit(path, self._box_line(out_box))
                edge_lines.append(f"\t{ident} -> {out_box.ident}\n")
                head = ident
            else:
                head = self.group_ident[group]
                if out_box.kind == "root" and out_box not in drawn_boxes:
                    drawn_boxes.add(out_box)
                    self._emit(self._op_path(index), self._box_line(out_box))
                    edge(head, out_box.ident)
            for argnum, x in enumerate(graph.op_inputs[index]):
                if chain is not None and (not isinstance(x, _Box) or x.node is None):
                    continue  # a chain's box shows where the chain comes from, not its leaves
                if not isinstance(x, _Box):
                    if group is None:
                        const = f"c{index}_{argnum}"
                        self._emit(self._op_path(index), self._const_line(const, x))
                        edge_lines.append(f"\t{const} -> {head}\n")
                    continue
                tail = source_of(x)
                if tail is None:
                    continue
                if group is None:  # an op: one edge per operand, even x * x
                    edge_lines.append(f"\t{tail} -> {head}\n")
                else:
                    edge(tail, head)
                if tail == x.ident and x not in drawn_boxes:
                    if x.node is None:
                        drawn_boxes.add(x)
                        self._emit(self._leaf_path(x), self._box_line(x))
                    elif not kept[graph.op_index[x.node]]:  # made by an op left out
                        drawn_boxes.add(x)
                        self._emit((), self._box_line(x))
                        more_targets.append(x.ident)

        for key, members in group_members.items():
            node = graph.ops[members[0]]
            path = self._scope_path(node, len(key))
            label = self.cluster_labels.pop(path)
            self._emit(path[:-1], self._module_line(key, label, members, group_params, absorbed))
        # Roots that are leaves (a graph of one tensor) or not reached otherwise.
        for box in graph.root_boxes:
            if box not in drawn_boxes:
                drawn_boxes.add(box)
                self._emit((), self._box_line(box))
        self.drawn_kinds = {box.kind for box in drawn_boxes}
        omitted = len(graph.ops) - sum(kept)
        if omitted:
            in_chains = sum(1 for box in graph.boxes if self._in_chain(box))
            hidden_boxes = len(graph.boxes) - len(drawn_boxes) - len(absorbed) - in_chains
            label = _html(f"… {omitted} more ops", f"and {hidden_boxes} tensors not drawn")
            self.top.append(f"\tmore [label={label} {_style('more')}]\n")
            for target in more_targets:
                edge_lines.append(f"\tmore -> {target} [style=dashed]\n")

    def _in_chain(self, box: _Box) -> bool:
        """Whether a tensor is hidden inside an elided chain's box (made or only read there)."""
        kept, chain_of, op_index = self.kept, self.chain_of, self.graph.op_index
        if box.node is not None:
            index = op_index[box.node]
            middle = chain_of[index]
            return middle is not None and kept[index] and index != self.chains[middle][0]
        return bool(box.consumers) and all(
            chain_of[c] is not None and kept[c] for c in box.consumers
        )

    def _chain_line(self, ident: str, middle: list[int]) -> str:
        """The box standing for the middle of a long chain: how many ops, and which."""
        counts = Counter(self.graph.ops[i].prim.name for i in middle)
        names = [f"{name} ×{n}" for name, n in counts.most_common(3)]
        if len(counts) > 3:
            names.append("…")
        count = f"{len(middle)} op{'s' if len(middle) > 1 else ''}"
        label = _html(f"… {count} in a chain", ", ".join(names))
        return f"\t{ident} [label={label} {_style('chain')}]\n"

    def _leaf_path(self, box: _Box) -> tuple[int, ...]:
        """A leaf sits in the innermost cluster shared by all ops that read it."""
        if box.node is not None:
            return ()
        paths = [self._op_path(c) for c in box.consumers if self.kept[c]]
        if not paths:
            return ()
        common = paths[0]
        for p in paths[1:]:
            n = 0
            while n < min(len(common), len(p)) and common[n] == p[n]:
                n += 1
            common = common[:n]
            if not common:
                break
        return common

    # -- node lines ---------------------------------------------------------------------------

    def _name(self, box: _Box) -> str:
        t = box.tensor
        if t is None:
            return ""
        return self.param_names.get(id(t)) or t.name or ""

    def _find_norm_range(self) -> None:
        norms = []
        for box in self.graph.boxes:
            g = box.grad()
            if g is not None:
                n = _norm(g)
                if n > 0 and math.isfinite(n):
                    norms.append(n)
        if norms:
            self.norm_range = (min(norms), max(norms))

    def _grad_fill(self, norm: float | None) -> tuple[str, str]:
        """Fill and font colour for a gradient norm (grey when there is none)."""
        if norm is None:
            return NO_GRAD_COLOR, "black"
        if not math.isfinite(norm):
            return NONFINITE_COLOR, "black"
        t = _log_position(norm, self.norm_range)
        return gradient_color(t), ("white" if t < 0.55 else "black")

    def _box_line(self, box: _Box) -> str:
        lines: list[str] = []
        name = self._name(box)
        meta = box.shape_dtype()
        shape = f"{_shape_text(meta[0])} {meta[1]}" if meta else "shape unknown"
        details: list[str] = []
        if self.show_values:
            if box.tensor is not None:
                details.extend(summarize(box.tensor.data).splitlines())
            else:
                details.append("(values freed by backward)")
        grad = box.grad()
        norm = None
        if self.show_grads and grad is not None:
            norm = _norm(grad)
            grad_text = summarize(grad).splitlines()
            details.append("grad " + grad_text[0])
            details.extend("     " + rest for rest in grad_text[1:])
            if grad.size > 1:
                details.append(f"‖grad‖ = {_fmt(norm)}")
        if name:
            lines.append(f"<B>{html.escape(name)}</B>")
        lines.append(html.escape(shape))
        label = "<" + "<BR/>".join(lines)
        if details:
            label += '<BR/><FONT POINT-SIZE="9">' + "<BR/>".join(html.escape(d) for d in details)
            label += "</FONT>"
        label += ">"
        style = _style(box.kind, *self._grad_fill(norm)) if self.show_grads else _style(box.kind)
        return f"\t{box.ident} [label={label} {style}]\n"

    def _op_line(self, ident: str, node: Node) -> str:
        params = _format_params(node.params)
        label = _html(node.prim.name, params) if params else _html(node.prim.name)
        tooltip = _dot_string(node.prim.doc or node.prim.name)
        return f"\t{ident} [label={label} tooltip={tooltip} {_style('op')}]\n"

    def _const_line(self, ident: str, value: Any) -> str:
        return f"\t{ident} [label={_html(_constant_text(value))} {_style('const')}]\n"

    def _module_line(
        self,
        key: tuple[int, ...],
        label: str,
        members: list[int],
        group_params: dict[tuple[int, ...], list[_Box]],
        absorbed: dict[_Box, tuple[int, ...]],
    ) -> str:
        graph, group_of = self.graph, self.group_of
        inside = set(members)
        ins, outs = [], []
        for index in members:
            out = graph.op_output[index]
            if any(group_of[c] != key for c in out.consumers) or out.kind == "root":
                meta = out.shape_dtype()
                outs.append(_shape_text(meta[0]) if meta else "?")
            for x in graph.op_inputs[index]:
                if isinstance(x, _Box) and x not in absorbed:
                    producer = graph.op_index.get(x.node) if x.node is not None else None
                    if producer is None or producer not in inside:
                        meta = x.shape_dtype()
                        ins.append(_shape_text(meta[0]) if meta else "?")
        lines = [label]
        if ins or outs:
            lines.append(f"{', '.join(dict.fromkeys(ins))} → {', '.join(dict.fromkeys(outs))}")
        params = group_params.get(key, [])
        prefix = self.module_names.get(key[-1])
        norms = []
        for box in params:
            name = self._name(box) or "param"
            if prefix and name.startswith(prefix + "."):
                name = name[len(prefix) + 1 :]
            lines.append(
                f"{name} {_shape_text(box.tensor.shape if box.tensor is not None else ())}"
            )
            g = box.grad()
            if g is not None:
                norms.append(_norm(g))
        lines.append(f"{len(members)} op{'s' if len(members) > 1 else ''}")
        style = _style("module")
        if self.show_grads:
            norm = math.sqrt(sum(n * n for n in norms)) if norms else None
            if norm is not None:
                lines.append(f"‖param grads‖ = {_fmt(norm)}")
            style = _style("module", *self._grad_fill(norm))
        text = "<<B>" + html.escape(lines[0]) + "</B><BR/>"
        text += '<FONT POINT-SIZE="9">' + "<BR/>".join(html.escape(x) for x in lines[1:])
        text += "</FONT>>"
        return f"\t{self.group_ident[key]} [label={text} {style}]\n"


def _dot_string(text: str) -> str:
    """A quoted DOT string showing `text` literally (backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(first: str, *rest: str) -> str:
    """An HTML-like label: first line plain, the others small."""
    text = "<" + html.escape(first)
    if rest:
        text += '<BR/><FONT POINT-SIZE="9">' + "<BR/>".join(html.escape(r) for r in rest)
        text += "</FONT>"
    return text + ">"


def _norm(array: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.asarray(array, dtype=np.float64).ravel()))


def _log_position(norm: float, norm_range: tuple[float, float] | None) -> float:
    """Where `norm` falls between the smallest and largest norm, in log10 (0 for norm 0)."""
    if norm_range is None or norm <= 0:
        return 0.0
    lo, hi = math.log10(norm_range[0]), math.log10(norm_range[1])
    if hi - lo < 1e-12:
        return 0.5
    return (math.log10(norm) - lo) / (hi - lo)


def _add_legend(dot: Any, graphviz: Any, drawing: _Drawing) -> None:
    """A row of sample nodes, one per kind drawn, and the gradient colour bar."""
    graph = drawing.graph
    kinds = set(drawing.drawn_kinds)
    drawn_ops = [
        i
        for i, k in enumerate(drawing.kept)
        if k and drawing.group_of[i] is None and drawing.chain_of[i] is None
    ]
    if drawn_ops:
        kinds.add("op")
    if any(k and c is not None for k, c in zip(drawing.kept, drawing.chain_of, strict=True)):
        kinds.add("chain")
    if any(not isinstance(x, _Box) for i in drawn_ops for x in graph.op_inputs[i]):
        kinds.add("const")
    if drawing.group_ident:
        kinds.add("module")
    if not all(drawing.kept):
        kinds.add("more")
    legend = graphviz.Digraph(
        name="cluster_legend",
        graph_attr={
            "label": "legend",
            "labelloc": "t",
            "fontsize": "9",
            "style": "dashed",
            "color": "#aaaaaa",
            "margin": "4",
        },
        node_attr={"fontsize": "8", "height": "0.2", "margin": "0.05,0.02"},
    )
    names = []
    for kind, text in _LEGEND:
        if kind in kinds:
            grey = drawing.show_grads and kind not in ("op", "const", "more")
            names.append(f"legend_{kind}")
            style = _style(kind, NO_GRAD_COLOR if grey else None)
            legend.body.append(f"\tlegend_{kind} [label={_html(text)} {style}]\n")
    if drawing.show_grads:
        names.append("legend_grads")
        legend.body.append(f"\tlegend_grads [label={_color_bar(drawing.norm_range)} shape=plain]\n")
    for a, b in itertools.pairwise(names):  # a column in "TB" (beside a tall graph), a row in "LR"
        legend.body.append(f"\t{a} -> {b} [style=invis]\n")
    dot.subgraph(legend)


def _color_bar(norm_range: tuple[float, float] | None) -> str:
    """An HTML table: the colormap in eight cells, with the smallest and largest norm."""
    if norm_range is None:
        return _html("no gradients yet: call backward() first", "grey: no .grad")
    lo, hi = norm_range
    cells = "".join(
        f'<TD BGCOLOR="{gradient_color(i / 7)}" WIDTH="14" HEIGHT="12"></TD>' for i in range(8)
    )
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
        '<TR><TD COLSPAN="8"><FONT POINT-SIZE="9">‖grad‖, log scale</FONT></TD></TR>'
        f"<TR>{cells}</TR>"
        f'<TR><TD COLSPAN="4" ALIGN="LEFT"><FONT POINT-SIZE="9">{_fmt(lo)}</FONT></TD>'
        f'<TD COLSPAN="4" ALIGN="RIGHT"><FONT POINT-SIZE="9">{_fmt(hi)}</FONT></TD></TR>'
        f'<TR><TD COLSPAN="8" BGCOLOR="{NO_GRAD_COLOR}"><FONT POINT-SIZE="9">no grad'
        "</FONT></TD></TR></TABLE>>"
    )


# --------------------------------------------------------------------------------------------
# The backward pass, step by step.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputGradient:
    """What one step sends to one input: ∂L/∂input along this path (summed to its shape)."""

    name: str
    rule: str
    grad: np.ndarray


@dataclass(frozen=True)
class BackwardStep:
    """One op of the backward pass: δ = ∂L/∂out arrives, each input gets δ times ∂out/∂input."""

    index: int
    op: str
    output: str
    expression: str
    upstream: np.ndarray
    inputs: tuple[InputGradient, ...]


class BackwardSteps(list[BackwardStep]):
    """The steps of a replayed backward pass, with the final gradient of every leaf."""

    def __init__(self, steps: list[BackwardStep], leaves: list[tuple[str, Tensor, np.ndarray]]):
        super().__init__(steps)
        self.leaves = leaves

    def grad_of(self, tensor: Tensor) -> np.ndarray | None:
        """The gradient the replay computed for a leaf (None if it got none)."""
        for _, leaf, g in self.leaves:
            if leaf is tensor:
                return g
        return None

    def _rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        for step in self:
            first = True
            for inp in step.inputs or (InputGradient("", "", np.zeros(0)),):
                rows.append(
                    (
                        str(step.index) if first else "",
                        step.expression if first else "",
                        _one_line(step.upstream) if first else "",
                        inp.name,
                        inp.rule,
                        _one_line(inp.grad) if inp.name else "",
                    )
                )
                first = False
        return rows

    _HEADER = ("step", "node", "upstream δ = ∂L/∂out", "input", "local rule (VJP)", "∂L/∂input")

    def to_text(self) -> str:
        """The steps as a plain-text table, then the gradient of each leaf."""
        rows = [self._HEADER, *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._HEADER))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append("")
        lines.append("gradients of the leaves (what backward() stores in .grad):")
        for name, _, g in self.leaves:
            lines.append(f"  {name}: {_one_line(g)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<BackwardSteps: {len(self)} steps, {len(self.leaves)} leaves>\n{self.to_text()}"

    def _repr_html_(self) -> str:
        def row(cells: Sequence[str], tag: str = "td") -> str:
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

        body = [row(self._HEADER, "th"), *(row(r) for r in self._rows())]
        leaves = "".join(
            f"<li><code>{html.escape(n)}</code>: {html.escape(_one_line(g))}</li>"
            for n, _, g in self.leaves
        )
        return (
            '<table style="font-family: monospace">'
            + "".join(body)
            + "</table><p>gradients of the leaves:</p><ul>"
            + leaves
            + "</ul>"
        )


def backward_steps(root: Tensor, gradient: Any = None, model: Any = None) -> BackwardSteps:
    """Replay the backward pass from `root`, one op at a time, without touching any `.grad`.

    Ops come in the order backward() visits them (reverse topological order). At each, the
    upstream gradient δ = ∂L/∂out (summed over every path from the root) is multiplied by the
    op's local derivative, its vector-Jacobian product, giving ∂L/∂input along this path:
    δ⁽ˡ⁾ = f'(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ is what a chain of matmul and activation steps does.
    The graph must not have been freed (call this before backward(), or keep it with
    `retain_graph=True`). Intermediate values are named v1, v2... in the order computed.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"backward_steps: root must be a Tensor, got {type(root).__name__}")
    if root._node is None:
        raise ValueError("backward_steps: root is a leaf tensor; it was not computed by any op")
    nodes = engine.topological_order(root._node)
    for node in nodes:
        if node.value is None:
            raise RuntimeError(
                "backward_steps: the graph was freed by backward(); call backward_steps() "
                "first, or run backward(retain_graph=True)"
            )
    param_names, _ = _names(model, nodes)
    names = _step_names(nodes, param_names, root)
    steps: list[BackwardStep] = []
    leaf_grads: dict[int, tuple[Tensor, np.ndarray]] = {}

    def record(node: Node, g: Any, sent: list[tuple[int, Any, Any]]) -> None:
        shown = []
        for argnum, x, gx in sent:
            if isinstance(x, Tensor):  # a leaf (results arrive as their nodes)
                had = leaf_grads.get(id(x))
                leaf_grads[id(x)] = (x, gx if had is None else had[1] + gx)
            rule = f"vjp wrt arg {argnum}: {node.prim.doc or node.prim.name}"
            shown.append(InputGradient(names.of(x), rule, np.array(gx)))
        steps.append(
            BackwardStep(
                index=len(steps) + 1,
                op=node.prim.name,
                output=names.nodes[node],
                expression=names.expression(node),
                upstream=np.array(g),
                inputs=tuple(shown),
            )
        )

    # The engine's own sweep, observed; capturing the leaves leaves every `.grad` alone.
    leaves: dict[Any, Any] = {
        x: None
        for node in nodes
        for x in node.inputs
        if isinstance(x, Tensor) and x._node is None and x.requires_grad
    }
    sweep = engine.Sweep(retain_graph=True, create_graph=False)
    sweep.capture, sweep.observe = leaves, record
    sweep.run([(root, engine.seed_gradient(root, gradient, False))])
    order = {key: i for i, key in enumerate(names.leaves)}  # as first used going forward
    ranked = sorted(leaf_grads.items(), key=lambda item: order.get(item[0], len(order)))
    leaf_rows = [(names.of(t), t, np.array(g, dtype=t.dtype)) for _, (t, g) in ranked]
    return BackwardSteps(steps, leaf_rows)


class _StepNames:
    """Names for the step table: v1, v2... for results, names or x1, x2... for leaves."""

    def __init__(self) -> None:
        self.nodes: dict[Node, str] = {}
        self.leaves: dict[int, str] = {}

    def of(self, x: Any) -> str:
        if isinstance(x, Tensor):
            if x._node is not None:
                return self.nodes.get(x._node, "?")
            return self.leaves.get(id(x), "?")
        if isinstance(x, Node):
            return self.nodes.get(x, "?")
        return _constant_text(x)

    def expression(self, node: Node) -> str:
        args = [self.of(x) for x in node.inputs]
        params = _format_params(node.params)
        inner = ", ".join([*args, params] if params else args)
        return f"{self.nodes[node]} = {node.prim.name}({inner})"


def _step_names(nodes: list[Node], param_names: dict[int, str], root: Tensor) -> _StepNames:
    names = _StepNames()
    used: set[str] = set()
    leaf_count = const_count = 0
    for k, node in enumerate(reversed(nodes), start=1):  # forward order
        for x in node.inputs:
            if isinstance(x, Tensor) and x._node is None and id(x) not in names.leaves:
                name = param_names.get(id(x)) or x.name
                if not name or name in used:
                    if x.requires_grad:
                        leaf_count += 1
                        name = f"x{leaf_count}"
                    else:
                        const_count += 1
                        name = f"c{const_count}"
                used.add(name)
                names.leaves[id(x)] = name
        names.nodes[node] = f"v{k}"
    if root.name and root._node is not None:
        names.nodes[root._node] = root.name
    return names
