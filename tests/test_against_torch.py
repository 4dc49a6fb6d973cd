"""Every op of API.md against PyTorch in float64: value, gradient and Hessian-vector product
(through create_graph), on random inputs with broadcasting. Skipped when torch is absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.engine import grad

torch = pytest.importorskip("torch")

RTOL = 1e-10
rng = np.random.default_rng(1234)


def normal(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return rng.uniform(0.2, 3.0, shape)


COND = rng.random((3, 1)) > 0.5
MASK = np.array([True, False, True, True])
INDEX = np.array([0, 2, 2, 1])

# name -> (our function, torch function, input arrays); inputs broadcast where they can.
OPS: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [normal(3, 4), normal(4)]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [normal(2, 1, 3), normal(4, 1)]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [normal(3, 1), normal(1, 4)]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [normal(3, 4), positive(4)]),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, [positive(3, 4), normal(3, 1)]),
    "pow_scalar": (lambda a: a**3.0, lambda a: a**3.0, [normal(5)]),
    "rpow": (lambda a: 2.0**a, lambda a: 2.0**a, [normal(5)]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [normal(2, 3, 4), normal(4, 5)]),
    "matvec": (lambda a, b: a @ b, lambda a, b: a @ b, [normal(3, 4), normal(4)]),
    "neg": (lambda a: -a, lambda a: -a, [normal(3, 2)]),
    "getitem_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [normal(4, 5)]),
    "getitem_int_array": (lambda a: a[INDEX], lambda a: a[torch.from_numpy(INDEX)], [normal(4, 3)]),
    "getitem_mask": (lambda a: a[MASK], lambda a: a[torch.from_numpy(MASK)], [normal(4, 2)]),
    "exp": (ag.exp, torch.exp, [normal(3, 4)]),
    "log": (ag.log, torch.log, [positive(3, 4)]),
    "sqrt": (ag.sqrt, torch.sqrt, [positive(3, 4)]),
    "abs": (ag.abs, torch.abs, [normal(3, 4)]),
    "sin": (ag.sin, torch.sin, [normal(3, 4)]),
    "cos": (ag.cos, torch.cos, [normal(3, 4)]),
    "tanh": (ag.tanh, torch.tanh, [normal(3, 4)]),
    "sigmoid": (ag.sigmoid, torch.sigmoid, [normal(3, 4) * 4]),
    "relu": (ag.relu, torch.relu, [normal(3, 4)]),
    "tan": (ag.tan, torch.tan, [normal(3, 4) * 0.4]),
    "sinh": (ag.sinh, torch.sinh, [normal(3, 4)]),
    "cosh": (ag.cosh, torch.cosh, [normal(3, 4)]),
    "arcsin": (ag.arcsin, torch.asin, [normal(3, 4) * 0.3]),
    "arccos": (ag.arccos, torch.acos, [normal(3, 4) * 0.3]),
    "arctan": (ag.arctan, torch.atan, [normal(3, 4)]),
    "arctan2": (ag.arctan2, torch.atan2, [normal(3, 4), positive(4)]),
    "arcsinh": (ag.arcsinh, torch.asinh, [normal(3, 4)]),
    "arctanh": (ag.arctanh, torch.atanh, [normal(3, 4) * 0.3]),
    "log2": (ag.log2, torch.log2, [positive(3, 4)]),
    "log10": (ag.log10, torch.log10, [positive(3, 4)]),
    "exp2": (ag.exp2, torch.exp2, [normal(3, 4)]),
    "square": (ag.square, torch.square, [normal(3, 4)]),
    "reciprocal": (ag.reciprocal, torch.reciprocal, [positive(3, 4)]),
    "logaddexp": (ag.logaddexp, torch.logaddexp, [normal(3, 4) * 3, normal(4)]),
    "sign": (ag.sign, torch.sign, [normal(3, 4)]),
    "floor": (ag.floor, torch.floor, [normal(3, 4) * 3]),
    "ceil": (ag.ceil, torch.ceil, [normal(3, 4) * 3]),
    "round": (ag.round, torch.round, [normal(3, 4) * 3]),
    "mod": (
        lambda a, b: a % b,
        lambda a, b: torch.remainder(a, b),
        [normal(3, 4) * 3, positive(4)],
    ),
    "clip": (lambda a: ag.clip(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7), [normal(3, 4)]),
    "maximum": (ag.maximum, torch.maximum, [normal(3, 4), normal(4)]),
    "minimum": (ag.minimum, torch.minimum, [normal(3, 1), normal(4)]),
    "where": (
        lambda a, b: ag.where(COND, a, b),
        lambda a, b: torch.where(torch.from_numpy(COND), a, b),
        [normal(3, 4), normal(4)],
    ),
    "sum": (lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(dim=(0, 2)), [normal(2, 3, 4)]),
    "sum_keepdims": (
        lambda a: a.sum(axis=1, keepdims=True),
        lambda a: a.sum(dim=1, keepdim=True),
        [normal(2, 3, 4)],
    ),
    "mean": (lambda a: a.mean(axis=-1), lambda a: a.mean(dim=-1), [normal(2, 3, 4)]),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [normal(2, 3)]),
    "max": (lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1), [normal(3, 5)]),
    "max_all": (lambda a: a.max(), lambda a: a.max(), [normal(3, 5)]),
    "min": (
        lambda a: a.min(axis=0, keepdims=True),
        lambda a: torch.amin(a, dim=0, keepdim=True),
        [normal(3, 5)],
    ),
    "var": (lambda a: a.var(axis=1), lambda a: torch.var(a, dim=1, correction=0), [normal(3, 5)]),
    "var_ddof1": (lambda a: a.var(ddof=1), lambda a: torch.var(a), [normal(3, 5)]),
    "std": (lambda a: a.std(axis=0, ddof=1), lambda a: torch.std(a, dim=0), [normal(4, 3)]),
    "logsumexp": (
        lambda a: a.logsumexp(axis=1),
        lambda a: torch.logsumexp(a, dim=1),
        [normal(3, 5) * 3],
    ),
    "softmax": (lambda a: a.softmax(axis=0), lambda a: torch.softmax(a, dim=0), [normal(3, 5)]),
    "log_softmax": (
        lambda a: a.log_softmax(),
        lambda a: torch.log_softmax(a, dim=-1),
        [normal(3, 5)],
    ),
    "reshape": (lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [normal(2, 6)]),
    "permute": (lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [normal(2, 3, 4)]),
    "transpose": (lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [normal(2, 3, 4)]),
    "T": (lambda a: a.T, lambda a: a.T, [normal(2, 3)]),
    "flatten": (lambda a: a.flatten(), lambda a: a.flatten(), [normal(2, 3)]),
    "squeeze": (lambda a: a.squeeze(1), lambda a: a.squeeze(1), [normal(3, 1, 2)]),
    "unsqueeze": (lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [normal(3, 2)]),
    "broadcast_to": (
        lambda a: a.broadcast_to(2, 3, 4),
        lambda a: a.broadcast_to(2, 3, 4),
        [normal(3, 1)],
    ),
    "concat": (
        lambda a, b: ag.concat([a, b], axis=1),
        lambda a, b: torch.cat([a, b], dim=1),
        [normal(2, 3), normal(2, 4)],
    ),
    "stack": (
        lambda a, b: ag.stack([a, b], axis=1),
        lambda a, b: torch.stack([a, b], dim=1),
        [normal(2, 3), normal(2, 3)],
    ),
    "view": (lambda a: a.view(3, -1), lambda a: a.view(3, -1), [normal(2, 6)]),
    "cat": (
        lambda a, b: ag.cat([a, b], dim=-1),
        lambda a, b: torch.cat([a, b], dim=-1),
        [normal(2, 3), normal(2, 4)],
    ),
    "stack_dim": (
        lambda a, b: ag.stack([a, b], dim=-1),
        lambda a, b: torch.stack([a, b], dim=-1),
        [normal(2, 3), normal(2, 3)],
    ),
    "split": (
        lambda a: ag.cat([p * (i + 1.0) for i, p in enumerate(a.split(2, dim=1))], dim=1),
        lambda a: torch.cat([p * (i + 1.0) for i, p in enumerate(a.split(2, dim=1))], dim=1),
        [normal(3, 5)],
    ),
    "split_sections": (
        lambda a: ag.cat([p * (i + 1.0) for i, p in enumerate(a.split([1, 3, 1]))]),
        lambda a: torch.cat([p * (i + 1.0) for i, p in enumerate(a.split([1, 3, 1]))]),
        [normal(5, 2)],
    ),
    "chunk": (
        lambda a: ag.cat([p.exp() * (i + 1.0) for i, p in enumerate(a.chunk(3, 1))], dim=1),
        lambda a: torch.cat([p.exp() * (i + 1.0) for i, p in enumerate(a.chunk(3, 1))], dim=1),
        [normal(2, 7)],
    ),
    "flip": (lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2)), [normal(2, 3, 4)]),
    "roll": (lambda a: a.roll((1, -2), (0, 1)), lambda a: a.roll((1, -2), (0, 1)), [normal(3, 4)]),
    "roll_flat": (lambda a: a.roll(4), lambda a: a.roll(4), [normal(3, 4)]),
    "moveaxis": (
        lambda a: a.moveaxis(0, -1),
        lambda a: torch.movedim(a, 0, -1),
        [normal(2, 3, 4)],
    ),
    "swapaxes": (lambda a: a.swapaxes(0, 1), lambda a: a.swapaxes(0, 1), [normal(2, 3, 4)]),
    "repeat": (lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [normal(3, 2)]),
    "tile": (lambda a: ag.tile(a, (2, 1)), lambda a: torch.tile(a, (2, 1)), [normal(3, 2)]),
    "expand": (lambda a: a.expand(4, -1, 3), lambda a: a.expand(4, -1, 3), [normal(2, 1)]),
    "masked_fill": (
        lambda a: a.masked_fill(COND, -1.5),
        lambda a: a.masked_fill(torch.from_numpy(COND), -1.5),
        [normal(3, 4)],
    ),
    "flatten_dims": (lambda a: a.flatten(1), lambda a: a.flatten(1), [normal(2, 3, 4)]),
    "squeeze_dim": (lambda a: a.squeeze(dim=0), lambda a: a.squeeze(dim=0), [normal(2, 3)]),
    "hstack": (
        lambda a, b: ag.hstack([a, b]),
        lambda a, b: torch.hstack([a, b]),
        [normal(2, 3), normal(2, 1)],
    ),
    "vstack": (
        lambda a, b: ag.vstack([a, b]),
        lambda a, b: torch.vstack([a, b]),
        [normal(3), normal(2, 3)],
    ),
    "dstack": (
        lambda a, b: ag.dstack([a, b]),
        lambda a, b: torch.dstack([a, b]),
        [normal(2, 3), normal(2, 3)],
    ),
    "column_stack": (
        lambda a, b: ag.column_stack([a, b]),
        lambda a, b: torch.column_stack([a, b]),
        [normal(3), normal(3, 2)],
    ),
}


def ours(
    fn: Callable[..., Any], arrays: list[np.ndarray], w: np.ndarray, v: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    xs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    grads = grad((out * w).sum(), xs, create_graph=True)
    dot = sum(((g * d).sum() for g, d in zip(grads, v, strict=True)), start=ag.Tensor(0.0))
    hvp = grad(dot, xs, allow_unused=True) if dot.requires_grad else [None] * len(xs)
    return (
        out.data,
        [g.data for g in grads],
        [np.zeros_like(a) if h is None else h.data for a, h in zip(arrays, hvp, strict=True)],
    )


def theirs(
    fn: Callable[..., Any], arrays: list[np.ndarray], w: np.ndarray, v: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    grads = torch.autograd.grad((out * torch.from_numpy(w)).sum(), xs, create_graph=True)
    dot = sum((g * torch.from_numpy(d)).sum() for g, d in zip(grads, v, strict=True))
    hvp = torch.autograd.grad(dot, xs, allow_unused=True) if dot.requires_grad else [None] * len(xs)
    return (
        out.detach().numpy(),
        [g.detach().numpy() for g in grads],
        [
            np.zeros_like(a) if h is None else h.numpy(force=True)
            for a, h in zip(arrays, hvp, strict=True)
        ],
    )


def compare_with_pytorch(
    our_fn: Callable[..., Any], torch_fn: Callable[..., Any], arrays: list[np.ndarray]
) -> None:
    """Value, gradient and Hessian-vector product of ours and PyTorch's, on random weights."""
    with torch.no_grad():
        shape = tuple(torch_fn(*[torch.from_numpy(a) for a in arrays]).shape)
    w = rng.standard_normal(shape)
    v = [rng.standard_normal(a.shape) for a in arrays]
    expected = theirs(torch_fn, arrays, w, v)
    actual = ours(our_fn, arrays, w, v)
    np.testing.assert_allclose(actual[0], expected[0], rtol=RTOL, atol=1e-12, err_msg="value")
    for what, got, want in [("gradient", actual[1], expected[1]), ("hvp", actual[2], expected[2])]:
        for i, (g, t) in enumerate(zip(got, want, strict=True)):
            np.testing.assert_allclose(g, t, rtol=RTOL, atol=1e-12, err_msg=f"{what} {i}")


@pytest.mark.parametrize("name", sorted(OPS))
def test_value_gradient_and_hessian_vector_product_match_pytorch(name: str) -> None:
    compare_with_pytorch(*OPS[name])
