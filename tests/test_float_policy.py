"""The floating-point policy: ops return IEEE inf and nan as PyTorch does (log(0) = -inf,
0 * inf = nan, sin(inf) = nan), and never raise under `-W error` (numpy's RuntimeWarning about
them is not an error here, as PyTorch is silent). `detect_anomaly()` is the tool that turns
the first inf/nan into an error."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

SPECIALS = np.array([0.0, -0.0, 1.0, -1.0, 2.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 1e-320])
UNARY = [
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "softplus", "log1p",
    "expm1", "erf", "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arctanh",
    "log2", "log10", "exp2", "square", "reciprocal", "sign", "floor", "ceil", "round", "neg",
]  # fmt: skip
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "arctan2", "logaddexp", "mod"]
ROWS = [[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [-np.inf, 0.0], [1e308, 1e308]]
REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax", "std", "var"]


def run_quietly(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_on_special_values_never_raise(name: str) -> None:
    x = ag.Tensor(np.repeat(SPECIALS, 1), requires_grad=True)
    out = run_quietly(lambda: getattr(ag, name)(x))
    run_quietly(lambda: out.sum().backward())
    assert out.shape == SPECIALS.shape


@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_on_special_values_never_raise(name: str) -> None:
    a, b = np.meshgrid(SPECIALS, SPECIALS)
    x, y = ag.Tensor(a, requires_grad=True), ag.Tensor(b, requires_grad=True)
    out = run_quietly(lambda: getattr(ag, name)(x, y))
    run_quietly(lambda: out.sum().backward())
    assert out.shape == a.shape


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_of_special_rows_never_raise(name: str) -> None:
    x = ag.Tensor(np.array(ROWS), requires_grad=True)
    out = run_quietly(lambda: getattr(ag, name)(x, axis=-1))
    run_quietly(lambda: out.sum().backward())


TORCH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
               "arctanh": "atanh", "arctan2": "atan2", "mod": "remainder"}  # fmt: skip


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_special_values_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    module = torch.nn.functional if name == "softplus" else torch
    theirs = getattr(module, TORCH_NAMES.get(name, name))
    values = SPECIALS
    if name == "sign":  # PyTorch's sign(nan) is 0; numpy's (and ours) propagates the nan
        values = values[~np.isnan(values)]
    if name == "mod":  # PyTorch's CPU remainder flushes a subnormal divisor to zero
        values = values[np.abs(values) != 1e-320]
    args = [values] if name in UNARY else list(np.meshgrid(values, values))
    ours = run_quietly(lambda: getattr(ag, name)(*[ag.Tensor(a) for a in args])).data
    expected = theirs(*[torch.from_numpy(a) for a in args]).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_special_rows_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    rows = np.array(ROWS)
    ours = run_quietly(lambda: getattr(ag, name)(ag.Tensor(rows), axis=-1)).data
    expected = getattr(torch, name)(torch.from_numpy(rows), dim=-1).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12, equal_nan=True)


def test_detect_anomaly_is_the_way_to_make_nan_an_error() -> None:
    with ag.detect_anomaly(), pytest.raises(FloatingPointError, match="log"):
        ag.log(ag.Tensor([-1.0]))
