"""Custom primitives behave like built-ins; gradcheck passes right rules and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import (
    GradcheckError,
    GradcheckWarning,
    grad,
    gradcheck,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    numerical_grad,
    primitive,
)

X = np.array([0.4, -1.3, 2.0])


def cube_rule(g: ag.Tensor, out: ag.Tensor, x: ag.Tensor) -> ag.Tensor:
    """d/dx x^3 = 3 x^2, written with tensor ops so it is differentiable again."""
    return g * 3.0 * x**2


@primitive(vjp=cube_rule, jvp=cube_rule)
def cube(x: np.ndarray) -> np.ndarray:
    """x ** 3 on arrays."""
    return x**3


@primitive(jvp=lambda t, out, x: t * ag.cos(x))
def sin_forward_only(x: np.ndarray) -> np.ndarray:
    return np.sin(x)


@primitive(vjp=lambda g, out, x: g * ag.cos(x))
def sin_reverse_only(x: np.ndarray) -> np.ndarray:
    return np.sin(x)


@primitive(
    vjp=(lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
    jvp=(lambda t, out, a, b: t * b, lambda t, out, a, b: t * a),
)
def times(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b, broadcasting (the engine sums cotangents back to each input's shape)."""
    return a * b


# -- custom primitives ---------------------------------------------------------------------


def test_a_custom_primitive_works_in_backward_jvp_and_to_higher_order() -> None:
    x = ag.Tensor(X, requires_grad=True)
    y = cube(x)
    assert y.grad_fn is not None and y.grad_fn.name() == "cube"  # what draw_graph shows
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * X**2)
    _, tangent = jvp(cube, (X,), (np.ones(3),))
    np.testing.assert_allclose(tangent.data, 3 * X**2)
    np.testing.assert_allclose(hessian(lambda t: cube(t).sum())(X).data, np.diag(6 * X))
    assert gradcheck(cube, [X], order=2)


def test_a_custom_primitive_of_two_broadcasting_inputs_passes_gradcheck() -> None:
    assert gradcheck(times, [np.ones((2, 3)) * X, np.array([1.5, -0.5, 2.0])], order=2)


def test_a_forward_mode_only_primitive_works_under_jvp_and_jacfwd() -> None:
    np.testing.assert_allclose(jacfwd(sin_forward_only)(X).data, np.diag(np.cos(X)))
    _, tangent = jvp(lambda t: sin_forward_only(t).sum(), (X,), (np.ones(3),))
    assert tangent.item() == pytest.approx(np.cos(X).sum())
    assert gradcheck(sin_forward_only, [X], modes=("fwd",), order=2)


def test_a_forward_mode_only_primitive_in_reverse_mode_names_the_op_and_the_missing_rule() -> None:
    with pytest.raises(NotImplementedError, match=r"'sin_forward_only'.*reverse-mode rule \(vjp\)"):
        jacrev(sin_forward_only)(X)
    x = ag.Tensor(X, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"sin_forward_only\.defvjp"):
        sin_forward_only(x).sum().backward()


def test_a_reverse_mode_only_primitive_works_in_reverse_and_names_the_missing_jvp() -> None:
    np.testing.assert_allclose(jacrev(sin_reverse_only)(X).data, np.diag(np.cos(X)))
    with pytest.raises(NotImplementedError, match=r"'sin_reverse_only'.*forward-mode rule \(jvp\)"):
        jacfwd(sin_reverse_only)(X)


def test_custom_primitives_stay_out_of_the_builtin_registry() -> None:
    assert "cube" not in ag.PRIMITIVES and ag.CUSTOM_PRIMITIVES["cube"] is cube
    with pytest.raises(ValueError, match="built-in"):
        primitive(np.exp, name="exp")


def test_rules_can_be_given_later_with_defvjp_and_defjvp() -> None:
    def squared(x: np.ndarray) -> np.ndarray:
        return x * x

    op = primitive(squared).defvjp(lambda g, out, x: g * 2.0 * x).defjvp(None)
    assert gradcheck(op, [X], modes=("rev",))
    with pytest.raises(NotImplementedError, match=r"squared\.defjvp"):
        jacfwd(op)(X)


def test_a_rule_returning_the_wrong_shape_is_reported_with_the_op_name() -> None:
    bad = primitive(np.tanh, name="bad_tanh", vjp=lambda g, out, x: g.sum())
    x = ag.Tensor(X, requires_grad=True)
    with pytest.raises(ValueError, match=r"'bad_tanh'.*vjp rule for input 0.*\(3,\)"):
        bad(x).sum(axis=0, keepdims=True).backward()


def cube_forward(x: np.ndarray) -> np.ndarray:
    return x**3


def scaled_forward(x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    return x * scale


def test_a_rule_with_too_few_parameters_is_refused_at_definition_with_the_expected_call() -> None:
    with pytest.raises(TypeError) as caught:
        primitive(cube_forward, name="cube_g_x", vjp=lambda g, x: g * 3.0 * x**2)
    message = str(caught.value)
    assert "'cube_g_x'" in message and "vjp rule for input 0" in message
    assert "(g, x)" in message and "rule(g, out, x, **params)" in message
    with pytest.raises(TypeError, match=r"jvp rule for input 1.*rule\(t, out, a, b, \*\*params\)"):
        primitive(lambda a, b: a * b, name="mul2", jvp=(lambda t, out, a, b: t * b, lambda t: t))


def test_a_rule_requiring_something_no_call_passes_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match=r"requires y, which is neither an input nor a parameter"):
        primitive(cube_forward, name="cube_y", vjp=lambda g, out, x, y: g * y)
    op = primitive(scaled_forward, name="scaled_ok", vjp=lambda g, out, x, scale=1.0: g * scale)
    assert gradcheck(lambda x: op(x, scale=3.0), [X], modes=("rev",))


def test_a_rule_that_cannot_take_the_call_names_the_op_rule_and_signature_when_called() -> None:
    op = primitive(scaled_forward, name="scaled_no_kw", vjp=lambda g, out, x: g)
    assert grad(lambda x: op(x).sum())(X).shape == (3,)  # no parameter given: it binds
    with pytest.raises(TypeError) as caught:
        grad(lambda x: op(x, scale=2.0).sum())(X)
    message = str(caught.value)
    assert "'scaled_no_kw'" in message and "vjp rule for input 0" in message
    assert "keywords scale" in message and "unexpected keyword argument 'scale'" in message
    assert "rule(g, out, x, **params)" in message


def test_an_error_inside_a_rule_body_is_left_as_it_is() -> None:
    op = primitive(cube_forward, name="cube_body_error", vjp=lambda g, out, x: g + None)
    with pytest.raises(TypeError) as caught:
        grad(lambda x: op(x).sum())(X)
    assert "cube_body_error" not in str(caught.value)


def test_an_engine_primitive_with_a_rule_of_the_wrong_arity_is_refused_at_definition() -> None:
    with pytest.raises(
        TypeError, match=r"'twice'.*reverse-mode \(vjp\) rule for input 1.*\(g, b\)"
    ):
        ag.Primitive("twice", lambda a, b: 2 * a * b, (lambda g, out, a, b: g, lambda g, b: g))
    with pytest.raises(TypeError, match=r"forward-mode \(jvp\) rule for input 0.*rule\(g, out"):
        ag.Primitive("twice", lambda a: 2 * a, (lambda g, out, a: 2 * g,), (lambda t: 2 * t,))
    accepted = ag.Primitive("twice", lambda a: 2 * a, (lambda g, out, *inputs, **params: 2 * g,))
    assert accepted.name == "twice"


# -- gradcheck -------------------------------------------------------------------------------


def _cube_with(vjp_scale: float, jvp_scale: float) -> ag.CustomPrimitive:
    return primitive(
        lambda x: x**3,
        name="cube_under_test",
        vjp=lambda g, out, x: g * vjp_scale * x**2,
        jvp=lambda t, out, x: t * jvp_scale * x**2,
    )


def test_gradcheck_passes_a_right_rule_in_both_modes() -> None:
    assert gradcheck(_cube_with(3.0, 3.0), [X]) is True


def test_gradcheck_catches_a_wrong_reverse_rule_and_reports_where() -> None:
    wrong = _cube_with(2.0, 3.0)
    assert gradcheck(wrong, [X], modes=("fwd",))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(wrong, [X])
    error = caught.value
    assert error.mode == "rev" and error.input_index == 0
    assert error.element == (2, 2)  # |x| largest at index 2: the worst element
    assert error.analytical == pytest.approx(2 * 4.0) and error.numerical == pytest.approx(12.0)
    message = str(error)
    for part in ("reverse mode", "input 0", "input element (2,)", "analytical 8.0", "numerical 12"):
        assert part in message


def test_gradcheck_catches_a_wrong_forward_rule_separately() -> None:
    wrong = _cube_with(3.0, 2.5)
    assert gradcheck(wrong, [X], modes=("rev",))
    with pytest.raises(GradcheckError, match="forward mode") as caught:
        gradcheck(wrong, [X])
    assert caught.value.mode == "fwd"


def test_gradcheck_order_2_catches_a_rule_that_is_not_differentiable_again() -> None:
    def constant_rule(g: ag.Tensor, out: ag.Tensor, x: ag.Tensor) -> ag.Tensor:
        return g * (3.0 * x.data**2)  # a numpy constant: right first derivative, no second

    flat = primitive(lambda x: x**3, name="flat_cube", vjp=constant_rule, jvp=constant_rule)
    assert gradcheck(flat, [X])
    with pytest.raises(GradcheckError, match="second derivative") as caught:
        gradcheck(flat, [X], order=2)
    assert caught.value.order == 2


def test_gradcheck_checks_full_jacobians_of_several_inputs_and_outputs() -> None:
    def f(a: ag.Tensor, b: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
        return ag.softmax(a * b, axis=-1), (a @ b.T).sum()

    a = np.array([[0.1, 0.5, -1.0], [2.0, 0.3, 0.7]])
    assert gradcheck(f, [a, a[::-1] * 0.5], order=2)


def test_gradcheck_warns_for_float32_inputs_and_checks_float64_copies() -> None:
    with pytest.warns(GradcheckWarning, match="float32"):
        assert gradcheck(ag.tanh, [X.astype(np.float32)])


def test_numerical_grad_of_the_survey_example() -> None:
    g1, g2 = numerical_grad(lambda a, b: ag.log(a) + a * b - ag.sin(b), [2.0, 5.0])
    assert (float(g1), float(g2)) == pytest.approx((5.5, 1.7163378145367738), abs=1e-8)
    single = numerical_grad(lambda x: (x * x).sum(), X)
    assert single.shape == X.shape
    with pytest.raises(ValueError, match=r"scalar.*\(3,\)"):
        numerical_grad(lambda x: x * 2.0, X)
