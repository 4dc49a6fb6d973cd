"""`Tensor`: a numpy array that remembers how it was computed.

A tensor holds its data, whether it requires grad, its `.grad` after backward, and (when it is
the result of a recorded op) the `Node` that made it. Every operator and method delegates to
the public functions of `autograd_core.ops`, so each op is defined in exactly one place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_core import engine

DEFAULT_DTYPE = np.dtype(np.float64)


def _as_float_array(data: Any, dtype: Any) -> np.ndarray:
    """Copy `data` into a fresh float array, with a clear error for what cannot be one."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Tensor: cannot make a numeric array from {type(data).__name__} data "
            f"({error}); nested lists must be rectangular and hold numbers"
        ) from None
    kind = array.dtype.kind
    if kind in "biu":
        return array.astype(DEFAULT_DTYPE if dtype is None else dtype)
    if kind != "f":
        raise TypeError(
            f"Tensor: data of dtype {array.dtype} is not a real number type; "
            f"use bool, integer or floating data"
        )
    return array


class Tensor(engine.Traced):
    """An n-dimensional array with reverse- and forward-mode automatic differentiation.

    `data` is anything `np.asarray` takes and is always copied. Integer and bool data become
    float64; float32 stays float32 (Python scalars in later ops never promote it).
    """

    # What every tensor sets lives in slots; what few tensors set (a gradient, a name, a
    # forward-mode tangent, a version counter) lives in a per-instance dict made only on
    # first assignment, read through the class defaults below. Making a tensor is the hot path.
    __slots__ = ("data", "requires_grad", "_node")
    __array_ufunc__ = None  # make `ndarray * Tensor` defer to Tensor.__rmul__

    data: np.ndarray
    requires_grad: bool
    _node: engine.Node | None
    grad: Tensor | None = None
    _name: str | None = None
    _tangents: dict[int, Tensor] | None = None
    _counter: engine.VersionCounter | None = None  # shared with views; see engine
    _view_of: Tensor | None = None

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Tensor: dtype must be a floating type, got {dtype}")
        self.data = _as_float_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self._node = None
        if name is not None:
            self._name = name

    @staticmethod
    def _wrap(data: Any, _new: Any = object.__new__, _ndarray: Any = np.ndarray) -> Tensor:
        """A tensor around an array the engine just made: no copy, no checks (hot path)."""
        t: Tensor = _new(Tensor)
        t.data = data if type(data) is _ndarray else np.asarray(data)
        t.requires_grad = False
        t._node = None
        return t

    # -- attributes ---------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the length of axis `dim` (PyTorch's `size`; numpy's is `numel()`)."""
        if dim is None:
            return self.data.shape
        if not -self.ndim <= dim < max(self.ndim, 1) or self.ndim == 0:
            raise IndexError(f"size: dimension {dim} is out of range for shape {self.shape}")
        return self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for `ndim`)."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def name(self) -> str | None:
        """A label for drawings and reprs; a result's name is kept by its graph node (which
        outlives the tensor object)."""
        return self._name if self._node is None else self._node.tensor_name

    @name.setter
    def name(self, value: str | None) -> None:
        if self._node is None:
            self._name = value
        else:
            self._node.tensor_name = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self) -> engine.Node | None:
        """The node of the op that made this tensor (None for leaves)."""
        return self._node

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (PyTorch's `_version`)."""
        return engine.version_of(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's and numpy's name
        return ops.transpose(self)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's and numpy's name
        """The last two axes swapped (a batch of matrices transposed), as `ndarray.mT`."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        return ops.swapaxes(self, -1, -2)

    def __getattr__(self, name: str) -> Any:
        """Ops exported with `method=True` (`x.tan()`): found here, as only a missing
        attribute reaches `__getattr__`; the methods defined below are found directly."""
        function = ops.METHODS.get(name)
        if function is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        return functools.partial(function, self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, as in PyTorch: copy it before mutating)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python "
                f"number, this one has shape {self.shape}"
            )
        return float(self.data.reshape(()))

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data.reshape(()))

    __hash__ = object.__hash__  # tensors are identities (== is elementwise)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", prefix="tensor(", precision=4, threshold=100
        )
        extras = []
        if self.data.dtype != DEFAULT_DTYPE and self.data.dtype != np.bool_:
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.prim.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # -- autograd -----------------------------------------------------------------------------

    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate the gradient of this tensor into `.grad` of every leaf that requires it.

        `gradient` weights a non-scalar output (a vector-Jacobian product); `retain_graph`
        keeps the graph for another backward (default: `create_graph`); `create_graph`
        records the backward pass so the gradients can be differentiated again.
        """
        engine.backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and its version, as in PyTorch)."""
        t = Tensor._wrap(self.data)
        engine.share_counter(t, self)
        return t

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set `requires_grad` on a leaf, in place; returns self."""
        if self._node is not None and not flag:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach()")
        if flag and self.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require grad, this one is {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        if self._node is None:
            return
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        import weakref

        self._node.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """Whether `retain_grad()` was called on this non-leaf tensor."""
        retained = self._node.retained if self._node is not None else None
        return retained is not None and retained() is self

    def zero_grad_(self) -> None:
        self.grad = None

    # -- in-place ops ---------------------------------------------------------------------------
    # Each changes this tensor's memory and counts a new version (shared with its views).
    # While recording, a change that involves a tensor requiring grad is recorded as its
    # out-of-place op, as PyTorch does. Assigning to `.data` is the unchecked escape hatch.

    def _in_place(self, op: str, fn: Callable[..., Tensor], other: Any, *params: Any) -> Tensor:
        """self = fn(self, other, *params), in place: recorded, and its tangents carried
        (forward mode), when it must be."""
        records = engine.is_grad_enabled() and (self.requires_grad or _requires_grad(other))
        if not records and not (self._tangents or _has_tangents(other)):
            with engine.no_grad():
                self._write(op, fn(self, other, *params))
            engine.note_in_place(self)
            return self
        if records and self.requires_grad and self._node is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad cannot be changed in place while "
                f"gradients are recorded; do it under no_grad() (as an optimizer step does), "
                f"or use the out-of-place op"
            )
        if self._view_of is not None:  # (its base's history or tangent would go stale)
            raise RuntimeError(
                f"{op}: a differentiable in-place change through a view is not supported; "
                f"write into the tensor it views instead (base[index] = value)"
            )
        linear = fn in (ops.add, ops.sub, ops.index_put)  # their rules read no old values
        new = fn(self if linear else ops.clone(self), other, *params)
        self._write(op, new)
        version = engine.note_in_place(self)
        node = new._node
        if node is not None:  # recorded: this tensor's memory now holds the op's output
            node.value, node.own_version, node.counter = self.data, version, engine.counter_of(self)
            self._node, self.requires_grad = node, True
        self._tangents = new._tangents
        return self

    def _write(self, op: str, new: Tensor) -> None:
        if new.shape != self.shape:
            raise ValueError(
                f"{op}: the result has shape {new.shape}, which does not fit in place into a "
                f"tensor of shape {self.shape}"
            )
        if not self.data.flags.writeable:
            raise ValueError(f"{op}: this tensor's memory is read-only (a broadcast view)")
        np.copyto(self.data, new.data, casting="same_kind")

    def _assign(self, op: str, index: Any, value: Any) -> Tensor:
        """self[index] = value, in place (setitem, fill_, copy_)."""
        recorded = engine.is_grad_enabled() and (self.requires_grad or _requires_grad(value))
        if recorded or self._tangents or _has_tangents(value):
            return self._in_place(op, ops.index_put, value, index)
        try:
            values = value.data if isinstance(value, Tensor) else value
            self.data[ops.shape.index_arg(index)] = values
        except (ValueError, TypeError, IndexError) as error:
            message = f"{op}: cannot write into a tensor of shape {self.shape}: {error}"
            raise engine.plain_error(error, message) from None
        engine.note_in_place(self)
        return self

    def add_(self, other: Any) -> Tensor:
        """self += other, in place."""
        return self._in_place("add_", ops.add, other)

    def sub_(self, other: Any) -> Tensor:
        """self -= other, in place."""
        return self._in_place("sub_", ops.sub, other)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return self._in_place("mul_", ops.mul, other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        return self._in_place("div_", ops.div, other)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to `value`, in place."""
        return self._assign("fill_", ..., value)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0.0)

    def copy_(self, source: Any) -> Tensor:
        """Copy `source` (broadcast to this shape) into this tensor, in place."""
        return self._assign("copy_", ..., source)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._assign("__setitem__", index, value)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    # -- operators (each delegates to the one definition in ops) -----------------------------

    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.floor(ops.div(self, other))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.floor(ops.div(other, self))

    def __mod__(self, other: Any) -> Tensor:
        return ops.mod(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops.mod(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    def __lt__(self, other: Any) -> Tensor:
        return ops.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.not_equal(self, other)

    # -- methods ------------------------------------------------------------------------------

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def sin(self) -> Tensor:
        return ops.sin(self)

    def cos(self) -> Tensor:
        return ops.cos(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def clip(self, *args: Any, **kwargs: Any) -> Tensor:
        return ops.clip(self, *args, **kwargs)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return ops.sum(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return ops.mean(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return ops.max(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return ops.min(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return ops.var(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return ops.std(self, *args, **kwargs)

    def logsumexp(self, *args: Any, **kwargs: Any) -> Any:
        return ops.logsumexp(self, *args, **kwargs)

    def softmax(self, *args: Any, **kwargs: Any) -> Any:
        return ops.softmax(self, *args, **kwargs)

    def log_softmax(self, *args: Any, **kwargs: Any) -> Any:
        return ops.log_softmax(self, *args, **kwargs)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, *shape)

    def transpose(self, *dims: Any) -> Tensor:
        """Swap two axes, as PyTorch (`permute` reorders all of them)."""
        return ops.transpose(self, *dims)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return ops.flatten(self, start_dim, end_dim)

    def squeeze(self, *args: Any, **kwargs: Any) -> Tensor:
        return ops.squeeze(self, *args, **kwargs)

    def unsqueeze(self, *args: Any, **kwargs: Any) -> Tensor:
        return ops.unsqueeze(self, *args, **kwargs)

    def broadcast_to(self, *shape: Any) -> Tensor:
        return ops.broadcast_to(self, *shape)

    def clone(self) -> Tensor:
        """A copy in new memory, still connected to the graph."""
        return ops.clone(self)

    def astype(self, dtype: Any) -> Tensor:
        """The same values in another floating dtype (differentiable)."""
        return ops.cast(self, dtype)

    def float(self) -> Tensor:
        return ops.cast(self, np.float32)

    def double(self) -> Tensor:
        return ops.cast(self, np.float64)

    def to(self, dtype: Any) -> Tensor:
        """PyTorch's `to`: another floating dtype; the device "cpu" (the only one) is a no-op."""
        return self if dtype == "cpu" else ops.cast(self, dtype)

    def contiguous(self) -> Tensor:
        """Itself: numpy handles any memory layout (kept so PyTorch code runs unchanged)."""
        return self

    def t(self) -> Tensor:
        """PyTorch's `t()`: a matrix transposed; 0-d and 1-D tensors as they are."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects at most 2 dimensions, got shape {self.shape}")
        return ops.transpose(self)


def _requires_grad(x: Any) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _has_tangents(x: Any) -> bool:
    """Whether `x` carries forward-mode tangents (a `jvp` is running through it)."""
    return isinstance(x, Tensor) and bool(x._tangents)


# Operators and methods call the public functions of ops, which build on Tensor: ops is
# imported last, once Tensor exists (the one import cycle, between a type and its operations).
from autograd_core import ops  # noqa: E402
