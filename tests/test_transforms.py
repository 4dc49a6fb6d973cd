"""The JAX-style transforms: values, shapes, nesting, and composition with outer reverse mode."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import grad, hessian, jacfwd, jacrev, jvp, numerical_grad, value_and_grad, vjp

SURVEY_VALUE = 11.652071455223084
SURVEY_GRAD = (5.5, 1.7163378145367738)


def survey(x1: ag.Tensor, x2: ag.Tensor) -> ag.Tensor:
    """Baydin et al. (2018): f(x1, x2) = ln(x1) + x1 x2 - sin(x2)."""
    return ag.log(x1) + x1 * x2 - ag.sin(x2)


def bowl(x: ag.Tensor) -> ag.Tensor:
    """A smooth scalar function of a vector with a dense, non-diagonal Hessian."""
    return (ag.sin(x) * x).sum() + (x.sum() ** 2) * ag.exp(x[0] * 0.3) + ag.logsumexp(x * x)


X = np.array([0.3, -0.7, 1.1])


# -- the survey example, by every transform ------------------------------------------------


def test_survey_example_value_and_gradient_by_value_and_grad() -> None:
    value, (g1, g2) = value_and_grad(survey, argnums=(0, 1))(2.0, 5.0)
    assert value.item() == pytest.approx(SURVEY_VALUE, abs=1e-12)
    assert (g1.item(), g2.item()) == pytest.approx(SURVEY_GRAD, abs=1e-12)


def test_survey_example_gradient_by_grad_one_argument_at_a_time() -> None:
    assert grad(survey)(2.0, 5.0).item() == pytest.approx(SURVEY_GRAD[0], abs=1e-12)
    assert grad(survey, argnums=1)(2.0, 5.0).item() == pytest.approx(SURVEY_GRAD[1], abs=1e-12)


def test_survey_example_gradient_by_jvp_one_pass_per_input() -> None:
    out, d1 = jvp(survey, (2.0, 5.0), (1.0, 0.0))
    _, d2 = jvp(survey, (2.0, 5.0), (0.0, 1.0))
    assert out.item() == pytest.approx(SURVEY_VALUE, abs=1e-12)
    assert (d1.item(), d2.item()) == pytest.approx(SURVEY_GRAD, abs=1e-12)


def test_survey_example_gradient_by_vjp_one_pass_for_both_inputs() -> None:
    out, vjp_fn = vjp(survey, 2.0, 5.0)
    g1, g2 = vjp_fn(1.0)
    assert out.item() == pytest.approx(SURVEY_VALUE, abs=1e-12)
    assert (g1.item(), g2.item()) == pytest.approx(SURVEY_GRAD, abs=1e-12)


@pytest.mark.parametrize("jacobian", [jacfwd, jacrev])
def test_survey_example_gradient_by_jacfwd_and_jacrev(jacobian: object) -> None:
    j1, j2 = jacobian(survey, argnums=(0, 1))(2.0, 5.0)  # type: ignore[operator]
    assert j1.shape == () and j2.shape == ()
    assert (j1.item(), j2.item()) == pytest.approx(SURVEY_GRAD, abs=1e-12)


# -- shapes, argnums, aux, errors ------------------------------------------------------------


def test_jacobians_have_shape_out_shape_plus_in_shape() -> None:
    a = np.arange(6.0).reshape(2, 3) / 7
    b = np.array([0.5, -1.0, 2.0, 0.1])

    def f(a: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
        return ag.tanh(a[:, :, None] * b)  # shape (2, 3, 4)

    for jacobian in (jacfwd, jacrev):
        ja, jb = jacobian(f, argnums=(0, 1))(a, b)
        assert ja.shape == (2, 3, 4, 2, 3) and jb.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(
        jacfwd(f, (0, 1))(a, b)[1].data, jacrev(f, (0, 1))(a, b)[1].data, atol=1e-14
    )


def test_tuple_outputs_give_one_jacobian_per_output() -> None:
    def f(x: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
        return x * 2.0, x.sum()

    for jacobian in (jacfwd, jacrev):
        j_double, j_sum = jacobian(f)(X)
        np.testing.assert_array_equal(j_double.data, 2 * np.eye(3))
        np.testing.assert_array_equal(j_sum.data, np.ones(3))


def test_gradient_keeps_the_shape_and_dtype_of_its_argument() -> None:
    x32 = np.ones((2, 3), dtype=np.float32)
    g = grad(lambda x: (x * np.arange(3.0)).sum())(x32)  # float64 constant promotes the output
    assert g.shape == (2, 3) and g.dtype == np.float32


def test_negative_argnums_count_from_the_end() -> None:
    assert grad(survey, argnums=-1)(2.0, 5.0).item() == pytest.approx(SURVEY_GRAD[1])


def test_has_aux_returns_the_auxiliary_data_untouched_by_differentiation() -> None:
    def loss(x: ag.Tensor) -> tuple[ag.Tensor, dict[str, ag.Tensor]]:
        y = x * x
        return y.sum(), {"y": y}

    g, aux = grad(loss, has_aux=True)(X)
    np.testing.assert_array_equal(g.data, 2 * X)
    assert aux["y"].grad_fn is None and not aux["y"].requires_grad
    (value, aux2), g2 = value_and_grad(loss, has_aux=True)(X)
    np.testing.assert_array_equal(g2.data, 2 * X)
    assert value.item() == pytest.approx(np.sum(X * X))
    np.testing.assert_array_equal(aux2["y"].data, X * X)


def test_grad_of_a_non_scalar_function_names_the_shape() -> None:
    with pytest.raises(ValueError, match=r"scalar.*\(3,\).*jacrev"):
        grad(lambda x: x * 2.0)(X)


def test_grad_of_a_function_returning_a_tuple_suggests_has_aux() -> None:
    with pytest.raises(TypeError, match="has_aux=True"):
        grad(lambda x: (x.sum(), x))(X)


def test_argnums_out_of_range_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="argnums 2"):
        grad(survey, argnums=2)(2.0, 5.0)


def test_gradient_of_an_unused_argument_is_zero() -> None:
    g1, g2 = grad(lambda a, b: a * 3.0, argnums=(0, 1))(1.0, np.ones(2))
    assert g1.item() == 3.0
    np.testing.assert_array_equal(g2.data, [0.0, 0.0])


def test_vjp_fn_can_be_called_again_and_handles_tuple_outputs() -> None:
    out, vjp_fn = vjp(lambda x: (x * 2.0, ag.sin(x)), X)
    assert len(out) == 2
    first = vjp_fn((np.ones(3), np.zeros(3)))
    again = vjp_fn(np.ones(3), np.ones(3))
    np.testing.assert_array_equal(first[0].data, 2 * np.ones(3))
    np.testing.assert_allclose(again[0].data, 2 + np.cos(X))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(2,\)"):
        vjp_fn(np.ones(2), np.ones(3))


def test_transforms_leave_dot_grad_of_user_tensors_alone() -> None:
    x = ag.Tensor(X, requires_grad=True)
    grad(bowl)(x)
    jacrev(bowl)(x)
    hessian(bowl)(x)
    vjp(bowl, x)[1](1.0)
    assert x.grad is None


def test_results_do_not_drag_a_graph_along_when_nothing_outside_needs_it() -> None:
    value, g = value_and_grad(bowl)(X)
    assert not value.requires_grad and not g.requires_grad and g.grad_fn is None


# -- nesting ----------------------------------------------------------------------------------


def test_grad_of_grad_is_the_second_derivative() -> None:
    d2 = grad(grad(lambda t: ag.sin(t) * t))(0.7)
    assert d2.item() == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7), rel=1e-13)
    d3 = grad(grad(grad(lambda t: t**4)))(1.5)
    assert d3.item() == pytest.approx(24 * 1.5, rel=1e-13)


def test_hessian_is_symmetric_and_equals_differences_of_the_gradient() -> None:
    h = hessian(bowl)(X).data
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    differences = np.stack([numerical_grad(lambda x, i=i: grad(bowl)(x)[i], X) for i in range(3)])
    np.testing.assert_allclose(h, differences, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "outer, inner",
    [(jacfwd, jacrev), (jacrev, jacrev), (jacrev, jacfwd), (jacfwd, jacfwd)],
)
def test_every_composition_of_jacobians_gives_the_same_hessian(
    outer: object, inner: object
) -> None:
    expected = hessian(bowl)(X).data
    got = outer(inner(bowl))(X).data  # type: ignore[operator]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_forward_over_reverse_hvp_equals_reverse_over_reverse() -> None:
    v = np.array([0.2, -1.0, 0.5])
    _, fwd_over_rev = jvp(grad(bowl), (X,), (v,))
    rev_over_rev = grad(lambda x: (grad(bowl)(x) * v).sum())(X)
    np.testing.assert_allclose(fwd_over_rev.data, rev_over_rev.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fwd_over_rev.data, hessian(bowl)(X).data @ v, rtol=1e-12)


def test_grad_of_a_function_that_calls_jvp_is_reverse_over_forward() -> None:
    v = np.array([0.2, -1.0, 0.5])
    rev_over_fwd = grad(lambda x: jvp(bowl, (x,), (v,))[1])(X)
    np.testing.assert_allclose(rev_over_fwd.data, hessian(bowl)(X).data @ v, rtol=1e-12)


def test_hessian_with_tuple_argnums_gives_blocks() -> None:
    blocks = hessian(survey, argnums=(0, 1))(2.0, 5.0)
    h = np.array([[b.item() for b in row] for row in blocks])
    np.testing.assert_allclose(h, [[-0.25, 1.0], [1.0, np.sin(5.0)]], atol=1e-13)


# -- composition with outer reverse mode -----------------------------------------------------


def test_a_gradient_computed_inside_differentiated_code_stays_connected() -> None:
    x = ag.Tensor(X, requires_grad=True)
    g = grad(bowl)(x)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, hessian(bowl)(X).data.sum(0), rtol=1e-12)


def test_a_transform_sees_outer_tensors_its_function_closes_over() -> None:
    w = ag.Tensor(2.0, requires_grad=True)
    g = grad(lambda x: (w * x * x).sum())(X)  # 2 w x
    g.sum().backward()
    assert w.grad.item() == pytest.approx(2 * X.sum())


def test_jacobians_inside_differentiated_code_stay_connected() -> None:
    for jacobian in (jacfwd, jacrev):
        x = ag.Tensor(X, requires_grad=True)
        jacobian(lambda t: t**3)(x).sum().backward()  # d/dx sum(diag(3x^2)) = 6x
        np.testing.assert_allclose(x.grad.data, 6 * X, rtol=1e-13)


def test_a_transform_does_not_free_or_run_the_outer_graph_it_links_into() -> None:
    x = ag.Tensor(X, requires_grad=True)
    h = x * 2.0
    h.sum().backward()  # frees h's node
    assert grad(lambda t: (t * t).sum())(h).shape == (3,)  # would fail on the freed node
