"""Reproductions of engine bugs, each stated as the behaviour users should get."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autograd_core as ag


def _square(x: Any) -> Any:
    return x * x


def _assert_is_0d_tensor(result: Any, value: float) -> None:
    assert isinstance(result, ag.Tensor), type(result)
    assert type(result.data) is np.ndarray
    assert result.shape == ()
    assert result.item() == value


# -- gradients of 0-d inputs are Tensors ------------------------------------------------------


def _via_grad() -> Any:
    return ag.grad(_square)(3.0)


def _via_value_and_grad() -> Any:
    return ag.value_and_grad(_square)(3.0)[1]


def _via_vjp() -> Any:
    _, vjp_fn = ag.vjp(_square, 3.0)
    return vjp_fn(1.0)[0]


def _via_engine_grad() -> Any:
    x = ag.Tensor(3.0, requires_grad=True)
    return ag.engine.grad(x * x, x)[0]


def _via_backward() -> Any:
    x = ag.Tensor(3.0, requires_grad=True)
    (x * x).backward()
    return x.grad


@pytest.mark.parametrize(
    "gradient_of_x_squared_at_3",
    [_via_grad, _via_value_and_grad, _via_vjp, _via_engine_grad, _via_backward],
)
def test_the_gradient_of_a_0d_input_is_a_0d_tensor_never_a_numpy_scalar(
    gradient_of_x_squared_at_3: Callable[[], Any],
) -> None:
    _assert_is_0d_tensor(gradient_of_x_squared_at_3(), 6.0)


# -- backward through stack and concat is linear in the number of inputs ----------------------

MANY = 5000


def _in_a_thread_with_a_deadline(fn: Callable[[], None], seconds: float = 10.0) -> None:
    """Run `fn`, failing (instead of waiting it out) if it takes longer than `seconds`."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), f"took longer than {seconds} s: quadratic in the inputs?"
    if errors:
        raise errors[0]


def test_backward_through_a_stack_of_thousands_of_tensors_is_fast() -> None:
    """Took 10-30 s for 4,000 inputs when each input's rule looked at every input."""
    xs = [ag.Tensor(0.0, requires_grad=True) for _ in range(MANY)]
    weights = np.arange(MANY, dtype=np.float64)
    total = (ag.stack(xs) * weights).sum()
    _in_a_thread_with_a_deadline(total.backward)
    np.testing.assert_array_equal([x.grad.item() for x in xs], weights)


def test_backward_through_a_concat_of_thousands_of_results_is_fast() -> None:
    xs = [ag.Tensor([0.0], requires_grad=True) for _ in range(MANY)]
    weights = np.arange(MANY, dtype=np.float64)
    total = (ag.concat([x * 1.0 for x in xs]) * weights).sum()
    _in_a_thread_with_a_deadline(total.backward)
    np.testing.assert_array_equal([x.grad.item() for x in xs], weights)


@pytest.mark.parametrize("join", [ag.stack, ag.concat], ids=["stack", "concat"])
def test_second_derivatives_through_stack_and_concat(
    join: Callable[[list[ag.Tensor]], ag.Tensor],
) -> None:
    a = ag.Tensor([2.0], requires_grad=True)
    b = ag.Tensor([3.0], requires_grad=True)
    joined = join([a, b])
    ga, gb = ag.engine.grad((joined**3).sum(), [a, b], create_graph=True)  # 3a^2, 3b^2
    np.testing.assert_allclose(ga.data, [12.0])
    np.testing.assert_allclose(gb.data, [27.0])
    (ga + gb).sum().backward()
    np.testing.assert_allclose(a.grad.data, [12.0])  # 6a
    np.testing.assert_allclose(b.grad.data, [18.0])  # 6b


# -- errors are the library's own, not numpy internals ----------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda t: ag.clip(t, "0"),
        lambda t: ag.clip(t, None, "1"),
        lambda t: t.clip("0", "1"),
        lambda t: ag.clip(t, np.array(["0"]), None),
    ],
    ids=["lo", "hi", "method", "array-of-str"],
)
def test_clip_with_a_string_bound_raises_an_error_that_names_clip(
    call: Callable[[ag.Tensor], Any],
) -> None:
    """Not numpy's internal `_UFuncNoLoopError.__init__() missing 1 required argument`."""
    with pytest.raises((TypeError, ValueError), match="clip") as caught:
        call(ag.Tensor([1.0, 2.0]))
    assert type(caught.value) in (TypeError, ValueError)
    assert "__init__" not in str(caught.value)


def test_adding_a_string_raises_a_plain_type_error_naming_the_type() -> None:
    with pytest.raises(TypeError, match="str") as caught:
        ag.Tensor([1.0]) + "a"
    assert type(caught.value) is TypeError
    assert "__init__" not in str(caught.value)


# -- grad-mode decorators on generators -------------------------------------------------------


def test_no_grad_on_a_generator_function_applies_inside_it_and_not_between_yields() -> None:
    x = ag.Tensor([1.0], requires_grad=True)

    @ag.no_grad()
    def multiples() -> Iterator[ag.Tensor]:
        yield x * 2.0
        yield x * 3.0

    gen = multiples()
    first = next(gen)
    assert not first.requires_grad
    assert ag.is_grad_enabled()
    second = next(gen)
    assert not second.requires_grad
    assert ag.is_grad_enabled()
    gen.close()
    assert ag.is_grad_enabled()


def test_enable_grad_on_a_generator_function_records_inside_a_no_grad_block() -> None:
    x = ag.Tensor([1.0], requires_grad=True)

    @ag.enable_grad()
    def multiples() -> Iterator[ag.Tensor]:
        yield x * 2.0
        yield x * 3.0

    with ag.no_grad():
        gen = multiples()
        first = next(gen)
        assert not ag.is_grad_enabled()
        second = next(gen)
        assert not ag.is_grad_enabled()
        gen.close()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert first.requires_grad
    assert second.requires_grad


# -- a 0-d operand does not promote a float32 tensor (PyTorch) --------------------------------

T32 = np.float32([1.0, 2.0])


@pytest.mark.parametrize(
    "product",
    [
        lambda t: t * np.float64(2.0),
        lambda t: np.float64(2.0) * t,
        lambda t: t * ag.Tensor(2.0),
        lambda t: ag.Tensor(2.0) * t,
    ],
    ids=["np.float64-right", "np.float64-left", "0d-tensor-right", "0d-tensor-left"],
)
def test_a_0d_float64_operand_keeps_a_float32_tensor_float32(
    product: Callable[[ag.Tensor], ag.Tensor],
) -> None:
    result = product(ag.Tensor(T32))
    assert result.dtype == np.float32


def test_a_0d_float64_array_operand_keeps_a_float32_tensor_float32() -> None:
    """Treated as a 0-d tensor would be. (PyTorch 2.13 itself gives float64 for this one.)"""
    assert (ag.Tensor(T32) + np.array(2.0)).dtype == np.float32


def test_the_gradient_of_a_0d_float64_factor_of_a_float32_tensor_is_float64() -> None:
    t32 = ag.Tensor(T32, requires_grad=True)
    s = ag.Tensor(2.0, requires_grad=True)
    (t32 * s).sum().backward()
    assert s.grad.dtype == np.float64
    assert s.grad.item() == 3.0
    assert t32.grad.dtype == np.float32
    np.testing.assert_array_equal(t32.grad.data, [2.0, 2.0])


def test_two_0d_tensors_promote_as_usual() -> None:
    assert (ag.Tensor(np.float32(1.0)) * ag.Tensor(2.0)).dtype == np.float64


def test_a_float64_vector_times_a_float32_vector_is_float64() -> None:
    assert (ag.Tensor([2.0]) * ag.Tensor(T32)).dtype == np.float64


# -- drawings -----------------------------------------------------------------------------------


def test_a_name_given_to_a_result_appears_in_its_drawing() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x * 2.0
    h.name = "hidden"
    out = (h * h).sum()
    assert "hidden" in ag.draw_graph(out).source
    assert h.name == "hidden"


# -- singular points --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zero_to_the",
    [lambda y: ag.pow(0.0, y), lambda y: 0.0**y],
    ids=["pow", "operator"],
)
def test_the_derivatives_of_zero_to_a_positive_power_are_zero_not_nan(
    zero_to_the: Callable[[Any], Any],
) -> None:
    """JAX's rule (log 0 is taken as 0 there); PyTorch gives NaN for the second derivative."""
    first = ag.grad(zero_to_the)(2.0)
    second = ag.grad(ag.grad(zero_to_the))(2.0)
    assert float(first) == 0.0
    assert float(second) == 0.0


@pytest.mark.parametrize("ddof", [0, 1])
def test_the_gradient_of_the_std_of_constant_values_is_zero(ddof: int) -> None:
    x = ag.Tensor([1.0, 1.0, 1.0], requires_grad=True)
    x.std(ddof=ddof).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


def test_the_std_along_an_axis_has_zero_gradient_only_in_a_constant_column() -> None:
    values = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 4.0]])
    x = ag.Tensor(values, requires_grad=True)
    x.std(axis=0).sum().backward()
    column = values[:, 1]
    expected = (column - column.mean()) / (len(column) * column.std())  # d std / d x_i
    assert np.all(np.isfinite(x.grad.data))
    np.testing.assert_array_equal(x.grad.data[:, 0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad.data[:, 1], expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("write", "kind"),
    [
        (lambda t: t.__setitem__(0, "a"), ValueError),
        (lambda t: t.__setitem__(5, 1.0), IndexError),
        (lambda t: t.fill_(np.ones(3)), ValueError),
        (lambda t: t.copy_(np.ones((2, 2))), ValueError),
        (lambda t: t.add_("a"), TypeError),
    ],
)
def test_a_bad_in_place_write_raises_a_plain_error_naming_the_op(
    write: Callable[[ag.Tensor], object], kind: type[Exception]
) -> None:
    t = ag.Tensor([1.0, 2.0])
    with pytest.raises(kind) as raised:
        write(t)
    assert type(raised.value) is kind
    assert "__init__" not in str(raised.value)
    np.testing.assert_array_equal(t.data, [1.0, 2.0])  # nothing was written
