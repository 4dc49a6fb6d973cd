"""The JAX-style transforms: values, shapes, nesting, and composition with outer reverse mode."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import grad, hessian, jacfwd, jacrev, jvp, numerical_grad, value_and_grad, vjp
from autograd_core.transforms import tree_flatten, tree_unflatten

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
    with pytest.raises(ValueError, match=r"argnums=2 .* called with 2 positional"):
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
    with pytest.raises(ValueError, match=r"cotangent of f.s output\[0\] has shape \(2,\)"):
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


# -- pytrees: nested tuples, lists and dicts in and out, as JAX ------------------------------

LEAVES = st.floats(-2.0, 2.0, allow_nan=False) | st.builds(
    lambda v: np.array(v), st.lists(st.floats(-2.0, 2.0, allow_nan=False), max_size=3)
)
PYTREES = st.recursive(
    LEAVES | st.none(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.sampled_from("abcde"), children, max_size=3)
    ),
    max_leaves=8,
)


def leaves_by_hand(tree: Any) -> list[Any]:
    """The leaves in JAX's order, written out plainly: dict values by sorted key."""
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves_by_hand(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in leaves_by_hand(child)]
    return [tree]


@settings(max_examples=60, deadline=None)
@given(PYTREES)
def test_flatten_gives_the_leaves_in_jax_order_and_unflatten_rebuilds_the_tree(tree: Any) -> None:
    leaves, treedef = tree_flatten(tree)
    assert [id(x) for x in leaves] == [id(x) for x in leaves_by_hand(tree)]
    assert_same_tree(tree_unflatten(treedef, leaves), tree)


def assert_same_tree(got: Any, expected: Any) -> None:
    """Same node types, keys and lengths, and the very same leaf objects."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected)
        for key in expected:
            assert_same_tree(got[key], expected[key])
    elif isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert_same_tree(a, b)
    else:
        assert got is expected


@settings(max_examples=40, deadline=None)
@given(PYTREES)
def test_grad_of_a_pytree_has_its_structure_and_the_gradient_of_the_flattened_function(
    tree: Any,
) -> None:
    def f(t: Any) -> ag.Tensor:
        total = ag.Tensor(0.0)
        for k, leaf in enumerate(tree_flatten(t)[0]):
            total = total + (ag.sin(leaf) * (k + 1.0)).sum()
        return total

    g = grad(f)(tree)
    leaves, treedef = tree_flatten(tree)
    g_leaves, g_def = tree_flatten(g)
    assert g_def == treedef
    for k, (x, gx) in enumerate(zip(leaves, g_leaves, strict=True)):
        assert isinstance(gx, ag.Tensor) and gx.shape == np.shape(x)
        np.testing.assert_allclose(gx.data, np.cos(x) * (k + 1.0), rtol=1e-14)


def mlp_loss(params: dict[str, Any], x: np.ndarray) -> ag.Tensor:
    hidden = ag.tanh(x @ params["w1"] + params["b1"])
    return ((hidden @ params["w2"]) ** 2).mean()


PARAMS = {
    "w1": np.array([[0.3, -0.2], [0.1, 0.5], [-0.4, 0.2]]),
    "b1": np.array([0.05, -0.1]),
    "w2": np.array([[0.7], [-0.3]]),
}
INPUT = np.array([[1.0, 0.5, -0.5], [0.2, -1.0, 0.3]])


def loss_of_leaves(b1: ag.Tensor, w1: ag.Tensor, w2: ag.Tensor) -> ag.Tensor:
    """mlp_loss with the dict flattened by hand (sorted keys: b1, w1, w2)."""
    return mlp_loss({"w1": w1, "b1": b1, "w2": w2}, INPUT)


def test_grad_of_a_dict_of_parameters_is_a_dict_equal_to_flattening_by_hand() -> None:
    g = grad(mlp_loss)(PARAMS, INPUT)
    assert isinstance(g, dict) and list(g) == ["b1", "w1", "w2"]
    by_hand = grad(loss_of_leaves, argnums=(0, 1, 2))(PARAMS["b1"], PARAMS["w1"], PARAMS["w2"])
    for key, expected in zip(["b1", "w1", "w2"], by_hand, strict=True):
        assert g[key].shape == PARAMS[key].shape
        np.testing.assert_array_equal(g[key].data, expected.data)
    value, g2 = value_and_grad(mlp_loss)(PARAMS, INPUT)
    assert value.item() == pytest.approx(loss_of_leaves(*map(ag.Tensor, by_hand_order())).item())
    assert g2.keys() == g.keys()


def by_hand_order() -> list[np.ndarray]:
    return [PARAMS["b1"], PARAMS["w1"], PARAMS["w2"]]


def test_a_list_is_a_list_of_separate_inputs_not_one_stacked_array() -> None:
    g = grad(lambda xs: xs[0] * xs[1] + xs[2] ** 2)([2.0, 3.0, 0.5])
    assert isinstance(g, list) and [x.item() for x in g] == [3.0, 2.0, 1.0]
    g_tuple = grad(lambda xs: (xs[0] * xs[1]).sum())((2.0, np.array([1.0, 4.0])))
    assert isinstance(g_tuple, tuple) and g_tuple[1].shape == (2,)


def test_none_is_an_empty_node_and_namedtuples_keep_their_type() -> None:
    point = collections.namedtuple("point", ["x", "y"])
    g = grad(lambda p: p["at"].x * p["at"].y)({"at": point(2.0, 3.0), "state": None})
    assert g["state"] is None and isinstance(g["at"], point)
    assert (g["at"].x.item(), g["at"].y.item()) == (3.0, 2.0)


def test_a_leaf_that_is_not_numeric_is_named_in_the_error() -> None:
    with pytest.raises(TypeError, match=r"argument 0\['name'\] is a str"):
        grad(lambda p: p["w"].sum())({"w": X, "name": "layer"})


def test_vjp_with_pytree_input_and_output_takes_a_cotangent_of_the_output_structure() -> None:
    def f(p: dict[str, Any]) -> dict[str, Any]:
        return {"square": p["a"] ** 2, "pair": (p["a"] * p["b"], ag.sin(p["b"]))}

    primal = {"a": X, "b": np.array(0.5)}
    out, vjp_fn = vjp(f, primal)
    assert tree_flatten(out)[1] == tree_flatten({"square": 0, "pair": (0, 0)})[1]
    cotangent = {"square": np.ones(3), "pair": (np.full(3, 2.0), 1.0)}
    (g,) = vjp_fn(cotangent)
    np.testing.assert_allclose(g["a"].data, 2 * X + 2.0 * 0.5)
    assert g["b"].item() == pytest.approx(2.0 * X.sum() + np.cos(0.5))
    with pytest.raises(ValueError, match=r"structure of f's output.*'pair'.*but it has \{'square'"):
        vjp_fn({"square": np.ones(3)})
    bad_shape = {"square": np.ones(2), "pair": (np.ones(3), 1.0)}
    with pytest.raises(ValueError, match=r"cotangent of f's output\['square'\] has shape \(2,\)"):
        vjp_fn(bad_shape)


def test_jvp_takes_tangents_of_the_primals_structure() -> None:
    def f(p: dict[str, Any], scale: float) -> list[ag.Tensor]:
        return [p["a"] * p["b"] * scale, p["a"].sum()]

    primals = ({"a": X, "b": np.array(2.0)}, 3.0)
    tangents = ({"a": np.ones(3), "b": np.array(0.0)}, 0.0)
    out, tangent = jvp(f, primals, tangents)
    assert isinstance(out, list) and isinstance(tangent, list)
    np.testing.assert_allclose(tangent[0].data, 6.0 * np.ones(3))
    assert tangent[1].item() == 3.0
    with pytest.raises(TypeError, match=r"same tree structure.*\(\{'a': \*, 'b': \*\}, \*\).*"):
        jvp(f, primals, ({"a": np.ones(3)}, 0.0))
    with pytest.raises(ValueError, match=r"primal 0\['a'\] has shape \(3,\) but its tangent"):
        jvp(f, primals, ({"a": np.ones(2), "b": 0.0}, 0.0))


def test_jvp_of_non_sequences_says_primals_and_tangents_must_be_tuples() -> None:
    with pytest.raises(TypeError, match=r"must be tuples or lists.*got float and float"):
        jvp(ag.sin, 1.0, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("jacobian", [jacfwd, jacrev])
def test_jacobians_of_pytrees_nest_output_structure_outside_input_structure_inside(
    jacobian: Any,
) -> None:
    def f(p: dict[str, Any]) -> tuple[ag.Tensor, dict[str, ag.Tensor]]:
        return p["w"] @ p["v"], {"norm": (p["v"] ** 2).sum()}

    p = {"v": np.array([1.0, -2.0, 0.5]), "w": np.arange(6.0).reshape(2, 3)}
    jac = jacobian(f)(p)
    assert isinstance(jac, tuple) and set(jac[0]) == {"v", "w"} and set(jac[1]) == {"norm"}
    assert jac[0]["w"].shape == (2, 2, 3) and jac[0]["v"].shape == (2, 3)
    assert jac[1]["norm"]["v"].shape == (3,) and jac[1]["norm"]["w"].shape == (2, 3)
    flat = jacobian(lambda v, w: f({"v": v, "w": w}), argnums=(0, 1))(p["v"], p["w"])
    for out_index, out_key in enumerate([None, "norm"]):
        row = jac[out_index] if out_key is None else jac[out_index][out_key]
        for in_index, in_key in enumerate(["v", "w"]):
            expected = flat[out_index] if out_key is None else flat[out_index]["norm"]
            np.testing.assert_array_equal(row[in_key].data, expected[in_index].data)


def test_hessian_of_a_dict_has_one_block_per_pair_of_parameters() -> None:
    h = hessian(lambda p: mlp_loss(p, INPUT))(PARAMS)
    assert set(h) == set(PARAMS) and all(set(row) == set(PARAMS) for row in h.values())
    assert h["w1"]["b1"].shape == (3, 2, 2)
    np.testing.assert_allclose(
        h["w1"]["b1"].data, np.moveaxis(h["b1"]["w1"].data, 0, -1), rtol=1e-12, atol=1e-14
    )
    flat = hessian(loss_of_leaves, argnums=(0, 1, 2))(*by_hand_order())
    np.testing.assert_allclose(h["w2"]["w1"].data, flat[2][1].data, rtol=1e-12, atol=1e-14)


# -- argnums ----------------------------------------------------------------------------------


def test_a_numpy_integer_argnums_works_as_an_int() -> None:
    assert grad(survey, argnums=np.int64(1))(2.0, 5.0).item() == pytest.approx(SURVEY_GRAD[1])
    both = jacrev(survey, argnums=(np.int32(0), 1))(2.0, 5.0)
    assert isinstance(both, tuple) and both[0].item() == pytest.approx(SURVEY_GRAD[0])


@pytest.mark.parametrize("argnums", [1.0, True, (0, False), (), "0", None])
@pytest.mark.parametrize("transform", [grad, value_and_grad, jacrev, jacfwd, hessian])
def test_an_argnums_that_is_not_an_int_or_tuple_of_ints_is_refused_at_once(
    transform: Any, argnums: Any
) -> None:
    with pytest.raises(TypeError, match=r"argnums must be an int or a non-empty tuple of ints"):
        transform(survey, argnums=argnums)


@pytest.mark.parametrize("transform", [grad, value_and_grad, jacrev, jacfwd])
def test_an_argnums_out_of_range_names_argnums_and_the_number_of_arguments(
    transform: Any,
) -> None:
    name = transform.__name__
    with pytest.raises(ValueError, match=rf"^{name}: argnums=\(0, 2\).*survey was called with 2"):
        transform(survey, argnums=(0, 2))(2.0, 5.0)
    with pytest.raises(ValueError, match=r"argnums=-3 .* \[-2, 1\]"):
        transform(survey, argnums=-3)(2.0, 5.0)
    with pytest.raises(ValueError, match="repeats"):
        transform(survey, argnums=(0, -2))(2.0, 5.0)
