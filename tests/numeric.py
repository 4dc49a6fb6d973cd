"""Central-difference references the gradient tests compare against (float64 throughout)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import autograd_core as ag
from autograd_core.engine import grad
from autograd_core.transforms import jvp

H = 1e-6
RTOL = 1e-5
ATOL = 1e-7

Fn = Callable[..., ag.Tensor]


def _evaluate(fn: Fn, arrays: Sequence[np.ndarray]) -> np.ndarray:
    with ag.no_grad():
        return np.asarray(fn(*[ag.Tensor(a) for a in arrays]).data, dtype=np.float64)


def numerical_vjp(fn: Fn, arrays: Sequence[np.ndarray], cotangent: np.ndarray) -> list[np.ndarray]:
    """d/dx_i sum(cotangent * fn(x)) by central differences, element by element."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a, dtype=np.float64)
        for j in np.ndindex(a.shape):
            shifted = [np.array(b, dtype=b.dtype, copy=True) for b in arrays]
            shifted[i][j] = a[j] + H
            up = np.sum(cotangent * _evaluate(fn, shifted))
            shifted[i][j] = a[j] - H
            down = np.sum(cotangent * _evaluate(fn, shifted))
            g[j] = (up - down) / (2 * H)
        grads.append(g)
    return grads


def numerical_jvp(
    fn: Fn, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray]
) -> np.ndarray:
    up = _evaluate(fn, [a + H * t for a, t in zip(arrays, tangents, strict=True)])
    down = _evaluate(fn, [a - H * t for a, t in zip(arrays, tangents, strict=True)])
    return (up - down) / (2 * H)  # type: ignore[no-any-return]


def reverse_gradients(
    fn: Fn, arrays: Sequence[np.ndarray], cotangent: np.ndarray, create_graph: bool = False
) -> tuple[list[ag.Tensor], list[ag.Tensor]]:
    """(inputs, d/dx_i sum(cotangent * fn(x))) through `backward`."""
    inputs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.backward(cotangent, create_graph=create_graph)
    return inputs, [
        x.grad if x.grad is not None else ag.Tensor(np.zeros_like(x.data)) for x in inputs
    ]


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def check_reverse(fn: Fn, arrays: Sequence[np.ndarray], rng: np.random.Generator) -> None:
    shape = _evaluate(fn, arrays).shape
    cotangent = rng.standard_normal(shape)
    _, grads = reverse_gradients(fn, arrays, cotangent)
    for i, (g, expected) in enumerate(
        zip(grads, numerical_vjp(fn, arrays, cotangent), strict=True)
    ):
        assert g.shape == arrays[i].shape, (
            f"gradient {i} has shape {g.shape}, not {arrays[i].shape}"
        )
        assert_close(g.data, expected, f"reverse-mode gradient of input {i}")


def check_forward(fn: Fn, arrays: Sequence[np.ndarray], rng: np.random.Generator) -> None:
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    out, tangent_out = jvp(fn, [ag.Tensor(a) for a in arrays], tangents)
    assert tangent_out.shape == out.shape
    np.testing.assert_array_equal(out.data, _evaluate(fn, arrays))
    assert_close(tangent_out.data, numerical_jvp(fn, arrays, tangents), "forward-mode tangent")


def check_second_order(fn: Fn, arrays: Sequence[np.ndarray], rng: np.random.Generator) -> None:
    """Hessian-vector product of sum(w * fn(x)) through create_graph, against differences
    of the (already verified) first-order gradient."""
    w = rng.standard_normal(_evaluate(fn, arrays).shape)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    inputs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    first = grad(fn(*inputs), inputs, grad_outputs=w, create_graph=True, allow_unused=True)
    dot = sum(
        ((g * d).sum() for g, d in zip(first, directions, strict=True) if g is not None),
        start=ag.Tensor(0.0),
    )
    hvp = [np.zeros_like(a) for a in arrays]
    if dot.requires_grad:
        hvp = [
            np.zeros_like(a) if g is None else g.data
            for a, g in zip(arrays, grad(dot, inputs, allow_unused=True), strict=True)
        ]

    def first_order(shifted: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [g.data for g in reverse_gradients(fn, shifted, w)[1]]

    up = first_order([a + H * d for a, d in zip(arrays, directions, strict=True)])
    down = first_order([a - H * d for a, d in zip(arrays, directions, strict=True)])
    for i, (u, v) in enumerate(zip(up, down, strict=True)):
        np.testing.assert_allclose(
            hvp[i],
            (u - v) / (2 * H),
            rtol=1e-4,
            atol=1e-6,
            err_msg=f"Hessian-vector product, input {i}",
        )
