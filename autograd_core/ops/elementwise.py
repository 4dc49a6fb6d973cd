"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, activations.

Each op is one block: its primitive (forward, rule, derivative in the doc) and, right below,
its public function. A rule is written once, with operators and primitives that compute on
arrays in an ordinary backward pass and record on tensors when the pass is differentiated.
Masks and tie weights are taken from input values (`value`), so they stay constants.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import (
    SCALARS,
    binary_function,
    elementwise,
    export,
    one_of,
    operand,
    operands,
    quiet,
    tensor,
)
from autograd_core.ops.common import value as value_of
from autograd_core.tensor import Tensor

# --------------------------------------------------------------------------------------------
# Arithmetic.
# --------------------------------------------------------------------------------------------

NEG: Primitive = register(
    Primitive("neg", np.negative, (lambda g, out, x: -g,), linear=True, doc="-x; d/dx = -1")
)


@export(method=True)
def neg(x: Any) -> Tensor:
    """-x."""
    return NEG(tensor(x))


ADD: Primitive = register(
    Primitive(
        "add",
        np.add,
        (lambda g, out, a, b: g, lambda g, out, a, b: g),  # the engine sums g to each shape
        linear=True,
        doc="a + b; d/da = d/db = 1",
    )
)


add = binary_function(ADD, "a + b, broadcasting.")


SUB: Primitive = register(
    Primitive(
        "sub",
        np.subtract,
        (lambda g, out, a, b: g, lambda g, out, a, b: -g),
        linear=True,
        doc="a - b; d/da = 1, d/db = -1",
    )
)


sub = binary_function(SUB, "a - b, broadcasting.")


MUL: Primitive = elementwise(
    "mul",
    np.multiply,
    (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
    doc="a * b; d/da = b, d/db = a",
)


mul = binary_function(MUL, "a * b, broadcasting.")


DIV: Primitive = elementwise(
    "div",
    quiet(np.divide),
    (lambda g, out, a, b: g / b, lambda g, out, a, b: -(g * out) / b),
    save_output=True,
    doc="a / b; d/da = 1/b, d/db = -a/b^2 = -out/b",
)


div = binary_function(DIV, "a / b, broadcasting.")


def _pow_base_rule(g: Any, out: Any, x: Any, y: Any) -> Any:
    """d/dx x**y = y x^(y-1); 0 where y == 0 (as PyTorch)."""
    if type(y) in SCALARS:
        return g * 0.0 if y == 0 else g * (y * x ** (y - 1))
    return g * WHERE(0.0, y * x ** (y - 1.0), cond=value_of(y) == 0)


def _pow_exponent_rule(g: Any, out: Any, x: Any, y: Any) -> Any:
    """d/dy x**y = x^y log(x); 0 where x == 0 and y >= 0 (as PyTorch). The log reads 1
    there, so no inf enters the graph to turn a higher derivative into nan."""
    zero = (value_of(x) == 0) & (value_of(y) >= 0)
    return g * WHERE(0.0, out * LOG(WHERE(1.0, x, cond=zero)), cond=zero)


POW: Primitive = elementwise(
    "pow",
    quiet(np.power),
    (_pow_base_rule, _pow_exponent_rule),
    save_output=True,
    doc="x ** y; d/dx = y x^(y-1), d/dy = x^y log(x)",
)


pow = binary_function(POW, "x ** y, broadcasting.")


def _tie_weights(a: Any, b: Any, first: bool, pick: Any, dtype: Any) -> np.ndarray:
    """Share of the gradient for maximum/minimum: 1 where chosen, 1/2 on a tie (as PyTorch)."""
    a, b = value_of(a), value_of(b)
    chosen = pick(a, b) if first else pick(b, a)
    return np.asarray(chosen + 0.5 * (a == b), dtype=dtype)


MAXIMUM: Primitive = elementwise(
    "maximum",
    np.maximum,
    (
        lambda g, out, a, b: g * _tie_weights(a, b, True, operator.gt, g.dtype),
        lambda g, out, a, b: g * _tie_weights(a, b, False, operator.gt, g.dtype),
    ),
    doc="elementwise max; d/da = 1 where a > b, 1/2 on a tie, else 0 (and for b)",
)


maximum = binary_function(MAXIMUM, "Elementwise max; on a tie each side gets half the gradient.")


MINIMUM: Primitive = elementwise(
    "minimum",
    np.minimum,
    (
        lambda g, out, a, b: g * _tie_weights(a, b, True, operator.lt, g.dtype),
        lambda g, out, a, b: g * _tie_weights(a, b, False, operator.lt, g.dtype),
    ),
    doc="elementwise min; d/da = 1 where a < b, 1/2 on a tie, else 0 (and for b)",
)


minimum = binary_function(MINIMUM, "Elementwise min; on a tie each side gets half the gradient.")


WHERE: Primitive = register(
    Primitive(
        "where",
        lambda a, b, cond: np.where(cond, a, b),
        (
            lambda g, out, a, b, cond: WHERE(g, 0.0, cond=cond),
            lambda g, out, a, b, cond: WHERE(0.0, g, cond=cond),
        ),
        linear=True,
        doc="a where cond else b; d/da = cond, d/db = not cond; cond is not differentiable",
    )
)


@export
def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where cond is true, else b (broadcasting); no gradient flows into cond."""
    cond = np.asarray(value_of(cond))
    if cond.dtype != bool:
        cond = cond.astype(bool)
    a, b = operands(a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    return WHERE(a, b, cond=cond)


# --------------------------------------------------------------------------------------------
# Exponentials, logarithms, powers.
# --------------------------------------------------------------------------------------------

EXP: Primitive = elementwise(
    "exp", quiet(np.exp), lambda g, out, x: g * out, save_output=True, doc="d/dx e^x = e^x"
)


@export(method=True)
def exp(x: Any) -> Tensor:
    """e ** x."""
    return EXP(tensor(x))


LOG: Primitive = elementwise("log", quiet(np.log), lambda g, out, x: g / x, doc="d/dx log(x) = 1/x")


@export(method=True)
def log(x: Any) -> Tensor:
    """Natural logarithm (-inf at 0, nan below)."""
    return LOG(tensor(x))


SQRT: Primitive = elementwise(
    "sqrt",
    quiet(np.sqrt),
    lambda g, out, x: g / (out * 2.0),
    save_output=True,
    doc="d/dx sqrt(x) = 1/(2 sqrt(x)); inf at 0",
)


@export(method=True)
def sqrt(x: Any) -> Tensor:
    """Square root; its derivative is inf at 0."""
    return SQRT(tensor(x))


LOG1P = elementwise(
    "log1p", quiet(np.log1p), lambda g, out, x: g / (x + 1.0), doc="log(1 + x); d/dx = 1/(1 + x)"
)


@export(method=True)
def log1p(x: Any) -> Tensor:
    """log(1 + x), accurate for small x."""
    return LOG1P(tensor(x))


EXPM1 = elementwise(
    "expm1",
    quiet(np.expm1),
    lambda g, out, x: g * (out + 1.0),
    save_output=True,
    doc="e^x - 1, exact near 0; d/dx = e^x",
)


@export(method=True)
def expm1(x: Any) -> Tensor:
    """e^x - 1, accurate for small x."""
    return EXPM1(tensor(x))


LOG2: Primitive = elementwise(
    "log2",
    quiet(np.log2),
    lambda g, out, x: g / (x * math.log(2.0)),
    doc="d/dx log2(x) = 1/(x ln 2)",
)


@export(method=True)
def log2(x: Any) -> Tensor:
    """Base-2 logarithm."""
    return LOG2(tensor(x))


LOG10: Primitive = elementwise(
    "log10",
    quiet(np.log10),
    lambda g, out, x: g / (x * math.log(10.0)),
    doc="d/dx log10(x) = 1/(x ln 10)",
)


@export(method=True)
def log10(x: Any) -> Tensor:
    """Base-10 logarithm."""
    return LOG10(tensor(x))


EXP2: Primitive = elementwise(
    "exp2",
    quiet(np.exp2),
    lambda g, out, x: g * (out * math.log(2.0)),
    save_output=True,
    doc="d/dx 2^x = 2^x ln 2",
)


@export(method=True)
def exp2(x: Any) -> Tensor:
    """2 ** x."""
    return EXP2(tensor(x))


SQUARE: Primitive = elementwise(
    "square", quiet(np.square), lambda g, out, x: g * (x * 2.0), doc="d/dx x^2 = 2x"
)


@export(method=True)
def square(x: Any) -> Tensor:
    """x * x."""
    return SQUARE(tensor(x))


RECIPROCAL: Primitive = elementwise(
    "reciprocal",
    quiet(np.reciprocal),
    lambda g, out, x: -(g * (out * out)),
    save_output=True,
    doc="d/dx 1/x = -1/x^2 = -out^2",
)


@export(method=True)
def reciprocal(x: Any) -> Tensor:
    """1 / x (inf at 0)."""
    return RECIPROCAL(tensor(x))


LOGADDEXP: Primitive = elementwise(
    "logaddexp",
    quiet(np.logaddexp),
    (lambda g, out, a, b: g * EXP(a - out), lambda g, out, a, b: g * EXP(b - out)),
    save_output=True,
    doc="log(e^a + e^b), stable; d/da = e^(a - out), d/db = e^(b - out)",
)


@export(method=True)
def logaddexp(a: Any, b: Any) -> Tensor:
    """log(exp(a) + exp(b)) without overflow, broadcasting."""
    return LOGADDEXP(*operands(a, b))


# --------------------------------------------------------------------------------------------
# Trigonometric and hyperbolic functions.
# --------------------------------------------------------------------------------------------

SIN: Primitive = elementwise(
    "sin", quiet(np.sin), lambda g, out, x: g * COS(x), doc="d/dx sin(x) = cos(x)"
)


@export(method=True)
def sin(x: Any) -> Tensor:
    """Sine."""
    return SIN(tensor(x))


COS: Primitive = elementwise(
    "cos", quiet(np.cos), lambda g, out, x: -(g * SIN(x)), doc="d/dx cos(x) = -sin(x)"
)


@export(method=True)
def cos(x: Any) -> Tensor:
    """Cosine."""
    return COS(tensor(x))


TANH: Primitive = elementwise(
    "tanh",
    np.tanh,
    lambda g, out, x: g * (1.0 - out * out),
    save_output=True,
    doc="d/dx tanh(x) = 1 - tanh(x)^2",
)


@export(method=True)
def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return TANH(tensor(x))


TAN: Primitive = elementwise(
    "tan",
    quiet(np.tan),
    lambda g, out, x: g * (1.0 + out * out),
    save_output=True,
    doc="d/dx tan(x) = 1 + tan(x)^2",
)


@export(method=True)
def tan(x: Any) -> Tensor:
    """Tangent."""
    return TAN(tensor(x))


SINH: Primitive = elementwise(
    "sinh", quiet(np.sinh), lambda g, out, x: g * COSH(x), doc="d/dx sinh(x) = cosh(x)"
)


@export(method=True)
def sinh(x: Any) -> Tensor:
    """Hyperbolic sine."""
    return SINH(tensor(x))


COSH: Primitive = elementwise(
    "cosh", quiet(np.cosh), lambda g, out, x: g * SINH(x), doc="d/dx cosh(x) = sinh(x)"
)


@export(method=True)
def cosh(x: Any) -> Tensor:
    """Hyperbolic cosine."""
    return COSH(tensor(x))


ARCSIN: Primitive = elementwise(
    "arcsin",
    quiet(np.arcsin),
    lambda g, out, x: g / SQRT(1.0 - x * x),
    doc="d/dx arcsin(x) = 1/sqrt(1 - x^2); inf at +-1, nan outside",
)


@export(method=True)
def arcsin(x: Any) -> Tensor:
    """Inverse sine (PyTorch's `asin`), defined on [-1, 1]."""
    return ARCSIN(tensor(x))


ARCCOS: Primitive = elementwise(
    "arccos",
    quiet(np.arccos),
    lambda g, out, x: -g / SQRT(1.0 - x * x),
    doc="d/dx arccos(x) = -1/sqrt(1 - x^2); inf at +-1, nan outside",
)


@export(method=True)
def arccos(x: Any) -> Tensor:
    """Inverse cosine (PyTorch's `acos`), defined on [-1, 1]."""
    return ARCCOS(tensor(x))


ARCTAN: Primitive = elementwise(
    "arctan", np.arctan, lambda g, out, x: g / (1.0 + x * x), doc="d/dx arctan(x) = 1/(1 + x^2)"
)


@export(method=True)
def arctan(x: Any) -> Tensor:
    """Inverse tangent (PyTorch's `atan`)."""
    return ARCTAN(tensor(x))


ARCTAN2: Primitive = elementwise(
    "arctan2",
    np.arctan2,
    (
        lambda g, out, y, x: g * x / (x * x + y * y),
        lambda g, out, y, x: -(g * y) / (x * x + y * y),
    ),
    doc="the angle of (x, y); d/dy = x/(x^2 + y^2), d/dx = -y/(x^2 + y^2)",
)


@export(method=True)
def arctan2(y: Any, x: Any) -> Tensor:
    """The angle of the point (x, y) in (-pi, pi], broadcasting (PyTorch's `atan2`)."""
    return ARCTAN2(*operands(y, x))


ARCSINH: Primitive = elementwise(
    "arcsinh",
    np.arcsinh,
    lambda g, out, x: g / SQRT(x * x + 1.0),
    doc="d/dx arcsinh(x) = 1/sqrt(x^2 + 1)",
)


@export(method=True)
def arcsinh(x: Any) -> Tensor:
    """Inverse hyperbolic sine (PyTorch's `asinh`)."""
    return ARCSINH(tensor(x))


ARCTANH: Primitive = elementwise(
    "arctanh",
    quiet(np.arctanh),
    lambda g, out, x: g / (1.0 - x * x),
    doc="d/dx arctanh(x) = 1/(1 - x^2); inf at +-1, nan outside",
)


@export(method=True)
def arctanh(x: Any) -> Tensor:
    """Inverse hyperbolic tangent (PyTorch's `atanh`), defined on (-1, 1)."""
    return ARCTANH(tensor(x))


# --------------------------------------------------------------------------------------------
# Activations and other functions with kinks.
# --------------------------------------------------------------------------------------------


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """1/(1+e^-x) without overflow: both branches use e^-|x| <= 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


SIGMOID: Primitive = elementwise(
    "sigmoid",
    _sigmoid_forward,
    lambda g, out, x: g * (out * (1.0 - out)),
    save_output=True,
    doc="d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x))",
)


@export(method=True)
def sigmoid(x: Any) -> Tensor:
    """Logistic function 1/(1 + e^-x), computed without overflow."""
    return SIGMOID(tensor(x))


def _softplus_forward(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for any x."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


SOFTPLUS: Primitive = elementwise(
    "softplus",
    _softplus_forward,
    lambda g, out, x: g * SIGMOID(x),
    doc="log(1 + e^x), stable; d/dx softplus(x) = sigmoid(x)",
)


@export(method=True)
def softplus(x: Any) -> Tensor:
    """log(1 + e^x), computed without overflow; its derivative is sigmoid(x)."""
    return SOFTPLUS(tensor(x))


RELU: Primitive = elementwise(
    "relu",
    lambda x: np.maximum(x, 0.0),
    lambda g, out, x: g * (value_of(x) > 0),
    doc="max(x, 0); d/dx = 1 where x > 0, else 0 (relu'(0) = 0)",
)


@export(method=True)
def relu(x: Any) -> Tensor:
    """max(x, 0) with relu'(0) = 0."""
    return RELU(tensor(x))


ABS: Primitive = elementwise(
    "abs",
    np.abs,
    lambda g, out, x: g * np.sign(value_of(x)),
    doc="d/dx |x| = sign(x); 0 at 0",
)


@export(method=True)
def abs(x: Any) -> Tensor:
    """|x|; derivative sign(x), 0 at 0."""
    return ABS(tensor(x))


_ERF = np.frompyfunc(math.erf, 1, 1)


ERF: Primitive = elementwise(
    "erf",
    lambda x: np.asarray(_ERF(x), dtype=x.dtype),  # math.erf, element by element
    lambda g, out, x: g * (EXP(-(x * x)) * (2.0 / math.sqrt(math.pi))),
    doc="erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt; d/dx = 2/sqrt(pi) e^(-x^2)",
)


@export(method=True)
def erf(x: Any) -> Tensor:
    """The Gauss error function (exact GELU is x * (1 + erf(x / sqrt 2)) / 2)."""
    return ERF(tensor(x))


def _inside(x: Any, lo: float | None, hi: float | None) -> np.ndarray:
    """Where lo <= x <= hi (either bound may be None)."""
    x = value_of(x)
    inside = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return inside


CLIP: Primitive = elementwise(
    "clip",
    lambda x, lo, hi: np.clip(x, lo, hi),
    lambda g, out, x, lo, hi: g * _inside(x, lo, hi),
    doc="min(max(x, lo), hi); d/dx = 1 where lo <= x <= hi, else 0 (as PyTorch)",
)


@export(method=True)
def clip(
    x: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    min: float | None = None,
    max: float | None = None,
) -> Tensor:
    """Clamp into [lo, hi] (either may be None); PyTorch's `min=`/`max=` spell them too."""
    lo = one_of("clip", ("lo", "min"), lo, min)
    hi = one_of("clip", ("hi", "max"), hi, max)
    for name, bound in (("lo", lo), ("hi", hi)):
        if bound is not None and not isinstance(bound, (int, float, np.integer, np.floating)):
            raise TypeError(f"clip: {name} must be a number or None, got {type(bound).__name__}")
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    return CLIP(tensor(x), lo=lo, hi=hi)


@export(method=True)
def clamp(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """PyTorch's name for `clip`."""
    return clip(x, min=min, max=max)


# Piecewise-constant functions: zero gradient where they are differentiable (PyTorch's
# convention, also at the jumps).


def _zero_rule(g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    return g * 0.0


SIGN: Primitive = elementwise("sign", np.sign, _zero_rule, doc="-1, 0 or 1; d/dx = 0")


@export(method=True)
def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of x; its gradient is 0 (PyTorch's)."""
    return SIGN(tensor(x))


FLOOR: Primitive = elementwise("floor", np.floor, _zero_rule, doc="round down; d/dx = 0")


@export(method=True)
def floor(x: Any) -> Tensor:
    """The largest integer <= x; its gradient is 0 (PyTorch's)."""
    return FLOOR(tensor(x))


CEIL: Primitive = elementwise("ceil", np.ceil, _zero_rule, doc="round up; d/dx = 0")


@export(method=True)
def ceil(x: Any) -> Tensor:
    """The smallest integer >= x; its gradient is 0 (PyTorch's)."""
    return CEIL(tensor(x))


ROUND: Primitive = elementwise("round", np.round, _zero_rule, doc="round half to even; d/dx = 0")


@export(method=True)
def round(x: Any) -> Tensor:
    """The nearest integer, halves to even (numpy's and PyTorch's); its gradient is 0."""
    return ROUND(tensor(x))


MOD: Primitive = elementwise(
    "mod",
    quiet(np.mod),
    (
        lambda g, out, a, b: g,
        lambda g, out, a, b: -(g * np.floor(value_of(a) / value_of(b))),
    ),
    doc="a - b floor(a/b), the sign of b (Python's %, PyTorch's remainder); d/da = 1, "
    "d/db = -floor(a/b)",
)


@export(method=True)
def mod(a: Any, b: Any) -> Tensor:
    """a % b with the sign of b (Python's and PyTorch's `remainder`), broadcasting."""
    return MOD(*operands(a, b))


# --------------------------------------------------------------------------------------------
# Comparisons: bool tensors that do not require grad (not primitives: nothing to differentiate).
# --------------------------------------------------------------------------------------------


def _compare(name: str, op: Any) -> Any:
    def compare(a: Any, b: Any) -> Tensor:
        a, b = operand(a, b), operand(b, a)
        return Tensor._wrap(np.asarray(op(value_of(a), value_of(b))))

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise `{op.__name__}` as a bool tensor that does not require grad."
    return export(compare)


equal, not_equal = _compare("equal", operator.eq), _compare("not_equal", operator.ne)
less, less_equal = _compare("less", operator.lt), _compare("less_equal", operator.le)
greater = _compare("greater", operator.gt)
greater_equal = _compare("greater_equal", operator.ge)
