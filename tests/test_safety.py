"""Safety nets: in-place changes to saved tensors are caught, anomalies are located."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag


def test_in_place_change_of_a_saved_tensor_is_caught_at_backward() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    x = ag.Tensor([3.0, 4.0])
    y = (w * x).sum()
    x.mul_(2.0)  # x was saved by mul to compute w's gradient
    with pytest.raises(RuntimeError, match=r"op 'mul'.*modified in place"):
        y.backward()


def test_in_place_change_after_backward_or_before_forward_is_fine() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    x = ag.Tensor([3.0, 4.0])
    x.add_(1.0)
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [4.0, 5.0])
    with ag.no_grad():
        w.sub_(w.grad * 0.1)  # an optimizer step
    np.testing.assert_allclose(w.data, [0.6, 1.5])


def test_in_place_ops_on_tensors_that_require_grad_need_no_grad() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="requires grad"):
        w[0] = 5.0


def test_setitem_fill_zero_and_copy_modify_in_place_and_bump_the_version() -> None:
    t = ag.Tensor(np.zeros(3))
    t[1] = 2.0
    t.copy_(t * 2)
    assert t._version == 2
    np.testing.assert_array_equal(t.data, [0.0, 4.0, 0.0])
    t.fill_(7.0)
    np.testing.assert_array_equal(t.zero_().data, [0.0, 0.0, 0.0])


def test_detect_anomaly_names_the_op_and_the_line_that_produced_a_nan_in_forward() -> None:
    x = ag.Tensor([-1.0, 1.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        ag.sqrt(x)
    message = str(caught.value)
    assert "'sqrt'" in message and "nan" in message and "test_safety.py" in message


def test_detect_anomaly_names_the_op_whose_backward_produced_an_inf() -> None:
    x = ag.Tensor([0.0, 1.0], requires_grad=True)
    with ag.detect_anomaly():
        y = ag.sqrt(x).sum()
        with pytest.raises(FloatingPointError, match=r"backward of op 'sqrt'.*inf.*test_safety"):
            y.backward()


def test_without_detect_anomaly_nan_and_inf_follow_ieee_silently() -> None:
    x = ag.Tensor([0.0, -1.0], requires_grad=True)
    y = ag.sqrt(x)
    assert np.isnan(y.data[1])
    y.sum().backward()
    assert x.grad.data[0] == np.inf


def test_op_errors_name_the_op_and_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        ag.Tensor(np.ones((2, 3))) + ag.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        ag.Tensor(np.ones((2, 3))) @ ag.Tensor(np.ones((2, 3)))


def test_log_sigmoid_is_finite_and_exact_at_large_magnitudes() -> None:
    import nn

    for dtype in (np.float32, np.float64):
        x = ag.Tensor(np.array([-1000.0, 0.0, 1000.0]), dtype=dtype, requires_grad=True)
        y = nn.functional.logsigmoid(x)
        y.sum().backward()
        assert y.dtype == dtype and np.all(np.isfinite(y.data))
        np.testing.assert_allclose(y.data, [-1000.0, -np.log(2.0), 0.0], rtol=1e-6)
        np.testing.assert_allclose(x.grad.data, [1.0, 0.5, 0.0], atol=1e-7)
    assert isinstance(nn.LogSigmoid()(x), ag.Tensor)


def test_cross_entropy_checks_probability_targets_only_when_asked() -> None:
    import nn

    logits = ag.Tensor(np.zeros((2, 3)))
    bad = np.array([[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]])
    nn.CrossEntropyLoss()(logits, bad)  # PyTorch does not check: neither do we by default
    with pytest.raises(ValueError, match=r"sum to 1.*sample \(0,\) sums to 1\.5"):
        nn.CrossEntropyLoss(check_probabilities=True)(logits, bad)
    with pytest.raises(ValueError, match=">= 0"):
        nn.functional.cross_entropy(logits, -bad, check_probabilities=True)
    good = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    assert nn.CrossEntropyLoss(check_probabilities=True)(logits, good).item() > 0


def test_in_place_change_of_an_intermediate_result_is_caught_at_backward() -> None:
    """The graph keeps a result as its node; a change through the tensor is still seen."""
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    y = (h * h).sum()  # mul needs h's value for both of its gradients
    with ag.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"op 'mul'.*input 0, shape \(2,\).*modified in place"):
        y.backward()
