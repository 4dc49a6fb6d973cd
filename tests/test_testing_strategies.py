"""The public hypothesis strategies keep the promises their docstrings make."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt

fast = settings(max_examples=30, deadline=None)


@fast
@given(agt.arrays(avoid=(0.0, 1.0), margin=0.2, dtype=agt.dtypes()))
def test_arrays_stay_a_margin_away_from_every_avoided_point(x: np.ndarray) -> None:
    assert x.dtype in (np.float32, np.float64)
    assert np.all(np.abs(x) >= 0.2 - 1e-6) and np.all(np.abs(x - 1.0) >= 0.2 - 1e-6)
    assert np.all((x >= -3.2) & (x <= 3.2))


@fast
@given(agt.positive_arrays(dtype=np.float32))
def test_positive_arrays_are_in_logs_domain_and_keep_their_dtype(x: np.ndarray) -> None:
    assert x.dtype == np.float32 and np.all(x > 0)
    assert ag.grad(lambda t: ag.log(t).sum())(x).dtype == np.float32


@fast
@given(agt.nonzero_arrays(agt.shapes(min_dims=1)))
def test_nonzero_arrays_are_safe_divisors(x: np.ndarray) -> None:
    assert np.all(np.abs(x) >= 0.3 - 1e-12)


@fast
@given(agt.distinct_arrays(agt.shapes(min_dims=1), spacing=0.2))
def test_distinct_arrays_have_no_near_ties(x: np.ndarray) -> None:
    values = np.sort(x.ravel())
    assert np.all(np.diff(values) >= 0.2 * 0.6 - 1e-12)


@fast
@given(agt.separated_pairs(gap=0.5))
def test_separated_pairs_broadcast_and_never_tie(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    assert np.all(np.abs(a - b) >= 0.5 - 1e-12)


@fast
@given(agt.broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast_together(shapes: tuple[tuple[int, ...], ...]) -> None:
    np.broadcast_shapes(*shapes)


@fast
@given(st.data())
def test_reduction_axes_are_valid_for_sum(data: st.DataObject) -> None:
    x = data.draw(agt.arrays())
    axis, keepdims = data.draw(agt.reduction_axes(x.ndim))
    np.testing.assert_allclose(ag.sum(x, axis, keepdims).data, np.sum(x, axis, keepdims=keepdims))


def test_importing_autograd_core_does_not_import_hypothesis() -> None:
    import subprocess
    import sys

    code = "import sys, autograd_core; print('hypothesis' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
