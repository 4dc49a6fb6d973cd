"""Shape and indexing ops: reshape, transpose, broadcasting, indexing, joining, casting.

All are linear, so each forward-mode rule is the op itself applied to the tangent, and each
reverse rule moves the cotangent back: reshape it back, permute it back, scatter it back.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_core.engine import BROADCAST_TO, CAST, SUM_TO, Primitive, each_input, register
from autograd_core.ops.common import Axis, check_axis, export, one_of, single_axis, tensor
from autograd_core.ops.elementwise import where
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


@export(method=True)
def view(x: Any, *shape: Any) -> Tensor:
    """PyTorch's name for `reshape` (every reshape here shares memory where numpy can)."""
    return reshape(x, *shape)


@export
def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes `start_dim` to `end_dim` into one (all of them by default), as PyTorch."""
    x = tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = (single_axis("flatten", x, d) for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, (*x.shape[:start], -1, *x.shape[end + 1 :]))


@export
def squeeze(x: Any, axis: Axis = None, *, dim: Axis = None) -> Tensor:
    """Drop size-1 axes: all of them, or those in `axis` (which must have size 1, as numpy).
    With PyTorch's `dim=`, an axis whose size is not 1 is left alone, as PyTorch does."""
    x = tensor(x)
    chosen = check_axis("squeeze", x, one_of("squeeze", ("axis", "dim"), axis, dim))
    axes = range(x.ndim) if chosen is None else (chosen,) if isinstance(chosen, int) else chosen
    if axis is not None:
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(
                    f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1"
                )
    drop = {a for a in axes if x.shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


@export
def unsqueeze(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Insert a size-1 axis at `axis` (negative counts from the new end)."""
    x = tensor(x)
    axis = one_of("unsqueeze", ("axis", "dim"), axis, dim)
    if not isinstance(axis, (int, np.integer)) or not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor of shape {x.shape}")
    position = axis % (x.ndim + 1)
    return reshape(x, (*x.shape[:position], 1, *x.shape[position:]))


@export
def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """Insert size-1 axes at the positions `axis` of the result (numpy's `expand_dims`)."""
    x = tensor(x)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    ndim = x.ndim + len(axes)
    if any(not -ndim <= a < ndim for a in axes) or len({a % ndim for a in axes}) != len(axes):
        raise ValueError(f"expand_dims: axes {axis!r} do not fit a result of {ndim} dimensions")
    new = {a % ndim for a in axes}
    sizes = iter(x.shape)
    return reshape(x, tuple(1 if i in new else next(sizes) for i in range(ndim)))


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


def _permutation(op: str, x: Tensor, dims: tuple[int, ...]) -> tuple[int, ...]:
    """`dims` as a permutation of x's axes (negative axes count from the end)."""
    in_range = all(-x.ndim <= d < x.ndim for d in dims)
    if not in_range or sorted(d % x.ndim for d in dims) != list(range(x.ndim)):
        raise ValueError(
            f"{op}: dims {dims} are not a permutation of the {x.ndim} axes of a tensor of "
            f"shape {x.shape}"
        )
    return tuple(d % x.ndim for d in dims)


@export(method=True)
def permute(x: Any, *dims: Any) -> Tensor:
    """Reorder all axes: `x.permute(2, 0, 1)` puts axis 2 first (PyTorch's `permute`)."""
    x = tensor(x)
    perm = _permutation("permute", x, _shape_arg(dims))
    return x if perm == tuple(range(x.ndim)) else TRANSPOSE(x, axes=perm)


@export
def transpose(x: Any, *dims: Any) -> Tensor:
    """Swap axes `dim0` and `dim1`, as PyTorch's `transpose(dim0, dim1)`; with no axes, reverse
    them all (`x.T`). Reorder all axes with `permute`."""
    x = tensor(x)
    if not dims:
        return permute(x, *reversed(range(x.ndim)))
    if len(dims) != 2 or not all(isinstance(d, (int, np.integer)) for d in dims):
        wanted = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        raise TypeError(
            f"transpose(dim0, dim1) swaps two axes, as in PyTorch; got {dims!r}. To reorder "
            f"all axes use permute: x.permute{tuple(wanted)!r}"
        )
    return swapaxes(x, *dims)


@export(method=True)
def swapaxes(x: Any, axis0: int, axis1: int) -> Tensor:
    """Swap two axes (numpy's `swapaxes`, PyTorch's `transpose(dim0, dim1)`)."""
    x = tensor(x)
    perm = list(range(x.ndim))
    a, b = (single_axis("swapaxes", x, axis) for axis in (axis0, axis1))
    perm[a], perm[b] = perm[b], perm[a]
    return permute(x, *perm)


@export(method=True)
def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes `source` to positions `destination`, the others keeping their order (numpy's
    `moveaxis`, PyTorch's `movedim`)."""
    x = tensor(x)
    sources = [source] if isinstance(source, (int, np.integer)) else list(source)
    targets = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(sources) != len(targets):
        raise ValueError(
            f"moveaxis: source {source!r} and destination {destination!r} differ in length"
        )
    sources = [single_axis("moveaxis", x, a) for a in sources]
    targets = [single_axis("moveaxis", x, a) for a in targets]
    if len(set(sources)) != len(sources) or len(set(targets)) != len(targets):
        raise ValueError(f"moveaxis: repeated axis in {source!r} or {destination!r}")
    rest = iter(a for a in range(x.ndim) if a not in sources)
    placed = dict(zip(targets, sources, strict=True))
    return permute(x, *(placed[i] if i in placed else next(rest) for i in range(x.ndim)))


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
        # np.add.at is fast only on a 1-D target: scatter into the flat view at the flat
        # positions the index picks (2-8x faster than on rows in an embedding's backward)
        positions = np.arange(out.size).reshape(shape)[index]
        flat_x = np.broadcast_to(x, positions.shape).reshape(-1)
        np.add.at(out.reshape(-1), positions.reshape(-1), flat_x)
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
def concat(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (0 by default)."""
    items = [tensor(t) for t in tensors]
    if not items:
        raise ValueError("concat: needs at least one tensor")
    first = items[0]
    if first.ndim == 0:
        raise ValueError("concat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = single_axis("concat", first, one_of("concat", ("axis", "dim"), axis, dim, 0))
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
def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """PyTorch's name for `concat`."""
    return concat(tensors, dim=dim)


def _stack_forward(*arrays: np.ndarray, axis: int) -> np.ndarray:
    return np.stack(arrays, axis=axis)


def _stack_part(argnum: int, g: Any, out: Any, *xs: Any, axis: int) -> Any:
    """Input `argnum`'s cotangent: the output's, indexed at `argnum` along the new axis."""
    return GETITEM(g, index=(slice(None),) * axis + (argnum,))


STACK: Primitive = register(
    Primitive(
        "stack",
        _stack_forward,
        each_input(_stack_part),
        linear=True,
        doc="join same-shaped tensors along a new axis; input k's cotangent is the "
        "cotangent at index k of that axis (a view, one node for all inputs)",
    )
)


@export
def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis (0 by default), in one op: a loop that
    collects its steps' outputs records one node, not one per step."""
    axis = one_of("stack", ("axis", "dim"), axis, dim, 0)
    items = [tensor(t) for t in tensors]
    if not items:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != items[0].shape for t in items):
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in items]}")
    if not -items[0].ndim - 1 <= axis <= items[0].ndim:
        raise ValueError(
            f"stack: axis {axis} is out of range for tensors of shape {items[0].shape}"
        )
    return STACK(*items, axis=axis % (items[0].ndim + 1))


def _at_least(x: Tensor, ndim: int, place: int) -> Tensor:
    """x with size-1 axes inserted at `place` (0: in front, -1: at the end) up to `ndim`."""
    while x.ndim < ndim:
        x = unsqueeze(x, place)
    return x


@export
def vstack(tensors: Sequence[Any]) -> Tensor:
    """1-D tensors become rows, then all join along axis 0 (numpy's `vstack`)."""
    return concat([_at_least(tensor(t), 2, 0) for t in tensors], axis=0)


@export
def hstack(tensors: Sequence[Any]) -> Tensor:
    """Join along axis 1, or along axis 0 when all are 1-D (numpy's `hstack`)."""
    items = [_at_least(tensor(t), 1, 0) for t in tensors]
    return concat(items, axis=0 if all(t.ndim == 1 for t in items) else 1)


@export
def dstack(tensors: Sequence[Any]) -> Tensor:
    """Join along axis 2, after (n,) -> (1, n, 1) and (m, n) -> (m, n, 1) (numpy's `dstack`)."""
    return concat([_at_least(_at_least(tensor(t), 2, 0), 3, -1) for t in tensors], axis=2)


@export
def column_stack(tensors: Sequence[Any]) -> Tensor:
    """1-D tensors as the columns of a matrix, 2-D ones as they are (numpy's `column_stack`)."""
    return concat([_at_least(tensor(t), 2, -1) for t in tensors], axis=1)


# --------------------------------------------------------------------------------------------
# Splitting, flipping, rolling, repeating, filling.
# --------------------------------------------------------------------------------------------


@export(method=True)
def split(x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along `dim`, as PyTorch: an int is each piece's size (the last may be smaller),
    a list gives every size (numpy's `split` takes cut points instead). Each piece is a slice
    of x, sharing its memory."""
    x = tensor(x)
    axis = single_axis("split", x, dim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [int(k) for k in split_size_or_sections]
        if any(k < 0 for k in sizes) or builtins.sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} must be non-negative and add up to {n}, the length of "
                f"axis {dim} of shape {x.shape}"
            )
    ends = np.cumsum(sizes).tolist()
    head = (slice(None),) * axis
    return tuple(
        GETITEM(x, index=(*head, slice(end - k, end))) for k, end in zip(sizes, ends, strict=True)
    )


@export(method=True)
def chunk(x: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` equal pieces along `dim` (the last may be smaller), as PyTorch."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    x = tensor(x)
    n = x.shape[single_axis("chunk", x, dim)]
    return split(x, builtins.max(-(-n // int(chunks)), 1), dim)


FLIP: Primitive = register(
    Primitive(
        "flip",
        lambda x, axes: np.flip(x, axes).copy(),
        (lambda g, out, x, axes: FLIP(g, axes=axes),),
        linear=True,
        doc="reverse the order along axes (a copy, as PyTorch); the cotangent is flipped back",
    )
)


@export(method=True)
def flip(x: Any, dims: int | Sequence[int] | None = None) -> Tensor:
    """Reverse the order of elements along `dims` (all axes when None, as numpy)."""
    x = tensor(x)
    if dims is None:
        axes: Axis = tuple(range(x.ndim))
    else:
        axes = check_axis("flip", x, tuple(dims) if isinstance(dims, (tuple, list)) else (dims,))
    return FLIP(x, axes=axes) if axes else clone(x)


def _roll_forward(x: np.ndarray, shifts: tuple[int, ...], axes: tuple[int, ...] | None) -> Any:
    return np.roll(x, shifts if axes is not None else shifts[0], axes)


ROLL: Primitive = register(
    Primitive(
        "roll",
        _roll_forward,
        (lambda g, out, x, shifts, axes: ROLL(g, shifts=tuple(-k for k in shifts), axes=axes),),
        linear=True,
        doc="shift elements cyclically along axes; the cotangent is rolled back",
    )
)


@export(method=True)
def roll(x: Any, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Shift elements cyclically by `shifts` along `dims`; with no dims, along the flattened
    tensor, keeping its shape (numpy and PyTorch)."""
    x = tensor(x)
    steps = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if not all(isinstance(k, (int, np.integer)) for k in steps):
        raise TypeError(f"roll: shifts must be ints, got {shifts!r}")
    if dims is None:
        if len(steps) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        return ROLL(x, shifts=(int(steps[0]),), axes=None)
    axes = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(axes) != len(steps):
        raise ValueError(f"roll: shifts {shifts!r} and dims {dims!r} differ in length")
    axes = tuple(single_axis("roll", x, a) for a in axes)
    return ROLL(x, shifts=tuple(int(k) for k in steps), axes=axes)


@export
def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """Repeat the whole tensor `reps[i]` times along axis i (numpy's and PyTorch's `tile`; a
    short `reps` or shape is padded with 1s in front). A broadcast between two reshapes, so
    its gradient sums the copies."""
    x = tensor(x)
    counts = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    if not all(isinstance(k, (int, np.integer)) and k >= 0 for k in counts):
        raise ValueError(f"tile: repetitions must be non-negative ints, got {reps!r}")
    ndim = builtins.max(len(counts), x.ndim)
    counts = (1,) * (ndim - len(counts)) + tuple(int(k) for k in counts)
    sizes = (1,) * (ndim - x.ndim) + x.shape
    spread = reshape(x, [n for size in sizes for n in (1, size)])
    copies = broadcast_to(spread, [n for pair in zip(counts, sizes, strict=True) for n in pair])
    return reshape(copies, [k * size for k, size in zip(counts, sizes, strict=True)])


@export(method=True)
def repeat(x: Any, *sizes: Any) -> Tensor:
    """PyTorch's `Tensor.repeat`: tile the whole tensor `sizes[i]` times along axis i
    (numpy's element-wise `repeat` is PyTorch's `repeat_interleave`)."""
    x = tensor(x)
    counts = _shape_arg(sizes)
    if len(counts) < x.ndim:
        raise ValueError(
            f"repeat: {len(counts)} repetition counts for a tensor of {x.ndim} dimensions "
            f"(shape {x.shape}); give at least one per dimension"
        )
    return tile(x, counts)


@export(method=True)
def expand(x: Any, *sizes: Any) -> Tensor:
    """Broadcast to `sizes`, where -1 keeps an axis's size (PyTorch's `expand`)."""
    x = tensor(x)
    target = _shape_arg(sizes)
    lead = len(target) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {target} has fewer dimensions than shape {x.shape}")
    if -1 in target[:lead]:
        raise ValueError(f"expand: -1 cannot size a new leading dimension, got {target}")
    return broadcast_to(x, tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(target)))


@export(method=True)
def expand_as(x: Any, other: Any) -> Tensor:
    """`x` broadcast to the shape of `other` (PyTorch's `expand_as`)."""
    return expand(x, *tensor(other).shape)


@export(method=True)
def view_as(x: Any, other: Any) -> Tensor:
    """`x` reshaped to the shape of `other` (PyTorch's `view_as`)."""
    return reshape(x, tensor(other).shape)


@export(method=True)
def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """x with `value` where the boolean `mask` is true (PyTorch's `masked_fill`); the gradient
    reaches x where the mask is false, and `value` (if a tensor) where it is true."""
    x = tensor(x)
    mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: the mask must be boolean, got dtype {mask.dtype}")
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"masked_fill: value must be a number or 0-d, got shape {value.shape}")
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {mask.shape} does not broadcast with x of shape {x.shape}"
        ) from None
    return where(mask, value, x)
