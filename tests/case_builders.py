"""Building blocks of op test data: each builder turns a hypothesis `draw` into a case, a
function of tensors and the float64 arrays to call it on. Op families keep their cases in
`tests/cases_<family>.py`; `tests/test_op_gradients.py` gathers them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt

Case = tuple[Callable[..., ag.Tensor], list[np.ndarray]]
Draw = Callable[[st.SearchStrategy[Any]], Any]


def unary(fn: Callable[..., ag.Tensor], values: Any = None) -> Callable[[Draw], Case]:
    return lambda draw: (fn, [draw(values if values is not None else agt.arrays())])


def binary(
    fn: Callable[..., ag.Tensor], left: Any = agt.arrays, right: Any = agt.arrays
) -> Callable[[Draw], Case]:
    def case(draw: Draw) -> Case:
        shape_a, shape_b = draw(agt.broadcastable_shapes())
        return fn, [draw(left(shape_a)), draw(right(shape_b))]

    return case


def reduction(fn: Callable[..., ag.Tensor], values: Any = agt.arrays) -> Callable[[Draw], Case]:
    def case(draw: Draw) -> Case:
        x = draw(values(agt.shapes()))
        axis, keepdims = draw(agt.reduction_axes(x.ndim))
        return (lambda t: fn(t, axis=axis, keepdims=keepdims)), [x]

    return case


def along_axis(fn: Callable[..., ag.Tensor]) -> Callable[[Draw], Case]:
    def case(draw: Draw) -> Case:
        x = draw(agt.arrays(agt.shapes(min_dims=1)))
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
        return (lambda t: fn(t, axis=axis)), [x]

    return case


def separated(fn: Callable[..., ag.Tensor]) -> Callable[[Draw], Case]:
    return lambda draw: (fn, list(draw(agt.separated_pairs())))
