"""What the op families share: the export registry, operand conversion, axis checks, and
the small shape helpers rules use (each written once, for arrays and tensors alike)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, TypeVar, overload

import numpy as np

from autograd_core.engine import Primitive, register
from autograd_core.tensor import Tensor

Axis = int | tuple[int, ...] | None
F = TypeVar("F", bound=Callable[..., Any])

EXPORTS: dict[str, Callable[..., Any]] = {}
"""Every public function of the op library by name: `autograd_core` exports exactly these."""

METHODS: dict[str, Callable[..., Any]] = {}
"""Public functions that tensors also have as methods (`x.tan()`), beyond those `Tensor`
defines itself."""


@overload
def export(fn: F) -> F: ...


@overload
def export(*, method: bool = False) -> Callable[[F], F]: ...


def export(fn: F | None = None, *, method: bool = False) -> Any:
    """Make `fn` a public function of `autograd_core` (and of `autograd_core.ops`); with
    `method=True`, also a method of every tensor. A decorator: `@export` or
    `@export(method=True)`."""

    def register_export(fn: F) -> F:
        EXPORTS[fn.__name__] = fn
        if method:
            METHODS[fn.__name__] = fn
        return fn

    return register_export if fn is None else register_export(fn)


def value(x: Any) -> Any:
    """The array behind a tensor, or a constant as it is: what masks and weights are made of
    (constants to the graph, so a rule's mask is never differentiated)."""
    return x.data if isinstance(x, Tensor) else x


def quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A forward that returns IEEE inf/nan silently (log(0) = -inf, 1/0 = inf), as PyTorch."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args, **kwargs)

    forward.__name__ = getattr(fn, "__name__", "forward")
    return forward


def elementwise(
    name: str, forward: Callable[..., Any], rules: Any, save_output: bool = False, doc: str = ""
) -> Primitive:
    """An elementwise op: its Jacobian is diagonal, hence symmetric, so one rule per input
    serves as both VJP (applied to a cotangent) and JVP (applied to a tangent)."""
    table = rules if isinstance(rules, tuple) else (rules,)
    return register(Primitive(name, forward, table, table, save_output=save_output, doc=doc))


# --------------------------------------------------------------------------------------------
# Operands: what user arguments become.
# --------------------------------------------------------------------------------------------

SCALARS = (int, float, bool)


def tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def operand(x: Any, like: Any = None) -> Any:
    """A Tensor, or a Python number kept as it is (numpy then never promotes float32).

    numpy scalars count as Python numbers; integer and bool arrays take the float dtype of
    the tensor they meet (category promotion, as PyTorch)."""
    if isinstance(x, Tensor) or type(x) in SCALARS:
        return x
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        return x.item()
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "biu" and isinstance(like, Tensor):  # (ints meeting ints stay ints)
            return Tensor(x, dtype=like.dtype) if like.dtype.kind == "f" else like._wrap(x)
        return Tensor(x)
    if isinstance(x, (list, tuple)):
        return Tensor(x)
    raise TypeError(
        f"unsupported operand of type {type(x).__name__}: expected a Tensor, a number or an array"
    )


def operands(a: Any, b: Any) -> tuple[Any, Any]:
    """Both operands of a broadcasting op. A 0-d tensor meeting a tensor with dimensions
    takes its dtype, as PyTorch's scalars do (float32 * 0-d float64 stays float32)."""
    if not (isinstance(a, Tensor) or type(a) in SCALARS):
        a = operand(a, b)
    if not (isinstance(b, Tensor) or type(b) in SCALARS):
        b = operand(b, a)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype != b.data.dtype:
        return promoted(a, b)
    return a, b


def promoted(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Two tensors of different dtypes as PyTorch promotes them: an integer or bool tensor
    meeting a floating one takes its dtype (category first: one_hot(ids) @ w stays float32);
    within floats a 0-d tensor takes the other's; otherwise numpy promotes."""
    float_a, float_b = a.data.dtype.kind == "f", b.data.dtype.kind == "f"
    if float_a and not float_b:  # (integer tensors carry no gradient: a plain conversion)
        return a, a._wrap(b.data.astype(a.data.dtype))
    if float_b and not float_a:
        return b._wrap(a.data.astype(b.data.dtype)), b
    if float_a and a.data.ndim == 0 and b.data.ndim:
        return a.astype(b.data.dtype), b
    if float_a and b.data.ndim == 0 and a.data.ndim:
        return a, b.astype(a.data.dtype)
    return a, b


def binary_function(prim: Primitive, doc: str) -> Callable[[Any, Any], Tensor]:
    """The public function of a broadcasting op of two operands (exported under its name)."""

    def function(a: Any, b: Any) -> Tensor:
        if not (isinstance(a, Tensor) and type(b) in SCALARS):  # (tensor op number: as is)
            a, b = operands(a, b)
        return prim(a, b)

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc
    return export(method=True)(function)


# --------------------------------------------------------------------------------------------
# Axes.
# --------------------------------------------------------------------------------------------


def check_axis(op: str, x: Tensor, axis: Any) -> Axis:
    """Normalize `axis` to None, an int or a tuple, each within range (clear error if not)."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        bound = builtins.max(x.ndim, 1)
        if not -bound <= a < bound or (x.ndim == 0 and a not in (0, -1)):
            raise ValueError(
                f"{op}: axis {a} is out of range for a tensor of shape {x.shape} "
                f"({x.ndim} dimensions)"
            )
    if x.ndim == 0:
        return None
    normalized = tuple(int(a) % x.ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return normalized if isinstance(axis, (tuple, list)) else normalized[0]


def one_of(op: str, names: tuple[str, str], value: Any, alias: Any, default: Any = None) -> Any:
    """An argument numpy and PyTorch name differently (`axis`/`dim`, `keepdims`/`keepdim`,
    `ddof`/`correction`): `alias` (None unless given) if given, else `value`. Both given is a
    TypeError; a `value` equal to its default counts as not given (a signature cannot tell)."""
    if alias is None:
        return value
    if value is not None and value != default:
        raise TypeError(
            f"{op}: got both {names[0]}={value!r} and {names[1]}={alias!r}, two names for the "
            f"same argument (numpy's and PyTorch's): pass one"
        )
    return alias


def axis_and_keepdims(
    op: str, x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: bool | None
) -> tuple[Axis, bool]:
    """A reduction's axes, checked against x (`check_axis`), and keepdims, from numpy's
    `axis=`/`keepdims=` or PyTorch's `dim=`/`keepdim=` (None unless given)."""
    axis = check_axis(op, x, one_of(op, ("axis", "dim"), axis, dim))
    return axis, bool(one_of(op, ("keepdims", "keepdim"), keepdims, keepdim, False))


def single_axis(op: str, x: Tensor, axis: Any) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension, got a 0-d tensor")
    return int(check_axis(op, x, axis))  # type: ignore[arg-type]


def count(shape: tuple[int, ...], axis: Axis) -> int:
    """How many elements each reduction over `axis` combines."""
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    return math.prod([shape[a] for a in axes])


def keepdims_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """`shape` with the reduced axes kept as size 1."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
