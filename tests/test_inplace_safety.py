"""In-place changes, as PyTorch treats them.

A graph that saved a value notices when that value is later changed in place, whichever tensor
the change went through (the tensor itself, a view of it, a `detach()` of it); a change to a
value no rule needs is harmless. In-place ops are themselves recorded: a differentiable value
written into a tensor gets its gradient. `x -= y` and friends change `x` itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pytest

import autograd_core as ag

MODIFIED = "modified in place"


def _vector() -> ag.Tensor:
    return ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)


def _matrix() -> ag.Tensor:
    return ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)


# -- a change to a saved value is caught at backward ------------------------------------------


def test_an_in_place_change_through_detach_is_caught_at_backward() -> None:
    """`detach()` shares memory with x, so it shares x's version counter too."""
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach().add_(10.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_an_in_place_change_of_an_output_that_its_own_op_saved_is_caught() -> None:
    """exp's gradient is its output: changing that output makes the gradient wrong."""
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = ag.exp(x)
    with ag.no_grad():
        y.mul_(0.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def _mul_a_row_slice(x: ag.Tensor) -> None:
    x[0:1].mul_(0.0)


def _fill_a_reshape(x: ag.Tensor) -> None:
    x.reshape(-1).fill_(0.0)


def _mul_the_transpose(x: ag.Tensor) -> None:
    x.T.mul_(2.0)


def _assign_into_a_detached_alias(x: ag.Tensor) -> None:
    x.detach()[0] = 5.0


def _mul_a_view_of_a_view(x: ag.Tensor) -> None:
    x[0:1].reshape(-1).mul_(2.0)


@pytest.mark.parametrize(
    "change",
    [
        _mul_a_row_slice,
        _fill_a_reshape,
        _mul_the_transpose,
        _assign_into_a_detached_alias,
        _mul_a_view_of_a_view,
    ],
)
def test_an_in_place_change_through_a_view_counts_for_its_base(
    change: Callable[[ag.Tensor], None],
) -> None:
    x = _matrix()
    y = (x * x).sum()  # mul saved x
    with ag.no_grad():
        change(x)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_an_in_place_change_through_the_base_is_caught_by_a_graph_that_saved_a_view() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    x = ag.Tensor([3.0, 4.0, 5.0])
    v = x[0:2]
    y = (w * v).sum()  # mul saved v to compute w's gradient
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_an_in_place_change_of_a_value_no_rule_saved_is_allowed() -> None:
    """PyTorch's behaviour: add's gradient needs neither input, so changing x is harmless."""
    x = _vector()
    y = (x + 1.0).sum()
    with ag.no_grad():
        x.add_(1.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


# -- a differentiable value written into a tensor is recorded ---------------------------------


def test_assigning_a_differentiable_value_into_a_slice_is_recorded() -> None:
    w = _vector()
    buf = ag.Tensor(np.zeros(4))
    buf[0:3] = w * 2.0
    assert buf.requires_grad
    assert buf.grad_fn is not None
    (buf * buf).sum().backward()  # sum((2w)^2)
    np.testing.assert_allclose(buf.data, [2.0, 4.0, 6.0, 0.0])
    np.testing.assert_allclose(w.grad.data, 8.0 * w.data)


def test_the_overwritten_part_of_an_assignment_gets_no_gradient() -> None:
    w = _vector()
    buf = ag.Tensor(np.zeros(4))
    buf[0:2] = w[0:2] * 1.0
    buf[1:3] = w[1:3] * 10.0  # overwrites buf[1], which came from w[1] * 1
    buf.sum().backward()
    np.testing.assert_allclose(buf.data, [1.0, 20.0, 30.0, 0.0])
    np.testing.assert_allclose(w.grad.data, [1.0, 10.0, 10.0])


def test_assigning_through_an_integer_array_index_is_recorded() -> None:
    w = _vector()
    buf = ag.Tensor(np.zeros(4))
    buf[np.array([0, 2])] = w[:2] * 1.0
    buf.sum().backward()
    np.testing.assert_allclose(buf.data, [1.0, 0.0, 2.0, 0.0])
    np.testing.assert_allclose(w.grad.data, [1.0, 1.0, 0.0])


def test_assigning_through_a_boolean_mask_is_recorded() -> None:
    w = _vector()
    buf = ag.Tensor(np.zeros(4))
    buf[np.array([True, False, True, True])] = w * 2.0
    buf.sum().backward()
    np.testing.assert_allclose(buf.data, [2.0, 0.0, 4.0, 6.0])
    np.testing.assert_allclose(w.grad.data, [2.0, 2.0, 2.0])


def test_copy_of_a_differentiable_value_is_recorded() -> None:
    w = _vector()
    buf = ag.Tensor(np.zeros(3))
    buf.copy_(w * 3.0)
    assert buf.requires_grad
    buf.sum().backward()
    np.testing.assert_allclose(w.grad.data, [3.0, 3.0, 3.0])


def test_adding_a_differentiable_value_in_place_is_recorded() -> None:
    w = _vector()
    buf = ag.Tensor(np.zeros(3))
    buf.add_(w * 2.0)
    assert buf.requires_grad
    buf.sum().backward()
    np.testing.assert_allclose(w.grad.data, [2.0, 2.0, 2.0])


def test_an_in_place_op_on_a_result_is_recorded() -> None:
    w = _vector()
    a = w * 1.0
    a.mul_(w)  # a = w * w, in place on a non-leaf
    a.sum().backward()
    np.testing.assert_allclose(a.data, [1.0, 4.0, 9.0])
    np.testing.assert_allclose(w.grad.data, 2.0 * w.data)


def _add_in_place(w: ag.Tensor) -> None:
    w.add_(1.0)


def _assign_an_element(w: ag.Tensor) -> None:
    w[0] = 1.0


def _times_equals(w: ag.Tensor) -> None:
    w *= 2


@pytest.mark.parametrize("change", [_add_in_place, _assign_an_element, _times_equals])
def test_an_in_place_change_of_a_leaf_that_requires_grad_while_recording_raises(
    change: Callable[[ag.Tensor], None],
) -> None:
    w = _vector()
    with pytest.raises(RuntimeError, match="requires grad"):
        change(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])


# -- augmented assignment changes the tensor itself -------------------------------------------


def test_an_sgd_step_with_minus_equals_updates_the_parameter_in_place() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()  # grad 2w = [2, 4]
    same, data = w, w.data
    with ag.no_grad():
        w -= 0.1 * w.grad
    assert w is same
    assert w.data is data
    np.testing.assert_allclose(data, [0.8, 1.6])
    assert w.requires_grad
    assert w.is_leaf


@pytest.mark.parametrize(
    ("update", "operand", "expected"),
    [
        (operator.isub, 1.0, [0.0, 1.0]),
        (operator.iadd, 1.0, [2.0, 3.0]),
        (operator.imul, 2.0, [2.0, 4.0]),
        (operator.itruediv, 2.0, [0.5, 1.0]),
    ],
    ids=["-=", "+=", "*=", "/="],
)
def test_augmented_assignment_under_no_grad_changes_the_same_tensor_and_array(
    update: Callable[[ag.Tensor, float], ag.Tensor], operand: float, expected: list[float]
) -> None:
    """`w = operator.isub(w, c)` is what Python runs for `w -= c` (likewise `+=`, `*=`, `/=`)."""
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    same, data = w, w.data
    with ag.no_grad():
        w = update(w, operand)
    assert w is same
    assert w.data is data
    np.testing.assert_allclose(data, expected)


def test_augmented_assignment_is_version_counted() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with ag.no_grad():
        w -= 1.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


# -- a stored gradient never aliases the caller's seed ----------------------------------------


def test_a_leaf_gradient_does_not_share_memory_with_a_tensor_seed() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    seed = ag.Tensor([1.0, 1.0])
    (x + 1.0).backward(seed)
    assert not np.shares_memory(x.grad.data, seed.data)
    with ag.no_grad():
        x.grad.mul_(0.0)
    np.testing.assert_array_equal(seed.data, [1.0, 1.0])


def test_a_leaf_gradient_does_not_share_memory_with_an_array_seed() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 1.0).backward(seed)
    assert not np.shares_memory(x.grad.data, seed)
    with ag.no_grad():
        x.grad.mul_(0.0)
    np.testing.assert_array_equal(seed, [1.0, 1.0])


# -- mutants: each safety net switched off, the cases above must go silently wrong -----------


def _exp_then_zeroed_output() -> tuple[ag.Tensor, ag.Tensor]:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = ag.exp(x)
    with ag.no_grad():
        y.mul_(0.0)
    return x, y.sum()


def _square_then_view_changed() -> tuple[ag.Tensor, ag.Tensor]:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with ag.no_grad():
        x[0:2].mul_(0.0)
    return x, y


@pytest.mark.parametrize(
    ("mutant", "case"),
    [
        ("_check_versions", _exp_then_zeroed_output),  # no version check at all
        ("_check_versions", _square_then_view_changed),
        ("share_counter", _square_then_view_changed),  # views with a counter of their own
    ],
)
def test_without_its_safety_net_a_repro_gives_a_silently_wrong_gradient(
    monkeypatch: pytest.MonkeyPatch, mutant: str, case: Callable[[], tuple[ag.Tensor, ag.Tensor]]
) -> None:
    """The mutant the tests above must kill: with the net removed, backward runs and the
    gradient is wrong; with it, backward raises."""
    x, loss = case()
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward(retain_graph=True)
    monkeypatch.setattr(ag.engine, mutant, lambda *args: None)
    x, loss = case()
    loss.backward()
    assert x.grad is not None and np.all(x.grad.data == 0.0)  # true values are not zero


# -- forward mode through in-place ops ----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b, a: b.add_(a), [2.0, 2.0]),  # d/da (a + a)
        (lambda b, a: b.mul_(a), [2.0, 4.0]),  # d/da (a * a)
        (lambda b, a: b.__setitem__(slice(0, 2), a * 3.0), [3.0, 3.0]),
        (lambda b, a: b.copy_(a * 3.0), [3.0, 3.0]),
    ],
)
def test_an_in_place_change_carries_forward_mode_tangents(
    change: Callable[[ag.Tensor, ag.Tensor], object], expected: list[float]
) -> None:
    """Under `jvp` nothing requires grad, but the tangents must follow the change."""

    def f(a: ag.Tensor) -> ag.Tensor:
        b = a * 1.0
        change(b, a)
        return b

    _, tangent = ag.jvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))
    np.testing.assert_allclose(tangent.data, expected)
