"""Every primitive op, defined once: forward on arrays, reverse rule, forward-mode rule.

Each `Primitive(...)` block below is the whole definition of an op. Rules are written with
the public functions of this module, so they are themselves differentiable (higher order).
For elementwise ops the Jacobian is diagonal, hence symmetric, so one rule serves as both the
VJP (applied to a cotangent) and the JVP (applied to a tangent); the engine sums a VJP back to
its input's shape and broadcasts a JVP to the output's shape.

Rule signature: `rule(g, out, *inputs, **params)`; `out` is None unless `save_output=True`.
Hot primitives also restate their VJPs on arrays (`numpy_vjps`, the same formulas in numpy)
for backward passes that are not themselves differentiated; tests check the two agree.
The public functions at the bottom turn user arguments (scalars, arrays, tensors) into
operands and call the primitives.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_core.engine import Primitive, apply, bind_sum_to, each_input, register
from autograd_core.tensor import Tensor

Axis = int | tuple[int, ...] | None

# --------------------------------------------------------------------------------------------
# Small helpers used by the rules.
# --------------------------------------------------------------------------------------------


def _data(x: Any) -> Any:
    """The array (or Python scalar) behind an operand."""
    return x.data if isinstance(x, Tensor) else x


def _quiet(fn: Any) -> Any:
    """Forward that returns IEEE inf/nan silently (log(0) = -inf, 1/0 = inf), as PyTorch does."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args, **kwargs)

    forward.__name__ = getattr(fn, "__name__", "forward")
    return forward


def _scaled(g: Tensor, factor: np.ndarray) -> Tensor:
    """g * factor for a constant array a rule just computed (a mask or weights).

    The array goes in as it is (no copy, bool masks stay bool: numpy multiplies them into
    g's dtype), and the product is still an op, so higher derivatives see it.
    """
    if factor.dtype != np.bool_ and factor.dtype != g.dtype:
        factor = factor.astype(g.dtype)
    return apply(MUL, g, factor)


def _keepdims_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """`shape` with the reduced axes kept as size 1."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g: Tensor, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    """Give a reduction's cotangent its reduced axes back (size 1), ready to broadcast."""
    if keepdims or g.ndim == 0:  # a 0-d cotangent broadcasts as it is
        return g
    return _reshape_unchecked(g, _keepdims_shape(x.shape, axis))


def _reshape_unchecked(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """reshape for rules, whose shapes are right by construction (the public one checks)."""
    return x if x.shape == shape else apply(RESHAPE, x, shape=shape)


def _broadcast_unchecked(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """broadcast_to for rules, whose shapes are right by construction."""
    return x if x.shape == shape else apply(BROADCAST_TO, x, shape=shape)


def _unary(
    name: str,
    forward: Any,
    rule: Any,
    save_output: bool = False,
    doc: str = "",
    numpy_rule: Any = None,
) -> Primitive:
    """An elementwise op of one input: the same rule is its VJP and its JVP."""
    numpy_vjps = None if numpy_rule is None else (numpy_rule,)
    return register(Primitive(name, forward, (rule,), (rule,), save_output, doc, numpy_vjps))


def _binary(
    name: str,
    forward: Any,
    rule_a: Any,
    rule_b: Any,
    save_output: bool = False,
    doc: str = "",
    numpy_rules: tuple[Any, Any] | None = None,
) -> Primitive:
    """An elementwise broadcasting op of two inputs: rules serve as VJP and JVP."""
    rules = (rule_a, rule_b)
    return register(Primitive(name, forward, rules, rules, save_output, doc, numpy_rules))


# --------------------------------------------------------------------------------------------
# Elementwise primitives.
# --------------------------------------------------------------------------------------------

NEG = _unary(
    "neg",
    np.negative,
    lambda g, out, x: neg(g),
    doc="-x; d/dx = -1",
    numpy_rule=lambda g, out, x: -g,
)


def _identity_rule(g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    """The cotangent passes through unchanged (the engine sums it to the input's shape)."""
    return g


ADD = _binary(
    "add",
    np.add,
    _identity_rule,
    _identity_rule,
    doc="a + b; d/da = d/db = 1",
    numpy_rules=(_identity_rule, _identity_rule),
)

SUB = _binary(
    "sub",
    np.subtract,
    _identity_rule,
    lambda g, out, a, b: neg(g),
    doc="a - b; d/da = 1, d/db = -1",
    numpy_rules=(_identity_rule, lambda g, out, a, b: -g),
)

MUL = _binary(
    "mul",
    np.multiply,
    lambda g, out, a, b: g * b,
    lambda g, out, a, b: g * a,
    doc="a * b; d/da = b, d/db = a",
    numpy_rules=(lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
)

DIV = _binary(
    "div",
    _quiet(np.divide),
    lambda g, out, a, b: g / b,
    lambda g, out, a, b: neg(g * out) / b,
    save_output=True,
    doc="a / b; d/da = 1/b, d/db = -a/b^2 = -out/b",
    numpy_rules=(lambda g, out, a, b: g / b, lambda g, out, a, b: -(g * out) / b),
)


def _pow_rule_base(g: Tensor, out: Tensor, x: Tensor, y: Any) -> Tensor:
    """d/dx x**y = y * x**(y-1); zero where y == 0 (as PyTorch)."""
    if isinstance(y, Tensor):
        return g * where(_data(y) == 0, 0.0, y * x ** (y - 1.0))
    return g * 0.0 if y == 0 else g * (y * x ** (y - 1))


def _pow_rule_exponent(g: Tensor, out: Tensor, x: Any, y: Tensor) -> Tensor:
    """d/dy x**y = out * log(x); zero where x == 0 and y >= 0 (as PyTorch)."""
    x_data = _data(x)
    return g * where((x_data == 0) & (_data(y) >= 0), 0.0, out * log(x))


def _pow_numpy_base(g: np.ndarray, out: Any, x: np.ndarray, y: Any) -> np.ndarray:
    if isinstance(y, np.ndarray):
        return g * np.where(y == 0, 0.0, y * x ** (y - 1.0))  # type: ignore[no-any-return]
    return g * 0.0 if y == 0 else g * (y * x ** (y - 1))  # type: ignore[no-any-return]


def _pow_numpy_exponent(g: np.ndarray, out: np.ndarray, x: Any, y: np.ndarray) -> np.ndarray:
    log_x = np.log(x) if isinstance(x, np.ndarray) else np.log(np.asarray(x, dtype=np.float64))
    return g * np.where((np.asarray(x) == 0) & (y >= 0), 0.0, out * log_x)  # type: ignore[no-any-return]


POW = _binary(
    "pow",
    _quiet(np.power),
    _pow_rule_base,
    _pow_rule_exponent,
    save_output=True,
    doc="x ** y; d/dx = y x^(y-1), d/dy = x^y log(x)",
    numpy_rules=(_pow_numpy_base, _pow_numpy_exponent),
)


def _tie_weights(a: Any, b: Any, first: bool, pick: Any) -> np.ndarray:
    """Share of the gradient for maximum/minimum: 1 where chosen, 1/2 on a tie (as PyTorch)."""
    a_data, b_data = _data(a), _data(b)
    chosen = pick(a_data, b_data) if first else pick(b_data, a_data)
    return chosen + 0.5 * (a_data == b_data)


def _tie_rules(pick: Any) -> tuple[Any, Any, Any, Any]:
    """VJPs of maximum (pick = >) or minimum (pick = <): Tensor rules, then numpy rules."""

    def numpy_rule(first: bool) -> Any:
        def rule(g: np.ndarray, out: Any, a: Any, b: Any) -> np.ndarray:
            return g * _tie_weights(a, b, first, pick).astype(g.dtype, copy=False)  # type: ignore[no-any-return]

        return rule

    return (
        lambda g, out, a, b: _scaled(g, _tie_weights(a, b, True, pick)),
        lambda g, out, a, b: _scaled(g, _tie_weights(a, b, False, pick)),
        numpy_rule(True),
        numpy_rule(False),
    )


_MAX_A, _MAX_B, _MAX_A_NUMPY, _MAX_B_NUMPY = _tie_rules(operator.gt)
MAXIMUM = _binary(
    "maximum",
    np.maximum,
    _MAX_A,
    _MAX_B,
    doc="elementwise max; d/da = 1 where a > b, 1/2 on a tie, else 0 (and for b)",
    numpy_rules=(_MAX_A_NUMPY, _MAX_B_NUMPY),
)

_MIN_A, _MIN_B, _MIN_A_NUMPY, _MIN_B_NUMPY = _tie_rules(operator.lt)
MINIMUM = _binary(
    "minimum",
    np.minimum,
    _MIN_A,
    _MIN_B,
    doc="elementwise min; d/da = 1 where a < b, 1/2 on a tie, else 0 (and for b)",
    numpy_rules=(_MIN_A_NUMPY, _MIN_B_NUMPY),
)

WHERE = register(
    Primitive(
        "where",
        np.where,
        (None, lambda g, out, c, a, b: where(c, g, 0.0), lambda g, out, c, a, b: where(c, 0.0, g)),
        (None, lambda g, out, c, a, b: where(c, g, 0.0), lambda g, out, c, a, b: where(c, 0.0, g)),
        doc="a where cond else b; d/da = cond, d/db = not cond; cond is not differentiable",
        numpy_vjps=(
            None,
            lambda g, out, c, a, b: np.where(c, g, 0.0),
            lambda g, out, c, a, b: np.where(c, 0.0, g),
        ),
    )
)

EXP = _unary(
    "exp",
    _quiet(np.exp),
    lambda g, out, x: g * out,
    save_output=True,
    doc="d/dx exp(x) = exp(x)",
    numpy_rule=lambda g, out, x: g * out,
)

LOG = _unary(
    "log",
    _quiet(np.log),
    lambda g, out, x: g / x,
    doc="d/dx log(x) = 1/x",
    numpy_rule=lambda g, out, x: g / x,
)

SQRT = _unary(
    "sqrt",
    _quiet(np.sqrt),
    lambda g, out, x: g / (out * 2.0),
    save_output=True,
    doc="d/dx sqrt(x) = 1/(2 sqrt(x)); inf at 0",
    numpy_rule=lambda g, out, x: g / (out * 2.0),
)

ABS = _unary(
    "abs",
    np.abs,
    lambda g, out, x: _scaled(g, np.sign(x.data)),
    doc="d/dx |x| = sign(x); 0 at 0",
    numpy_rule=lambda g, out, x: g * np.sign(x),
)

SIN = _unary(
    "sin",
    np.sin,
    lambda g, out, x: g * cos(x),
    doc="d/dx sin(x) = cos(x)",
    numpy_rule=lambda g, out, x: g * np.cos(x),
)

COS = _unary(
    "cos",
    np.cos,
    lambda g, out, x: neg(g * sin(x)),
    doc="d/dx cos(x) = -sin(x)",
    numpy_rule=lambda g, out, x: -(g * np.sin(x)),
)

TANH = _unary(
    "tanh",
    np.tanh,
    lambda g, out, x: g * (1.0 - out * out),
    save_output=True,
    doc="d/dx tanh(x) = 1 - tanh(x)^2",
    numpy_rule=lambda g, out, x: g * (1.0 - out * out),
)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """1/(1+e^-x) without overflow: both branches use e^-|x| <= 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


SIGMOID = _unary(
    "sigmoid",
    _sigmoid_forward,
    lambda g, out, x: g * (out * (1.0 - out)),
    save_output=True,
    doc="d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x))",
    numpy_rule=lambda g, out, x: g * (out * (1.0 - out)),
)

RELU = _unary(
    "relu",
    lambda x: np.maximum(x, 0.0),
    lambda g, out, x: _scaled(g, x.data > 0),
    doc="max(x, 0); d/dx = 1 where x > 0, else 0 (relu'(0) = 0)",
    numpy_rule=lambda g, out, x: g * (x > 0),
)


def _softplus_forward(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for any x."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


SOFTPLUS = _unary(
    "softplus",
    _softplus_forward,
    lambda g, out, x: g * sigmoid(x),
    doc="log(1 + e^x), stable; d/dx softplus(x) = sigmoid(x)",
    numpy_rule=lambda g, out, x: g * _sigmoid_forward(x),
)

LOG1P = _unary(
    "log1p",
    _quiet(np.log1p),
    lambda g, out, x: g / (x + 1.0),
    doc="log(1 + x), exact near 0; d/dx = 1/(1 + x)",
    numpy_rule=lambda g, out, x: g / (x + 1.0),
)

EXPM1 = _unary(
    "expm1",
    _quiet(np.expm1),
    lambda g, out, x: g * (out + 1.0),
    save_output=True,
    doc="e^x - 1, exact near 0; d/dx = e^x",
    numpy_rule=lambda g, out, x: g * (out + 1.0),
)

_ERF = np.frompyfunc(math.erf, 1, 1)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_forward(x: np.ndarray) -> np.ndarray:
    """The Gauss error function to float64 precision (math.erf, element by element)."""
    return np.asarray(_ERF(x), dtype=x.dtype)


ERF = _unary(
    "erf",
    _erf_forward,
    lambda g, out, x: g * (exp(neg(x * x)) * _TWO_OVER_SQRT_PI),
    doc="erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt; d/dx = 2/sqrt(pi) e^(-x^2)",
)


def _clip_forward(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    return np.clip(x, lo, hi)


def _clip_inside(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return inside


def _clip_rule(g: Tensor, out: Tensor, x: Tensor, lo: float | None, hi: float | None) -> Tensor:
    return _scaled(g, _clip_inside(x.data, lo, hi))


CLIP = _unary(
    "clip",
    _clip_forward,
    _clip_rule,
    doc="min(max(x, lo), hi); d/dx = 1 where lo <= x <= hi, else 0 (as PyTorch)",
    numpy_rule=lambda g, out, x, lo, hi: g * _clip_inside(x, lo, hi),
)

# --------------------------------------------------------------------------------------------
# Reductions.
# --------------------------------------------------------------------------------------------


def _count(x: Tensor, axis: Axis) -> int:
    """How many elements each reduction over `axis` combines."""
    return x.size if axis is None else _count_axes(x.shape, axis)


def _count_axes(shape: tuple[int, ...], axis: int | tuple[int, ...]) -> int:
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _mean_forward(x: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """sum / n, as np.mean computes it; the mean of nothing is nan, without a warning."""
    count = x.size if axis is None else _count_axes(x.shape, axis)
    total = x.sum(axis=axis, keepdims=keepdims)
    if count == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(total, count)
    return np.true_divide(total, count)


SUM = register(
    Primitive(
        "sum",
        lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
        (
            lambda g, out, x, axis, keepdims: _broadcast_unchecked(
                _expand(g, x, axis, keepdims), x.shape
            ),
        ),
        (lambda t, out, x, axis, keepdims: sum(t, axis, keepdims),),
        doc="sum over axis; d/dx_i = 1: the cotangent is broadcast back",
        numpy_vjps=(
            lambda g, out, x, axis, keepdims: _broadcast_to_forward(
                _expand_array(g, x.shape, axis, keepdims), x.shape
            ),
        ),
    )
)

MEAN = register(
    Primitive(
        "mean",
        _mean_forward,
        (
            lambda g, out, x, axis, keepdims: _broadcast_unchecked(  # scale the small side
                _expand(g * (1.0 / builtins.max(_count(x, axis), 1)), x, axis, keepdims), x.shape
            ),
        ),
        (lambda t, out, x, axis, keepdims: mean(t, axis, keepdims),),
        doc="mean over axis; d/dx_i = 1/n: the cotangent is broadcast back, divided by n",
        numpy_vjps=(
            lambda g, out, x, axis, keepdims: _broadcast_to_forward(
                _expand_array(g, x.shape, axis, keepdims)
                * (1.0 / builtins.max(x.size if axis is None else _count_axes(x.shape, axis), 1)),
                x.shape,
            ),
        ),
    )
)


def _extremum_weights(out: Any, x: Any, axis: Axis, keepdims: bool) -> np.ndarray:
    """Where x attains its max (or min): 1/(number of ties) there, 0 elsewhere."""
    out, x = _data(out), _data(x)
    out_keep = out if keepdims else out.reshape(_keepdims_shape(x.shape, axis))
    hits = (x == out_keep).astype(x.dtype)
    return hits / hits.sum(axis=axis, keepdims=True)  # type: ignore[no-any-return]


def _expand_array(g: np.ndarray, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> Any:
    """_expand on arrays: the reduced axes back as size 1."""
    return g if keepdims or g.ndim == 0 else g.reshape(_keepdims_shape(shape, axis))


def _extremum(name: str, forward: Any) -> Primitive:
    def vjp(g: Tensor, out: Tensor, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
        return _scaled(_expand(g, x, axis, keepdims), _extremum_weights(out, x, axis, keepdims))

    def jvp(t: Tensor, out: Tensor, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
        return sum(t * _extremum_weights(out, x, axis, keepdims), axis, keepdims)

    return register(
        Primitive(
            name,
            forward,
            (vjp,),
            (jvp,),
            save_output=True,
            doc=f"{name} over axis; d/dx_i = 1 at the {name} (ties share it evenly), else 0",
            numpy_vjps=(
                lambda g, out, x, axis, keepdims: (
                    _expand_array(g, x.shape, axis, keepdims)
                    * _extremum_weights(out, x, axis, keepdims)
                ),
            ),
        )
    )


MAX = _extremum("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims))
MIN = _extremum("min", lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims))


def _logsumexp_forward(x: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the max: no overflow."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_of(out: Tensor, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    """exp(x - logsumexp(x)), built from the saved output so it stays differentiable."""
    return exp(x - _expand(out, x, axis, keepdims))


LOGSUMEXP = register(
    Primitive(
        "logsumexp",
        _logsumexp_forward,
        (
            lambda g, out, x, axis, keepdims: (
                _expand(g, x, axis, keepdims) * _softmax_of(out, x, axis, keepdims)
            ),
        ),
        (
            lambda t, out, x, axis, keepdims: sum(
                t * _softmax_of(out, x, axis, keepdims), axis, keepdims
            ),
        ),
        save_output=True,
        doc="log(sum(exp(x))), stable; d/dx = softmax(x)",
        numpy_vjps=(
            lambda g, out, x, axis, keepdims: (
                _expand_array(g, x.shape, axis, keepdims)
                * np.exp(x - _expand_array(out, x.shape, axis, keepdims))
            ),
        ),
    )
)


def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e  # type: ignore[no-any-return]


def _softmax_rule(g: Tensor, out: Tensor, x: Tensor, axis: int) -> Tensor:
    """The softmax Jacobian diag(s) - s s^T is symmetric: one rule for VJP and JVP."""
    return out * (g - sum(g * out, axis, keepdims=True))


SOFTMAX = register(
    Primitive(
        "softmax",
        _softmax_forward,
        (_softmax_rule,),
        (_softmax_rule,),
        save_output=True,
        doc="s = exp(x) / sum(exp(x)) along axis, stable; Jacobian diag(s) - s s^T",
        numpy_vjps=(lambda g, out, x, axis: out * (g - (g * out).sum(axis=axis, keepdims=True)),),
    )
)


def _log_softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # type: ignore[no-any-return]


LOG_SOFTMAX = register(
    Primitive(
        "log_softmax",
        _log_softmax_forward,
        (lambda g, out, x, axis: g - exp(out) * sum(g, axis, keepdims=True),),
        (lambda t, out, x, axis: t - sum(exp(out) * t, axis, keepdims=True),),
        save_output=True,
        doc="x - logsumexp(x) along axis; Jacobian I - 1 softmax^T",
        numpy_vjps=(lambda g, out, x, axis: g - np.exp(out) * g.sum(axis=axis, keepdims=True),),
    )
)

# --------------------------------------------------------------------------------------------
# Shape and indexing primitives (all linear: the JVP is the op applied to the tangent).
# --------------------------------------------------------------------------------------------

RESHAPE = register(
    Primitive(
        "reshape",
        np.reshape,
        (lambda g, out, x, shape: _reshape_unchecked(g, x.shape),),
        (lambda t, out, x, shape: reshape(t, shape),),
        doc="same elements, new shape; the cotangent is reshaped back",
        numpy_vjps=(lambda g, out, x, shape: g.reshape(x.shape),),
    )
)

TRANSPOSE = register(
    Primitive(
        "transpose",
        np.transpose,
        (lambda g, out, x, axes: transpose(g, tuple(np.argsort(axes).tolist())),),
        (lambda t, out, x, axes: transpose(t, axes),),
        doc="permute axes; the cotangent is permuted back",
        numpy_vjps=(lambda g, out, x, axes: np.transpose(g, np.argsort(axes)),),
    )
)


def _broadcast_to_forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only broadcast view for large results (no copy); small ones are filled in,
    which is faster than building a view (np.broadcast_to costs microseconds)."""
    if math.prod(shape) >= 4096:
        return np.broadcast_to(x, shape)
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


BROADCAST_TO = register(
    Primitive(
        "broadcast_to",
        _broadcast_to_forward,
        (_identity_rule,),  # the engine sums g back to x.shape
        (lambda t, out, x, shape: broadcast_to(t, shape),),
        doc="repeat along new or size-1 axes; the cotangent is summed back",
        numpy_vjps=(_identity_rule,),
    )
)


def _sum_to_forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast result back to `shape` (the adjoint of broadcasting)."""
    lead = x.ndim - len(shape)
    if lead:  # new leading axes go away entirely: a fresh array of the trailing shape
        x = x.sum(axis=0) if lead == 1 else x.sum(axis=tuple(range(lead)))
        if x.shape == shape:  # the usual case: a batch summed away (a bias gradient)
            return x
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    return x.sum(axis=stretched, keepdims=True) if stretched else x


SUM_TO = register(
    Primitive(
        "sum_to",
        _sum_to_forward,
        (lambda g, out, x, shape: _broadcast_unchecked(g, x.shape),),
        (lambda t, out, x, shape: sum_to(t, shape),),
        doc="sum over broadcast axes down to shape; undoes broadcasting",
        numpy_vjps=(lambda g, out, x, shape: _broadcast_to_forward(g, x.shape),),
    )
)


def _is_advanced(index: Any) -> bool:
    """Whether an index holds integer arrays (whose repeats must accumulate)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype.kind in "iu" for p in parts
    )


def _getitem_forward(x: np.ndarray, index: Any) -> np.ndarray:
    return x[index]  # type: ignore[no-any-return]


def _scatter_add_forward(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of `shape` with `g` added at `index`; repeated integer indices accumulate."""
    out = np.zeros(shape, dtype=g.dtype)
    if _is_advanced(index):
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


GETITEM = register(
    Primitive(
        "getitem",
        _getitem_forward,
        (lambda g, out, x, index: scatter_add(g, index, x.shape),),
        (lambda t, out, x, index: getitem(t, index),),
        doc="x[index]: slices, integer arrays, boolean masks; the cotangent is scattered back",
        numpy_vjps=(lambda g, out, x, index: _scatter_add_forward(g, index, x.shape),),
    )
)

SCATTER_ADD = register(
    Primitive(
        "scatter_add",
        _scatter_add_forward,
        (lambda g, out, x, index, shape: getitem(g, index),),
        (lambda t, out, x, index, shape: scatter_add(t, index, shape),),
        doc="zeros(shape) with x added at index: the adjoint of getitem",
    )
)


def _concat_slice(argnum: int, inputs: Sequence[Any], axis: int) -> tuple[Any, ...]:
    """The index that picks input `argnum` out of the concatenation."""
    sizes = [x.shape[axis] for x in inputs]
    start = int(np.sum(sizes[:argnum], dtype=int))
    ndim = inputs[0].ndim
    return (slice(None),) * (axis % ndim) + (slice(start, start + sizes[argnum]),)


def _concat_shape(inputs: Sequence[Any], axis: int) -> tuple[int, ...]:
    shape = list(inputs[0].shape)
    shape[axis] = builtins.sum(x.shape[axis] for x in inputs)
    return tuple(shape)


def _concat_forward(*arrays: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate(arrays, axis=axis)


CONCAT = register(
    Primitive(
        "concat",
        _concat_forward,
        each_input(lambda i, g, out, *xs, axis: getitem(g, _concat_slice(i, xs, axis))),
        each_input(
            lambda i, t, out, *xs, axis: scatter_add(
                t, _concat_slice(i, xs, axis), _concat_shape(xs, axis)
            )
        ),
        doc="join along an existing axis; the cotangent is sliced apart",
    )
)


def _swap_last(x: Tensor) -> Tensor:
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, tuple(axes))


def _matmul_rule_a(g: Tensor, out: Any, a: Tensor, b: Any) -> Tensor:
    """d(a @ b)/da applied to g; 1-D operands are treated as numpy does."""
    if b.ndim == 1:
        return unsqueeze(g, -1) * b
    if a.ndim == 1:
        return squeeze(matmul(b, unsqueeze(g, -1)), -1)
    return matmul(g, _swap_last(b))


def _matmul_rule_b(g: Tensor, out: Any, a: Any, b: Tensor) -> Tensor:
    if a.ndim == 1:
        return g * a if b.ndim == 1 else unsqueeze(a, -1) * unsqueeze(g, -2)
    if b.ndim == 1:
        return squeeze(matmul(_swap_last(a), unsqueeze(g, -1)), -1)
    return matmul(_swap_last(a), g)


def _matmul_numpy_a(g: np.ndarray, out: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if b.ndim == 1:
        return g[..., None] * b
    if a.ndim == 1:
        return (b @ g[..., None])[..., 0]
    return g @ np.swapaxes(b, -1, -2)


def _matmul_numpy_b(g: np.ndarray, out: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.ndim == 1:
        return g * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return np.swapaxes(a, -1, -2) @ g


MATMUL = register(
    Primitive(
        "matmul",
        np.matmul,
        (_matmul_rule_a, _matmul_rule_b),
        (lambda t, out, a, b: matmul(t, b), lambda t, out, a, b: matmul(a, t)),
        doc="a @ b; bilinear: d/da = g @ b^T, d/db = a^T @ g",
        numpy_vjps=(_matmul_numpy_a, _matmul_numpy_b),
    )
)


def _linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias  # out is fresh: adding in place saves a pass and an allocation
    return out


LINEAR = register(
    Primitive(
        "linear",
        _linear_forward,
        (
            lambda g, out, x, w, b: matmul(g, w),
            lambda g, out, x, w, b: _linear_weight_grad(g, x),
            _identity_rule,  # the engine sums it over the batch axes
        ),
        (
            lambda t, out, x, w, b: matmul(t, transpose(w)),
            lambda t, out, x, w, b: matmul(x, transpose(t)),
            lambda t, out, x, w, b: t,
        ),
        doc="x @ weight.T + bias, fused (PyTorch's F.linear); d/dweight = g^T x",
        numpy_vjps=(
            lambda g, out, x, w, b: g @ w,
            lambda g, out, x, w, b: _linear_weight_grad_numpy(g, x),
            _identity_rule,
        ),
    )
)


def _linear_weight_grad(g: Tensor, x: Tensor) -> Tensor:
    """sum over batch of g^T x, shaped (out, in): contiguous, no transpose to undo."""
    if x.ndim == 1:
        return _reshape_unchecked(g, (*g.shape, 1)) * x
    rows = x.size // x.shape[-1]
    g2 = _reshape_unchecked(g, (rows, g.shape[-1]))
    x2 = _reshape_unchecked(x, (rows, x.shape[-1]))
    return matmul(apply(TRANSPOSE, g2, axes=(1, 0)), x2)


def _linear_weight_grad_numpy(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    if x.ndim == 1:
        return g[:, None] * x
    if x.ndim == 2:
        return g.T @ x
    return g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])


def _softmax_cross_entropy_forward(
    logits: np.ndarray, labels: np.ndarray, reduction: str
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """-log softmax(logits)[label] per row = logsumexp(row) - row[label], stable; then
    reduced ("none", "mean" or "sum") in the same op, as PyTorch's cross_entropy.

    Returns the loss and, as the residual, exp(logits - max) and its row sums: the numpy
    VJP gets softmax from them with one division instead of recomputing it.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    losses = np.log(total[..., 0])
    losses -= _pick(shifted, labels)
    if reduction != "none":
        losses = _mean_forward(losses, None, False) if reduction == "mean" else losses.sum()
    return losses, (exp, total)


def _cotangent_per_row(g: Any, labels: np.ndarray, reduction: str) -> Any:
    """The reduced loss's cotangent as each row's weight, shaped to scale (..., C) rows."""
    if reduction == "none":
        return g[..., None] if isinstance(g, np.ndarray) else _reshape_unchecked(g, (*g.shape, 1))
    return g * (1.0 / builtins.max(labels.size, 1)) if reduction == "mean" else g


def _pick(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """values[..., labels] row by row (plain fancy indexing for the usual 2-D batch)."""
    if values.ndim == 2:
        return values[np.arange(len(labels)), labels]  # type: ignore[no-any-return]
    return np.take_along_axis(values, labels[..., None], axis=-1)[..., 0]


def _one_hot(labels: np.ndarray, classes: int, dtype: Any) -> np.ndarray:
    hot = np.zeros((*labels.shape, classes), dtype=dtype)
    if labels.ndim == 1:
        hot[np.arange(len(labels)), labels] = 1.0
    else:
        np.put_along_axis(hot, labels[..., None], 1.0, axis=-1)
    return hot


def _softmax_cross_entropy_vjp(
    g: Tensor, out: Any, z: Tensor, labels: np.ndarray, reduction: str
) -> Tensor:
    """Each row's cotangent times (softmax(z) - one_hot(labels))."""
    return _cotangent_per_row(g, labels, reduction) * _softmax_minus_one_hot(z, labels)


def _softmax_cross_entropy_jvp(
    t: Tensor, out: Any, z: Tensor, labels: np.ndarray, reduction: str
) -> Tensor:
    per_row = sum(t * _softmax_minus_one_hot(z, labels), -1)
    if reduction == "none":
        return per_row
    return mean(per_row) if reduction == "mean" else sum(per_row)


def _softmax_cross_entropy_numpy(
    g: np.ndarray,
    saved: tuple[np.ndarray, np.ndarray],
    z: np.ndarray,
    labels: np.ndarray,
    reduction: str,
) -> np.ndarray:
    """The same, in place on one fresh array (the usual training step ends here)."""
    exp, total = saved  # the forward's residual
    delta = exp / total  # softmax(z)
    if labels.ndim == 1:
        delta[np.arange(len(labels)), labels] -= 1.0
    else:
        delta -= _one_hot(labels, z.shape[-1], z.dtype)
    delta *= _cotangent_per_row(g, labels, reduction)
    return delta


def _softmax_minus_one_hot(z: Tensor, labels: np.ndarray) -> Tensor:
    """d/dlogits of softmax cross-entropy: softmax(z) - one_hot(labels), differentiable in z."""
    return apply(SUB, softmax(z, -1), _one_hot(labels, z.shape[-1], z.dtype))


SOFTMAX_CROSS_ENTROPY = register(
    Primitive(
        "softmax_cross_entropy",
        _softmax_cross_entropy_forward,
        (_softmax_cross_entropy_vjp, None),
        (_softmax_cross_entropy_jvp, None),
        doc="cross-entropy of logits against integer labels per row, or its mean or sum, "
        "fused and stable; d/dlogits = softmax - one_hot per row",
        numpy_vjps=(_softmax_cross_entropy_numpy, None),
        residual=True,
    )
)

CAST = register(
    Primitive(
        "cast",
        lambda x, dtype: x.astype(dtype),
        (lambda g, out, x, dtype: cast(g, x.dtype),),
        (lambda t, out, x, dtype: cast(t, dtype),),
        doc="change the float dtype; the gradient is cast back",
        numpy_vjps=(lambda g, out, x, dtype: g.astype(x.dtype),),
    )
)

# --------------------------------------------------------------------------------------------
# Public functions: turn user arguments into operands and call the primitives.
# --------------------------------------------------------------------------------------------

_SCALARS = (int, float, bool)


def _operand(x: Any, like: Any = None) -> Any:
    """A Tensor, or a Python scalar kept as is (numpy then never promotes float32)."""
    if isinstance(x, Tensor) or type(x) in _SCALARS:
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind in "biu" and isinstance(like, Tensor):
            return Tensor(x, dtype=like.dtype)  # category promotion, as PyTorch
        return Tensor(x)
    if isinstance(x, (list, tuple)):
        return Tensor(x)
    raise TypeError(
        f"unsupported operand of type {type(x).__name__}: expected a Tensor, a number or an array"
    )


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _binary_function(prim: Primitive, doc: str) -> Any:
    """The public function of a broadcasting binary primitive: turn operands, then apply.

    Tensors and Python scalars (the common case) pass through without a call.
    """

    def function(a: Any, b: Any) -> Tensor:
        if not (isinstance(a, Tensor) or type(a) in _SCALARS):
            a = _operand(a, b)
        if not (isinstance(b, Tensor) or type(b) in _SCALARS):
            b = _operand(b, a)
        return apply(prim, a, b)

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc
    return function


add = _binary_function(ADD, "a + b, broadcasting.")
sub = _binary_function(SUB, "a - b, broadcasting.")
mul = _binary_function(MUL, "a * b, broadcasting.")
div = _binary_function(DIV, "a / b, broadcasting.")


def pow(x: Any, y: Any) -> Tensor:
    """x ** y, broadcasting."""
    return apply(POW, _operand(x, y), _operand(y, x))


def neg(x: Any) -> Tensor:
    """-x."""
    return apply(NEG, _tensor(x))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules for 1-D and batched operands."""
    a, b = _operand(a, b), _operand(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least one dimension, got shapes {a.shape} and {b.shape}"
        )
    return apply(MATMUL, a, b)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight.T + bias in one op (weight has shape (out, in), as PyTorch's F.linear)."""
    x, weight = _tensor(x), _tensor(weight)
    x_shape, w_shape = x.data.shape, weight.data.shape  # (not the properties: a hot path)
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(
            f"linear: input of shape {x_shape} does not fit weight of shape {w_shape} "
            f"(expected (..., {w_shape[-1] if w_shape else '?'}) inputs for a weight "
            f"of shape (out_features, in_features))"
        )
    if bias is not None:
        bias = _tensor(bias)
        if bias.data.shape != w_shape[:1]:
            raise ValueError(
                f"linear: bias of shape {bias.data.shape} does not fit weight of shape "
                f"{w_shape}; expected ({w_shape[0]},)"
            )
    return apply(LINEAR, x, weight, bias)


def labels_in_range(labels: np.ndarray, classes: int) -> bool:
    """Whether every integer label lies in [0, classes), with one reduction: viewed as
    unsigned, negative labels become huge, so the maximum alone decides."""
    if labels.size == 0:
        return True
    unsigned = labels.view(np.dtype(f"u{labels.dtype.itemsize}"))
    return bool(unsigned.max() < classes)


def softmax_cross_entropy(logits: Any, labels: Any, reduction: str = "none") -> Tensor:
    """-log softmax(logits)[label] per row (logits (..., C), integer labels (...)), reduced
    as PyTorch's `reduction`: "none" (per row), "mean" or "sum"; one fused, stable op."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"softmax_cross_entropy: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
        )
    logits = _tensor(logits)
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise TypeError(
                f"softmax_cross_entropy: labels must be integers, got dtype {labels.dtype}"
            )
    if logits.ndim < 1 or labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"softmax_cross_entropy: labels of shape {labels.shape} do not fit logits of "
            f"shape {logits.shape}; expected labels of shape {logits.shape[:-1]}"
        )
    classes = logits.shape[-1]
    if not labels_in_range(labels, classes):
        raise ValueError(
            f"softmax_cross_entropy: labels must lie in [0, {classes}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return apply(SOFTMAX_CROSS_ENTROPY, logits, labels, reduction=reduction)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max; on a tie each side gets half the gradient."""
    return apply(MAXIMUM, _operand(a, b), _operand(b, a))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min; on a tie each side gets half the gradient."""
    return apply(MINIMUM, _operand(a, b), _operand(b, a))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where cond is true, else b (broadcasting); no gradient flows into cond."""
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if cond.dtype != bool:
        cond = cond.astype(bool)
    return apply(WHERE, cond, _operand(a, b), _operand(b, a))


def exp(x: Any) -> Tensor:
    """e ** x."""
    return apply(EXP, _tensor(x))


def log(x: Any) -> Tensor:
    """Natural logarithm (-inf at 0, nan below)."""
    return apply(LOG, _tensor(x))


def sqrt(x: Any) -> Tensor:
    """Square root; its derivative is inf at 0."""
    return apply(SQRT, _tensor(x))


def abs(x: Any) -> Tensor:
    """|x|; derivative sign(x), 0 at 0."""
    return apply(ABS, _tensor(x))


def sin(x: Any) -> Tensor:
    """Sine."""
    return apply(SIN, _tensor(x))


def cos(x: Any) -> Tensor:
    """Cosine."""
    return apply(COS, _tensor(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return apply(TANH, _tensor(x))


def sigmoid(x: Any) -> Tensor:
    """Logistic function 1/(1 + e^-x), computed without overflow."""
    return apply(SIGMOID, _tensor(x))


def relu(x: Any) -> Tensor:
    """max(x, 0) with relu'(0) = 0."""
    return apply(RELU, _tensor(x))


def softplus(x: Any) -> Tensor:
    """log(1 + e^x), computed without overflow; its derivative is sigmoid(x)."""
    return apply(SOFTPLUS, _tensor(x))


def log1p(x: Any) -> Tensor:
    """log(1 + x), accurate for small x."""
    return apply(LOG1P, _tensor(x))


def expm1(x: Any) -> Tensor:
    """e^x - 1, accurate for small x."""
    return apply(EXPM1, _tensor(x))


def erf(x: Any) -> Tensor:
    """The Gauss error function (exact GELU is x * (1 + erf(x / sqrt 2)) / 2)."""
    return apply(ERF, _tensor(x))


def clip(x: Any, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Clamp into [lo, hi] (either may be None)."""
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    return apply(CLIP, _tensor(x), lo=lo, hi=hi)


def _check_axis(op: str, x: Tensor, axis: Any) -> Axis:
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


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes when None)."""
    x = _tensor(x)
    return apply(SUM, x, axis=_check_axis("sum", x, axis), keepdims=keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis` (all axes when None)."""
    x = _tensor(x)
    return apply(MEAN, x, axis=_check_axis("mean", x, axis), keepdims=keepdims)


def _reduce_nonempty(op: str, prim: Primitive, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    x = _tensor(x)
    axis = _check_axis(op, x, axis)
    if x.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    return apply(prim, x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Largest value over `axis`; tied maxima share the gradient evenly."""
    return _reduce_nonempty("max", MAX, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Smallest value over `axis`; tied minima share the gradient evenly."""
    return _reduce_nonempty("min", MIN, x, axis, keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow."""
    return _reduce_nonempty("logsumexp", LOGSUMEXP, x, axis, keepdims)


def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over `axis`: sum((x - mean)^2) / (n - ddof); ddof=0 as numpy and JAX."""
    x = _tensor(x)
    axis = _check_axis("var", x, axis)
    n = _count(x, axis)
    if n - ddof <= 0:
        raise ValueError(
            f"var: {n} elements per reduction with ddof={ddof} leaves no degrees "
            f"of freedom (shape {x.shape}, axis {axis})"
        )
    centered = x - mean(x, axis, keepdims=True)
    return sum(centered * centered, axis, keepdims) * (1.0 / (n - ddof))


def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof))."""
    return sqrt(var(x, axis, keepdims, ddof))


def _single_axis(op: str, x: Tensor, axis: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension, got a 0-d tensor")
    return int(_check_axis(op, x, axis))  # type: ignore[arg-type]


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, computed without overflow."""
    x = _tensor(x)
    return apply(SOFTMAX, x, axis=_single_axis("softmax", x, axis))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`, computed without overflow."""
    x = _tensor(x)
    return apply(LOG_SOFTMAX, x, axis=_single_axis("log_softmax", x, axis))


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept reshape(2, 3) and reshape((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def reshape(x: Any, *shape: Any) -> Tensor:
    """Same elements in a new shape; one dimension may be -1."""
    x = _tensor(x)
    new = _shape_arg(shape)
    try:
        target = np.empty(x.shape, dtype=bool).reshape(new).shape
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} "
            f"({x.size} elements) into shape {new}"
        ) from None
    if target == x.shape:
        return x
    return apply(RESHAPE, x, shape=target)


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (reverse them when none are given), as numpy."""
    x = _tensor(x)
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
    return apply(TRANSPOSE, x, axes=perm)


def broadcast_to(x: Any, *shape: Any) -> Tensor:
    """Repeat along new leading axes and size-1 axes to reach `shape`."""
    x = _tensor(x)
    target = _shape_arg(shape)
    if target == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, target)
        if len(target) < x.ndim or np.broadcast_shapes(x.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {target}") from None
    return apply(BROADCAST_TO, x, shape=target)


def sum_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """Sum `x` down to `shape`, the shape it was broadcast from (the adjoint of broadcasting)."""
    x = _tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return apply(SUM_TO, x, shape=shape)


bind_sum_to(sum_to, _sum_to_forward)


def flatten(x: Any) -> Tensor:
    """A 1-D view of all elements."""
    return reshape(x, -1)


def squeeze(x: Any, axis: Axis = None) -> Tensor:
    """Drop size-1 axes (all of them, or those in `axis`)."""
    x = _tensor(x)
    axis = _check_axis("squeeze", x, axis)
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    for a in axes:
        if axis is not None and x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    drop = {a for a in axes if x.shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert a size-1 axis at `axis` (negative counts from the new end)."""
    x = _tensor(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor of shape {x.shape}")
    position = axis % (x.ndim + 1)
    return reshape(x, (*x.shape[:position], 1, *x.shape[position:]))


def _index_arg(index: Any) -> Any:
    """Tensors inside an index become their arrays; lists become integer or bool arrays."""

    def convert(part: Any) -> Any:
        if isinstance(part, Tensor):
            return part.data
        if isinstance(part, list):
            return np.asarray(part)
        return part

    return tuple(convert(p) for p in index) if isinstance(index, tuple) else convert(index)


def getitem(x: Any, index: Any) -> Tensor:
    """x[index] with basic slicing, integer arrays (repeats accumulate) and boolean masks."""
    x = _tensor(x)
    index = _index_arg(index)
    try:
        x.data[index]
    except IndexError as error:
        raise IndexError(
            f"getitem: index {index!r} does not fit a tensor of shape {x.shape}: {error}"
        ) from None
    return apply(GETITEM, x, index=index)


def scatter_add(x: Any, index: Any, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with x added at index (repeated integer indices accumulate)."""
    return apply(SCATTER_ADD, _tensor(x), index=_index_arg(index), shape=tuple(shape))


def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    items = [_tensor(t) for t in tensors]
    if not items:
        raise ValueError("concat: needs at least one tensor")
    first = items[0]
    if first.ndim == 0:
        raise ValueError("concat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = _single_axis("concat", first, axis)
    for t in items[1:]:
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape, strict=True)) if i != axis
        ):
            raise ValueError(
                f"concat: shapes {[t.shape for t in items]} do not match outside axis {axis}"
            )
    if len(items) == 1:
        return first
    return apply(CONCAT, *items, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    items = [_tensor(t) for t in tensors]
    if not items:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != items[0].shape for t in items):
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in items]}")
    if not -items[0].ndim - 1 <= axis <= items[0].ndim:
        raise ValueError(
            f"stack: axis {axis} is out of range for tensors of shape {items[0].shape}"
        )
    expanded = [unsqueeze(t, axis) for t in items]
    return (
        expanded[0]
        if len(expanded) == 1
        else apply(CONCAT, *expanded, axis=axis % (items[0].ndim + 1))
    )


def cast(x: Any, dtype: Any) -> Tensor:
    """The same values in another floating dtype; the gradient is cast back."""
    x = _tensor(x)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"cast: only floating dtypes carry gradients, got {dtype}")
    if dtype == x.dtype:
        return x
    return apply(CAST, x, dtype=dtype)


def _compare(op: Any) -> Any:
    def compare(a: Any, b: Any) -> Tensor:
        return Tensor._wrap(np.asarray(op(_data(_operand(a, b)), _data(_operand(b, a)))))

    compare.__doc__ = f"Elementwise `{op.__name__}` as a bool tensor that does not require grad."
    return compare


equal, not_equal = _compare(operator.eq), _compare(operator.ne)
less, less_equal = _compare(operator.lt), _compare(operator.le)
greater, greater_equal = _compare(operator.gt), _compare(operator.ge)
