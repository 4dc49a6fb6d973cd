"""Hypothesis strategies for property tests of derivatives (yours and ours).

Import it in tests: `from autograd_core import testing as agt`. It needs `hypothesis`, which
`import autograd_core` never loads.

Values are kept away from non-differentiable points *by construction* (a drawn value that
falls within `margin` of a kink is moved out to the margin), never by rejecting examples, so
hypothesis does not waste draws and shrinking stays effective.

Every array strategy takes `dtype` (float64 by default; float32, or a strategy such as
`dtypes()` to draw one); values are drawn in float64 and then cast.

Example::

    from hypothesis import given
    import autograd_core as ag
    from autograd_core import testing as agt

    @given(agt.arrays(agt.shapes(), avoid=(0.0,)))   # |x| has a kink at 0
    def test_abs(x):
        assert ag.gradcheck(ag.abs, [x])

    @given(agt.positive_arrays(dtype=agt.dtypes()))  # log needs x > 0
    def test_log_keeps_dtype(x):
        assert ag.grad(lambda t: ag.log(t).sum())(x).dtype == x.dtype
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

Shape = tuple[int, ...]
"""An array shape: a tuple of axis lengths."""
DType = Any
"""A numpy float dtype (or its name), or a hypothesis strategy drawing one."""


def dtypes() -> st.SearchStrategy[np.dtype[Any]]:
    """The float dtypes the library supports: float32 and float64."""
    return st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def _draw_dtype(draw: st.DrawFn, dtype: DType) -> np.dtype[Any]:
    chosen = draw(dtype) if isinstance(dtype, st.SearchStrategy) else dtype
    chosen = np.dtype(chosen)
    if chosen.kind != "f":
        raise ValueError(f"autograd_core.testing: dtype must be a float dtype, got {chosen}")
    return chosen


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[Shape]:
    """Array shapes, including 0-d and size-1 dimensions by default."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of mutually broadcastable shapes, e.g. ((3, 1), (4,)) or ((), (2, 2))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda s: s.input_shapes)


def _push_out(values: np.ndarray, avoid: Sequence[float], margin: float) -> np.ndarray:
    """Move every value closer than `margin` to a point of `avoid` out to that distance."""
    for point in avoid:
        near = np.abs(values - point) < margin
        side = np.where(values >= point, 1.0, -1.0)
        values = np.where(near, point + side * margin, values)
    return values


@st.composite
def arrays(
    draw: st.DrawFn,
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    dtype: DType = np.float64,
    low: float = -3.0,
    high: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
) -> np.ndarray:
    """Float arrays of a given or drawn shape (default: `shapes()`) with values in [low, high].

    `avoid` lists points (kinks, singularities) every value stays at least `margin` from,
    by moving values out rather than rejecting draws; for a domain such as log's, use `low`
    instead (`positive_arrays`). `dtype` is a float dtype or a strategy drawing one.
    """
    if shape is None:
        shape = shapes()
    if not isinstance(shape, tuple):
        shape = draw(shape)
    values = draw(
        hnp.arrays(
            np.float64, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False)
        )
    )
    values = _push_out(np.asarray(values, dtype=np.float64), avoid, margin)
    return values.astype(_draw_dtype(draw, dtype))


def positive_arrays(
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    dtype: DType = np.float64,
    low: float = 0.1,
    high: float = 4.0,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays in a positive range, for log, sqrt, powers with real exponents."""
    return arrays(shape, dtype, low=low, high=high)


def nonzero_arrays(
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    dtype: DType = np.float64,
    margin: float = 0.3,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays bounded away from zero, for divisors."""
    return arrays(shape, dtype, avoid=(0.0,), margin=margin)


@st.composite
def distinct_arrays(
    draw: st.DrawFn,
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    dtype: DType = np.float64,
    spacing: float = 0.1,
) -> np.ndarray:
    """Arrays whose elements all differ by at least `spacing` (no ties for max/min/sort)."""
    if shape is None:
        shape = shapes()
    if not isinstance(shape, tuple):
        shape = draw(shape)
    n = int(np.prod(shape, dtype=np.int64))
    order = draw(st.permutations(range(n)))
    jitter = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0.0, 0.4 * spacing)))
    values = (np.asarray(order, dtype=np.float64) - n / 2) * spacing + jitter
    return values.reshape(shape).astype(_draw_dtype(draw, dtype))


@st.composite
def separated_pairs(
    draw: st.DrawFn, shapes_pair: Any = None, dtype: DType = np.float64, gap: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Two broadcastable arrays a, b with |a - b| >= gap everywhere (no ties for maximum).

    a lives on the grid 0.5k + 0.1 and b on 0.5j + 0.35, so every difference is 0.25 plus
    a multiple of 0.5.
    """
    shape_a, shape_b = draw(shapes_pair if shapes_pair is not None else broadcastable_shapes())
    ints = st.integers(-5, 5)
    a = np.asarray(draw(hnp.arrays(np.int64, shape_a, elements=ints)), dtype=np.float64)
    b = np.asarray(draw(hnp.arrays(np.int64, shape_b, elements=ints)), dtype=np.float64)
    scale = gap / 0.25
    chosen = _draw_dtype(draw, dtype)
    return ((0.5 * a + 0.1) * scale).astype(chosen), ((0.5 * b + 0.35) * scale).astype(chosen)


@st.composite
def reduction_axes(draw: st.DrawFn, ndim: int) -> tuple[int | tuple[int, ...] | None, bool]:
    """An (axis, keepdims) pair for a tensor of `ndim` dimensions: None, one axis (maybe
    negative) or a tuple of distinct axes, with keepdims either way."""
    keepdims = draw(st.booleans())
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1])), keepdims
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return draw(st.one_of(st.none(), single, several)), keepdims
