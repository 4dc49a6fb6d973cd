"""The pools against PyTorch in float64 to 1e-10: value, gradient and Hessian-vector product
(through create_graph) over kernel, stride and padding combinations, overlapping windows
included; then the gradient at ties (first maximum), -inf and NaN, exactly. Skipped when
torch is absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

torch = pytest.importorskip("torch")

from tests.test_against_torch import compare_with_pytorch  # noqa: E402 - after the skip

F = torch.nn.functional
rng = np.random.default_rng(1515)


def distinct(*shape: int) -> np.ndarray:
    """No ties, so max pooling has one derivative."""
    return rng.permutation(np.arange(np.prod(shape)) - 7.5).reshape(shape) * 0.31 + 0.02


# (kernel_size, stride, padding) as a PyTorch user passes them: the course's 2x2 pool,
# overlapping windows (stride < kernel), padding, rectangles, a stride past the kernel.
WINDOWS = {
    "2x2": (2, None, 0),
    "3x3_stride1_pad1": (3, 1, 1),
    "3x3_stride2_pad1": (3, 2, 1),
    "2x2_stride1": (2, 1, 0),
    "rect": ((2, 3), (1, 2), (1, 1)),
    "stride_past_kernel": (2, 3, 1),
    "1x1": (1, 1, 0),
    "whole_input": ((5, 6), None, 0),
}


def pool_case(ours_pool: Any, their_pool: Any, window: Any, shape: Any) -> Any:
    """Pooled outputs through tanh, so the Hessian-vector product is not trivially 0."""
    k, s, p = window
    return (
        lambda a: ag.tanh(ours_pool(a, k, s, p)),
        lambda a: torch.tanh(their_pool(a, k, s, p)),
        [distinct(*shape)],
    )


def adaptive_case(size: Any, shape: Any) -> Any:
    return (
        lambda a: ag.tanh(ag.adaptive_avg_pool2d(a, size)),
        lambda a: torch.tanh(F.adaptive_avg_pool2d(a, size)),
        [rng.standard_normal(shape)],
    )


OPS: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    **{
        f"max_pool2d_{name}": pool_case(ag.max_pool2d, F.max_pool2d, window, (2, 3, 5, 6))
        for name, window in WINDOWS.items()
    },
    **{
        f"avg_pool2d_{name}": pool_case(ag.avg_pool2d, F.avg_pool2d, window, (2, 3, 5, 6))
        for name, window in WINDOWS.items()
    },
    "max_pool2d_unbatched": pool_case(ag.max_pool2d, F.max_pool2d, (3, 2, 1), (3, 7, 4)),
    "avg_pool2d_unbatched": pool_case(ag.avg_pool2d, F.avg_pool2d, (3, 2, 1), (3, 7, 4)),
    "adaptive_global": adaptive_case(1, (2, 3, 5, 6)),
    "adaptive_divides": adaptive_case((5, 2), (2, 3, 5, 6)),
    "adaptive_overlapping": adaptive_case((3, 4), (2, 3, 5, 6)),
    "adaptive_larger_than_input": adaptive_case((7, 9), (2, 3, 5, 6)),
    "adaptive_none": adaptive_case((None, 4), (2, 3, 5, 6)),
    "adaptive_unbatched": adaptive_case((2, 3), (3, 7, 4)),
    # planes large enough for average pooling's factored products (small ones: one matrix)
    "max_pool2d_large_planes": pool_case(ag.max_pool2d, F.max_pool2d, (3, 2, 1), (2, 2, 24, 26)),
    "avg_pool2d_large_planes": pool_case(ag.avg_pool2d, F.avg_pool2d, (3, 2, 1), (2, 2, 24, 26)),
    "avg_pool2d_large_planes_2x2": pool_case(
        ag.avg_pool2d, F.avg_pool2d, (2, None, 0), (2, 2, 24, 26)
    ),
    "adaptive_large_planes": adaptive_case((5, 7), (2, 2, 24, 26)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_value_gradient_and_hessian_vector_product_match_pytorch(name: str) -> None:
    compare_with_pytorch(*OPS[name])


def gradients(x: np.ndarray, window: Any) -> tuple[Any, ...]:
    """Our and PyTorch's max pooling of x and the gradient of a weighted sum of it."""
    k, s, p = window
    t = ag.Tensor(x, requires_grad=True)
    y = ag.max_pool2d(t, k, s, p)
    w = rng.standard_normal(y.shape)
    y.backward(w)
    tx = torch.tensor(x, requires_grad=True)
    ty = F.max_pool2d(tx, k, s, p)
    ty.backward(torch.from_numpy(w))
    assert t.grad is not None and tx.grad is not None
    return y.data, ty.detach().numpy(), t.grad.data, tx.grad.numpy()


@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_gradient_at_ties_goes_to_the_first_maximum_as_in_pytorch(window: str) -> None:
    """Values in {0, 1, 2}: most windows tie, and each sends its whole gradient to the same
    single position PyTorch does."""
    x = rng.integers(0, 3, (2, 3, 5, 6)).astype(float)
    ours_y, their_y, ours_g, their_g = gradients(x, WINDOWS[window])
    np.testing.assert_array_equal(ours_y, their_y)
    np.testing.assert_array_equal(ours_g, their_g)


@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_minus_infinity_and_nan_pool_as_in_pytorch(window: str) -> None:
    """-inf windows (their gradient goes to the first input pixel, never to padding) and
    NaN (it propagates and takes the gradient; with several, the last one, as PyTorch)."""
    x = rng.standard_normal((2, 3, 5, 6))
    x[rng.random(x.shape) < 0.4] = -np.inf
    x[rng.random(x.shape) < 0.1] = np.nan
    ours_y, their_y, ours_g, their_g = gradients(x, WINDOWS[window])
    np.testing.assert_array_equal(ours_y, their_y)
    np.testing.assert_array_equal(ours_g, their_g)
