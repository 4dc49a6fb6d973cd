"""Test data for the reductions (ops/reductions.py): one line per primitive in
`CASES` (the registry test requires one for every primitive), composites of public functions
in `COMPOSITES`. Both get reverse, forward and second-order checks in test_op_gradients.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_core as ag
from autograd_core import testing as agt
from tests.case_builders import Case, Draw, reduction


def cumsum_case(draw: Draw) -> Case:
    """Along one axis (numpy's or PyTorch's spelling), or over the flattened tensor."""
    x = draw(agt.arrays())
    axis = draw(st.sampled_from([None, *range(-x.ndim, x.ndim)] if x.ndim else [None, 0, -1]))
    if draw(st.booleans()):
        return (lambda t: ag.cumsum(t, axis)), [x]
    return (lambda t: ag.cumsum(t, dim=axis)), [x]


def norm_case(draw: Draw) -> Case:
    """Finite p > 0 over drawn axes; values kept off 0, where |x|^p has its kink for p <= 2."""
    p = draw(st.sampled_from([2, "fro", 1, 3, 0.5, 1.5, 2.5]))
    x = draw(agt.arrays(avoid=(0.0,)))
    axis, keepdims = draw(agt.reduction_axes(x.ndim))
    return (lambda t: ag.norm(t, p, axis, keepdims)), [x]


def moderate_arrays(shape: Any = None) -> st.SearchStrategy[np.ndarray]:
    """Values and sides small enough that a product of them stays small: a product of many
    large values would swamp the central differences of the smaller ones."""
    return agt.arrays(agt.shapes(max_side=3), low=-1.5, high=1.5)


def prod_with_zeros_case(draw: Draw) -> Case:
    """Some entries exactly 0 (one, two or more per product), where prod's derivatives are
    the products of the others."""
    x = draw(moderate_arrays())
    x = np.where(draw(hnp.arrays(np.bool_, x.shape)), 0.0, x)
    axis, keepdims = draw(agt.reduction_axes(x.ndim))
    return (lambda t: ag.prod(t, axis, keepdims)), [x]


@st.composite
def distinct_magnitudes(draw: st.DrawFn, shape: Any = None) -> np.ndarray:
    """Nonzero values whose |x| all differ (no ties, no kink, for the inf-norms)."""
    x = draw(agt.distinct_arrays(shape if shape is not None else agt.shapes(), spacing=0.3))
    signs = draw(hnp.arrays(np.bool_, x.shape))
    return np.where(signs, -1.0, 1.0) * (x - x.min() + 0.3)  # type: ignore[no-any-return]


def norm_limit(p: float) -> Callable[[Draw], Case]:
    def case(draw: Draw) -> Case:
        x = draw(distinct_magnitudes())
        axis, keepdims = draw(agt.reduction_axes(x.ndim))
        return (lambda t: ag.norm(t, p, dim=axis, keepdim=keepdims)), [x]

    return case


def values_with_dim(fn: Callable[..., Any]) -> Callable[[Draw], Case]:
    """The values of max/min called with PyTorch's dim= (which returns values and indices)."""

    def case(draw: Draw) -> Case:
        x = draw(agt.distinct_arrays())
        dim = draw(st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.sampled_from([0, -1]))
        keepdim = draw(st.booleans())
        return (lambda t: fn(t, dim=dim, keepdim=keepdim).values), [x]

    return case


def var_correction_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1, min_side=2)))
    dim, keepdim = draw(agt.reduction_axes(x.ndim))
    correction = draw(st.sampled_from([0, 1]))
    return (lambda t: ag.var(t, dim=dim, keepdim=keepdim, correction=correction)), [x]


CASES: dict[str, Callable[[Draw], Case]] = {
    "cumsum": cumsum_case,
    "norm": norm_case,
}

COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    "prod": reduction(ag.prod, moderate_arrays),
    "prod_with_zeros": prod_with_zeros_case,
    "norm_inf": norm_limit(float("inf")),
    "norm_neg_inf": norm_limit(float("-inf")),
    "norm_0": norm_limit(0.0),
    "max_dim_values": values_with_dim(ag.max),
    "min_dim_values": values_with_dim(ag.min),
    "var_correction": var_correction_case,
}
