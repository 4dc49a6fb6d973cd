"""`Tensor`: a numpy array that remembers how it was computed.

A tensor holds its data, whether it requires grad, its `.grad` after backward, and (when it is
the result of a recorded op) the `Node` that made it. Every operator and method delegates to
the functions in `autograd_core.ops`, so each op is defined in exactly one place.
"""

from __future__ import annotations

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


class Tensor:
    """An n-dimensional array with reverse- and forward-mode automatic differentiation.

    `data` is anything `np.asarray` takes and is always copied. Integer and bool data become
    float64; float32 stays float32 (Python scalars in later ops never promote it).
    """

    # What every tensor sets lives in slots; what few tensors set (a gradient, a name, a
    # forward-mode tangent) lives in a per-instance dict made only on first assignment,
    # read through the class defaults below. Creating a tensor is the engine's hot path.
    __slots__ = ("data", "requires_grad", "_node", "__dict__", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` defer to Tensor.__rmul__

    data: np.ndarray
    requires_grad: bool
    _node: engine.Node | None
    grad: Tensor | None = None
    name: str | None = None
    _tangents: dict[int, Tensor] | None = None
    _version: int = 0  # bumped by in-place ops; backward checks saved tensors against it

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
            self.name = name

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

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self) -> engine.Node | None:
        """The node of the op that made this tensor (None for leaves)."""
        return self._node

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's and numpy's name
        return _ops.transpose(self)

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
        if self.size != 1:
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
        if self.size != 1:
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
        """The same data, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor._wrap(self.data)

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

    # -- in-place ops: checked, versioned (mutating `.data` directly bypasses both, as in
    # PyTorch: it is the escape hatch for optimizer updates) -----------------------------

    def _modify_in_place(self, op: str, update: Any) -> Tensor:
        if self.requires_grad and engine.STATE.grad_enabled:
            raise RuntimeError(
                f"{op}: in-place change to a tensor that requires grad while gradients are "
                f"recorded; use the out-of-place op, or do it under no_grad() (as an optimizer "
                f"step does)"
            )
        update()
        engine.note_in_place(self)
        return self

    def add_(self, other: Any) -> Tensor:
        """self += other, in place."""
        return self._modify_in_place(
            "add_", lambda: np.add(self.data, _ops._data(other), out=self.data)
        )

    def sub_(self, other: Any) -> Tensor:
        """self -= other, in place."""
        return self._modify_in_place(
            "sub_", lambda: np.subtract(self.data, _ops._data(other), out=self.data)
        )

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return self._modify_in_place(
            "mul_", lambda: np.multiply(self.data, _ops._data(other), out=self.data)
        )

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        return self._modify_in_place(
            "div_", lambda: np.divide(self.data, _ops._data(other), out=self.data)
        )

    def fill_(self, value: float) -> Tensor:
        """Set every element to `value`, in place."""
        return self._modify_in_place("fill_", lambda: self.data.fill(value))

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0.0)

    def copy_(self, source: Any) -> Tensor:
        """Copy `source` (broadcast to this shape) into this tensor, in place."""
        return self._modify_in_place("copy_", lambda: np.copyto(self.data, _ops._data(source)))

    def __setitem__(self, index: Any, value: Any) -> None:
        def assign() -> None:
            self.data[_ops._index_arg(index)] = _ops._data(value)

        self._modify_in_place("__setitem__", assign)

    # -- operators (each delegates to the one definition in ops) -----------------------------

    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    def __lt__(self, other: Any) -> Tensor:
        return _ops.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.not_equal(self, other)

    # -- methods ------------------------------------------------------------------------------

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        return _ops.clip(self, lo, hi)

    clamp = clip

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.var(self, axis, keepdims, ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.std(self, axis, keepdims, ddof)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        return _ops.transpose(self, *axes)

    def flatten(self) -> Tensor:
        return _ops.flatten(self)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return _ops.unsqueeze(self, axis)

    def broadcast_to(self, *shape: Any) -> Tensor:
        return _ops.broadcast_to(self, *shape)

    def astype(self, dtype: Any) -> Tensor:
        """The same values in another floating dtype (differentiable)."""
        return _ops.cast(self, dtype)

    def float(self) -> Tensor:
        return _ops.cast(self, np.float32)

    def double(self) -> Tensor:
        return _ops.cast(self, np.float64)


engine.bind_tensor_type(Tensor)

from autograd_core import ops as _ops  # noqa: E402  (ops builds on Tensor)
