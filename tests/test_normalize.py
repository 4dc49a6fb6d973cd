"""The fused `normalize` primitive (batch norm's and layer norm's core): its values, dtypes,
axes and quiet forward; its derivatives are checked with every primitive's in
test_op_gradients.py, and the layers using it against PyTorch in tests/test_nn_*.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_core as ag
import nn


def reference(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


@pytest.mark.parametrize("axes", [0, -1, (0, 2), (1,), None])
def test_normalize_matches_the_formula(axes: object) -> None:
    x = np.random.default_rng(0).normal(size=(4, 3, 5))
    full = tuple(range(3)) if axes is None else axes if isinstance(axes, tuple) else (axes,)
    np.testing.assert_allclose(
        ag.normalize(x, axes, 1e-3).data, reference(x, full, 1e-3), rtol=1e-12, atol=1e-12
    )


def test_normalize_keeps_float32_in_forward_and_backward() -> None:
    x = ag.Tensor(np.random.default_rng(1).normal(size=(8, 4)), dtype=np.float32)
    x.requires_grad = True
    y = ag.normalize(x, 0)
    (y * y * y).sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_normalize_gradient_matches_the_composed_formula() -> None:
    data = np.random.default_rng(2).normal(size=(6, 3, 2))
    weights = np.random.default_rng(3).normal(size=data.shape)
    grads = []
    for fused in (True, False):
        x = ag.Tensor(data, requires_grad=True)
        if fused:
            y = ag.normalize(x, (0, 2), 1e-5)
        else:
            mean = x.mean(axis=(0, 2), keepdims=True)
            y = (x - mean) / ag.sqrt(x.var(axis=(0, 2), keepdims=True) + 1e-5)
        (y * weights).sum().backward()
        grads.append(x.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


def test_normalize_is_quiet_on_inf_and_constant_groups() -> None:
    x = np.array([[np.inf, 1.0], [2.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ag.normalize(x, 1).data
    assert np.isnan(y[0]).all() and (y[1] == 0).all()


def test_normalize_rejects_an_axis_out_of_range() -> None:
    with pytest.raises(ValueError, match="normalize: axis 2 is out of range"):
        ag.normalize(np.zeros((2, 3)), 2)


def test_batch_norm_records_one_normalize_node() -> None:
    layer = nn.BatchNorm1d(3, affine=False)
    x = ag.Tensor(np.random.default_rng(4).normal(size=(5, 3)), requires_grad=True)
    y = layer(x)
    assert y._node is not None and y._node.prim.name == "normalize"
