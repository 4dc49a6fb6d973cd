"""Pooling as the course teaches it and as PyTorch computes it: the course's worked example,
the size formula, where max pooling sends its gradient (first maximum, overlaps add), the
padding each pool uses, adaptive windows, and errors that name the op, the input shape and
the formula. Gradients against central differences are in test_op_gradients.py."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt
from autograd_core.engine import grad as engine_grad
from tests.cases_pooling import windows

COURSE_MAP = np.array([[1, 2, 3, 3], [0, 1, 1, 5], [3, 0, 1, 0], [1, 4, 1, 2]], dtype=float)
"""The course's 4x4 feature map; a 2x2 window with stride 2 pools it to 2x2."""


def gradient(fn: Any, x: np.ndarray, g: Any = None) -> np.ndarray:
    t = ag.Tensor(x, requires_grad=True)
    y = fn(t)
    y.backward(np.ones(y.shape) if g is None else g)
    assert t.grad is not None
    return np.asarray(t.grad.data)


# --------------------------------------------------------------------------------------------
# The course's worked example and the size formula.
# --------------------------------------------------------------------------------------------


def test_course_example_max_pooling_gives_2_5_4_2() -> None:
    pooled = ag.max_pool2d(COURSE_MAP[None, None], 2, stride=2)
    np.testing.assert_array_equal(pooled.data[0, 0], [[2, 5], [4, 2]])


def test_course_example_average_pooling_gives_1_3_2_1() -> None:
    pooled = ag.avg_pool2d(COURSE_MAP[None, None], 2, stride=2)
    np.testing.assert_array_equal(pooled.data[0, 0], [[1, 3], [2, 1]])


def test_course_example_max_pooling_gradient_marks_each_window_maximum() -> None:
    """Each window passes its gradient to where its maximum was: 2, 5, 4 and the last 2."""
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 3] = expected[3, 1] = expected[3, 3] = 1.0
    np.testing.assert_array_equal(
        gradient(lambda t: ag.max_pool2d(t, 2), COURSE_MAP[None, None])[0, 0], expected
    )


def test_course_example_average_pooling_gradient_spreads_a_quarter() -> None:
    np.testing.assert_array_equal(
        gradient(lambda t: ag.avg_pool2d(t, 2), COURSE_MAP[None, None]), np.full((1, 1, 4, 4), 0.25)
    )


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (4, 2, 2, 0, 2),  # the course's pooled map
        (3, 2, 1, 1, 4),  # the course's convolution example: 3x3, P = 1, 2x2, S = 1
        (28, 2, 2, 0, 14),  # LeNet's pools
        (7, 3, 2, 1, 4),  # (7 + 2 - 3) // 2 + 1
        (5, 2, 2, 0, 2),  # floor: the last row and column are left out
        (6, 3, 3, 1, 2),
        (1, 1, 1, 0, 1),
    ],
)
def test_output_size_follows_the_course_formula(
    size: int, kernel: int, stride: int, padding: int, expected: int
) -> None:
    """out = floor((in + 2p - k)/s) + 1 for every pool."""
    assert (size + 2 * padding - kernel) // stride + 1 == expected
    x = np.zeros((2, 3, size, size))
    for pool in (ag.max_pool2d, ag.avg_pool2d):
        assert pool(x, kernel, stride, padding).shape == (2, 3, expected, expected)


def test_pairs_give_each_axis_its_own_kernel_stride_and_padding() -> None:
    x = np.zeros((1, 2, 7, 9))
    assert ag.max_pool2d(x, (3, 2), stride=(2, 3), padding=(1, 0)).shape == (1, 2, 4, 3)
    assert ag.avg_pool2d(x, [3, 2], stride=[2, 3], padding=[1, 1]).shape == (1, 2, 4, 4)


def test_stride_defaults_to_the_kernel_size() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    for pool in (ag.max_pool2d, ag.avg_pool2d):
        np.testing.assert_array_equal(pool(x, 3).data, pool(x, 3, stride=3).data)


def test_an_unbatched_image_pools_as_a_batch_of_one() -> None:
    x = np.random.default_rng(1).standard_normal((3, 5, 6))
    pools: list[Callable[[Any], ag.Tensor]] = [
        lambda t: ag.max_pool2d(t, 2, 1, 1),
        lambda t: ag.avg_pool2d(t, 3, 2, 1),
        lambda t: ag.adaptive_avg_pool2d(t, (2, 4)),
    ]
    for pool in pools:
        single, batch = pool(x), pool(x[None])
        assert single.shape == batch.shape[1:]
        np.testing.assert_array_equal(single.data, batch.data[0])
        np.testing.assert_array_equal(gradient(pool, x), gradient(pool, x[None])[0])


# --------------------------------------------------------------------------------------------
# Brute-force references: every window taken one at a time.
# --------------------------------------------------------------------------------------------


def windows_of(x: np.ndarray, pairs: Any, fill: float) -> Any:
    """Each output position's window of x padded with `fill`, one at a time; `pairs` are
    the (kernel, stride, padding) pairs."""
    (kh, kw), (sh, sw), (ph, pw) = pairs
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)], constant_values=fill)
    oh = (x.shape[-2] + 2 * ph - kh) // sh + 1
    ow = (x.shape[-1] + 2 * pw - kw) // sw + 1
    for i in range(oh):
        for j in range(ow):
            yield i, j, padded[..., i * sh : i * sh + kh, j * sw : j * sw + kw]


def reference_pool(x: np.ndarray, pairs: Any, reduce: Any, fill: float) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw) = pairs
    oh = (x.shape[-2] + 2 * ph - kh) // sh + 1
    ow = (x.shape[-1] + 2 * pw - kw) // sw + 1
    out = np.empty((*x.shape[:-2], oh, ow))
    for i, j, window in windows_of(x, pairs, fill):
        out[..., i, j] = reduce(window, axis=(-2, -1))
    return out


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_max_pool_is_the_maximum_of_each_window_padded_with_minus_infinity(
    data: st.DataObject,
) -> None:
    shape, args, pairs = data.draw(windows())
    x = data.draw(agt.arrays(shape))
    np.testing.assert_array_equal(
        ag.max_pool2d(x, **args).data, reference_pool(x, pairs, np.max, -np.inf)
    )


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_avg_pool_is_the_mean_of_each_window_with_padding_zeros_counted(
    data: st.DataObject,
) -> None:
    shape, args, pairs = data.draw(windows())
    x = data.draw(agt.arrays(shape))
    np.testing.assert_allclose(
        ag.avg_pool2d(x, **args).data,
        reference_pool(x, pairs, np.mean, 0.0),
        rtol=1e-12,
        atol=1e-15,
    )


def reference_adaptive_pool(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Output (i, j) averages rows floor(i H/OH) .. ceil((i+1) H/OH) - 1, and so on."""
    (h, w), (oh, ow) = x.shape[-2:], size
    out = np.empty((*x.shape[:-2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * h // oh, -(-(i + 1) * h // oh))
            cols = slice(j * w // ow, -(-(j + 1) * w // ow))
            out[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
    return out


@pytest.mark.parametrize("side", [6, 13, 30])  # one matrix for small planes, factors past
@pytest.mark.parametrize(
    "pool",
    [
        (
            "avg 2x2",
            lambda t: ag.avg_pool2d(t, 2),
            lambda x: reference_pool(x, ((2, 2),) * 2 + ((0, 0),), np.mean, 0.0),
        ),
        (
            "avg 3x3 s2 p1",
            lambda t: ag.avg_pool2d(t, 3, 2, 1),
            lambda x: reference_pool(x, ((3, 3), (2, 2), (1, 1)), np.mean, 0.0),
        ),
        (
            "adaptive 5x4",
            lambda t: ag.adaptive_avg_pool2d(t, (5, 4)),
            lambda x: reference_adaptive_pool(x, (5, 4)),
        ),
    ],
    ids=lambda p: p[0],
)
def test_average_pools_of_small_and_large_planes_are_window_means_with_adjoint_gradients(
    side: int, pool: Any
) -> None:
    """Values against the windows one at a time; the gradient is the adjoint of the linear
    map: <pool(x), g> = <x, grad of <pool(x), g>>, for any g."""
    _, ours, reference = pool
    rng = np.random.default_rng(side)
    x = rng.standard_normal((2, 3, side, side + 1))
    y = ours(ag.Tensor(x))
    np.testing.assert_allclose(y.data, reference(x), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(np.sum(y.data * g), np.sum(x * gradient(ours, x, g)), rtol=1e-12)


def reference_max_pool_gradient(x: np.ndarray, pairs: Any, g: np.ndarray) -> np.ndarray:
    """Each window's cotangent added where numpy's argmax (the first maximum) is."""
    (kh, kw), (sh, sw), (ph, pw) = pairs
    h, w = x.shape[-2:]
    grad = np.zeros((*x.shape[:-2], h + 2 * ph, w + 2 * pw))
    for i, j, window in windows_of(x, pairs, -np.inf):
        for lead in np.ndindex(x.shape[:-2]):
            r, c = np.unravel_index(np.argmax(window[lead]), (kh, kw))
            grad[(*lead, i * sh + r, j * sw + c)] += g[(*lead, i, j)]
    return grad[..., ph : ph + h, pw : pw + w]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_max_pool_gradient_goes_to_each_window_first_maximum_and_overlaps_add(
    data: st.DataObject,
) -> None:
    """Values from {0, 1, 2} make ties common: a window's whole cotangent lands on the first
    (row-major) position holding its maximum; windows sharing a maximum add theirs."""
    shape, args, pairs = data.draw(windows())
    x = np.round(data.draw(agt.arrays(shape, low=0.0, high=2.0)))
    g = data.draw(agt.arrays(ag.max_pool2d(x, **args).shape))
    np.testing.assert_allclose(
        gradient(lambda t: ag.max_pool2d(t, **args), x, g),
        reference_max_pool_gradient(x, pairs, g),
        rtol=1e-12,
        atol=1e-12,
    )


# --------------------------------------------------------------------------------------------
# Ties, overlaps, padding and special values, one small case each.
# --------------------------------------------------------------------------------------------


def test_a_tied_window_gives_its_whole_gradient_to_the_first_maximum() -> None:
    """PyTorch's rule for max pooling; the reduction `max` splits a tie evenly instead."""
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    np.testing.assert_array_equal(
        gradient(lambda t: ag.max_pool2d(t, 2), x), [[[[0.0, 1.0], [0.0, 0.0]]]]
    )
    np.testing.assert_allclose(gradient(ag.max, x), [[[[0.0, 1 / 3], [1 / 3, 1 / 3]]]])


def test_overlapping_windows_add_their_gradients_at_a_shared_maximum() -> None:
    x = np.array([[[[0.0, 5.0, 1.0, 2.0]]]])  # windows of 2, stride 1: all three see 5 or 2
    y = ag.max_pool2d(x, (1, 2), stride=1)
    np.testing.assert_array_equal(y.data, [[[[5.0, 5.0, 2.0]]]])
    np.testing.assert_array_equal(
        gradient(lambda t: ag.max_pool2d(t, (1, 2), stride=1), x, [[[[1.0, 10.0, 100.0]]]]),
        [[[[0.0, 11.0, 0.0, 100.0]]]],
    )


def test_max_pool_pads_with_minus_infinity_and_avg_pool_with_counted_zeros() -> None:
    x = -np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(ag.max_pool2d(x, 2, 1, 1).data, -np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(
        ag.avg_pool2d(x, 2, 1, 1).data[0, 0],
        [[-0.25, -0.5, -0.25], [-0.5, -1.0, -0.5], [-0.25, -0.5, -0.25]],
    )


def test_a_window_of_minus_infinity_picks_its_first_pixel_never_the_padding() -> None:
    x = np.full((1, 1, 3, 3), -np.inf)
    y = ag.max_pool2d(x, 3, 2, 1)
    np.testing.assert_array_equal(y.data, np.full((1, 1, 2, 2), -np.inf))
    expected = np.zeros((3, 3))
    expected[0, 0], expected[0, 1], expected[1, 0], expected[1, 1] = 1, 1, 1, 1
    np.testing.assert_array_equal(gradient(lambda t: ag.max_pool2d(t, 3, 2, 1), x)[0, 0], expected)


def test_nan_propagates_and_takes_the_gradient_silently() -> None:
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ag.max_pool2d(x, 2)
        grad = gradient(lambda t: ag.max_pool2d(t, 2), x)
        averaged = ag.avg_pool2d(x, 2).data
    assert np.isnan(y.data).all() and np.isnan(averaged).all()
    np.testing.assert_array_equal(grad, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_pools_keep_float32() -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(np.float32)
    pools: list[Callable[[Any], ag.Tensor]] = [
        lambda t: ag.max_pool2d(t, 3, 2, 1),
        lambda t: ag.avg_pool2d(t, 3, 2, 1),
        lambda t: ag.adaptive_avg_pool2d(t, (4, 5)),
        lambda t: ag.adaptive_avg_pool2d(t, 1),
    ]
    for pool in pools:
        assert pool(ag.Tensor(x)).dtype == np.float32
        assert gradient(pool, x).dtype == np.float32


def test_max_pool_gradient_is_itself_differentiable() -> None:
    """The backward records max_pool2d_backward, whose derivative is max_pool2d again: for
    f = sum(max_pool2d(x)^2), the gradient 2 y lands on the maxima, and the derivative of
    its sum is 2 at each window's maximum (overlapping windows: 2 per window)."""
    x = ag.Tensor(np.array([[[[0.0, 5.0, 1.0, 2.0]]]]), requires_grad=True)
    y = ag.max_pool2d(x, (1, 2), stride=1)
    assert y.grad_fn is not None and y.grad_fn.name() == "max_pool2d"
    (gx,) = engine_grad((y * y).sum(), [x], create_graph=True)
    assert gx.grad_fn is not None and gx.grad_fn.name() == "max_pool2d_backward"
    np.testing.assert_array_equal(gx.data, [[[[0.0, 20.0, 0.0, 4.0]]]])
    (ggx,) = engine_grad(gx.sum(), [x])
    np.testing.assert_array_equal(ggx.data, [[[[0.0, 4.0, 0.0, 2.0]]]])


# --------------------------------------------------------------------------------------------
# Adaptive average pooling.
# --------------------------------------------------------------------------------------------


def test_adaptive_windows_are_pytorchs_floor_and_ceil() -> None:
    """5 inputs to 3 outputs: windows [0, 2), [1, 4), [3, 5) (start floor(i n/out), end
    ceil((i + 1) n/out)), which overlap where out does not divide n."""
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    np.testing.assert_allclose(
        ag.adaptive_avg_pool2d(x, (1, 3)).data[0, 0, 0], [0.5, 2.0, 3.5], rtol=1e-15
    )
    np.testing.assert_allclose(
        gradient(lambda t: ag.adaptive_avg_pool2d(t, (1, 3)), x)[0, 0, 0],
        [0.5, 0.5 + 1 / 3, 1 / 3, 1 / 3 + 0.5, 0.5],
    )


def test_adaptive_pooling_to_a_divisor_is_average_pooling() -> None:
    x = np.random.default_rng(4).standard_normal((2, 3, 8, 6))
    np.testing.assert_allclose(
        ag.adaptive_avg_pool2d(x, (4, 2)).data, ag.avg_pool2d(x, (2, 3)).data, rtol=1e-12
    )


def test_global_average_pooling_is_one_mean_per_channel() -> None:
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 7))
    for size in (1, (1, 1), [1, 1]):
        y = ag.adaptive_avg_pool2d(x, size)
        assert y.shape == (2, 3, 1, 1)
        np.testing.assert_allclose(y.data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)


def test_adaptive_none_keeps_the_input_size_and_larger_outputs_repeat_inputs() -> None:
    x = np.random.default_rng(6).standard_normal((1, 2, 3, 4))
    assert ag.adaptive_avg_pool2d(x, (None, 2)).shape == (1, 2, 3, 2)
    np.testing.assert_allclose(ag.adaptive_avg_pool2d(x, (3, 4)).data, x, rtol=1e-15)
    y = ag.adaptive_avg_pool2d(x, (6, 8))  # each input covers two outputs per axis
    np.testing.assert_allclose(y.data, x.repeat(2, axis=2).repeat(2, axis=3), rtol=1e-15)


# --------------------------------------------------------------------------------------------
# Errors name the op, the input's shape and, for sizes, the course's formula.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pool", [ag.max_pool2d, ag.avg_pool2d])
def test_a_window_larger_than_the_padded_input_shows_the_formula(pool: Any) -> None:
    with pytest.raises(ValueError) as error:
        pool(np.zeros((1, 2, 2, 5)), 3)
    message = str(error.value)
    assert pool.__name__ in message and "(1, 2, 2, 5)" in message
    assert "out = floor((in + 2p - k)/s) + 1 = floor((2 + 2*0 - 3)/3) + 1 = 0" in message
    assert "height" in message


@pytest.mark.parametrize("pool", [ag.max_pool2d, ag.avg_pool2d, ag.adaptive_avg_pool2d])
@pytest.mark.parametrize("shape", [(4, 4), (2, 1, 3, 4, 4), (1, 1, 0, 4)])
def test_inputs_other_than_images_are_refused_with_their_shape(pool: Any, shape: Any) -> None:
    with pytest.raises(
        ValueError, match=rf"{pool.__name__}: expected an input of shape .*got shape"
    ):
        pool(np.zeros(shape), 2)


@pytest.mark.parametrize("pool", [ag.max_pool2d, ag.avg_pool2d])
def test_padding_beyond_half_the_kernel_is_refused(pool: Any) -> None:
    with pytest.raises(ValueError, match=r"padding=\(2, 2\) is more than half of kernel_size"):
        pool(np.zeros((1, 1, 8, 8)), 3, padding=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kernel_size": 2.0}, TypeError, "kernel_size must be an int or a pair of ints"),
        ({"kernel_size": (2, 2, 2)}, TypeError, "kernel_size must be an int or a pair"),
        ({"kernel_size": 0}, ValueError, "kernel_size must be at least 1"),
        ({"kernel_size": 2, "stride": 0}, ValueError, "stride must be at least 1"),
        ({"kernel_size": 2, "padding": -1}, ValueError, "padding must be at least 0"),
        (
            {"kernel_size": 3, "padding": "same"},
            TypeError,
            r"padding must be an int or a pair of ints, got 'same' \('same' and 'valid' are for",
        ),
        ({"kernel_size": True}, TypeError, "kernel_size must be an int"),
    ],
)
def test_bad_window_arguments_are_named(kwargs: Any, error: Any, match: str) -> None:
    for pool in (ag.max_pool2d, ag.avg_pool2d):
        with pytest.raises(error, match=f"{pool.__name__}: {match}"):
            pool(np.zeros((1, 1, 6, 6)), **kwargs)


@pytest.mark.parametrize(
    ("size", "error", "match"),
    [
        (0, ValueError, "output_size must be at least 1"),
        ((2, 2, 2), TypeError, "output_size must be an int or a pair"),
        (1.5, TypeError, "output_size must be an int or a pair"),
    ],
)
def test_bad_adaptive_output_sizes_are_named(size: Any, error: Any, match: str) -> None:
    with pytest.raises(error, match=f"adaptive_avg_pool2d: {match}"):
        ag.adaptive_avg_pool2d(np.zeros((1, 1, 4, 4)), size)
