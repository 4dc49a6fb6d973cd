"""einsum, tensordot, outer, diag, trace, tril, triu against PyTorch in float64 (value,
gradient and Hessian-vector product through create_graph), and the deterministic
constructors against PyTorch's values. Skipped when torch is absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autograd_core as ag  # noqa: E402
from tests.test_against_torch import compare_with_pytorch  # noqa: E402

rng = np.random.default_rng(4321)


def normal(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def both(fn_name: str, *args: Any, **kwargs: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Our function and PyTorch's of the same name, called with the same extra arguments."""
    return (
        lambda *xs: getattr(ag, fn_name)(*xs, *args, **kwargs),
        lambda *xs: getattr(torch, fn_name)(*xs, *args, **kwargs),
    )


def einsum(subscripts: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    return (
        lambda *xs: ag.einsum(subscripts, *xs),
        lambda *xs: torch.einsum(subscripts, *xs),
    )


# name -> (our function, torch function, input arrays)
OPS: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    "einsum_matmul": (*einsum("ij,jk->ik"), [normal(2, 3), normal(3, 4)]),
    "einsum_implicit": (*einsum("jk,ij"), [normal(3, 4), normal(2, 3)]),
    "einsum_batched_broadcast": (
        *einsum("...ij,...jk->...ik"),
        [normal(2, 1, 2, 3), normal(4, 3, 2)],
    ),
    "einsum_ellipsis_summed": (*einsum("...ij->ij"), [normal(2, 3, 4)]),
    "einsum_diagonal": (*einsum("ii->i"), [normal(3, 3)]),
    "einsum_trace": (*einsum("ii"), [normal(3, 3)]),
    "einsum_repeated_and_shared": (*einsum("iij,jk->ik"), [normal(2, 2, 3), normal(3, 4)]),
    "einsum_summed_in_one_operand": (*einsum("ij,k->ik"), [normal(2, 3), normal(4)]),
    "einsum_size_one_broadcast": (*einsum("ij,ij->ij"), [normal(1, 3), normal(2, 3)]),
    "einsum_three_operands": (
        *einsum("ij,jk,kl->il"),
        [normal(2, 3), normal(3, 4), normal(4, 2)],
    ),
    "einsum_bilinear_form": (*einsum("i,ij,j->"), [normal(3), normal(3, 4), normal(4)]),
    "tensordot_int": (*both("tensordot", dims=2), [normal(2, 3, 4), normal(3, 4, 2)]),
    "tensordot_lists": (
        *both("tensordot", dims=([0, 2], [2, 0])),
        [normal(2, 3, 4), normal(4, 5, 2)],
    ),
    "tensordot_zero": (*both("tensordot", dims=0), [normal(2), normal(3)]),
    "outer": (*both("outer"), [normal(3), normal(4)]),
    "diag_vector": (*both("diag"), [normal(3)]),
    "diag_vector_above": (*both("diag", 2), [normal(3)]),
    "diag_matrix_below": (*both("diag", -1), [normal(4, 3)]),
    "diag_matrix_above": (*both("diag", 1), [normal(3, 4)]),
    "trace": (*both("trace"), [normal(3, 3)]),
    "trace_rectangular": (*both("trace"), [normal(2, 4)]),
    "tril": (*both("tril"), [normal(3, 4)]),
    "tril_batched_above": (*both("tril", 1), [normal(2, 3, 4)]),
    "triu": (*both("triu"), [normal(4, 3)]),
    "triu_batched_below": (*both("triu", -1), [normal(2, 4, 3)]),
    "method_chain": (
        lambda a, b: a.outer(b).tril().diag().sum() * a.outer(b).trace(),
        lambda a, b: a.outer(b).tril().diag().sum() * a.outer(b).trace(),
        [normal(3), normal(3)],
    ),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_value_gradient_and_hessian_vector_product_match_pytorch(name: str) -> None:
    compare_with_pytorch(*OPS[name])


# Deterministic constructors: (our call, PyTorch's call), float64 unless a dtype is named.
F64 = {"dtype": torch.float64}
CONSTRUCTORS: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "zeros": (lambda: ag.zeros(2, 3), lambda: torch.zeros(2, 3, **F64)),
    "zeros_sequence": (lambda: ag.zeros((2, 3)), lambda: torch.zeros((2, 3), **F64)),
    "ones": (lambda: ag.ones(4), lambda: torch.ones(4, **F64)),
    "ones_0d": (lambda: ag.ones(), lambda: torch.ones((), **F64)),
    "full": (lambda: ag.full((2, 2), -1.5), lambda: torch.full((2, 2), -1.5, **F64)),
    "full_int": (
        lambda: ag.full((3,), 7, dtype=np.int64),
        lambda: torch.full((3,), 7, dtype=torch.int64),
    ),
    "eye": (lambda: ag.eye(3), lambda: torch.eye(3, **F64)),
    "eye_rectangular": (lambda: ag.eye(2, 4), lambda: torch.eye(2, 4, **F64)),
    "arange_end": (lambda: ag.arange(5), lambda: torch.arange(5, **F64)),
    "arange_start_end": (lambda: ag.arange(-2, 3), lambda: torch.arange(-2, 3, **F64)),
    "arange_float_step": (lambda: ag.arange(0, 1, 0.1), lambda: torch.arange(0, 1, 0.1, **F64)),
    "arange_negative_step": (
        lambda: ag.arange(3, -2.5, -0.75),
        lambda: torch.arange(3, -2.5, -0.75, **F64),
    ),
    "arange_int": (
        lambda: ag.arange(1, 10, 4, dtype=np.int64),
        lambda: torch.arange(1, 10, 4),
    ),
    "arange_empty": (lambda: ag.arange(2, 2), lambda: torch.arange(2, 2, **F64)),
    "linspace": (lambda: ag.linspace(-1, 2, 7), lambda: torch.linspace(-1, 2, 7, **F64)),
    "linspace_one": (lambda: ag.linspace(3, 5, 1), lambda: torch.linspace(3, 5, 1, **F64)),
    "linspace_empty": (lambda: ag.linspace(0, 1, 0), lambda: torch.linspace(0, 1, 0, **F64)),
    "linspace_int": (
        lambda: ag.linspace(-10, 0, 4, dtype=np.int64),
        lambda: torch.linspace(-10, 0, 4, dtype=torch.int64),
    ),
    "zeros_like_float32": (
        lambda: ag.zeros_like(ag.ones(2, 3, dtype=np.float32)),
        lambda: torch.zeros_like(torch.ones(2, 3)),
    ),
    "ones_like": (
        lambda: ag.ones_like(ag.zeros(3)),
        lambda: torch.ones_like(torch.zeros(3, **F64)),
    ),
    "full_like": (
        lambda: ag.full_like(ag.zeros(2, 2), 4.25),
        lambda: torch.full_like(torch.zeros(2, 2, **F64), 4.25),
    ),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
def test_constructor_values_shapes_and_dtypes_match_pytorch(name: str) -> None:
    our_call, torch_call = CONSTRUCTORS[name]
    got, want = our_call(), torch_call()
    assert got.shape == tuple(want.shape)
    assert got.dtype == want.numpy().dtype
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-15, atol=1e-15)
