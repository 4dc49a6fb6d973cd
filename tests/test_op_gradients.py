"""Every registered primitive: reverse mode, forward mode and second order against central
differences, and forward mode against reverse mode (`jacfwd == jacrev`), in float64, on
hypothesis-drawn shapes (0-d, size-1 axes, broadcasting pairs) and values kept away from kinks
and singularities by construction.

Adding a primitive without a case here fails `test_every_registered_primitive_has_test_data`.
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
from autograd_core import testing as agt
from autograd_core.engine import grad as engine_grad
from tests import (
    cases_conv,
    cases_linalg,
    cases_pooling,
    cases_recurrent,
    cases_reductions,
    cases_shape,
)
from tests.case_builders import Case, Draw, along_axis, binary, reduction, separated, unary
from tests.numeric import check_forward, check_reverse, check_second_order


def where_case(draw: Draw) -> Case:
    shape_c, shape_a, shape_b = draw(agt.broadcastable_shapes(num_shapes=3))
    cond = draw(hnp.arrays(np.bool_, shape_c))
    return (lambda a, b: ag.where(cond, a, b)), [
        draw(agt.arrays(shape_a)),
        draw(agt.arrays(shape_b)),
    ]


def clip_case(draw: Draw) -> Case:
    lo = draw(st.sampled_from([None, -0.5]))
    hi = draw(st.sampled_from([None, 0.5])) if lo is not None else 0.5
    x = draw(agt.arrays(avoid=(-0.5, 0.5)))
    return (lambda t: ag.clip(t, lo, hi)), [x]


def reshape_case(draw: Draw) -> Case:
    x = draw(agt.arrays())
    target = draw(st.sampled_from([(-1,), (x.size, 1), (1, *x.shape), tuple(reversed(x.shape))]))
    return (lambda t: ag.reshape(t, target)), [x]


def transpose_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=2)))
    axes = tuple(draw(st.permutations(range(x.ndim))))
    return (lambda t: ag.permute(t, axes)), [x]


def broadcast_case(draw: Draw) -> Case:
    shape, other = draw(agt.broadcastable_shapes())
    target = np.broadcast_shapes(shape, other)
    return (lambda t: ag.broadcast_to(t, target)), [draw(agt.arrays(shape))]


def sum_to_case(draw: Draw) -> Case:
    shape, other = draw(agt.broadcastable_shapes())
    full = np.broadcast_shapes(shape, other)
    return (lambda t: ag.sum_to(t, shape)), [draw(agt.arrays(full))]


@st.composite
def indices(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """Basic slices, integer arrays with repeats, boolean masks, and tuples mixing them."""

    def one_axis(n: int) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.integers(-n, n - 1),
            st.builds(
                slice,
                st.none() | st.integers(-n, n),
                st.none() | st.integers(-n, n),
                st.none() | st.sampled_from([1, 2, -1]),
            ),
            st.lists(st.integers(0, n - 1), min_size=1, max_size=5).map(np.array),
        )

    kind = draw(st.sampled_from(["mask", "axes"]))
    if kind == "mask":
        return draw(hnp.arrays(np.bool_, shape))
    count = draw(st.integers(1, len(shape)))
    parts = [draw(one_axis(n)) for n in shape[:count]]
    arrays_used = [p for p in parts if isinstance(p, np.ndarray)]
    if len(arrays_used) > 1:  # several integer arrays must broadcast together: use one
        parts = [
            p if not isinstance(p, np.ndarray) or p is arrays_used[0] else slice(None)
            for p in parts
        ]
    return tuple(parts)


def getitem_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    index = draw(indices(x.shape))
    return (lambda t: t[index]), [x]


def scatter_case(draw: Draw) -> Case:
    shape = draw(agt.shapes(min_dims=1))
    index = draw(indices(shape))
    values = draw(agt.arrays(np.zeros(shape)[index].shape))
    return (lambda t: ag.scatter_add(t, index, shape)), [values]


def index_put_case(draw: Draw) -> Case:
    x = draw(agt.arrays(agt.shapes(min_dims=1)))
    index = draw(indices(x.shape))
    target = np.zeros(x.shape)[index].shape
    if isinstance(index, tuple) and any(isinstance(p, np.ndarray) for p in index):
        index = tuple(np.unique(p) if isinstance(p, np.ndarray) else p for p in index)
        target = np.zeros(x.shape)[index].shape  # repeated positions: the last write wins
    values = draw(agt.arrays(target))
    return (lambda t, v: ag.index_put(t, v, index)), [x, values]


def concat_case(draw: Draw) -> Case:
    base = draw(agt.shapes(min_dims=1))
    axis = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(2, 3))
    arrays = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = draw(st.integers(1, 3))
        arrays.append(draw(agt.arrays(tuple(shape))))
    return (lambda *ts: ag.concat(ts, axis=axis)), arrays


def matmul_case(draw: Draw) -> Case:
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(agt.broadcastable_shapes(max_dims=2, max_side=3))
    kind = draw(st.sampled_from(["matrix", "vector-left", "vector-right", "dot"]))
    shape_a = (k,) if kind in ("vector-left", "dot") else (*batch_a, n, k)
    shape_b = (k,) if kind in ("vector-right", "dot") else (*batch_b, k, m)
    return ag.matmul, [draw(agt.arrays(shape_a)), draw(agt.arrays(shape_b))]


def linear_case(draw: Draw) -> Case:
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(agt.shapes(min_dims=0, max_dims=2))
    x, w = draw(agt.arrays((*batch, n_in))), draw(agt.arrays((n_out, n_in)))
    if draw(st.booleans()):
        return ag.linear, [x, w, draw(agt.arrays((n_out,)))]
    return (lambda x, w: ag.linear(x, w)), [x, w]


def cross_entropy_case(draw: Draw) -> Case:
    """Labels include ignored ones (-1); a mean over only ignored rows is nan, so keep one."""
    logits = draw(agt.arrays(agt.shapes(min_dims=1, max_dims=3)))
    labels = draw(
        hnp.arrays(np.int64, logits.shape[:-1], elements=st.integers(-1, logits.shape[-1] - 1))
    )
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    if reduction == "mean" and (labels == -1).all():
        labels[...] = 0
    return (lambda z: ag.softmax_cross_entropy(z, labels, reduction, ignore_index=-1)), [logits]


def binary_cross_entropy_case(draw: Draw) -> Case:
    shape = draw(agt.shapes())
    p = draw(agt.arrays(shape, low=0.05, high=0.95))  # inside the clamps
    y = draw(agt.arrays(shape, low=0.01, high=0.99))  # differences of y stay in [0, 1]
    return ag.binary_cross_entropy, [p, y]


def normalize_case(draw: Draw) -> Case:
    """Distinct values keep every group's variance away from 0 (where 1/sigma is steep)."""
    x = draw(agt.distinct_arrays(agt.shapes(min_dims=1), spacing=0.5))
    axes = draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True).map(tuple))
    eps = draw(st.sampled_from([1e-5, 0.1]))
    return (lambda t: ag.normalize(t, axes, eps)), [x]


INTEGERS = tuple(float(k) for k in range(-3, 4))  # where floor and ceil jump
HALVES = tuple(k + 0.5 for k in range(-4, 4))  # where round jumps

CASES: dict[str, Callable[[Draw], Case]] = {
    "neg": unary(ag.neg),
    "add": binary(ag.add),
    "sub": binary(ag.sub),
    "mul": binary(ag.mul),
    "div": binary(ag.div, right=agt.nonzero_arrays),
    "pow": binary(
        ag.pow,
        left=agt.positive_arrays,
        # y == 0 exactly is where PyTorch's convention masks d/dx to 0
        right=lambda s: agt.arrays(s, low=-2.0, high=2.0, avoid=(0.0,)),
    ),
    "maximum": separated(ag.maximum),
    "minimum": separated(ag.minimum),
    "where": where_case,
    "exp": unary(ag.exp),
    "log": unary(ag.log, agt.positive_arrays()),
    "sqrt": unary(ag.sqrt, agt.positive_arrays()),
    "abs": unary(ag.abs, agt.arrays(avoid=(0.0,))),
    "sin": unary(ag.sin),
    "softplus": unary(ag.softplus, agt.arrays(low=-8.0, high=8.0)),
    "log1p": unary(ag.log1p, agt.arrays(low=-0.9, high=3.0)),
    "expm1": unary(ag.expm1),
    "erf": unary(ag.erf),
    "cos": unary(ag.cos),
    "tanh": unary(ag.tanh),
    "sigmoid": unary(ag.sigmoid, agt.arrays(low=-6.0, high=6.0)),
    "relu": unary(ag.relu, agt.arrays(avoid=(0.0,))),
    "clip": clip_case,
    "sum": reduction(ag.sum),
    "mean": reduction(ag.mean),
    "max": reduction(ag.max, agt.distinct_arrays),
    "min": reduction(ag.min, agt.distinct_arrays),
    "logsumexp": reduction(ag.logsumexp),
    "softmax": along_axis(ag.softmax),
    "log_softmax": along_axis(ag.log_softmax),
    "reshape": reshape_case,
    "transpose": transpose_case,
    "broadcast_to": broadcast_case,
    "sum_to": sum_to_case,
    "getitem": getitem_case,
    "scatter_add": scatter_case,
    "concat": concat_case,
    "matmul": matmul_case,
    "linear": linear_case,
    "softmax_cross_entropy": cross_entropy_case,
    "binary_cross_entropy": binary_cross_entropy_case,
    "normalize": normalize_case,
    "cast": unary(lambda t: ag.cast(t, np.longdouble)),
    "tan": unary(ag.tan, agt.arrays(low=-1.2, high=1.2)),
    "sinh": unary(ag.sinh),
    "cosh": unary(ag.cosh),
    "arcsin": unary(ag.arcsin, agt.arrays(low=-0.9, high=0.9)),
    "arccos": unary(ag.arccos, agt.arrays(low=-0.9, high=0.9)),
    "arctan": unary(ag.arctan),
    # y away from 0 keeps (x, y) off the branch cut on the negative x axis
    "arctan2": binary(ag.arctan2, left=agt.nonzero_arrays, right=agt.nonzero_arrays),
    "arcsinh": unary(ag.arcsinh),
    "arctanh": unary(ag.arctanh, agt.arrays(low=-0.9, high=0.9)),
    "log2": unary(ag.log2, agt.positive_arrays()),
    "log10": unary(ag.log10, agt.positive_arrays()),
    "exp2": unary(ag.exp2),
    "square": unary(ag.square),
    "reciprocal": unary(ag.reciprocal, agt.nonzero_arrays()),
    "logaddexp": binary(ag.logaddexp),
    "sign": unary(ag.sign, agt.arrays(avoid=(0.0,))),
    "floor": unary(ag.floor, agt.arrays(avoid=INTEGERS)),
    "ceil": unary(ag.ceil, agt.arrays(avoid=INTEGERS)),
    "round": unary(ag.round, agt.arrays(avoid=HALVES)),
    # a in [2.1, 2.4], b in [1.3, 1.6]: a / b stays in (1, 2), away from the jumps of a % b
    "mod": binary(
        ag.mod,
        left=lambda s: agt.arrays(s, low=2.1, high=2.4),
        right=lambda s: agt.arrays(s, low=1.3, high=1.6),
    ),
    "clone": unary(ag.clone),
    "index_put": index_put_case,
    # std has a kink where all reduced values are equal: reduce distinct values, >= 2 of them
    "std": lambda draw: reduction(
        ag.std, lambda s: agt.distinct_arrays(agt.shapes(min_dims=1, min_side=2), spacing=0.3)
    )(draw),
}
FAMILIES = (
    cases_reductions,
    cases_linalg,
    cases_shape,
    cases_conv,
    cases_pooling,
    cases_recurrent,
)
for family in FAMILIES:
    CASES |= family.CASES

# Composite functions of the public API get the same three checks.
COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    "var": reduction(ag.var),
    "std_ddof1": lambda draw: (
        lambda t: ag.std(t, axis=0, ddof=1),
        [draw(agt.distinct_arrays(agt.shapes(min_dims=1, min_side=2), spacing=0.3))],
    ),
    "var_ddof1": lambda draw: (
        lambda t: ag.var(t, ddof=1),
        [draw(agt.arrays(agt.shapes(min_dims=1, min_side=2)))],
    ),
    "squeeze_unsqueeze": lambda draw: (
        lambda t: ag.unsqueeze(ag.squeeze(t), 0),
        [draw(agt.arrays())],
    ),
    "survey_example": lambda draw: (
        lambda a, b: ag.log(a) + a * b - ag.sin(b),
        [draw(agt.positive_arrays((3,))), draw(agt.arrays((3,)))],
    ),
}

ALL_CASES = CASES | COMPOSITES
for family in FAMILIES:
    ALL_CASES |= family.COMPOSITES

checks = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_every_registered_primitive_has_test_data() -> None:
    assert set(ag.PRIMITIVES) == set(CASES), "primitives without test data (or stale cases)"


@pytest.mark.parametrize("name", sorted(ALL_CASES))
@checks
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_reverse_mode_matches_central_differences(
    name: str, data: st.DataObject, seed: int
) -> None:
    fn, arrays = ALL_CASES[name](data.draw)
    check_reverse(fn, arrays, np.random.default_rng(seed))


@pytest.mark.parametrize("name", sorted(ALL_CASES))
@checks
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_forward_mode_matches_central_differences(
    name: str, data: st.DataObject, seed: int
) -> None:
    fn, arrays = ALL_CASES[name](data.draw)
    check_forward(fn, arrays, np.random.default_rng(seed))


@pytest.mark.parametrize("name", sorted(ALL_CASES))
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_second_order_matches_differences_of_gradients(
    name: str, data: st.DataObject, seed: int
) -> None:
    fn, arrays = ALL_CASES[name](data.draw)
    check_second_order(fn, arrays, np.random.default_rng(seed))


@pytest.mark.parametrize("name", sorted(ALL_CASES))
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_forward_and_reverse_jacobians_agree(name: str, data: st.DataObject) -> None:
    """jacfwd (one jvp per input element) equals jacrev (one backward per output element)."""
    fn, arrays = ALL_CASES[name](data.draw)
    argnums = tuple(range(len(arrays)))
    forward = ag.jacfwd(fn, argnums)(*arrays)
    reverse = ag.jacrev(fn, argnums)(*arrays)
    out_shape = np.shape(fn(*[ag.Tensor(a) for a in arrays]).data)
    for i, (f_block, r_block) in enumerate(zip(forward, reverse, strict=True)):
        assert f_block.shape == r_block.shape == out_shape + arrays[i].shape
        np.testing.assert_allclose(
            f_block.data, r_block.data, rtol=1e-10, atol=1e-10, err_msg=f"input {i}"
        )


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_ordinary_and_recorded_backward_passes_agree(
    name: str, dtype: Any, data: st.DataObject, seed: int
) -> None:
    """The same rules run on arrays in an ordinary backward pass and on recorded tensors with
    `create_graph=True` (and a fused rule stands in for its op's rule): the two give the same
    values, shapes and dtypes."""
    fn, arrays = CASES[name](data.draw)
    inputs = [ag.Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    cotangent = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    plain = engine_grad(out, inputs, cotangent, retain_graph=True, allow_unused=True)
    recorded = engine_grad(out, inputs, cotangent, create_graph=True, allow_unused=True)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    for i, (p, r) in enumerate(zip(plain, recorded, strict=True)):
        assert (p is None) == (r is None), f"input {i}"
        if p is not None and r is not None:
            assert p.shape == r.shape and p.dtype == r.dtype == inputs[i].dtype, f"input {i}"
            np.testing.assert_allclose(p.data, r.data, rtol=tolerance, atol=tolerance)
