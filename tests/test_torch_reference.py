"""Our transforms against `torch.func` on a battery of functions built from API.md ops.

Each function is written once against a small namespace (`ag` itself, or `TorchOps` mapping
the same names onto torch), so both libraries differentiate exactly the same program.
Skipped when torch is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

torch = pytest.importorskip("torch")
func = pytest.importorskip("torch.func")

TOL = 1e-10

# torch.func's forward-mode machinery calls the deprecated torch.jit.script internally
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


class TorchOps:
    """The API.md names used below, on torch tensors (axis -> dim, ddof -> correction)."""

    sin, cos, exp, log, tanh = torch.sin, torch.cos, torch.exp, torch.log, torch.tanh
    sigmoid, sqrt, abs, relu = torch.sigmoid, torch.sqrt, torch.abs, torch.relu
    maximum, minimum, where = torch.maximum, torch.minimum, torch.where

    @staticmethod
    def sum(x: Any, axis: Any = None) -> Any:
        return x.sum() if axis is None else x.sum(axis)

    @staticmethod
    def mean(x: Any, axis: Any = None) -> Any:
        return x.mean() if axis is None else x.mean(axis)

    @staticmethod
    def var(x: Any, axis: Any = None) -> Any:
        return torch.var(x, correction=0) if axis is None else torch.var(x, axis, correction=0)

    @staticmethod
    def logsumexp(x: Any, axis: int) -> Any:
        return torch.logsumexp(x, axis)

    @staticmethod
    def softmax(x: Any, axis: int = -1) -> Any:
        return torch.softmax(x, axis)

    @staticmethod
    def log_softmax(x: Any, axis: int = -1) -> Any:
        return torch.log_softmax(x, axis)

    @staticmethod
    def clip(x: Any, lo: float, hi: float) -> Any:
        return torch.clamp(x, lo, hi)


rng = np.random.default_rng(5215)
VEC = rng.uniform(0.5, 2.0, 4) * np.array([1, -1, 1, -1])  # away from 0 (abs, relu kinks)
MAT = rng.standard_normal((3, 4))
POS = rng.uniform(0.5, 2.0, 3)

# name -> (function of (namespace, *args), args); every function returns a scalar
SCALAR_FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[np.ndarray, ...]]] = {
    "survey": (lambda m, a, b: m.log(a) + a * b - m.sin(b), (np.array(2.0), np.array(5.0))),
    "layer": (lambda m, x, w: m.sum(m.tanh(w @ x)) + m.logsumexp(x, 0), (VEC, MAT)),
    "sigmoid_var": (lambda m, x, w: m.mean(m.sigmoid(w @ x)) * m.var(x), (VEC, MAT)),
    "cross_entropy": (lambda m, x, w: -m.log_softmax(w @ x, -1)[1], (VEC, MAT)),
    "norm_abs": (lambda m, x: m.sqrt(m.sum(x * x) + 1.0) * m.sum(m.exp(-m.abs(x))), (VEC,)),
    "relu_softmax": (lambda m, x, w: m.sum(m.softmax(m.relu(w @ x) * 0.5, -1) ** 3), (VEC, MAT)),
    "powers": (lambda m, p, x: m.sum(p**1.5 / (1.0 + p)) * m.cos(x[0]), (POS, VEC)),
    "max_min": (
        lambda m, x: (
            m.sum(m.maximum(x, 0.2 * x) * m.minimum(x, 0.5 * x + 0.3)) + m.sum(m.clip(x, -1.5, 1.5))
        ),
        (VEC,),
    ),
    "matrix": (
        lambda m, w: m.sum((w @ w.T) ** 2) / 10.0 + m.mean(m.where(w > 0, w, w * w)),
        (MAT,),
    ),
}

# name -> (function, args); non-scalar outputs, for Jacobians, vjp and jvp
VECTOR_FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[np.ndarray, ...]]] = {
    "layer": (lambda m, x, w: m.tanh(w @ x) * m.sin(m.sum(x)), (VEC, MAT)),
    "softmax": (lambda m, x, w: m.softmax(w * x, -1), (VEC, MAT)),
    "elementwise": (lambda m, p, x: m.log(p) * m.exp(x[:3]) + m.sigmoid(x[1:]), (POS, VEC)),
    "outer": (lambda m, x, p: (x[:3] * p)[:, None] * m.cos(x), (VEC, POS)),
}

CASES = {**{f"scalar_{k}": v for k, v in SCALAR_FUNCTIONS.items()}}
ALL = {**CASES, **{f"vector_{k}": v for k, v in VECTOR_FUNCTIONS.items()}}


def ours(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: fn(ag, *args)


def theirs(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: fn(TorchOps, *args)


def t(a: np.ndarray) -> Any:
    return torch.tensor(a, dtype=torch.float64)


def assert_same(mine: Any, reference: Any) -> None:
    """Compare nested tuples of our tensors with torch tensors."""
    if isinstance(reference, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(reference)
        for a, b in zip(mine, reference, strict=True):
            assert_same(a, b)
        return
    expected = reference.detach().numpy()
    assert mine.shape == expected.shape
    np.testing.assert_allclose(mine.data, expected, rtol=TOL, atol=TOL)


def argnum_choices(args: tuple[np.ndarray, ...]) -> list[int | tuple[int, ...]]:
    return [0, tuple(range(len(args)))] if len(args) > 1 else [0]


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
def test_grad_and_value_and_grad_match_torch(name: str) -> None:
    fn, args = SCALAR_FUNCTIONS[name]
    for argnums in argnum_choices(args):
        assert_same(
            ag.grad(ours(fn), argnums)(*args),
            func.grad(theirs(fn), argnums)(*map(t, args)),
        )
        value, gradient = ag.value_and_grad(ours(fn), argnums)(*args)
        ref_gradient, ref_value = func.grad_and_value(theirs(fn), argnums)(*map(t, args))
        assert_same((value, gradient), (ref_value, ref_gradient))


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
def test_hessian_matches_torch(name: str) -> None:
    fn, args = SCALAR_FUNCTIONS[name]
    for argnums in argnum_choices(args):
        assert_same(
            ag.hessian(ours(fn), argnums)(*args),
            func.hessian(theirs(fn), argnums)(*map(t, args)),
        )


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_match_torch(name: str, transform: str) -> None:
    fn, args = ALL[name]
    for argnums in argnum_choices(args):
        assert_same(
            getattr(ag, transform)(ours(fn), argnums)(*args),
            getattr(func, transform)(theirs(fn), argnums)(*map(t, args)),
        )


@pytest.mark.parametrize("name", sorted(ALL))
def test_vjp_and_jvp_match_torch(name: str) -> None:
    fn, args = ALL[name]
    out, vjp_fn = ag.vjp(ours(fn), *args)
    ref_out, ref_vjp_fn = func.vjp(theirs(fn), *map(t, args))
    assert_same(out, ref_out)
    cotangent = rng.standard_normal(out.shape)
    assert_same(vjp_fn(cotangent), ref_vjp_fn(t(cotangent)))
    tangents = tuple(rng.standard_normal(a.shape) for a in args)
    assert_same(
        ag.jvp(ours(fn), args, tangents),
        func.jvp(theirs(fn), tuple(map(t, args)), tuple(map(t, tangents))),
    )


def test_forward_over_reverse_hvp_matches_torch() -> None:
    fn, args = SCALAR_FUNCTIONS["layer"]
    v = rng.standard_normal(args[0].shape)

    def grad_x(m: Any, g: Callable[..., Any]) -> Callable[..., Any]:
        return lambda x: g(lambda y: fn(m, y, args[1] if m is ag else t(args[1])))(x)

    mine = ag.jvp(grad_x(ag, ag.grad), (args[0],), (v,))[1]
    reference = func.jvp(grad_x(TorchOps, func.grad), (t(args[0]),), (t(v),))[1]
    assert_same(mine, reference)
