"""Reductions and normalizations over axes: sum, mean, max, min, logsumexp, var, std, prod,
norm, cumsum, softmax, and the index-valued argmax and argmin.

A reduction's cotangent gets its reduced axes back (`restore_axes`) and is spread over the
elements that made each result: evenly (sum, mean), to the extremum (max, min), by the
softmax weights (logsumexp), by the slope of the norm (norm).

Every reduction takes numpy's `axis=`/`keepdims=` and PyTorch's `dim=`/`keepdim=`
(`axis_and_keepdims`); forwards return IEEE inf/nan silently, as PyTorch does.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from autograd_core.engine import BROADCAST_TO, Primitive, register
from autograd_core.ops.common import (
    Axis,
    axis_and_keepdims,
    check_axis,
    count,
    export,
    keepdims_shape,
    one_of,
    quiet,
    single_axis,
    tensor,
    value,
)
from autograd_core.ops.elementwise import ABS, EXP, SIGN, WHERE
from autograd_core.ops.shape import CLONE, RESHAPE
from autograd_core.tensor import Tensor


def restore_axes(g: Any, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> Any:
    """A reduction's cotangent (or output) with its reduced axes back as size 1, ready to
    broadcast against the input of `shape`."""
    if keepdims or np.ndim(g) == 0:  # a 0-d cotangent broadcasts as it is
        return g
    return RESHAPE(g, shape=keepdims_shape(shape, axis))


def _spread(g: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """The cotangent of a sum, copied back to every element it summed."""
    shape = np.shape(x)
    return BROADCAST_TO(restore_axes(g, shape, axis, keepdims), shape=shape)


def reduction_of_slope(
    name: str, forward: Callable[..., Any], slope: Callable[..., Any], doc: str
) -> Primitive:
    """A reduction whose derivative is a `slope(out, x, axis, keepdims, *params)` of x's shape,
    d out / d x_i: the VJP spreads the cotangent back and weighs it by the slope, the JVP
    sums the tangent weighed by the slope (max, min, logsumexp, std, norm)."""

    def vjp(g: Any, out: Any, x: Any, axis: Axis, keepdims: bool, **params: Any) -> Any:
        weights = slope(out, x, axis, keepdims, **params)
        return restore_axes(g, np.shape(x), axis, keepdims) * weights

    def jvp(t: Any, out: Any, x: Any, axis: Axis, keepdims: bool, **params: Any) -> Any:
        weights = slope(out, x, axis, keepdims, **params)
        return SUM(t * weights, axis=axis, keepdims=keepdims)

    return register(Primitive(name, forward, (vjp,), (jvp,), save_output=True, doc=doc))


def _check_nonempty(op: str, x: Tensor, axis: Axis) -> None:
    """Reductions without an identity (max, argmax, ...) need something to reduce."""
    if count(x.shape, axis) == 0:
        raise ValueError(
            f"{op}: cannot reduce over an empty axis (axis {axis}, shape {x.shape}): "
            f"the {op} of no elements is undefined"
        )


SUM: Primitive = register(
    Primitive(
        "sum",
        quiet(lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims)),
        (lambda g, out, x, axis, keepdims: _spread(g, x, axis, keepdims),),
        linear=True,
        doc="sum over axis; d/dx_i = 1: the cotangent is broadcast back",
    )
)


@export
def sum(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Sum over `axis` (all axes when None; PyTorch's `dim`, an int or a tuple)."""
    x = tensor(x)
    axis, keepdims = axis_and_keepdims("sum", x, axis, keepdims, dim, keepdim)
    return SUM(x, axis=axis, keepdims=keepdims)


@quiet
def _mean_forward(x: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """sum / n, as np.mean computes it; the mean of nothing is nan, without a warning."""
    total, n = np.sum(x, axis=axis, keepdims=keepdims), count(x.shape, axis)
    return total / n if n else np.full_like(total, np.nan)


MEAN: Primitive = register(
    Primitive(
        "mean",
        _mean_forward,
        (  # scale the small side, then spread
            lambda g, out, x, axis, keepdims: _spread(
                g * (1.0 / builtins.max(count(np.shape(x), axis), 1)), x, axis, keepdims
            ),
        ),
        linear=True,
        doc="mean over axis; d/dx_i = 1/n: the cotangent is broadcast back, divided by n",
    )
)


@export
def mean(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Mean over `axis` (all axes when None; PyTorch's `dim`); nan over an empty axis."""
    x = tensor(x)
    axis, keepdims = axis_and_keepdims("mean", x, axis, keepdims, dim, keepdim)
    return MEAN(x, axis=axis, keepdims=keepdims)


# --------------------------------------------------------------------------------------------
# Extrema and their indices.
# --------------------------------------------------------------------------------------------


def _extremum_weights(out: Any, x: Any, axis: Axis, keepdims: bool) -> np.ndarray:
    """Where x attains its max (or min): 1/(number of ties) there, 0 elsewhere (constants).
    A nan result came from nan entries: they share the gradient (as PyTorch)."""
    out, x = value(out), value(x)
    extremum = restore_axes(out, x.shape, axis, keepdims)
    hits = ((x == extremum) | (np.isnan(x) & np.isnan(extremum))).astype(x.dtype)
    return hits / hits.sum(axis=axis, keepdims=True)


def _extremum(name: str, forward: Any) -> Primitive:
    return reduction_of_slope(
        name,
        forward,
        _extremum_weights,
        doc=f"{name} over axis; d/dx_i = 1 at the {name} (ties share it evenly), else 0",
    )


MAX: Primitive = _extremum("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
MIN: Primitive = _extremum("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))


class ValuesIndices(NamedTuple):
    """What `max` and `min` return when called with PyTorch's `dim=` (as `torch.max` does):
    the values, differentiable, and the int64 index of each along `dim`."""

    values: Tensor
    indices: Tensor


def _indices(find: Any, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    """np.argmax or np.argmin as an int64 tensor: the first occurrence on ties (a nan counts
    as the extremum), and no gradient, as an index has no derivative."""
    return Tensor._wrap(np.asarray(find(x.data, axis=axis, keepdims=keepdims), dtype=np.int64))


def _extremum_reduce(
    op: str, prim: Primitive, find: Any, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any
) -> Tensor | ValuesIndices:
    x = tensor(x)
    if dim is not None and (not isinstance(dim, (int, np.integer)) or isinstance(dim, bool)):
        raise TypeError(
            f"{op}: dim= takes one int, as in PyTorch (it returns indices along it), "
            f"got {dim!r}; reduce over several axes with axis="
        )
    axis, keepdims = axis_and_keepdims(op, x, axis, keepdims, dim, keepdim)
    _check_nonempty(op, x, axis)
    values = prim(x, axis=axis, keepdims=keepdims)
    if dim is None:
        return values
    return ValuesIndices(values, _indices(find, x, axis, keepdims))


@export
def max(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: bool | None = None,
) -> Tensor | ValuesIndices:
    """Largest value over `axis` (all axes when None); tied maxima share the gradient evenly.

    With PyTorch's `dim=` (one int) it returns `(values, indices)`, as `torch.max(x, dim)`
    does, the indices an int64 tensor (first occurrence on ties); with `axis=` (numpy's and
    JAX's spelling, also when given positionally) the values only. Unlike PyTorch's
    `max(x, dim)`, tied maxima share the gradient also then."""
    return _extremum_reduce("max", MAX, np.argmax, x, axis, keepdims, dim, keepdim)


@export
def min(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: bool | None = None,
) -> Tensor | ValuesIndices:
    """Smallest value over `axis`; tied minima share the gradient evenly. With `dim=` it
    returns `(values, indices)` as `torch.min(x, dim)`, with `axis=` the values (see `max`)."""
    return _extremum_reduce("min", MIN, np.argmin, x, axis, keepdims, dim, keepdim)


def _arg_extremum(
    op: str, find: Any, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any
) -> Tensor:
    x = tensor(x)
    requested = axis if dim is None else dim
    if isinstance(requested, (tuple, list)):
        raise TypeError(f"{op}: axis must be one int or None, got {requested!r}")
    axis, keepdims = axis_and_keepdims(op, x, axis, keepdims, dim, keepdim)
    _check_nonempty(op, x, axis)
    return _indices(find, x, axis, keepdims)


@export(method=True)
def argmax(
    x: Any,
    axis: int | None = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Index of the largest value along `axis` (into the flattened tensor when None), the
    first on ties: an int64 tensor that does not require grad (an index has no derivative)."""
    return _arg_extremum("argmax", np.argmax, x, axis, keepdims, dim, keepdim)


@export(method=True)
def argmin(
    x: Any,
    axis: int | None = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Index of the smallest value along `axis` (into the flattened tensor when None), the
    first on ties: an int64 tensor that does not require grad."""
    return _arg_extremum("argmin", np.argmin, x, axis, keepdims, dim, keepdim)


# --------------------------------------------------------------------------------------------
# logsumexp, variance, standard deviation.
# --------------------------------------------------------------------------------------------


@quiet
def _logsumexp_forward(x: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the max: no overflow. All -inf (or
    nothing) gives log(0) = -inf."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_of(out: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """exp(x - logsumexp(x)), from the saved output, so it stays differentiable."""
    return EXP(x - restore_axes(out, np.shape(x), axis, keepdims))


LOGSUMEXP: Primitive = reduction_of_slope(
    "logsumexp",
    _logsumexp_forward,
    _softmax_of,
    doc="log(sum(exp(x))), stable; d/dx = softmax(x)",
)


@export
def logsumexp(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow; -inf over an empty axis."""
    x = tensor(x)
    axis, keepdims = axis_and_keepdims("logsumexp", x, axis, keepdims, dim, keepdim)
    return LOGSUMEXP(x, axis=axis, keepdims=keepdims)


def _ddof(op: str, ddof: float, correction: float | None, unbiased: bool | None) -> float:
    """numpy's `ddof`, or PyTorch's `correction` (the same number) or `unbiased` (ddof 1 or 0):
    one of the three."""
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: got both correction= and unbiased=: pass one")
        one_of(op, ("ddof", "unbiased"), ddof, unbiased, 0)  # raises if both are given
        return 1 if unbiased else 0
    return one_of(op, ("ddof", "correction"), ddof, correction, 0)  # type: ignore[no-any-return]


def _degrees_of_freedom(op: str, x: Tensor, axis: Axis, ddof: float) -> float:
    """n - ddof, the divisor of the variance; it must be positive."""
    n = count(x.shape, axis)
    if n - ddof <= 0:
        raise ValueError(
            f"{op}: {n} elements per reduction with ddof={ddof} leaves no degrees "
            f"of freedom (shape {x.shape}, axis {axis})"
        )
    return n - ddof


@export
def var(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    ddof: float = 0,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
    correction: float | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance over `axis`: sum((x - mean)^2) / (n - ddof). ddof=0 by default, as numpy and
    JAX; PyTorch's `correction=` is ddof and `unbiased=True` is ddof=1 (PyTorch defaults to 1)."""
    x = tensor(x)
    axis, keepdims = axis_and_keepdims("var", x, axis, keepdims, dim, keepdim)
    divisor = _degrees_of_freedom("var", x, axis, _ddof("var", ddof, correction, unbiased))
    centered = x - mean(x, axis, keepdims=True)
    return sum(centered * centered, axis, keepdims) * (1.0 / divisor)


def _std_slope(out: Any, x: Any, axis: Axis, keepdims: bool, ddof: float) -> Any:
    """d std / dx_i = (x_i - mean) / ((n - ddof) std); 0 where std is 0 (as PyTorch), where
    every x_i equals the mean: the division then reads 1, so no 0/0 enters the graph."""
    shape = np.shape(x)
    std = restore_axes(out, shape, axis, keepdims)
    safe = WHERE(1.0, std, cond=value(std) == 0)
    centered = x - MEAN(x, axis=axis, keepdims=True)
    return centered / (safe * float(count(shape, axis) - ddof))


STD: Primitive = reduction_of_slope(
    "std",
    quiet(lambda x, axis, keepdims, ddof: np.std(x, axis=axis, keepdims=keepdims, ddof=ddof)),
    _std_slope,
    doc="standard deviation over axis; d/dx_i = (x_i - mean) / ((n - ddof) std), 0 where "
    "std = 0 (as PyTorch)",
)


@export
def std(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    ddof: float = 0,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
    correction: float | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof)), ddof=0 by default (PyTorch's
    `correction=`, `unbiased=` as in `var`). Its gradient is 0 where all reduced values are
    equal (PyTorch's convention; the exact derivative is undefined)."""
    x = tensor(x)
    axis, keepdims = axis_and_keepdims("std", x, axis, keepdims, dim, keepdim)
    ddof = _ddof("std", ddof, correction, unbiased)
    _degrees_of_freedom("std", x, axis, ddof)
    return STD(x, axis=axis, keepdims=keepdims, ddof=ddof)


# --------------------------------------------------------------------------------------------
# Products, norms, running sums.
# --------------------------------------------------------------------------------------------


def _product_along(x: Tensor, axis: int) -> Tensor:
    """The product along `axis`, kept as size 1: neighbours multiplied pairwise, level by
    level (an odd one out is set aside and multiplied in at the end)."""

    def part(start: int, stop: int | None = None, step: int | None = None) -> Tensor:
        return x[(slice(None),) * axis + (slice(start, stop, step),)]

    if x.shape[axis] == 0:  # the empty product is 1 (and nothing has a gradient)
        return sum(x, axis, keepdims=True) + 1.0
    odd_ones_out = None
    while x.shape[axis] > 1:
        if x.shape[axis] % 2:
            first, x = part(0, 1), part(1)
            odd_ones_out = first if odd_ones_out is None else odd_ones_out * first
        x = part(0, None, 2) * part(1, None, 2)
    return x if odd_ones_out is None else x * odd_ones_out


@export(method=True)
def prod(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Product over `axis` (all axes when None; PyTorch's `dim`); 1 over an empty axis.

    Built as a tree of pairwise products, so its derivatives are those of `*`: exact also at
    zeros, to every order (one zero: the product of the others there, 0 elsewhere; two or
    more zeros: 0), with no division by x."""
    x = tensor(x)
    axis, keepdims = axis_and_keepdims("prod", x, axis, keepdims, dim, keepdim)
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    out = x
    for a in axes:
        out = _product_along(out, a)
    if out is x:  # nothing was multiplied (a 0-d tensor, or no axes): still a new tensor
        out = CLONE(x)
    if keepdims:
        return out
    return RESHAPE(out, shape=tuple(n for i, n in enumerate(x.shape) if i not in axes))


@quiet
def _norm_forward(x: np.ndarray, axis: Axis, keepdims: bool, p: float) -> np.ndarray:
    """(sum |x_i|^p)^(1/p); for p = 2 the square root of the sum of squares."""
    if p == 2.0:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _norm_slope(out: Any, x: Any, axis: Axis, keepdims: bool, p: float) -> Any:
    """d norm / dx_i = sign(x_i) (|x_i| / norm)^(p - 1), which is x_i / norm for p = 2.

    At x_i = 0 it is taken as 0, PyTorch's subgradient (exact for p > 1 except p = 2 at
    x = 0; for p < 1 the slope there is infinite). The masked places read 1 in the
    divisions and powers, so no inf or nan enters the graph to spoil a higher derivative."""
    norm = restore_axes(out, np.shape(x), axis, keepdims)
    zero_norm = value(norm) == 0  # only where every x_i is 0 (p > 0)
    safe_norm = WHERE(1.0, norm, cond=zero_norm)
    if p == 2.0:
        return WHERE(0.0, x / safe_norm, cond=zero_norm)
    signs = np.sign(value(x))
    ratio = WHERE(1.0, x * signs / safe_norm, cond=signs == 0)  # |x_i| / norm
    return ratio ** (p - 1.0) * signs


NORM: Primitive = reduction_of_slope(
    "norm",
    _norm_forward,
    _norm_slope,
    doc="p-norm over axis for finite p > 0: (sum |x_i|^p)^(1/p); "
    "d/dx_i = sign(x_i) (|x_i| / norm)^(p-1), 0 at x_i = 0 (as PyTorch)",
)


def _norm_order(p: Any) -> float:
    """PyTorch's `p` as a float: 'fro' (and None) is 2; inf, -inf, 0 or positive."""
    if p is None or p == "fro":
        return 2.0
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ValueError(
            f"norm: p must be 'fro', inf, -inf, 0 or a positive number, got {p!r} "
            f"(matrix norms such as 'nuc' are not supported)"
        )
    if math.isnan(p) or (p < 0 and not math.isinf(p)):
        raise ValueError(f"norm: p must be 'fro', inf, -inf, 0 or a positive number, got {p!r}")
    return float(p)


@export(method=True)
def norm(
    x: Any,
    p: float | str | None = 2,
    dim: Axis = None,
    keepdim: bool = False,
    *,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The vector p-norm over `dim` (all elements when None), as `torch.linalg.vector_norm`
    and `torch.norm`: (sum |x_i|^p)^(1/p); p = inf is max |x_i| (ties share the gradient
    evenly), -inf min |x_i|, 0 the number of nonzero elements (gradient 0), 'fro' is 2.

    The gradient at x = 0 is 0, not nan (PyTorch's subgradient), and so is the second
    derivative there (where PyTorch's is nan for p = 2)."""
    x = tensor(x)
    dim = one_of("norm", ("dim", "axis"), dim, axis)
    keepdim = bool(one_of("norm", ("keepdim", "keepdims"), keepdim, keepdims, False))
    order = _norm_order(p)
    dim = check_axis("norm", x, dim)
    if math.isinf(order):
        if count(x.shape, dim) == 0:
            raise ValueError(
                f"norm: cannot take the {order} norm over an empty axis (axis {dim}, shape "
                f"{x.shape}): the max or min of no elements is undefined"
            )
        extremum = max if order > 0 else min
        return extremum(ABS(x), dim, keepdim)  # type: ignore[return-value]
    if order == 0:
        return sum(ABS(SIGN(x)), dim, keepdim)  # counts nonzeros; sign has gradient 0
    return NORM(x, axis=dim, keepdims=keepdim, p=order)


CUMSUM: Primitive = register(
    Primitive(
        "cumsum",
        quiet(lambda x, axis: np.cumsum(x, axis=axis)),
        # out_j = sum_{i <= j} x_i, so d/dx_i = sum_{j >= i} g_j: a running sum from the end
        (lambda g, out, x, axis: _reversed(CUMSUM(_reversed(g, axis), axis=axis), axis),),
        linear=True,
        doc="running sum along axis; the cotangent is summed from the end back",
    )
)


def _reversed(a: Any, axis: int) -> Any:
    """`a` in reverse order along `axis` (an array or a tensor)."""
    return a[(slice(None),) * axis + (slice(None, None, -1),)]


@export(method=True)
def cumsum(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running sum along `axis` (PyTorch's `dim`); over the flattened tensor when None, as
    numpy's `cumsum`."""
    x = tensor(x)
    axis = one_of("cumsum", ("axis", "dim"), axis, dim)
    if axis is None:
        return CUMSUM(RESHAPE(x, shape=(x.data.size,)), axis=0)
    if x.ndim == 0:  # PyTorch: a 0-d tensor is its own running sum
        check_axis("cumsum", x, axis)
        return RESHAPE(CUMSUM(RESHAPE(x, shape=(1,)), axis=0), shape=())
    return CUMSUM(x, axis=single_axis("cumsum", x, axis))


# --------------------------------------------------------------------------------------------
# softmax and log_softmax.
# --------------------------------------------------------------------------------------------


@quiet
def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)); a row of -inf gives nan, as PyTorch."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_rule(g: Any, out: Any, x: Any, axis: int) -> Any:
    """The softmax Jacobian diag(s) - s s^T is symmetric: one rule for VJP and JVP."""
    return out * (g - SUM(g * out, axis=axis, keepdims=True))


SOFTMAX: Primitive = register(
    Primitive(
        "softmax",
        _softmax_forward,
        (_softmax_rule,),
        (_softmax_rule,),
        save_output=True,
        doc="s = exp(x) / sum(exp(x)) along axis, stable; Jacobian diag(s) - s s^T",
    )
)


@export
def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (PyTorch's `dim`), computed without overflow."""
    x = tensor(x)
    axis = one_of("softmax", ("axis", "dim"), axis, dim, -1)
    return SOFTMAX(x, axis=single_axis("softmax", x, axis))


@quiet
def _log_softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


LOG_SOFTMAX: Primitive = register(
    Primitive(
        "log_softmax",
        _log_softmax_forward,
        (lambda g, out, x, axis: g - EXP(out) * SUM(g, axis=axis, keepdims=True),),
        (lambda t, out, x, axis: t - SUM(EXP(out) * t, axis=axis, keepdims=True),),
        save_output=True,
        doc="x - logsumexp(x) along axis; Jacobian I - 1 softmax^T",
    )
)


@export
def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `axis` (PyTorch's `dim`), computed without overflow."""
    x = tensor(x)
    axis = one_of("log_softmax", ("axis", "dim"), axis, dim, -1)
    return LOG_SOFTMAX(x, axis=single_axis("log_softmax", x, axis))
