"""Test data for the shape and indexing ops (ops/shape.py): one line per primitive in `CASES`
(the registry test requires one for every primitive), composites of public functions in
`COMPOSITES`. Both get reverse, forward and second-order checks in test_op_gradients.py."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_core as ag
from autograd_core import testing as agt
from tests.case_builders import Case, Draw


def some_axes(draw: Draw, ndim: int) -> tuple[int, ...]:
    """A drawn set of distinct axes, negative or not."""
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def flip_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    dims = draw(st.one_of(st.none(), st.just(some_axes(draw, x.ndim))))
    return (lambda t: ag.flip(t, dims)), [x]


def roll_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    axes = some_axes(draw, x.ndim)
    shifts = tuple(draw(st.integers(-5, 5)) for _ in axes)
    if not axes:  # along the flattened tensor
        shift = draw(st.integers(-5, 5))
        return (lambda t: ag.roll(t, shift)), [x]
    return (lambda t: ag.roll(t, shifts, axes)), [x]


def split_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    size = draw(st.integers(1, n + 1))
    weights = np.arange(1.0, 1 + -(-n // size))  # weigh pieces apart so a mix-up shows
    return (
        lambda t: ag.stack(
            [p.sum() * w for p, w in zip(ag.split(t, size, dim), weights, strict=True)]
        )
    ), [x]


def sections_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1, min_side=2)))
    n = x.shape[0]
    cut = draw(st.integers(0, n))
    return (lambda t: ag.concat([p * (i + 1.0) for i, p in enumerate(t.split([cut, n - cut]))])), [
        x
    ]


def chunk_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    chunks = draw(st.integers(1, 4))
    return (
        lambda t: ag.concat(
            [p.exp() * (i + 1.0) for i, p in enumerate(t.chunk(chunks, -1))], dim=-1
        )
    ), [x]


def tile_case(draw: Draw) -> Case:
    x = draw(agt.arrays())
    reps = tuple(draw(st.lists(st.integers(0, 3), max_size=4)))
    return (lambda t: ag.tile(t, reps)), [x]


def repeat_case(draw: Draw) -> Case:
    x = draw(agt.arrays())
    sizes = tuple(draw(st.integers(1, 3)) for _ in range(x.ndim + draw(st.integers(0, 2))))
    return (lambda t: t.repeat(*sizes)), [x]


def expand_case(draw: Draw) -> Case:
    shape, other = draw(agt.broadcastable_shapes())
    target = np.broadcast_shapes(shape, other)
    lead = len(target) - len(shape)
    sizes = tuple(-1 if i >= lead and draw(st.booleans()) else n for i, n in enumerate(target))
    return (lambda t: t.expand(*sizes)), [draw(agt.arrays(shape))]


def masked_fill_case(draw: Draw) -> Case:
    shape_m, shape_x = draw(agt.broadcastable_shapes())
    mask = draw(hnp.arrays(np.bool_, shape_m))
    return (lambda t, v: ag.masked_fill(t, mask, v.sum())), [
        draw(agt.arrays(shape_x)),
        draw(agt.arrays((2,))),
    ]


def moveaxis_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    source = draw(st.permutations(range(x.ndim)))
    k = draw(st.integers(1, x.ndim))
    target = draw(st.permutations(range(x.ndim)))
    return (lambda t: ag.moveaxis(t, source[:k], target[:k])), [x]


def swapaxes_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    a, b = (draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    return (lambda t: t.transpose(a, b)), [x]


def flatten_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    start = draw(st.integers(0, x.ndim - 1))
    end = draw(st.integers(start, x.ndim - 1))
    return (lambda t: t.flatten(start, end - x.ndim)), [x]


def stacking_case(draw: Draw) -> Case:
    join = draw(st.sampled_from([ag.vstack, ag.hstack, ag.dstack, ag.column_stack]))
    ndim = draw(st.integers(1, 3) if join is not ag.column_stack else st.integers(1, 2))
    shape = draw(agt.shapes(min_dims=ndim, max_dims=ndim))
    return (lambda a, b: join([a, b])), [draw(agt.arrays(shape)), draw(agt.arrays(shape))]


def stack_case(draw: Draw) -> Case:
    shape = draw(agt.shapes())
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return (lambda *ts: ag.stack(ts, axis=axis)), [draw(agt.arrays(shape)) for _ in range(count)]


CASES: dict[str, Callable[[Draw], Case]] = {
    "stack": stack_case,
    "flip": flip_case,
    "roll": roll_case,
}

COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    "split": split_case,
    "split_sections": sections_case,
    "chunk": chunk_case,
    "tile": tile_case,
    "repeat": repeat_case,
    "expand": expand_case,
    "masked_fill": masked_fill_case,
    "moveaxis": moveaxis_case,
    "swapaxes": swapaxes_case,
    "flatten_dims": flatten_case,
    "stacking": stacking_case,
    "view_cat": lambda draw: (
        lambda a, b: ag.cat([ag.view(a, -1), ag.view(b, -1)], dim=0),
        [draw(agt.arrays()), draw(agt.arrays())],
    ),
}
