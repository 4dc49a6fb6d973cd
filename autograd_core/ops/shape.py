"""Shape and indexing ops: reshape, transpose, broadcasting, indexing, joining, casting.

All are linear, so each forward-mode rule is the op itself applied to the tangent, and each
reverse rule moves the cotangent back: reshape it back, permute it back, scatter it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_core.engine import BROADCAST_TO, CAST, SUM_TO, Primitive, each_input, register
from autograd_core.ops.common import Axis, check_axis, export, single_axis, tensor
from autograd_core.tensor import Tensor

RESHAPE: Primitive = register(
    Primitive(
        "reshape",
        np.reshape,
        (lambda g, out, x, shape: RESHAPE(g, shape=np.shape(x)),),
        linear=True,
        view=True,
        doc="same elements, new shape; the cotangent is reshaped back",
    )
)


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept reshape(2, 3) and reshape((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


@export
def reshape(x: Any, *shape: Any) -> Tensor:
    """Same elements in a new shape; one dimension may be -1."""
    x = tensor(x)
    new = _shape_arg(shape)
    try:
        target = np.empty(x.shape, dtype=bool).reshape(new).shape
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} "
            f"({x.data.size} elements) into shape {new}"
        ) from None
    if target == x.shape:
        return x
    return RESHAPE(x, shape=target)


@export
def flatten(x: Any) -> Tensor:
    """A 1-D view of all elements."""
    return reshape(x, -1)


@export
def squeeze(x: Any, axis: Axis = None) -> Tensor:
    """Drop size-1 axes (all of them, or those in `axis`)."""
    x = tensor(x)
    axis = check_axis("squeeze", x, axis)
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    for a in axes:
        if axis is not None and x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    drop = {a for a in axes if x.shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


@export
def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert a size-1 axis at `axis` (negative counts from the new end)."""
    x = tensor(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor of shape {x.shape}")
    position = axis % (x.ndim + 1)
    return reshape(x, (*x.shape[:position], 1, *x.shape[position:]))


TRANSPOSE: Primitive = register(
    Primitive(
        "transpose",
        np.transpose,
        (lambda g, out, x, axes: TRANSPOSE(g, axes=tuple(np.argsort(axes).tolist())),),
        linear=True,
        view=True,
        doc="permute axes; the cotangent is permuted back",
    )
)


@export
def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (reverse them when none are given), as numpy."""
    x = tensor(x)
    perm = _shape_arg(axes) if axes else tuple(reversed(range(x.ndim)))
    in_range = all(-x.ndim <= a < x.ndim for a in perm)
    if not in_range or sorted(a % x.ndim for a in perm) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {perm} are not a permutation of the "
            f"{x.ndim} axes of a tensor of shape {x.shape}"
        )
    perm = tuple(a % x.ndim for a in perm)
    if perm == tuple(range(x.ndim)):
        return x
    return TRANSPOSE(x, axes=perm)


# broadcast_to, sum_to and cast are the engine's own primitives (it un-broadcasts every
# gradient and gives it its input's dtype): these are their public functions.


@export
def broadcast_to(x: Any, *shape: Any) -> Tensor:
    """Repeat along new leading axes and size-1 axes to reach `shape`."""
    x = tensor(x)
    target = _shape_arg(shape)
    if target == x.shape:
        return x
    try:
        if len(target) < x.ndim or np.broadcast_shapes(x.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {target}") from None
    return BROADCAST_TO(x, shape=target)


@export
def sum_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """Sum `x` down to `shape`, the shape it was broadcast from (the adjoint of broadcasting)."""
    x = tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        if len(shape) > x.ndim or np.broadcast_shapes(shape, x.shape) != x.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"sum_to: shape {x.shape} was not broadcast from {shape}") from None
    return SUM_TO(x, shape=shape)


@export
def cast(x: Any, dtype: Any) -> Tensor:
    """The same values in another floating dtype; the gradient is cast back."""
    x = tensor(x)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"cast: only floating dtypes carry gradients, got {dtype}")
    if dtype == x.dtype:
        return x
    return CAST(x, dtype=dtype)


CLONE: Primitive = register(
    Primitive(
        "clone",
        np.copy,
        (lambda g, out, x: g,),
        linear=True,
        doc="a copy with its own memory; the cotangent passes through",
    )
)


@export
def clone(x: Any) -> Tensor:
    """A copy of `x` in new memory, still connected to the graph (PyTorch's `clone`)."""
    return CLONE(tensor(x))


# --------------------------------------------------------------------------------------------
# Indexing.
# --------------------------------------------------------------------------------------------


def _is_advanced(index: Any) -> bool:
    """Whether an index holds integer arrays (whose repeats must accumulate)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype.kind in "iu" for p in parts
    )


def _scatter_add_forward(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of `shape` with `x` added at `index`; repeated integer indices accumulate."""
    out = np.zeros(shape, dtype=x.dtype)
    if _is_advanced(index):
        np.add.at(out, index, x)
    else:
        out[index] = x
    return out


GETITEM: Primitive = register(
    Primitive(
        "getitem",
        lambda x, index: x[index],
        (lambda g, out, x, index: SCATTER_ADD(g, index=index, shape=np.shape(x)),),
        linear=True,
        view=True,
        doc="x[index]: slices, integer arrays, boolean masks; the cotangent is scattered back",
    )
)

SCATTER_ADD: Primitive = register(
    Primitive(
        "scatter_add",
        _scatter_add_forward,
        (lambda g, out, x, index, shape: GETITEM(g, index=index),),
        linear=True,
        doc="zeros(shape) with x added at index: the adjoint of getitem",
    )
)


def index_arg(index: Any) -> Any:
    """Tensors inside an index become their arrays; lists become integer or bool arrays."""

    def convert(part: Any) -> Any:
        if isinstance(part, Tensor):
            return part.data
        if isinstance(part, list):
            return np.asarray(part)
        return part

    return tuple(convert(p) for p in index) if isinstance(index, tuple) else convert(index)


@export
def getitem(x: Any, index: Any) -> Tensor:
    """x[index] with basic slicing, integer arrays (repeats accumulate) and boolean masks."""
    x = tensor(x)
    index = index_arg(index)
    try:
        x.data[index]
    except IndexError as error:
        raise IndexError(
            f"getitem: index {index!r} does not fit a tensor of shape {x.shape}: {error}"
        ) from None
    return GETITEM(x, index=index)


@export
def scatter_add(x: Any, index: Any, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with x added at index (repeated integer indices accumulate)."""
    return SCATTER_ADD(tensor(x), index=index_arg(index), shape=tuple(shape))


def _index_put_forward(x: np.ndarray, values: Any, index: Any) -> np.ndarray:
    out = np.array(x, copy=True)
    out[index] = values
    return out


INDEX_PUT: Primitive = register(
    Primitive(
        "index_put",
        _index_put_forward,
        (
            lambda g, out, x, values, index: INDEX_PUT(g, 0.0, index=index),
            lambda g, out, x, values, index: GETITEM(g, index=index),
        ),
        linear=True,
        doc="x with values written at index (x[index] = values, out of place); the "
        "cotangent goes to values at index and to x elsewhere",
    )
)


@export
def index_put(x: Any, values: Any, index: Any) -> Tensor:
    """A copy of `x` with `values` written at `index` (what `x[index] = values` records)."""
    x = tensor(x)
    index = index_arg(index)
    if not (isinstance(values, Tensor) or type(values) in (int, float, bool)):
        values = tensor(values)
    try:
        np.broadcast_to(np.empty(np.shape(values), bool), x.data[index].shape)
    except (IndexError, ValueError) as error:
        raise ValueError(
            f"index_put: values of shape {np.shape(values)} do not fit x[{index!r}] for x of "
            f"shape {x.shape}: {error}"
        ) from None
    return INDEX_PUT(x, values, index=index)


# --------------------------------------------------------------------------------------------
# Joining.
# --------------------------------------------------------------------------------------------


def _concat_forward(*arrays: np.ndarray, axis: int, offsets: tuple[int, ...]) -> np.ndarray:
    return np.concatenate(arrays, axis=axis)


def _concat_part(
    argnum: int, g: Any, out: Any, *xs: Any, axis: int, offsets: tuple[int, ...]
) -> Any:
    """Input `argnum`'s slice of the cotangent (offsets are computed once, in `concat`)."""
    part = slice(offsets[argnum], offsets[argnum + 1])
    return GETITEM(g, index=(slice(None),) * axis + (part,))


CONCAT: Primitive = register(
    Primitive(
        "concat",
        _concat_forward,
        each_input(_concat_part),
        linear=True,
        doc="join along an existing axis; the cotangent is sliced apart",
    )
)


@export
def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    items = [tensor(t) for t in tensors]
    if not items:
        raise ValueError("concat: needs at least one tensor")
    first = items[0]
    if first.ndim == 0:
        raise ValueError("concat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = single_axis("concat", first, axis)
    outside = first.shape[:axis] + first.shape[axis + 1 :]
    for t in items[1:]:
        if t.ndim != first.ndim or t.shape[:axis] + t.shape[axis + 1 :] != outside:
            raise ValueError(
                f"concat: shapes {[t.shape for t in items]} do not match outside axis {axis}"
            )
    if len(items) == 1:
        return first
    offsets = (0, *np.cumsum([t.shape[axis] for t in items]).tolist())
    return CONCAT(*items, axis=axis, offsets=tuple(offsets))


@export
def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    items = [tensor(t) for t in tensors]
    if not items:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != items[0].shape for t in items):
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in items]}")
    if not -items[0].ndim - 1 <= axis <= items[0].ndim:
        raise ValueError(
            f"stack: axis {axis} is out of range for tensors of shape {items[0].shape}"
        )
    return concat([unsqueeze(t, axis) for t in items], axis=axis % (items[0].ndim + 1))
