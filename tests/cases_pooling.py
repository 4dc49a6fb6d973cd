"""Test data for ops/pooling.py: one line per primitive in `CASES` (the registry test requires
one for every primitive), composites of public functions in `COMPOSITES`. Both get reverse,
forward and second-order checks in test_op_gradients.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt
from autograd_core.ops.pooling import MAX_POOL2D_BACKWARD, _first_maxima
from tests.case_builders import Case, Draw


@st.composite
def windows(draw: st.DrawFn) -> tuple[tuple[int, ...], dict[str, Any], tuple[Any, ...]]:
    """A small input shape, (N, C, H, W) or (C, H, W), with a kernel, stride and padding
    (at most half the kernel) that give at least one window per axis: as a caller spells
    them (an int for a square, stride None for the kernel's), and as (kernel, stride,
    padding) pairs."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    stride = draw(st.just(kernel) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    spatial = (
        draw(st.integers(max(k - 2 * p, 1), k - 2 * p + 3))
        for k, p in zip(kernel, padding, strict=True)
    )
    shape = (*draw(st.sampled_from([(1,), (2,), (1, 2), (2, 1)])), *spatial)

    def spelled(pair: Any) -> Any:
        return pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair

    args = {
        "kernel_size": spelled(kernel),
        "stride": None if stride == kernel and draw(st.booleans()) else spelled(stride),
        "padding": spelled(padding),
    }
    return shape, args, (kernel, stride, padding)


def max_pool_case(draw: Draw) -> Case:
    """Distinct values: no ties, so the argmax stays put under the differences' steps."""
    shape, args, _ = draw(windows())
    return (lambda t: ag.max_pool2d(t, **args)), [draw(agt.distinct_arrays(shape))]


def max_pool_backward_case(draw: Draw) -> Case:
    """The adjoint, at the argmax of drawn distinct values: overlapping windows (stride <
    kernel) share maxima, so positions repeat and their cotangents must add."""
    shape, _, pairs = draw(windows())
    argmax = _first_maxima(draw(agt.distinct_arrays(shape)), *pairs)
    return (lambda g: MAX_POOL2D_BACKWARD(g, argmax=argmax, shape=shape)), [
        draw(agt.arrays(argmax.shape))
    ]


def avg_pool_case(draw: Draw) -> Case:
    shape, args, _ = draw(windows())
    return (lambda t: ag.avg_pool2d(t, **args)), [draw(agt.arrays(shape))]


def adaptive_avg_pool_case(draw: Draw) -> Case:
    """Output sizes below, at and above the input's (windows then overlap), None (keep the
    input's size) and 1 (global average pooling)."""
    shape = (
        *draw(st.sampled_from([(1,), (2,), (1, 2)])),
        *draw(st.tuples(*[st.integers(1, 5)] * 2)),
    )
    size = draw(
        st.sampled_from([1, (1, 1)])
        | st.integers(1, 6)
        | st.tuples(st.none() | st.integers(1, 6), st.none() | st.integers(1, 6))
    )
    return (lambda t: ag.adaptive_avg_pool2d(t, size)), [draw(agt.arrays(shape))]


CASES: dict[str, Callable[[Draw], Case]] = {
    "max_pool2d": max_pool_case,
    "max_pool2d_backward": max_pool_backward_case,
}

COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    "avg_pool2d": avg_pool_case,
    "adaptive_avg_pool2d": adaptive_avg_pool_case,
}
