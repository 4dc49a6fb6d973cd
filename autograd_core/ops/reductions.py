"""Reductions and normalizations over axes: sum, mean, max, min, logsumexp, std, softmax.

A reduction's cotangent gets its reduced axes back (`expand`) and is spread over the
elements that made each result: evenly (sum, mean), to the extremum (max, min), by the
softmax weights (logsumexp).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from autograd_core.engine import BROADCAST_TO, Primitive, register
from autograd_core.ops.common import (
    Axis,
    check_axis,
    count,
    export,
    keepdims_shape,
    single_axis,
    tensor,
    value,
)
from autograd_core.ops.elementwise import EXP, WHERE
from autograd_core.ops.shape import RESHAPE
from autograd_core.tensor import Tensor


def expand(g: Any, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> Any:
    """A reduction's cotangent (or output) with its reduced axes back as size 1, ready to
    broadcast against the input of `shape`."""
    if keepdims or np.ndim(g) == 0:  # a 0-d cotangent broadcasts as it is
        return g
    return RESHAPE(g, shape=keepdims_shape(shape, axis))


def _spread(g: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """The cotangent of a sum, copied back to every element it summed."""
    shape = np.shape(x)
    return BROADCAST_TO(expand(g, shape, axis, keepdims), shape=shape)


SUM: Primitive = register(
    Primitive(
        "sum",
        lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
        (lambda g, out, x, axis, keepdims: _spread(g, x, axis, keepdims),),
        linear=True,
        doc="sum over axis; d/dx_i = 1: the cotangent is broadcast back",
    )
)


@export
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes when None)."""
    x = tensor(x)
    return SUM(x, axis=check_axis("sum", x, axis), keepdims=keepdims)


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
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis` (all axes when None)."""
    x = tensor(x)
    return MEAN(x, axis=check_axis("mean", x, axis), keepdims=keepdims)


def _extremum_weights(out: Any, x: Any, axis: Axis, keepdims: bool) -> np.ndarray:
    """Where x attains its max (or min): 1/(number of ties) there, 0 elsewhere (constants)."""
    out, x = value(out), value(x)
    hits = (x == expand(out, x.shape, axis, keepdims)).astype(x.dtype)
    return hits / hits.sum(axis=axis, keepdims=True)


def _extremum(name: str, forward: Any) -> Primitive:
    return register(
        Primitive(
            name,
            forward,
            (
                lambda g, out, x, axis, keepdims: (
                    expand(g, np.shape(x), axis, keepdims)
                    * _extremum_weights(out, x, axis, keepdims)
                ),
            ),
            (
                lambda t, out, x, axis, keepdims: SUM(
                    t * _extremum_weights(out, x, axis, keepdims), axis=axis, keepdims=keepdims
                ),
            ),
            save_output=True,
            doc=f"{name} over axis; d/dx_i = 1 at the {name} (ties share it evenly), else 0",
        )
    )


MAX: Primitive = _extremum("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
MIN: Primitive = _extremum("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))


def _reduce_nonempty(op: str, prim: Primitive, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    x = tensor(x)
    axis = check_axis(op, x, axis)
    if x.data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    return prim(x, axis=axis, keepdims=keepdims)


@export
def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Largest value over `axis`; tied maxima share the gradient evenly."""
    return _reduce_nonempty("max", MAX, x, axis, keepdims)


@export
def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Smallest value over `axis`; tied minima share the gradient evenly."""
    return _reduce_nonempty("min", MIN, x, axis, keepdims)


def _logsumexp_forward(x: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the max: no overflow."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_of(out: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """exp(x - logsumexp(x)), from the saved output, so it stays differentiable."""
    return EXP(x - expand(out, np.shape(x), axis, keepdims))


LOGSUMEXP: Primitive = register(
    Primitive(
        "logsumexp",
        _logsumexp_forward,
        (
            lambda g, out, x, axis, keepdims: (
                expand(g, np.shape(x), axis, keepdims) * _softmax_of(out, x, axis, keepdims)
            ),
        ),
        (
            lambda t, out, x, axis, keepdims: SUM(
                t * _softmax_of(out, x, axis, keepdims), axis=axis, keepdims=keepdims
            ),
        ),
        save_output=True,
        doc="log(sum(exp(x))), stable; d/dx = softmax(x)",
    )
)


@export
def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow."""
    return _reduce_nonempty("logsumexp", LOGSUMEXP, x, axis, keepdims)


@export
def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over `axis`: sum((x - mean)^2) / (n - ddof); ddof=0 as numpy and JAX."""
    x = tensor(x)
    axis = check_axis("var", x, axis)
    n = count(x.shape, axis)
    if n - ddof <= 0:
        raise ValueError(
            f"var: {n} elements per reduction with ddof={ddof} leaves no degrees "
            f"of freedom (shape {x.shape}, axis {axis})"
        )
    centered = x - mean(x, axis, keepdims=True)
    return sum(centered * centered, axis, keepdims) * (1.0 / (n - ddof))


def _std_slope(out: Any, x: Any, axis: Axis, keepdims: bool, ddof: int) -> Any:
    """d std / dx_i = (x_i - mean) / ((n - ddof) std); 0 where std is 0 (as PyTorch), where
    every x_i equals the mean: the division then reads 1, so no 0/0 enters the graph."""
    shape = np.shape(x)
    std = expand(out, shape, axis, keepdims)
    safe = WHERE(1.0, std, cond=value(std) == 0)
    centered = x - MEAN(x, axis=axis, keepdims=True)
    return centered / (safe * float(count(shape, axis) - ddof))


STD: Primitive = register(
    Primitive(
        "std",
        lambda x, axis, keepdims, ddof: np.std(x, axis=axis, keepdims=keepdims, ddof=ddof),
        (
            lambda g, out, x, axis, keepdims, ddof: (
                expand(g, np.shape(x), axis, keepdims) * _std_slope(out, x, axis, keepdims, ddof)
            ),
        ),
        (
            lambda t, out, x, axis, keepdims, ddof: SUM(
                t * _std_slope(out, x, axis, keepdims, ddof), axis=axis, keepdims=keepdims
            ),
        ),
        save_output=True,
        doc="standard deviation over axis; d/dx_i = (x_i - mean) / ((n - ddof) std), 0 where "
        "std = 0 (as PyTorch)",
    )
)


@export
def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof)); its gradient is 0 where all
    reduced values are equal (PyTorch's convention; the exact derivative is undefined)."""
    x = tensor(x)
    axis = check_axis("std", x, axis)
    n = count(x.shape, axis)
    if n - ddof <= 0:
        raise ValueError(
            f"std: {n} elements per reduction with ddof={ddof} leaves no degrees "
            f"of freedom (shape {x.shape}, axis {axis})"
        )
    return STD(x, axis=axis, keepdims=keepdims, ddof=ddof)


def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
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
def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, computed without overflow."""
    x = tensor(x)
    return SOFTMAX(x, axis=single_axis("softmax", x, axis))


def _log_softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
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
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`, computed without overflow."""
    x = tensor(x)
    return LOG_SOFTMAX(x, axis=single_axis("log_softmax", x, axis))
