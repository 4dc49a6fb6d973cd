"""The Tensor surface of API.md: construction, attributes, operators, indexing, repr."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag


def test_integer_and_bool_data_become_float64_and_float32_stays_float32() -> None:
    assert ag.Tensor([1, 2]).dtype == np.float64
    assert ag.Tensor(np.array([True, False])).dtype == np.float64
    assert ag.Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert ag.Tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_construction_copies_so_the_caller_can_mutate_their_array() -> None:
    source = np.ones(3)
    t = ag.Tensor(source)
    source[0] = 5.0
    assert t.data[0] == 1.0


def test_attributes_follow_pytorch() -> None:
    t = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="w")
    assert (t.shape, t.ndim, t.numel(), t.dtype, t.name) == ((2, 3), 2, 6, np.float64, "w")
    assert t.is_leaf and t.grad is None and len(t) == 2
    assert t.T.shape == (3, 2)
    assert t.numpy() is t.data and np.asarray(t).shape == (2, 3)
    assert ag.Tensor([[4.0]]).item() == 4.0
    assert t.requires_grad_(False) is t and not t.requires_grad
    assert t.requires_grad_(flag=True).requires_grad  # API.md's keyword


def test_repr_shows_values_and_grad_fn() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<mul>" in repr(x * 2)
    assert "dtype=float32" in repr(ag.Tensor([1.0], dtype=np.float32))


def test_python_scalars_and_arrays_mix_on_either_side() -> None:
    x = ag.Tensor([1.0, 2.0])
    arr = np.array([10.0, 20.0])
    for result, expected in [
        (2 * x, [2, 4]),
        (x * 2, [2, 4]),
        (x - arr, [-9, -18]),
        (arr - x, [9, 18]),
        (1 / x, [1, 0.5]),
        (x / 2, [0.5, 1]),
        (2**x, [2, 4]),
        (x**2, [1, 4]),
        (arr + x, [11, 22]),
        (-x, [-1, -2]),
        (arr @ x, 50.0),
        (x @ arr, 50.0),
    ]:
        assert isinstance(result, ag.Tensor)
        np.testing.assert_allclose(result.data, expected)


def test_comparisons_return_bool_tensors_that_do_not_require_grad() -> None:
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [
        (x < 2, [1, 0, 0]),
        (x <= 2, [1, 1, 0]),
        (x > 2, [0, 0, 1]),
        (x >= 2, [0, 1, 1]),
        (x == 2, [0, 1, 0]),
        (x != 2, [1, 0, 1]),
    ]:
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, np.array(expected, dtype=bool))


def test_getitem_with_repeated_integer_indices_accumulates_gradients() -> None:
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_getitem_with_a_boolean_mask_and_slices() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x[x > 2] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [2, 2, 2]])
    assert x[:, 1:].shape == (2, 2) and x[1].shape == (3,) and x[..., None].shape == (2, 3, 1)


def test_every_public_op_is_a_method_and_a_module_function() -> None:
    x = ag.Tensor(np.linspace(0.1, 1.0, 6).reshape(2, 3))
    for name in [
        "exp",
        "log",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
        "sum",
        "mean",
        "max",
        "min",
        "var",
        "std",
        "logsumexp",
        "softmax",
        "log_softmax",
        "flatten",
        "squeeze",
    ]:
        np.testing.assert_allclose(getattr(x, name)().data, getattr(ag, name)(x).data)
    np.testing.assert_allclose(x.clip(0.2, 0.5).data, ag.clip(x, 0.2, 0.5).data)
    assert x.reshape(3, 2).shape == ag.reshape(x, (3, 2)).shape == (3, 2)
    assert x.transpose(1, 0).shape == (3, 2) and x.unsqueeze(0).shape == (1, 2, 3)
    assert x.broadcast_to(4, 2, 3).shape == (4, 2, 3)


def test_reductions_take_axis_tuples_and_keepdims() -> None:
    x = ag.Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.sum(axis=(0, 2)).shape == (3,)
    assert x.mean(axis=-1, keepdims=True).shape == (2, 3, 1)
    assert x.max(axis=(0, 1), keepdims=True).shape == (1, 1, 4)
    np.testing.assert_allclose(x.var(axis=1, ddof=1).data, np.var(x.data, axis=1, ddof=1))
    np.testing.assert_allclose(x.std().data, np.std(x.data))


def test_concat_and_stack() -> None:
    a, b = ag.Tensor(np.ones((2, 3)), requires_grad=True), ag.Tensor(np.zeros((2, 3)))
    assert ag.concat([a, b], axis=1).shape == (2, 6)
    s = ag.stack([a, b], axis=1)
    assert s.shape == (2, 2, 3)
    (s * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.data, 2 * np.ones((2, 3)))


@pytest.mark.parametrize("big", [1000.0, -1000.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_and_sigmoid_are_stable_at_large_magnitudes(big: float, dtype: type) -> None:
    x = ag.Tensor(np.array([big, 0.0, -big]), dtype=dtype, requires_grad=True)
    for y in [x.sigmoid(), x.softmax(), x.log_softmax(), x.logsumexp(), ag.softplus(x)]:
        assert y.dtype == dtype and np.all(np.isfinite(y.data))
        y.sum().backward()
        assert np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(x.logsumexp().item(), abs(big), rtol=1e-6)


def test_conventions_at_kinks_follow_pytorch() -> None:
    z = ag.Tensor([0.0, 0.0], requires_grad=True)
    (z.relu() + z.abs()).sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.0])
    s = ag.Tensor(0.0, requires_grad=True)
    s.sqrt().backward()
    assert s.grad.item() == np.inf
    t = ag.Tensor([1.0, 3.0, 3.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(t.grad.data, [0.0, 0.5, 0.5])
    a, b = ag.Tensor(2.0, requires_grad=True), ag.Tensor(2.0, requires_grad=True)
    ag.maximum(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)


def test_bad_inputs_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="rectangular"):
        ag.Tensor([[1.0], [2.0, 3.0]])
    with pytest.raises(TypeError, match="not a real number"):
        ag.Tensor("a")
    with pytest.raises(ValueError, match=r"axis 3 is out of range.*\(2, 3\)"):
        ag.Tensor(np.ones((2, 3))).sum(axis=3)
    with pytest.raises(ValueError, match=r"cannot reshape.*\(2, 3\)"):
        ag.Tensor(np.ones((2, 3))).reshape(4, 2)


def test_an_op_exported_as_a_method_is_a_tensor_method_and_other_names_still_raise() -> None:
    x = ag.Tensor([0.5], requires_grad=True)
    x.tan().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, 1.0 / np.cos(0.5) ** 2)
    assert not hasattr(x, "no_such_method")
    with pytest.raises(AttributeError, match="no_such_method"):
        x.no_such_method()  # type: ignore[operator]


def test_an_integer_tensor_meeting_a_float_tensor_takes_its_dtype_as_pytorch() -> None:
    """Category first (PyTorch's promotion): one_hot(ids) @ w and argmax(x) * y stay float32,
    and a 0-d float tensor times an integer tensor is a float product, not a failed cast."""
    ids = ag.argmax(ag.Tensor([[1.0, 3.0, 2.0], [4.0, 0.0, 1.0]]), dim=1)  # int64 [1, 0]
    w = ag.Tensor(np.ones((2, 3)), dtype=np.float32, requires_grad=True)
    product = ids @ w
    assert product.dtype == np.float32
    np.testing.assert_array_equal(product.data, [1.0, 1.0, 1.0])
    product.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[1.0] * 3, [0.0] * 3])
    assert (ids * ag.Tensor([0.5, 0.25], dtype=np.float32)).dtype == np.float32
    np.testing.assert_array_equal((ag.Tensor(2.5) * ids).data, [2.5, 0.0])
    assert (ids + ids).dtype == np.int64  # integers meeting integers stay integers
