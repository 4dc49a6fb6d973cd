"""Constructors: new tensors from a size or from another tensor, as PyTorch spells them
(`zeros`, `ones`, `full`, `eye`, `arange`, `linspace`, `rand`, `randn`, `zeros_like`,
`ones_like`, `full_like`). They make leaves, so they record nothing.

Each takes `dtype=` and `requires_grad=`. The default dtype is float64, the engine's default
float: unlike PyTorch, integer arguments do not make an integer tensor (`arange(5)` is
float64), as integer data given to `Tensor` becomes float; pass `dtype=` for integers or bool.
A tensor that requires grad must be floating. The random ones take `generator=`, a
`numpy.random.Generator` or an int seed; without one they draw from `default_generator()`,
which `manual_seed(seed)` reseeds in place, as `torch.manual_seed` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_core.ops.common import export, tensor
from autograd_core.tensor import DEFAULT_DTYPE, Tensor

Size = int | Sequence[int]

_generator = np.random.default_rng()
"""What `rand` and `randn` draw from without a `generator=`; `manual_seed` reseeds it."""


def _size(op: str, size: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept f(2, 3), f((2, 3)) and f([2, 3]), with clear errors for bad sizes."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: sizes must be ints, got {size!r}")
        if n < 0:
            raise ValueError(f"{op}: negative dimension {n} in size {size}")
    return tuple(int(n) for n in size)


def _dtype(op: str, dtype: Any, default: Any = DEFAULT_DTYPE, kinds: str = "biuf") -> Any:
    """The numpy dtype asked for (`default` when None), if it is of one of `kinds`."""
    if dtype is None:
        return np.dtype(default)
    try:
        chosen = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype") from None
    if chosen.kind not in kinds:
        allowed = "a floating" if kinds == "f" else "a floating, integer or bool"
        raise TypeError(f"{op}: dtype {chosen} is not supported; use {allowed} dtype")
    return chosen


def _leaf(op: str, data: np.ndarray, requires_grad: bool) -> Tensor:
    """A new leaf tensor around `data` (made here, so no copy)."""
    if requires_grad and data.dtype.kind != "f":
        raise TypeError(f"{op}: only floating tensors can require grad, this one is {data.dtype}")
    out = Tensor._wrap(data)
    out.requires_grad = bool(requires_grad)
    return out


def _number(op: str, name: str, x: Any) -> Any:
    """A real Python number from a number or a one-element tensor."""
    if isinstance(x, Tensor):
        x = x.item()
    if isinstance(x, np.generic):
        x = x.item()
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        raise TypeError(f"{op}: {name} must be a real number, got {x!r}")
    return x


@export
def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: `zeros(2, 3)` or `zeros((2, 3))`."""
    data = np.zeros(_size("zeros", size), dtype=_dtype("zeros", dtype))
    return _leaf("zeros", data, requires_grad)


@export
def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: `ones(2, 3)` or `ones((2, 3))`."""
    data = np.ones(_size("ones", size), dtype=_dtype("ones", dtype))
    return _leaf("ones", data, requires_grad)


def _full(op: str, shape: tuple[int, ...], fill_value: Any, dtype: Any, grad: bool) -> Tensor:
    fill = _number(op, "fill_value", fill_value)
    if dtype.kind in "iu" and not (
        math.isfinite(fill) and np.iinfo(dtype).min <= fill <= np.iinfo(dtype).max
    ):
        raise ValueError(f"{op}: {fill} does not fit the integer dtype {dtype}")
    return _leaf(op, np.full(shape, fill, dtype=dtype), grad)


@export
def full(size: Size, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value` (float64 unless `dtype` says otherwise)."""
    shape = _size("full", (size,) if isinstance(size, (int, np.integer)) else tuple(size))
    return _full("full", shape, fill_value, _dtype("full", dtype), requires_grad)


@export
def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (n x n when `m` is None): ones on the main diagonal."""
    rows, cols = _size("eye", (n, n if m is None else m))
    return _leaf("eye", np.eye(rows, cols, dtype=_dtype("eye", dtype)), requires_grad)


@export
def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to but excluding `end`; `arange(n)` is 0, 1, ..., n - 1.

    float64 unless `dtype` says otherwise (PyTorch makes int64 from integer arguments); an
    integer dtype needs integer arguments."""
    if end is None:
        start, end = 0, start
    start, end, step = (
        _number("arange", k, v) for k, v in [("start", start), ("end", end), ("step", step)]
    )
    chosen = _dtype("arange", dtype)
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise ValueError(f"arange: unsupported range {start} to {end} by {step}")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: a step of {step} never goes from {start} to {end}")
    if chosen.kind in "biu" and not all(float(v).is_integer() for v in (start, end, step)):
        raise ValueError(
            f"arange: an integer dtype ({chosen}) needs integer start, end and step, got "
            f"{start}, {end} and {step}"
        )
    count = math.ceil((end - start) / step)
    return _leaf("arange", (start + step * np.arange(count)).astype(chosen), requires_grad)


@export
def linspace(
    start: Any, end: Any, steps: int, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included."""
    start, end = _number("linspace", "start", start), _number("linspace", "end", end)
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    values = np.linspace(start, end, int(steps)).astype(_dtype("linspace", dtype))
    return _leaf("linspace", values, requires_grad)


@export
def manual_seed(seed: int) -> np.random.Generator:
    """Reseed, in place, the generator `rand` and `randn` draw from by default (as
    `torch.manual_seed`): it then draws as `np.random.default_rng(seed)` would. Returns it."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator.bit_generator.state = np.random.default_rng(int(seed)).bit_generator.state
    return _generator


@export
def default_generator() -> np.random.Generator:
    """The generator random constructors use when given none (one object for the whole
    program, which `manual_seed` reseeds; other random code can share it)."""
    return _generator


def _random(op: str, generator: Any, dtype: Any) -> tuple[np.random.Generator, Any]:
    """The generator to draw from and the dtype to draw in (float32 or float64, numpy's)."""
    if generator is None:
        generator = _generator
    elif isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        generator = np.random.default_rng(int(generator))
    elif not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{op}: generator must be a numpy.random.Generator or an int seed, got "
            f"{type(generator).__name__}"
        )
    chosen = _dtype(op, dtype, kinds="f")
    if chosen not in (np.float32, np.float64):
        raise TypeError(f"{op}: dtype {chosen} is not supported; use float32 or float64")
    return generator, chosen


@export
def rand(
    *size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform random values in [0, 1)."""
    rng, chosen = _random("rand", generator, dtype)
    return _leaf("rand", rng.random(_size("rand", size), dtype=chosen), requires_grad)


@export
def randn(
    *size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal random values (mean 0, variance 1)."""
    rng, chosen = _random("randn", generator, dtype)
    return _leaf("randn", rng.standard_normal(_size("randn", size), dtype=chosen), requires_grad)


def _like(op: str, x: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    """The shape and dtype of `x` (as a tensor), or `dtype` when given."""
    x = tensor(x)
    return x.shape, _dtype(op, dtype, default=x.dtype)


@export
def zeros_like(x: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of the shape and dtype of `x`."""
    shape, chosen = _like("zeros_like", x, dtype)
    return _leaf("zeros_like", np.zeros(shape, dtype=chosen), requires_grad)


@export
def ones_like(x: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of the shape and dtype of `x`."""
    shape, chosen = _like("ones_like", x, dtype)
    return _leaf("ones_like", np.ones(shape, dtype=chosen), requires_grad)


@export
def full_like(x: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` in the shape and dtype of `x`."""
    shape, chosen = _like("full_like", x, dtype)
    return _full("full_like", shape, fill_value, chosen, requires_grad)


@export
def rand_like(
    x: Any, *, generator: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform random values in [0, 1) in the shape (and floating dtype) of `x`."""
    x = tensor(x)
    return rand(*x.shape, generator=generator, dtype=dtype or x.dtype, requires_grad=requires_grad)


@export
def randn_like(
    x: Any, *, generator: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal random values in the shape (and floating dtype) of `x`."""
    x = tensor(x)
    return randn(*x.shape, generator=generator, dtype=dtype or x.dtype, requires_grad=requires_grad)
