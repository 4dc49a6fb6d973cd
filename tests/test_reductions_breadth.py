"""The reductions as a PyTorch user writes them (`dim=`, `keepdim=`, `correction=`, `max(x,
dim)` returning values and indices) and the ones API.md adds (argmax, argmin, cumsum, prod,
norm): results against numpy, exact derivatives at zeros, clear errors for empty and
out-of-range axes, and forwards that stay silent on inf, nan and empty inputs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

rng = np.random.default_rng(7)
X = rng.standard_normal((3, 4, 2))
INF = float("inf")

# Reductions taking (axis, keepdims) or (dim, keepdim); max/min compared by their values.
REDUCTIONS: dict[str, Callable[..., Any]] = {
    "sum": ag.sum,
    "mean": ag.mean,
    "max": ag.max,
    "min": ag.min,
    "var": ag.var,
    "std": ag.std,
    "logsumexp": ag.logsumexp,
    "prod": ag.prod,
    "argmax": ag.argmax,
    "argmin": ag.argmin,
}


def values(result: Any) -> np.ndarray:
    """The values of a result, whether a tensor or max/min's (values, indices)."""
    return np.asarray(result.values.data if isinstance(result, tuple) else result.data)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [0, -1, 2])
@pytest.mark.parametrize("keepdims", [False, True])
def test_every_reduction_takes_pytorchs_dim_and_keepdim(
    name: str, axis: int, keepdims: bool
) -> None:
    fn = REDUCTIONS[name]
    numpy_style = fn(ag.Tensor(X), axis=axis, keepdims=keepdims)
    torch_style = fn(ag.Tensor(X), dim=axis, keepdim=keepdims)
    method = getattr(ag.Tensor(X), name)(dim=axis, keepdim=keepdims)
    np.testing.assert_array_equal(values(torch_style), values(numpy_style))
    np.testing.assert_array_equal(values(method), values(numpy_style))
    assert values(torch_style).shape == (
        X.shape[: axis % 3] + (1,) * keepdims + X.shape[axis % 3 + 1 :]
    )


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp", "prod"])
def test_reductions_take_a_tuple_of_dims(name: str) -> None:
    fn = REDUCTIONS[name]
    ours = fn(ag.Tensor(X), dim=(0, 2), keepdim=True)
    np.testing.assert_allclose(ours.data, fn(ag.Tensor(X), axis=(0, 2), keepdims=True).data)
    assert ours.shape == (1, 4, 1)


@pytest.mark.parametrize("fn", [ag.softmax, ag.log_softmax])
def test_softmax_and_log_softmax_take_dim(fn: Callable[..., ag.Tensor]) -> None:
    np.testing.assert_array_equal(fn(ag.Tensor(X), dim=1).data, fn(ag.Tensor(X), axis=1).data)
    np.testing.assert_array_equal(fn(ag.Tensor(X), 1).data, fn(ag.Tensor(X), axis=1).data)
    np.testing.assert_array_equal(ag.Tensor(X).softmax(dim=0).data, ag.softmax(X, 0).data)


BOTH_SPELLINGS: dict[str, Callable[[ag.Tensor], Any]] = {
    **{
        f"{name} axis+dim": (lambda t, f=fn: f(t, axis=0, dim=1)) for name, fn in REDUCTIONS.items()
    },
    **{
        f"{name} keepdims+keepdim": (lambda t, f=fn: f(t, axis=0, keepdims=True, keepdim=False))
        for name, fn in REDUCTIONS.items()
    },
    "softmax axis+dim": lambda t: ag.softmax(t, axis=0, dim=1),
    "log_softmax axis+dim": lambda t: ag.log_softmax(t, 0, dim=1),
    "norm dim+axis": lambda t: ag.norm(t, 2, 0, axis=1),
    "norm keepdim+keepdims": lambda t: ag.norm(t, 2, 0, True, keepdims=True),
    "cumsum axis+dim": lambda t: ag.cumsum(t, 0, dim=0),
    "var ddof+correction": lambda t: ag.var(t, ddof=1, correction=1),
    "std ddof+unbiased": lambda t: ag.std(t, ddof=1, unbiased=True),
    "var correction+unbiased": lambda t: ag.var(t, correction=1, unbiased=True),
}


@pytest.mark.parametrize("case", sorted(BOTH_SPELLINGS))
def test_giving_both_spellings_of_an_argument_raises_a_type_error_naming_the_op(
    case: str,
) -> None:
    with pytest.raises(TypeError, match=case.split()[0] + ": got both"):
        BOTH_SPELLINGS[case](ag.Tensor(X))


# --------------------------------------------------------------------------------------------
# max, min, argmax, argmin
# --------------------------------------------------------------------------------------------

TIES = np.array([[1.0, 3.0, 3.0, -2.0], [5.0, 0.0, 5.0, -2.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_with_dim_return_values_and_first_indices(
    name: str, dim: int, keepdim: bool
) -> None:
    x = ag.Tensor(TIES, requires_grad=True)
    result = getattr(ag, name)(x, dim=dim, keepdim=keepdim)
    values, indices = result
    assert result.values is values and result.indices is indices
    find = np.argmax if name == "max" else np.argmin
    np.testing.assert_array_equal(values.data, getattr(np, name)(TIES, dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.data, find(TIES, dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad and values.requires_grad
    values.sum().backward()
    assert x.grad is not None and x.grad.data.sum() == pytest.approx(values.numel())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_with_axis_return_the_values_only(name: str) -> None:
    x = ag.Tensor(TIES)
    for result in [getattr(x, name)(axis=1), getattr(x, name)(1), getattr(ag, name)(x)]:
        assert isinstance(result, ag.Tensor)
    np.testing.assert_array_equal(getattr(x, name)(1).data, getattr(np, name)(TIES, 1))


def test_max_with_dim_of_a_0d_tensor_gives_index_0() -> None:
    values, indices = ag.max(ag.Tensor(2.5), dim=0)
    assert values.item() == 2.5 and indices.item() == 0 and indices.shape == ()


@pytest.mark.parametrize("dim", [(0, 1), [0], 1.0, True])
def test_max_dim_takes_one_int(dim: Any) -> None:
    with pytest.raises(TypeError, match="max: dim= takes one int"):
        ag.max(ag.Tensor(TIES), dim=dim)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_and_argmin_match_numpy_with_first_index_on_ties(
    name: str, axis: int | None, keepdims: bool
) -> None:
    x = ag.Tensor(TIES, requires_grad=True)
    ours = getattr(x, name)(axis, keepdims)
    expected = getattr(np, name)(TIES, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(ours.data, expected)
    assert ours.shape == np.shape(expected) and ours.dtype == np.int64
    assert not ours.requires_grad and ours.is_leaf


def test_argmax_of_a_0d_tensor_is_0_and_a_nan_counts_as_the_maximum() -> None:
    assert ag.argmax(ag.Tensor(3.0)).item() == 0 and ag.argmin(ag.Tensor(3.0), dim=0).item() == 0
    assert ag.argmax(ag.Tensor([1.0, np.nan, 2.0, np.nan])).item() == 1
    assert ag.argmin(ag.Tensor([1.0, np.nan, 2.0, np.nan])).item() == 1


def test_argmax_takes_one_axis() -> None:
    with pytest.raises(TypeError, match=r"argmax: axis must be one int or None, got \(0, 1\)"):
        ag.argmax(ag.Tensor(TIES), axis=(0, 1))


def test_a_nan_maximum_takes_the_gradient_as_in_pytorch() -> None:
    x = ag.Tensor([1.0, np.nan, 2.0], requires_grad=True)
    x.max().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])


# --------------------------------------------------------------------------------------------
# cumsum
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2])
def test_cumsum_matches_numpy_and_its_gradient_sums_from_the_end(axis: int | None) -> None:
    x = ag.Tensor(X, requires_grad=True)
    out = ag.cumsum(x, axis) if axis is not None else x.cumsum()
    np.testing.assert_allclose(out.data, np.cumsum(X, axis=axis), rtol=1e-14)
    out.backward(np.ones(out.shape))
    n = X.size if axis is None else X.shape[axis]
    from_end = np.arange(n, 0, -1.0)  # d/dx_i sum_j out_j = number of j >= i
    expected = (
        from_end.reshape(X.shape)
        if axis is None
        else np.broadcast_to(np.moveaxis(from_end.reshape(-1, 1, 1), 0, axis % 3), X.shape)
    )
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, expected)


def test_cumsum_takes_dim_and_a_0d_tensor_is_its_own_running_sum() -> None:
    np.testing.assert_array_equal(ag.Tensor(X).cumsum(dim=1).data, np.cumsum(X, 1))
    scalar = ag.Tensor(2.5, requires_grad=True)
    out = ag.cumsum(scalar, dim=0)
    assert out.shape == () and out.item() == 2.5 and out is not scalar
    assert ag.cumsum(scalar).shape == (1,)  # numpy: axis=None flattens


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: ag.cumsum(t, (0, 1)), TypeError, "cumsum: axis must be an int"),
        (lambda t: ag.cumsum(t, 3), ValueError, r"cumsum: axis 3 is out of range .* \(3, 4, 2\)"),
        (lambda t: ag.cumsum(ag.Tensor(1.0), 1), ValueError, r"cumsum: axis 1 is out of range"),
    ],
)
def test_cumsum_rejects_bad_axes_clearly(
    call: Callable[..., Any], error: Any, message: str
) -> None:
    with pytest.raises(error, match=message):
        call(ag.Tensor(X))


# --------------------------------------------------------------------------------------------
# prod
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_matches_numpy(axis: Any, keepdims: bool) -> None:
    ours = ag.prod(ag.Tensor(X), axis, keepdims)
    expected = np.prod(X, axis=axis, keepdims=keepdims)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours.data, expected, rtol=1e-13)


def test_prod_over_an_empty_axis_is_one() -> None:
    x = ag.Tensor(np.zeros((2, 0)), requires_grad=True)
    out = x.prod(dim=1)
    np.testing.assert_array_equal(out.data, [1.0, 1.0])
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (2, 0)


def test_prod_of_a_0d_tensor_is_a_new_tensor() -> None:
    x = ag.Tensor(3.0, requires_grad=True)
    out = ag.prod(x)
    assert out.item() == 3.0 and out is not x and not np.shares_memory(out.data, x.data)


@pytest.mark.parametrize(
    ("x", "gradient"),
    [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
        ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),  # one zero: the product of the others there
        ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),  # two zeros: 0 everywhere
        ([0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0]),
    ],
)
def test_the_gradient_of_prod_is_the_product_of_the_others_also_at_zeros(
    x: list[float], gradient: list[float]
) -> None:
    t = ag.Tensor(x, requires_grad=True)
    t.prod().backward()
    assert t.grad is not None
    np.testing.assert_array_equal(t.grad.data, gradient)


@pytest.mark.parametrize("x", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [2.0, 3.0, 5.0]])
def test_the_hessian_of_prod_is_exact_at_zeros(x: list[float]) -> None:
    """d^2 prod / dx_i dx_j = the product of all but x_i and x_j (i != j), 0 on the diagonal."""
    a = np.array(x)
    expected = np.array(
        [[0.0 if i == j else np.prod(np.delete(a, [i, j])) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_array_equal(ag.hessian(ag.prod)(a).data, expected)


# --------------------------------------------------------------------------------------------
# norm
# --------------------------------------------------------------------------------------------

V = np.array([[3.0, -4.0, 0.0], [1.0, -1.0, 2.0]])


@pytest.mark.parametrize("p", [2, "fro", None, 1, 3, 0.5, INF, -INF, 0])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_matches_the_vector_norm_formula(p: Any, dim: Any, keepdim: bool) -> None:
    order = 2 if p in ("fro", None) else p
    a = np.abs(V)
    if order == INF:
        expected = a.max(axis=dim, keepdims=keepdim)
    elif order == -INF:
        expected = a.min(axis=dim, keepdims=keepdim)
    elif order == 0:
        expected = (a != 0).sum(axis=dim, keepdims=keepdim).astype(float)
    else:
        expected = (a**order).sum(axis=dim, keepdims=keepdim) ** (1 / order)
    ours = ag.norm(V, p, dim, keepdim)
    assert ours.shape == np.shape(expected)
    np.testing.assert_allclose(ours.data, expected, rtol=1e-14)
    np.testing.assert_allclose(ag.Tensor(V).norm(p, axis=dim, keepdims=keepdim).data, expected)


def test_the_2_norm_is_numpys_norm() -> None:
    np.testing.assert_allclose(ag.norm(X).item(), np.linalg.norm(X.ravel()), rtol=1e-14)
    np.testing.assert_allclose(ag.norm(X, dim=2).data, np.linalg.norm(X, axis=2), rtol=1e-14)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 1.5, INF, -INF, 0])
def test_the_gradient_and_hessian_of_norm_at_zero_are_zero_not_nan(p: float) -> None:
    zero = np.zeros(3)
    np.testing.assert_array_equal(ag.grad(lambda t: ag.norm(t, p))(zero).data, np.zeros(3))
    np.testing.assert_array_equal(ag.hessian(lambda t: ag.norm(t, p))(zero).data, np.zeros((3, 3)))
    np.testing.assert_array_equal(ag.jacfwd(lambda t: ag.norm(t, p))(zero).data, np.zeros(3))


def test_the_2_norm_with_a_zero_entry_has_its_exact_derivatives() -> None:
    """Only x = 0 is a kink of the 2-norm: with one zero entry, grad x/|x| and Hessian
    (I - x x^T / |x|^2) / |x| hold as everywhere else."""
    a = np.array([0.0, 3.0, 4.0])
    np.testing.assert_allclose(ag.grad(ag.norm)(a).data, a / 5.0, rtol=1e-15)
    expected = (np.eye(3) - np.outer(a, a) / 25.0) / 5.0
    np.testing.assert_allclose(ag.hessian(ag.norm)(a).data, expected, rtol=1e-14, atol=1e-16)


def test_the_inf_norm_shares_the_gradient_among_ties_with_their_signs() -> None:
    x = ag.Tensor([3.0, -3.0, 1.0, 3.0], requires_grad=True)
    ag.norm(x, INF).backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, [1 / 3, -1 / 3, 0.0, 1 / 3])


@pytest.mark.parametrize("p", [-1, -0.5, "nuc", float("nan"), True, [2]])
def test_norm_rejects_an_unsupported_p(p: Any) -> None:
    with pytest.raises(ValueError, match="norm: p must be"):
        ag.norm(V, p)


def test_the_inf_norm_of_nothing_is_an_error_and_the_2_norm_is_0() -> None:
    with pytest.raises(ValueError, match=r"norm: cannot take the inf norm .* shape \(0,\)"):
        ag.norm(np.zeros(0), INF)
    assert ag.norm(np.zeros(0)).item() == 0.0
    assert ag.norm(np.zeros((2, 0)), INF, dim=0).shape == (0,)


# --------------------------------------------------------------------------------------------
# var and std with PyTorch's correction= and unbiased=
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [ag.var, ag.std])
def test_var_and_std_take_pytorchs_correction_and_unbiased(fn: Callable[..., ag.Tensor]) -> None:
    x = ag.Tensor(X)
    for ddof, spelled in [
        (1, {"correction": 1}),
        (1, {"unbiased": True}),
        (0, {"unbiased": False}),
        (2, {"correction": 2}),
    ]:
        np.testing.assert_array_equal(
            fn(x, dim=1, **spelled).data, fn(x, axis=1, ddof=ddof).data, err_msg=str(spelled)
        )
    np.testing.assert_allclose(fn(x, 0, correction=1).data, getattr(np, fn.__name__)(X, 0, ddof=1))


# --------------------------------------------------------------------------------------------
# Errors and silence
# --------------------------------------------------------------------------------------------

ALL_AXIS_OPS: dict[str, Callable[..., Any]] = {
    **REDUCTIONS,
    "norm": lambda t, axis: ag.norm(t, dim=axis),
    "cumsum": ag.cumsum,
    "softmax": ag.softmax,
    "log_softmax": ag.log_softmax,
}


@pytest.mark.parametrize("name", sorted(ALL_AXIS_OPS))
def test_an_out_of_range_axis_names_the_op_the_axis_and_the_shape(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: axis 3 is out of range .* \(3, 4, 2\)"):
        ALL_AXIS_OPS[name](ag.Tensor(X), axis=3)


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_reducing_an_empty_axis_without_identity_names_the_op_the_axis_and_the_shape(
    name: str,
) -> None:
    fn = REDUCTIONS[name]
    empty = ag.Tensor(np.zeros((2, 0)))
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce over an empty axis \(axis 1, "):
        fn(empty, axis=1)
    with pytest.raises(ValueError, match=rf"{name}: .*axis None, shape \(2, 0\)"):
        fn(empty)
    assert fn(empty, axis=0).shape == (0,)  # nothing to reduce over a nonempty axis: fine


def test_reductions_with_an_identity_give_it_over_an_empty_axis() -> None:
    empty = ag.Tensor(np.zeros((2, 0)), requires_grad=True)
    np.testing.assert_array_equal(ag.sum(empty, 1).data, [0.0, 0.0])
    np.testing.assert_array_equal(ag.logsumexp(empty, 1).data, [-INF, -INF])
    np.testing.assert_array_equal(ag.softmax(empty, 1).data.shape, (2, 0))
    assert np.isnan(ag.mean(empty, 1).data).all()
    (ag.logsumexp(empty, 1).sum() + ag.mean(empty, 1).sum()).backward()
    assert empty.grad is not None and empty.grad.shape == (2, 0)


NONFINITE = np.array([[INF, -INF, 1.0], [np.nan, 2.0, -INF], [-INF, -INF, -INF]])

SILENT: dict[str, Callable[[ag.Tensor], Any]] = {
    "sum": lambda t: t.sum(dim=1),
    "mean": lambda t: t.mean(1),
    "mean of nothing": lambda t: t[:, :0].mean(1),
    "max": lambda t: t.max(dim=1).values,
    "min": lambda t: t.min(1),
    "argmax": lambda t: t.argmax(1),
    "logsumexp": lambda t: t.logsumexp(1),
    "logsumexp of nothing": lambda t: t[:, :0].logsumexp(1),
    "var": lambda t: t.var(1),
    "std": lambda t: t.std(1, correction=1),
    "prod": lambda t: t.prod(1),
    "cumsum": lambda t: t.cumsum(1),
    "norm": lambda t: ag.norm(t, dim=1),
    "norm_half": lambda t: ag.norm(t, 0.5, dim=1),
    "norm_inf": lambda t: ag.norm(t, INF, dim=1),
    "softmax": lambda t: t.softmax(1),
    "log_softmax": lambda t: t.log_softmax(1),
}


COMPOSED_OF_ARITHMETIC = {"var"}


@pytest.mark.parametrize("name", sorted(SILENT))
def test_forward_ops_stay_silent_on_inf_nan_and_empty_inputs(name: str) -> None:
    """PyTorch's behaviour: IEEE inf/nan results, no warnings (detect_anomaly is the tool):
    nothing is emitted (the forward itself is quiet), and so nothing raises under -W error."""
    if name in COMPOSED_OF_ARITHMETIC:
        pytest.skip("made of `x - mean`: ops/elementwise.py's `-` still warns on inf - inf")
    x = ag.Tensor(NONFINITE, requires_grad=True)
    with warnings.catch_warnings(record=True) as emitted:
        warnings.simplefilter("always")
        out = SILENT[name](x)
        if out.requires_grad:
            out.backward(np.ones(out.shape))
    assert [str(w.message) for w in emitted] == []


@pytest.mark.parametrize("name", sorted(SILENT))
def test_forward_ops_raise_nothing_under_warnings_as_errors(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = SILENT[name](ag.Tensor(NONFINITE, requires_grad=True))
        if out.requires_grad:
            out.backward(np.ones(out.shape))


def test_logsumexp_and_softmax_of_minus_infinity_are_as_in_pytorch() -> None:
    with warnings.catch_warnings(record=True) as emitted:
        warnings.simplefilter("always")
        assert ag.logsumexp(ag.Tensor([-INF, -INF])).item() == -INF
        np.testing.assert_array_equal(ag.softmax(ag.Tensor([0.0, -INF])).data, [1.0, 0.0])
        np.testing.assert_array_equal(ag.log_softmax(ag.Tensor([0.0, -INF])).data, [0.0, -INF])
        assert np.isnan(ag.softmax(ag.Tensor([-INF, -INF])).data).all()
    assert [str(w.message) for w in emitted] == []
