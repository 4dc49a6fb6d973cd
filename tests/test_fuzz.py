"""Fuzzing the public API: random shapes, axes and arguments, valid or not.

Every call either returns what numpy would (shape) with gradients shaped like the inputs, or
raises a documented exception (ValueError, TypeError; IndexError for out-of-range indexing)
whose message is not empty. Nothing else: no AttributeError, no internal numpy error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_core as ag

DOCUMENTED = (ValueError, TypeError)
dtypes = st.sampled_from([np.float32, np.float64])
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
axis_args = st.one_of(
    st.none(),
    st.integers(-4, 4),
    st.lists(st.integers(-4, 4), max_size=3).map(tuple),
    st.sampled_from([1.5, "0", True, [0]]),
)


def outcome(call: Callable[[], Any], allowed: tuple[type[Exception], ...] = DOCUMENTED) -> Any:
    """The result of `call`, or None when it raised an allowed error with a message."""
    try:
        return call()
    except allowed as error:
        assert str(error), f"{type(error).__name__} without a message"
        return None


def numpy_outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:  # what numpy rejects, we must reject too (with our own message)
        return None


def check_gradients(inputs: list[ag.Tensor], out: ag.Tensor) -> None:
    if out.requires_grad:
        out.backward(np.ones(out.shape))
        for x in inputs:
            assert x.grad is None or x.grad.shape == x.shape


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp", "var", "std"])
@fuzz
@given(shape=shapes, axis=axis_args, keepdims=st.booleans(), dtype=dtypes)
def test_reductions_agree_with_numpy_or_raise_a_documented_error(
    name: str, shape: tuple[int, ...], axis: Any, keepdims: bool, dtype: Any
) -> None:
    data = np.arange(float(np.prod(shape))).reshape(shape).astype(dtype)
    x = ag.Tensor(data, requires_grad=True)
    ours = outcome(lambda: getattr(x, name)(axis=axis, keepdims=keepdims))
    if ours is None:
        return
    assert ours.dtype == dtype
    numpy_name = "amax" if name == "logsumexp" else name
    expected = numpy_outcome(lambda: getattr(np, numpy_name)(data, axis=axis, keepdims=keepdims))
    if expected is not None:
        assert ours.shape == np.shape(expected)
    check_gradients([x], ours)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "matmul"])
@fuzz
@given(shape_a=shapes, shape_b=shapes, dtype=dtypes, scalar=st.booleans())
def test_binary_ops_broadcast_like_numpy_or_raise(
    op: str, shape_a: tuple[int, ...], shape_b: tuple[int, ...], dtype: Any, scalar: bool
) -> None:
    a = ag.Tensor(np.full(shape_a, 1.5, dtype=dtype), requires_grad=True)
    b = ag.Tensor(np.full(shape_b, 2.0, dtype=dtype), requires_grad=True)
    if scalar and op != "matmul":  # a Python scalar never changes the dtype
        with_scalar = getattr(ag, op)(a, 3.0)
        assert with_scalar.dtype == dtype and with_scalar.shape == shape_a
    ours = outcome(lambda: getattr(ag, op)(a, b))
    numpy_op = {"sub": np.subtract, "mul": np.multiply, "div": np.divide}.get(op) or getattr(np, op)
    expected = numpy_outcome(lambda: numpy_op(a.data, b.data))
    assert (ours is None) == (expected is None)
    if ours is not None:
        assert ours.shape == np.shape(expected) and ours.dtype == dtype
        check_gradients([a, b], ours)


@fuzz
@given(shape=shapes, target=st.lists(st.integers(-2, 6), max_size=4).map(tuple))
def test_reshape_and_broadcast_to_follow_numpy(
    shape: tuple[int, ...], target: tuple[int, ...]
) -> None:
    x = ag.Tensor(np.zeros(shape), requires_grad=True)
    for ours, theirs in [
        (lambda: x.reshape(target), lambda: np.reshape(x.data, target)),
        (lambda: x.broadcast_to(target), lambda: np.broadcast_to(x.data, target)),
    ]:
        result, expected = outcome(ours), numpy_outcome(theirs)
        assert (result is None) == (expected is None), target
        if result is not None:
            assert result.shape == expected.shape
            check_gradients([x], result)


@fuzz
@given(shape=shapes, axes=st.lists(st.integers(-4, 4), min_size=1, max_size=4).map(tuple))
def test_permute_follows_numpy_transpose(shape: tuple[int, ...], axes: tuple[int, ...]) -> None:
    x = ag.Tensor(np.zeros(shape), requires_grad=True)
    result = outcome(lambda: x.permute(*axes))
    expected = numpy_outcome(lambda: np.transpose(x.data, axes))
    assert (result is None) == (expected is None)
    if result is not None:
        assert result.shape == expected.shape
        check_gradients([x], result)


@fuzz
@given(shape=shapes, a=st.integers(-4, 4), b=st.integers(-4, 4))
def test_transpose_follows_numpy_swapaxes(shape: tuple[int, ...], a: int, b: int) -> None:
    x = ag.Tensor(np.zeros(shape), requires_grad=True)
    result = outcome(lambda: x.transpose(a, b))
    expected = numpy_outcome(lambda: np.swapaxes(x.data, a, b))
    assert (result is None) == (expected is None)
    if result is not None:
        assert result.shape == expected.shape
        check_gradients([x], result)


@fuzz
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_indexing_follows_numpy_or_raises_index_error(
    shape: tuple[int, ...], data: st.DataObject
) -> None:
    x = ag.Tensor(np.arange(float(np.prod(shape))).reshape(shape), requires_grad=True)
    index = data.draw(
        st.one_of(
            st.integers(-5, 5),
            st.lists(st.integers(-5, 5), min_size=1, max_size=4).map(np.array),
            hnp.arrays(np.bool_, shape[:1]),
            st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
        )
    )
    result = outcome(lambda: x[index], (*DOCUMENTED, IndexError))
    expected = numpy_outcome(lambda: x.data[index])
    assert (result is None) == (expected is None)
    if result is not None:
        np.testing.assert_array_equal(result.data, expected)
        check_gradients([x], result)


@fuzz
@given(
    shapes_=st.lists(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3), min_size=1, max_size=3),
    axis=st.integers(-3, 3),
)
def test_concat_and_stack_follow_numpy(shapes_: list[tuple[int, ...]], axis: int) -> None:
    xs = [ag.Tensor(np.ones(s), requires_grad=True) for s in shapes_]
    for ours, theirs in [(ag.concat, np.concatenate), (ag.stack, np.stack)]:
        result = outcome(lambda ours=ours: ours(xs, axis=axis))
        expected = numpy_outcome(lambda theirs=theirs: theirs([x.data for x in xs], axis=axis))
        assert (result is None) == (expected is None)
        if result is not None:
            assert result.shape == expected.shape


@fuzz
@given(
    st.one_of(
        st.text(max_size=3),
        st.none(),
        st.lists(st.lists(st.floats(allow_nan=False), max_size=3), max_size=3),
        st.just(np.array([1 + 2j])),
        st.just(np.array([object()], dtype=object)),
        st.just({"a": 1}),
    )
)
def test_tensor_construction_rejects_what_is_not_a_real_array(data: Any) -> None:
    result = outcome(lambda: ag.Tensor(data))
    if result is not None:
        assert result.dtype.kind == "f"


@fuzz
@given(
    shape=shapes,
    lo=st.one_of(st.none(), st.floats(-2, 2)),
    hi=st.one_of(st.none(), st.floats(-2, 2)),
)
def test_clip_with_any_bounds_keeps_the_shape_or_raises(
    shape: tuple[int, ...], lo: float | None, hi: float | None
) -> None:
    x = ag.Tensor(np.linspace(-3, 3, int(np.prod(shape))).reshape(shape), requires_grad=True)
    result = outcome(lambda: x.clip(lo, hi))
    if result is not None:
        assert result.shape == shape
        check_gradients([x], result)
