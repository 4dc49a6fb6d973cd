"""The reductions against PyTorch in float64, spelled as a PyTorch user spells them: values,
gradients and Hessian-vector products (through create_graph), indices of max/min/argmax,
prod at zeros, norm at zero and at ties, and PyTorch's special values. Skipped when torch
is absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

torch = pytest.importorskip("torch")

from tests.test_against_torch import compare_with_pytorch  # noqa: E402 - after the skip

rng = np.random.default_rng(2024)
INF = float("inf")


def normal(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def distinct(*shape: int) -> np.ndarray:
    """No ties (max, min and the inf-norms then have one derivative)."""
    return rng.permutation(np.arange(np.prod(shape)) - 2.5).reshape(shape) * 0.37 + 0.01


ONE_ZERO = np.array([[1.5, 0.0, -2.0, 0.7], [0.3, -1.1, 2.0, 1.2]])
TWO_ZEROS = np.array([[1.5, 0.0, -2.0, 0.0], [0.0, -1.1, 2.0, 1.2]])
THREE_ZEROS = np.array([0.0, 0.0, 0.0, 1.3])
A_ZERO_ENTRY = np.array([[0.0, 3.0, -4.0], [1.0, 0.0, 2.0]])

# name -> (ours, torch's, inputs): value, gradient and Hessian-vector product must agree.
OPS: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    "sum_dim_tuple": (
        lambda a: a.sum(dim=(0, 2), keepdim=True),
        lambda a: a.sum(dim=(0, 2), keepdim=True),
        [normal(2, 3, 4)],
    ),
    "mean_dim": (lambda a: a.mean(dim=1), lambda a: a.mean(dim=1), [normal(3, 4)]),
    "logsumexp_dim": (
        lambda a: a.logsumexp(dim=0, keepdim=True),
        lambda a: a.logsumexp(dim=0, keepdim=True),
        [normal(3, 4)],
    ),
    "softmax_dim": (lambda a: a.softmax(dim=0), lambda a: a.softmax(dim=0), [normal(3, 4)]),
    "log_softmax_dim": (
        lambda a: ag.log_softmax(a, dim=1),
        lambda a: torch.log_softmax(a, dim=1),
        [normal(3, 4)],
    ),
    "var_correction": (
        lambda a: a.var(dim=1, correction=1),
        lambda a: a.var(dim=1, correction=1),
        [normal(3, 4)],
    ),
    "std_correction_0": (
        lambda a: a.std(dim=(0, 1), correction=0),
        lambda a: a.std(dim=(0, 1), correction=0),
        [normal(3, 4)],
    ),
    "std_unbiased": (
        lambda a: ag.std(a, 0, unbiased=True),
        lambda a: torch.std(a, 0, correction=1),
        [normal(3, 4)],
    ),
    "max_dim": (
        lambda a: a.max(dim=1).values,
        lambda a: a.max(dim=1).values,
        [distinct(3, 4)],
    ),
    "min_dim_keepdim": (
        lambda a: ag.min(a, dim=0, keepdim=True).values,
        lambda a: torch.min(a, dim=0, keepdim=True).values,
        [distinct(3, 4)],
    ),
    "cumsum_dim": (lambda a: a.cumsum(dim=1), lambda a: a.cumsum(dim=1), [normal(3, 4)]),
    "cumsum_flat": (
        lambda a: ag.cumsum(a),
        lambda a: torch.cumsum(a.reshape(-1), 0),
        [normal(3, 4)],
    ),
    "prod": (lambda a: a.prod(), lambda a: a.prod(), [normal(3, 4)]),
    "prod_dim": (lambda a: a.prod(dim=1), lambda a: a.prod(dim=1), [normal(3, 5)]),
    "prod_one_zero": (lambda a: a.prod(dim=1), lambda a: a.prod(dim=1), [ONE_ZERO]),
    "prod_two_zeros": (lambda a: a.prod(dim=1), lambda a: a.prod(dim=1), [TWO_ZEROS]),
    "prod_three_zeros": (lambda a: a.prod(), lambda a: a.prod(), [THREE_ZEROS]),
    "prod_all_one_zero": (lambda a: a.prod(), lambda a: a.prod(), [ONE_ZERO[:1]]),
    "norm": (ag.norm, torch.norm, [normal(3, 4)]),
    "norm_fro_dim": (
        lambda a: a.norm("fro", dim=1),
        lambda a: torch.norm(a, "fro", dim=1),
        [normal(3, 4)],
    ),
    "norm_2_zero_entry": (
        lambda a: ag.norm(a, 2, dim=1),
        lambda a: torch.linalg.vector_norm(a, 2, dim=1),
        [A_ZERO_ENTRY],
    ),
    "norm_3_zero_entry": (
        lambda a: ag.norm(a, 3, dim=1, keepdim=True),
        lambda a: torch.linalg.vector_norm(a, 3, dim=1, keepdim=True),
        [A_ZERO_ENTRY],
    ),
    "norm_1": (lambda a: ag.norm(a, 1, dim=0), lambda a: torch.norm(a, 1, dim=0), [normal(3, 4)]),
    "norm_half": (
        lambda a: ag.norm(a, 0.5),
        lambda a: torch.linalg.vector_norm(a, 0.5),
        [normal(3, 4)],
    ),
    "norm_1.5": (
        lambda a: ag.norm(a, 1.5, dim=(0, 1)),
        lambda a: torch.linalg.vector_norm(a, 1.5, dim=(0, 1)),
        [normal(3, 4)],
    ),
    "norm_inf": (
        lambda a: ag.norm(a, INF, dim=1),
        lambda a: torch.linalg.vector_norm(a, INF, dim=1),
        [distinct(3, 4)],
    ),
    "norm_-inf": (
        lambda a: ag.norm(a, -INF),
        lambda a: torch.linalg.vector_norm(a, -INF),
        [distinct(3, 4)],
    ),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_value_gradient_and_hessian_vector_product_match_pytorch(name: str) -> None:
    compare_with_pytorch(*OPS[name])


def gradient_pair(our_fn: Callable[..., Any], torch_fn: Callable[..., Any], x: np.ndarray) -> Any:
    ours_x = ag.Tensor(x, requires_grad=True)
    our_fn(ours_x).sum().backward()
    torch_x = torch.tensor(x, requires_grad=True)
    torch_fn(torch_x).sum().backward()
    assert ours_x.grad is not None
    theirs_grad = torch_x.grad  # None where torch's norm(p=0) has no derivative: zeros
    return ours_x.grad.data, np.zeros_like(x) if theirs_grad is None else theirs_grad.numpy()


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [5.0, 0.0, 5.0, -2.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_with_dim_give_pytorchs_values_and_indices(
    name: str, dim: int, keepdim: bool
) -> None:
    our_values, our_indices = getattr(ag.Tensor(TIES), name)(dim=dim, keepdim=keepdim)
    their = getattr(torch.from_numpy(TIES), name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(our_values.data, their.values.numpy())
    np.testing.assert_array_equal(our_indices.data, their.indices.numpy())
    assert our_indices.dtype == np.int64 == their.indices.numpy().dtype


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_and_argmin_give_pytorchs_indices_and_shapes(
    name: str, dim: int | None, keepdim: bool
) -> None:
    x = np.vstack([TIES, [np.nan, 1.0, np.nan, 2.0]])
    ours_index = getattr(ag.Tensor(x), name)(dim=dim, keepdim=keepdim)
    theirs_index = getattr(torch.from_numpy(x), name)(dim=dim, keepdim=keepdim).numpy()
    assert ours_index.shape == theirs_index.shape and ours_index.dtype == theirs_index.dtype
    np.testing.assert_array_equal(ours_index.data, theirs_index)


@pytest.mark.parametrize("x", [[2.0, 0.0, 4.0, 5.0], [0.0, 3.0, 0.0, 2.0], [0.0, 0.0, 0.0, 7.0]])
def test_the_gradient_of_prod_at_zeros_is_pytorchs(x: list[float]) -> None:
    """One zero: the product of the others there and 0 elsewhere; two or more zeros: 0."""
    ours_grad, theirs_grad = gradient_pair(ag.prod, torch.prod, np.array(x))
    np.testing.assert_array_equal(ours_grad, theirs_grad)


@pytest.mark.parametrize("x", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
def test_the_hessian_of_prod_at_zeros_is_pytorchs(x: list[float]) -> None:
    a = np.array(x)
    expected = torch.autograd.functional.hessian(torch.prod, torch.from_numpy(a)).numpy()
    np.testing.assert_array_equal(ag.hessian(ag.prod)(a).data, expected)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 1.5, INF, -INF, 0])
def test_the_gradient_of_norm_at_zero_is_pytorchs_zero(p: float) -> None:
    ours_grad, theirs_grad = gradient_pair(
        lambda t: ag.norm(t, p, dim=1),
        lambda t: torch.linalg.vector_norm(t, p, dim=1),
        np.zeros((2, 3)),
    )
    np.testing.assert_array_equal(ours_grad, theirs_grad)
    np.testing.assert_array_equal(ours_grad, np.zeros((2, 3)))


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 1.5, INF, -INF, 0])
def test_the_hessian_of_norm_at_zero_is_zero_where_pytorchs_is_finite(p: float) -> None:
    """PyTorch's is 0 for p in (1, 3, inf, -inf, 0) and nan for p = 2 and p < 2; ours is 0."""
    zero = np.zeros(3)
    theirs_hessian = torch.autograd.functional.hessian(
        lambda t: torch.linalg.vector_norm(t, p), torch.from_numpy(zero)
    ).numpy()
    ours_hessian = ag.hessian(lambda t: ag.norm(t, p))(zero).data
    np.testing.assert_array_equal(ours_hessian, np.zeros((3, 3)))
    finite = np.isfinite(theirs_hessian)
    np.testing.assert_array_equal(ours_hessian[finite], theirs_hessian[finite])


@pytest.mark.parametrize("p", [INF, -INF])
def test_the_inf_norms_share_the_gradient_among_ties_as_pytorch(p: float) -> None:
    x = np.array([[3.0, -3.0, 1.0, 3.0], [-0.5, 2.0, 0.5, -2.0], [0.0, 0.0, 0.0, 0.0]])
    ours_grad, theirs_grad = gradient_pair(
        lambda t: ag.norm(t, p, dim=1), lambda t: torch.linalg.vector_norm(t, p, dim=1), x
    )
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-15)


def test_a_nan_maximum_sends_the_gradient_to_the_nans_as_pytorch() -> None:
    x = np.array([1.0, np.nan, 2.0, np.nan])
    ours_grad, theirs_grad = gradient_pair(ag.max, torch.max, x)
    np.testing.assert_array_equal(ours_grad, theirs_grad)


SPECIAL: dict[str, tuple[Callable[..., Any], Callable[..., Any], np.ndarray]] = {
    "mean of nothing": (lambda t: t.mean(dim=1), lambda t: t.mean(dim=1), np.zeros((2, 0))),
    "logsumexp of nothing": (
        lambda t: t.logsumexp(dim=1),
        lambda t: t.logsumexp(dim=1),
        np.zeros((2, 0)),
    ),
    "logsumexp of -inf": (
        lambda t: t.logsumexp(dim=1),
        lambda t: t.logsumexp(dim=1),
        np.array([[-INF, -INF], [0.0, -INF], [INF, 1.0]]),
    ),
    "softmax with -inf": (
        lambda t: t.softmax(dim=1),
        lambda t: t.softmax(dim=1),
        np.array([[-INF, -INF], [0.0, -INF], [2.0, 1.0]]),
    ),
    "log_softmax with -inf": (
        lambda t: t.log_softmax(dim=1),
        lambda t: t.log_softmax(dim=1),
        np.array([[0.0, -INF], [2.0, 1.0]]),
    ),
    "softmax of nothing": (lambda t: t.softmax(1), lambda t: t.softmax(1), np.zeros((2, 0))),
    "prod of nothing": (lambda t: t.prod(dim=1), lambda t: t.prod(dim=1), np.zeros((2, 0))),
    "norm of nothing": (lambda t: t.norm(dim=1), lambda t: t.norm(dim=1), np.zeros((2, 0))),
    "cumsum with inf": (
        lambda t: t.cumsum(dim=1),
        lambda t: t.cumsum(dim=1),
        np.array([[INF, -INF, 1.0], [np.nan, 1.0, 2.0]]),
    ),
    "max with nan": (
        lambda t: t.max(dim=1).values,
        lambda t: t.max(dim=1).values,
        np.array([[1.0, np.nan], [2.0, 1.0]]),
    ),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_values_are_pytorchs(name: str) -> None:
    our_fn, torch_fn, x = SPECIAL[name]
    expected = torch_fn(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(our_fn(ag.Tensor(x)).data, expected, rtol=1e-15, atol=0)
