"""Linear algebra: two primitives, the matrix product (numpy's rules for 1-D and batched
operands) and `einsum`, whose derivative for each operand is again an einsum; `tensordot`
and `outer` are einsums, `diag` and `trace` index, `tril` and `triu` mask.

Rules use what arrays and tensors share (`@`, `.mT`, indexing, primitives), so each runs on
arrays in an ordinary backward pass and records on tensors when the pass is differentiated."""

from __future__ import annotations

import builtins
import collections
import string
from typing import Any

import numpy as np

from autograd_core.engine import Primitive, each_input, register
from autograd_core.ops import reductions
from autograd_core.ops.common import export, operand, promoted, tensor
from autograd_core.ops.elementwise import where
from autograd_core.ops.shape import getitem, scatter_add
from autograd_core.tensor import Tensor


def _matmul_rule_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/da applied to g = g @ b^T; 1-D operands as numpy treats them."""
    if b.ndim == 1:
        return g[..., None] * b
    if a.ndim == 1:
        return (b @ g[..., None])[..., 0]
    return g @ b.mT


def _matmul_rule_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/db applied to g = a^T @ g; 1-D operands as numpy treats them."""
    if a.ndim == 1:
        return g * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return (a.mT @ g[..., None])[..., 0]
    return a.mT @ g


MATMUL: Primitive = register(
    Primitive(
        "matmul",
        np.matmul,
        (_matmul_rule_a, _matmul_rule_b),
        multilinear=True,
        doc="a @ b; bilinear: d/da = g @ b^T, d/db = a^T @ g",
    )
)


@export(method=True)
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules for 1-D and batched operands."""
    a, b = operand(a, b), operand(b, a)
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if isinstance(b, Tensor) and a.dtype != b.dtype:
        a, b = promoted(a, b)
    if a.ndim == 0 or np.ndim(b) == 0:
        raise ValueError(
            f"matmul: both operands need at least one dimension, got shapes {a.shape} and "
            f"{np.shape(b)}"
        )
    return MATMUL(a, b)


# --------------------------------------------------------------------------------------------
# einsum, and the products and matrix parts built on it and on indexing.
# --------------------------------------------------------------------------------------------

LABELS = string.ascii_uppercase + string.ascii_lowercase
"""einsum's labels in ASCII order: the order of an implicit output (numpy's and PyTorch's)."""


def _einsum_forward(*arrays: np.ndarray, subscripts: str) -> np.ndarray:
    # Searching a contraction order costs ~20 us and pays from a few thousand elements
    # (two 64x64 operands: 0.31 ms plain, 0.11 ms optimized; three: 26 ms against 0.15 ms).
    optimize = builtins.sum(np.size(a) for a in arrays) > 1000
    return np.asarray(np.einsum(subscripts, *arrays, optimize=optimize))


def _spare_labels(used: str, count: int) -> list[str]:
    spare = [label for label in LABELS if label not in used]
    if len(spare) < count:
        raise ValueError(f"einsum: {used!r} leaves too few of the 52 labels a-z, A-Z")
    return spare[:count]


def _einsum_vjp(argnum: int, g: Any, out: Any, *operands: Any, subscripts: str) -> Any:
    """d/d(operand k) of an einsum, applied to g: the einsum of g and the other operands
    with operand k's subscripts as its output. A label repeated in operand k (a diagonal,
    "ii->i") gets a fresh label tied to it by an identity matrix; a label no other operand
    nor the output has (summed out of operand k alone) comes back through a vector of ones."""
    inputs, result = subscripts.split("->")
    terms = inputs.split(",")
    target, shape = terms[argnum], np.shape(operands[argnum])
    others = [k for k in range(len(terms)) if k != argnum]
    fresh = iter(_spare_labels(subscripts, len(target) - len(set(target))))
    labels: list[str] = []
    extra_terms: list[str] = []
    extras: list[np.ndarray] = []
    for label, n in zip(target, shape, strict=True):
        if label in labels:
            labels.append(next(fresh))
            extra_terms.append(label + labels[-1])
            extras.append(np.eye(n, dtype=g.dtype))
        else:
            labels.append(label)
    covered = set(result).union(*(terms[k] for k in others), *extra_terms)
    for label, n in dict(zip(target, shape, strict=True)).items():
        if label not in covered:
            extra_terms.append(label)
            extras.append(np.ones(n, dtype=g.dtype))
    spec = ",".join([result, *(terms[k] for k in others), *extra_terms]) + "->" + "".join(labels)
    return EINSUM(g, *(operands[k] for k in others), *extras, subscripts=spec)


EINSUM: Primitive = register(
    Primitive(
        "einsum",
        _einsum_forward,
        each_input(_einsum_vjp),
        multilinear=True,  # a tangent goes through the same einsum
        view=True,  # one operand: "ij->ji" and "ii->i" are views, as in numpy and PyTorch
        doc="Einstein summation over explicit subscripts; linear in each operand: the "
        "cotangent of one is an einsum of g with the others",
    )
)


def _einsum_subscripts(subscripts: str, shapes: list[tuple[int, ...]]) -> str:
    """numpy's and PyTorch's subscripts (implicit output, '...', size-1 axes broadcasting)
    for operands of `shapes`, made explicit: one letter per axis, one size per letter.

    '...' becomes letters of its own; an axis of size 1 whose label is larger elsewhere gets
    a label of its own, summed away (so it broadcasts); the '...' axes are summed when an
    explicit output leaves them out (PyTorch)."""

    def error(why: str) -> ValueError:
        return ValueError(f"einsum: {why} (subscripts {subscripts!r}, operand shapes {shapes})")

    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise error(f"{len(terms)} operand terms for {len(shapes)} operands")
    for term in [*terms, output]:
        if any(c not in LABELS for c in term.replace("...", "", 1)):
            raise error(f"bad term {term!r}: use letters a-z, A-Z and at most one '...'")
    dots_shapes = []
    for k, (term, shape) in enumerate(zip(terms, shapes, strict=True)):
        dots = len(shape) - len(term.replace("...", ""))
        if dots < 0 or (dots and "..." not in term):
            raise error(
                f"operand {k} has {len(shape)} dimensions, but {term!r} names "
                f"{len(term.replace('...', ''))}" + (" and has no '...'" if dots > 0 else "")
            )
        start = term.find("...")
        dots_shapes.append(shape[start : start + dots] if start >= 0 else ())
    try:
        dots_shape = np.broadcast_shapes(*dots_shapes)
    except ValueError:
        raise error(f"the '...' parts {dots_shapes} do not broadcast") from None
    dots_labels = "".join(_spare_labels(spec, len(dots_shape)))
    # Each operand's labels, '...' spelled out (right-aligned), and each label's size.
    labelled = [
        term.replace("...", dots_labels[len(dots_labels) - len(part) :])
        for term, part in zip(terms, dots_shapes, strict=True)
    ]
    sizes: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(labelled, shapes, strict=True)):
        for label, n in zip(term, shape, strict=True):
            if term.count(label) > 1 and n != shape[term.index(label)]:
                raise error(f"label {label!r} repeats in operand {k} with different sizes")
            if sizes.get(label, 1) == 1:
                sizes[label] = n
            elif n not in (1, sizes[label]):
                raise error(f"label {label!r} has sizes {sizes[label]} and {n}")
    # A size-1 axis against a larger size gets a label of its own (per operand): it broadcasts.
    squeezed = [
        (k, label)
        for k, (term, shape) in enumerate(zip(labelled, shapes, strict=True))
        for label in dict.fromkeys(term)
        if shape[term.index(label)] != sizes[label]
    ]
    fresh = dict(zip(squeezed, _spare_labels(spec + dots_labels, len(squeezed)), strict=True))
    labelled = ["".join(fresh.get((k, c), c) for c in term) for k, term in enumerate(labelled)]
    if arrow:
        result = output.replace("...", dots_labels)
        for label in result:
            if result.count(label) > 1:
                raise error(f"output label {label!r} appears more than once")
            if label not in sizes:
                raise error(f"output label {label!r} appears in no operand")
    else:
        counts = collections.Counter(inputs.replace("...", "").replace(",", ""))
        result = dots_labels + "".join(sorted(c for c, n in counts.items() if n == 1))
    return ",".join(labelled) + "->" + result


@export
def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation, spelled as in numpy and PyTorch: `einsum("ij,jk->ik", a, b)` is
    a @ b, "ii" the trace, "ii->i" the diagonal, "...ij->...ji" a batched transpose. Without
    "->" the output has the labels used once, in alphabetical order; size-1 axes broadcast."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # PyTorch's einsum("ij,jk", [a, b])
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    tensors = [tensor(x) for x in operands]
    if not tensors:
        raise ValueError(f"einsum: no operands for subscripts {subscripts!r}")
    return EINSUM(*tensors, subscripts=_einsum_subscripts(subscripts, [t.shape for t in tensors]))


def _axes_list(op: str, x: Tensor, axes: Any) -> list[int]:
    """One side of tensordot's dims: an int or a sequence of ints, as axes of `x`."""
    items = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    for a in items:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: dims must be an int or a pair of lists of ints, got {axes!r}")
        if not -x.ndim <= a < x.ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of shape {x.shape}")
    normalized = [int(a) % x.ndim for a in items]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axes {axes!r} repeat an axis of a tensor of shape {x.shape}")
    return normalized


@export
def tensordot(a: Any, b: Any, dims: Any = 2, *, axes: Any = None) -> Tensor:
    """Sum of products over paired axes: the last `dims` axes of a with the first `dims` of
    b (an int), or the axes of a pair of lists `([a axes], [b axes])` (PyTorch's `dims`;
    numpy's `axes=` also works). The result has a's free axes, then b's. A size-1 axis pairs
    with any size (it broadcasts, as in PyTorch)."""
    a, b = tensor(a), tensor(b)
    dims = dims if axes is None else axes
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if not 0 <= dims <= builtins.min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: dims={dims} does not fit tensors of shapes {a.shape} and {b.shape}"
            )
        a_axes, b_axes = list(range(a.ndim - int(dims), a.ndim)), list(range(int(dims)))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        a_axes, b_axes = _axes_list("tensordot", a, dims[0]), _axes_list("tensordot", b, dims[1])
    else:
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of ints, got {dims!r}")
    pairs = list(zip(a_axes, b_axes, strict=False))
    if len(a_axes) != len(b_axes) or any(
        a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]) for i, j in pairs
    ):
        raise ValueError(
            f"tensordot: axes {a_axes} of shape {a.shape} and axes {b_axes} of shape {b.shape} "
            f"do not pair up with equal sizes"
        )
    if a.ndim + b.ndim - len(pairs) > len(LABELS):
        raise ValueError(f"tensordot: shapes {a.shape} and {b.shape} have too many axes")
    a_labels = LABELS[: a.ndim]
    b_labels = list(LABELS[a.ndim : a.ndim + b.ndim])
    for i, j in pairs:
        b_labels[j] = a_labels[i]
    free = [c for i, c in enumerate(a_labels) if i not in a_axes]
    free += [c for j, c in enumerate(b_labels) if j not in b_axes]
    return einsum(f"{a_labels},{''.join(b_labels)}->{''.join(free)}", a, b)


@export(method=True)
def outer(a: Any, b: Any) -> Tensor:
    """The outer product of two vectors: out[i, j] = a[i] * b[j]."""
    a, b = tensor(a), tensor(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expects two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return einsum("i,j->ij", a, b)


def _diagonal_index(rows: int, cols: int, diagonal: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the `diagonal`-th diagonal (above the main one if > 0)."""
    start_row, start_col = builtins.max(-diagonal, 0), builtins.max(diagonal, 0)
    length = builtins.max(builtins.min(rows - start_row, cols - start_col), 0)
    return np.arange(start_row, start_row + length), np.arange(start_col, start_col + length)


@export(method=True)
def diag(x: Any, diagonal: int = 0) -> Tensor:
    """A 1-D tensor becomes a square matrix with it on the `diagonal`-th diagonal (above the
    main one if > 0, below if < 0); a 2-D tensor gives that diagonal as a vector (PyTorch)."""
    x = tensor(x)
    if not isinstance(diagonal, (int, np.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"diag: diagonal must be an int, got {diagonal!r}")
    if x.ndim == 1:
        n = x.shape[0] + builtins.abs(int(diagonal))
        return scatter_add(x, _diagonal_index(n, n, int(diagonal)), (n, n))
    if x.ndim == 2:
        rows, cols = x.shape
        return getitem(x, _diagonal_index(rows, cols, int(diagonal)))
    raise ValueError(f"diag: expects a 1-D or 2-D tensor, got shape {x.shape}")


@export(method=True)
def trace(x: Any) -> Tensor:
    """The sum of a matrix's main diagonal (of its leading square part, if not square)."""
    x = tensor(x)
    if x.ndim != 2:
        raise ValueError(f"trace: expects a 2-D tensor, got shape {x.shape}")
    return reductions.sum(diag(x))


def _triangle(op: str, x: Any, diagonal: int, lower: bool) -> Tensor:
    x = tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expects at least 2 dimensions, got shape {x.shape}")
    if not isinstance(diagonal, (int, np.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    rows, cols = x.shape[-2:]
    below = np.tri(rows, cols, int(diagonal) - (not lower), dtype=bool)
    return where(below if lower else ~below, x, 0.0)


@export(method=True)
def tril(x: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes (on and below the `diagonal`-th diagonal),
    zeros above; the gradient is masked the same way."""
    return _triangle("tril", x, diagonal, lower=True)


@export(method=True)
def triu(x: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes (on and above the `diagonal`-th diagonal),
    zeros below; the gradient is masked the same way."""
    return _triangle("triu", x, diagonal, lower=False)
