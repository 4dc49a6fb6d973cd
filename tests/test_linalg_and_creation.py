"""einsum and the products built on it (tensordot, outer), matrix parts (diag, trace, tril,
triu), and the constructors: values against numpy, derivatives by gradcheck, the PyTorch
spellings, and the errors a user meets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
from tests.cases_linalg import EINSUM_SUBSCRIPTS

rng = np.random.default_rng(7)


def normal(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def operand_shapes(subscripts: str, size: int = 3, dots: tuple[int, ...] = (2,)) -> list[Any]:
    """A shape per operand: `size` per label, `dots` for '...'."""
    shapes = []
    for term in subscripts.split("->")[0].split(","):
        before, _, after = term.partition("...")
        middle = dots if "..." in term else ()
        shapes.append((*[size] * len(before), *middle, *[size] * len(after)))
    return shapes


# --------------------------------------------------------------------------------------------
# einsum
# --------------------------------------------------------------------------------------------

SPELLINGS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: labels used once, alphabetical
    ("ba", [(2, 3)]),  # a transpose
    ("aB", [(2, 3)]),  # implicit order is ASCII: upper case first
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),  # '...' broadcasts
    ("...ij,...jk", [(2, 3), (4, 3, 4)]),  # and takes the lead in an implicit output
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # size-1 axes broadcast against their label
    ("ij,jk->ik", [(2, 3), (1, 4)]),
    ("ij,k->ik", [(2, 3), (4,)]),
    (",ij->ij", [(), (2, 2)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]),  # spaces are ignored
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), SPELLINGS)
def test_einsum_values_match_numpy_for_each_spelling(
    subscripts: str, shapes: list[tuple[int, ...]]
) -> None:
    arrays = [normal(*s) for s in shapes]
    out = ag.einsum(subscripts, *arrays)
    np.testing.assert_allclose(out.data, np.einsum(subscripts, *arrays), rtol=1e-12)


def test_einsum_sums_the_ellipsis_axes_an_explicit_output_leaves_out_as_pytorch() -> None:
    x = normal(2, 3, 4)
    np.testing.assert_allclose(ag.einsum("...ij->ij", x).data, x.sum(axis=0), rtol=1e-12)


def test_einsum_takes_pytorchs_list_of_operands() -> None:
    a, b = ag.Tensor(normal(2, 3)), ag.Tensor(normal(3, 4))
    np.testing.assert_allclose(ag.einsum("ij,jk", [a, b]).data, (a @ b).data, rtol=1e-12)


@pytest.mark.parametrize("subscripts", EINSUM_SUBSCRIPTS)
def test_einsum_derivatives_pass_gradcheck_to_second_order_in_both_modes(subscripts: str) -> None:
    arrays = [normal(*s) for s in operand_shapes(subscripts, size=2)]
    assert ag.gradcheck(lambda *ts: ag.einsum(subscripts, *ts), arrays, order=2)


def test_einsum_gradient_of_a_diagonal_is_a_diagonal_matrix() -> None:
    x = ag.Tensor(normal(3, 3), requires_grad=True)
    (ag.einsum("ii->i", x) * ag.Tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, np.diag([1.0, 2.0, 3.0]))


def test_einsum_gradient_of_a_label_summed_out_of_one_operand_is_broadcast() -> None:
    a = ag.Tensor(normal(2, 3), requires_grad=True)
    b = ag.Tensor(normal(4), requires_grad=True)
    ag.einsum("ij,k->ik", a, b).sum().backward()
    assert a.grad is not None and b.grad is not None
    np.testing.assert_allclose(a.grad.data, np.full((2, 3), b.data.sum()), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, np.full(4, a.data.sum()), rtol=1e-12)


def test_einsum_keeps_float32() -> None:
    a = ag.Tensor(normal(2, 3), dtype=np.float32, requires_grad=True)
    out = ag.einsum("ij,j->i", a, ag.Tensor(normal(3), dtype=np.float32))
    out.sum().backward()
    assert out.dtype == np.float32 and a.grad is not None and a.grad.dtype == np.float32


def test_einsum_of_one_operand_may_be_a_view_and_in_place_changes_count_for_both() -> None:
    """As in PyTorch, "ii->i" gives a view: writing into it writes into x (and counts)."""
    x = ag.zeros(3, 3)
    diagonal = ag.einsum("ii->i", x)
    diagonal += 1.0
    np.testing.assert_array_equal(x.data, np.eye(3))
    assert x._version == 1


BAD_EINSUMS = [
    ("ij,jk", [(2, 3), (4, 5)], "label 'j' has sizes 3 and 4"),
    ("ijk", [(2, 3)], "operand 0 has 2 dimensions, but 'ijk' names 3"),
    ("ij", [(2, 3, 4)], "has no '...'"),
    ("i..j", [(2, 3)], "bad term 'i..j'"),
    ("i1", [(2, 2)], "bad term 'i1'"),
    ("ii", [(2, 3)], "label 'i' repeats in operand 0 with different sizes"),
    ("ij->ii", [(2, 2)], "output label 'i' appears more than once"),
    ("ij->k", [(2, 2)], "output label 'k' appears in no operand"),
    ("i,j", [(2,)], "2 operand terms for 1 operands"),
    ("i->j->k", [(2,)], "bad term"),
    ("...i,...i", [(2, 3), (4, 3)], "do not broadcast"),
]


@pytest.mark.parametrize(("subscripts", "shapes", "message"), BAD_EINSUMS)
def test_einsum_errors_name_the_subscripts_and_the_shapes(
    subscripts: str, shapes: list[tuple[int, ...]], message: str
) -> None:
    with pytest.raises(ValueError, match="einsum: ") as caught:
        ag.einsum(subscripts, *[np.zeros(s) for s in shapes])
    text = str(caught.value)
    assert message in text and repr(subscripts) in text and str(shapes) in text


def test_einsum_without_operands_or_with_a_non_string_says_so() -> None:
    with pytest.raises(ValueError, match="no operands"):
        ag.einsum("ij")
    with pytest.raises(TypeError, match="subscripts must be a string"):
        ag.einsum(np.zeros(2), np.zeros(2))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# tensordot, outer, diag, trace, tril, triu
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shapes", "dims", "numpy_axes"),
    [
        ([(2, 3, 4), (3, 4, 5)], 2, 2),
        ([(2, 3), (3, 4)], 1, 1),
        ([(2, 3), (4, 5)], 0, 0),
        ([(2, 3, 4), (4, 3, 2)], ([0, 2], [2, 0]), ([0, 2], [2, 0])),
        ([(2, 3), (3, 4)], ([-1], [0]), ([-1], [0])),
        ([(2, 3), (4, 3)], (1, 1), (1, 1)),  # one axis each, as ints
    ],
)
def test_tensordot_values_match_numpy_for_each_form_of_dims(
    shapes: list[tuple[int, ...]], dims: Any, numpy_axes: Any
) -> None:
    a, b = normal(*shapes[0]), normal(*shapes[1])
    expected = np.tensordot(a, b, numpy_axes)
    np.testing.assert_allclose(ag.tensordot(a, b, dims).data, expected, rtol=1e-12)
    np.testing.assert_allclose(ag.tensordot(a, b, axes=numpy_axes).data, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("shapes", "dims", "error", "message"),
    [
        ([(2, 3), (4, 5)], 1, ValueError, "do not pair up with equal sizes"),
        ([(2, 3), (3,)], 2, ValueError, "dims=2 does not fit"),
        ([(2, 3), (3, 4)], -1, ValueError, "dims=-1 does not fit"),
        ([(2, 3), (3, 4)], ([0, 0], [0, 1]), ValueError, "repeat an axis"),
        ([(2, 3), (3, 4)], ([1], [0, 1]), ValueError, "do not pair up"),
        ([(2, 3), (3, 4)], ([2], [0]), ValueError, "axis 2 is out of range"),
        ([(2, 3), (3, 4)], "1", TypeError, "dims must be an int or a pair"),
    ],
)
def test_tensordot_errors_name_the_axes_and_shapes(
    shapes: list[tuple[int, ...]], dims: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="tensordot: ") as caught:
        ag.tensordot(np.zeros(shapes[0]), np.zeros(shapes[1]), dims)
    assert message in str(caught.value)


def test_outer_diag_trace_tril_triu_match_numpy_as_functions_and_methods() -> None:
    v, w, m, batch = normal(3), normal(4), normal(3, 4), normal(2, 3, 4)
    t = ag.Tensor(m)
    np.testing.assert_allclose(ag.Tensor(v).outer(w).data, np.outer(v, w), rtol=1e-12)
    for k in (-4, -1, 0, 2, 5):
        np.testing.assert_array_equal(ag.diag(v, k).data, np.diag(v, k))
        np.testing.assert_array_equal(t.diag(k).data, np.diag(m, k))
        np.testing.assert_array_equal(t.tril(k).data, np.tril(m, k))
        np.testing.assert_array_equal(ag.triu(batch, k).data, np.triu(batch, k))
    np.testing.assert_allclose(t.trace().data, np.trace(m), rtol=1e-12)
    np.testing.assert_array_equal(ag.tril(m).data, np.tril(m))


def test_tril_and_triu_give_zeros_not_nan_where_they_mask_infinities() -> None:
    x = np.full((2, 2), np.inf)
    np.testing.assert_array_equal(ag.tril(x).data, [[np.inf, 0.0], [np.inf, np.inf]])
    np.testing.assert_array_equal(ag.triu(x, 1).data, [[0.0, np.inf], [0.0, 0.0]])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.outer(np.zeros((2, 2)), np.zeros(2)), ValueError, "outer: expects two 1-D"),
        (lambda: ag.diag(np.zeros((2, 2, 2))), ValueError, "diag: expects a 1-D or 2-D"),
        (lambda: ag.diag(np.zeros(2), 1.5), TypeError, "diag: diagonal must be an int"),
        (lambda: ag.trace(np.zeros(3)), ValueError, "trace: expects a 2-D tensor"),
        (lambda: ag.tril(np.zeros(3)), ValueError, "tril: expects at least 2 dimensions"),
        (lambda: ag.triu(np.zeros((2, 2)), 0.5), TypeError, "triu: diagonal must be an int"),
    ],
)
def test_matrix_part_errors_name_the_op_and_shape(
    call: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------------------------
# Constructors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [ag.zeros, ag.ones])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],), (), (0, 2)])
def test_zeros_and_ones_take_sizes_as_arguments_or_as_one_sequence(
    make: Callable[..., ag.Tensor], size: tuple[Any, ...]
) -> None:
    shape = tuple(size[0]) if size and isinstance(size[0], (tuple, list)) else size
    t = make(*size)
    assert t.shape == shape and t.dtype == np.float64 and t.is_leaf and not t.requires_grad
    np.testing.assert_array_equal(t.data, np.zeros(shape) if make is ag.zeros else np.ones(shape))


def test_constructors_make_leaves_that_can_require_grad() -> None:
    w = ag.zeros(3, requires_grad=True)
    (w * 2.0 + ag.ones(3)).sum().backward()
    assert w.is_leaf and w.grad is not None
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("dtype", [np.float32, "float32", np.int64, "int32", bool])
def test_deterministic_constructors_take_a_dtype(dtype: Any) -> None:
    made = [
        ag.zeros(2, dtype=dtype),
        ag.ones(2, 2, dtype=dtype),
        ag.full((2,), 1, dtype=dtype),
        ag.eye(2, dtype=dtype),
        ag.arange(3, dtype=dtype) if np.dtype(dtype) != bool else ag.ones(1, dtype=dtype),
        ag.linspace(0, 1, 3, dtype=dtype),
        ag.zeros_like(np.zeros(2), dtype=dtype),
        ag.ones_like(np.zeros(2), dtype=dtype),
        ag.full_like(np.zeros(2), 1, dtype=dtype),
    ]
    assert all(t.dtype == np.dtype(dtype) for t in made)


def test_full_fills_and_takes_an_int_or_a_sequence_for_its_size() -> None:
    np.testing.assert_array_equal(ag.full((2, 3), 7).data, np.full((2, 3), 7.0))
    assert ag.full((2,), 7).dtype == np.float64  # integer data becomes float (API.md)
    assert ag.full(3, -1.5).shape == (3,)
    np.testing.assert_array_equal(ag.full([2], np.inf).data, [np.inf, np.inf])
    np.testing.assert_array_equal(ag.full((2,), ag.Tensor(3.0)).data, [3.0, 3.0])


def test_eye_is_the_identity_also_when_rectangular() -> None:
    np.testing.assert_array_equal(ag.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(ag.eye(2, 4).data, np.eye(2, 4))
    assert ag.eye(0).shape == (0, 0)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((5,), [0.0, 1.0, 2.0, 3.0, 4.0]),
        ((1, 3), [1.0, 2.0]),
        ((1, 3, 0.5), [1.0, 1.5, 2.0, 2.5]),
        ((3, 0, -1), [3.0, 2.0, 1.0]),
        ((0, 1, 0.3), [0.0, 0.3, 0.6, 0.9]),
        ((2, 2), []),
        ((0,), []),
    ],
)
def test_arange_counts_from_start_up_to_but_excluding_end(
    args: tuple[Any, ...], expected: list[float]
) -> None:
    t = ag.arange(*args)
    assert t.dtype == np.float64  # PyTorch would give int64 for integer arguments
    np.testing.assert_allclose(t.data, expected, rtol=1e-15, atol=1e-15)


def test_arange_with_an_integer_dtype_gives_integers() -> None:
    t = ag.arange(-2, 7, 3, dtype=np.int64)
    assert t.dtype == np.int64 and t.data.tolist() == [-2, 1, 4]


def test_linspace_includes_both_ends() -> None:
    np.testing.assert_allclose(ag.linspace(-1, 2, 7).data, np.linspace(-1, 2, 7), rtol=1e-15)
    assert ag.linspace(0, 1, 0).shape == (0,)
    np.testing.assert_array_equal(ag.linspace(3, 5, 1).data, [3.0])


def test_like_constructors_take_shape_and_dtype_from_their_argument() -> None:
    x32 = ag.Tensor(normal(2, 3), dtype=np.float32)
    integers = ag.arange(4, dtype=np.int64)
    for t, value in [(ag.zeros_like(x32), 0.0), (ag.ones_like(x32), 1.0)]:
        assert t.shape == (2, 3) and t.dtype == np.float32
        np.testing.assert_array_equal(t.data, np.full((2, 3), value))
    assert ag.full_like(integers, 7).dtype == np.int64
    assert ag.full_like(integers, 7).data.tolist() == [7, 7, 7, 7]
    assert ag.zeros_like([1, 2]).dtype == np.float64  # an integer list, as Tensor([1, 2])
    assert ag.ones_like(x32, dtype=np.float64).dtype == np.float64
    assert ag.full_like(x32, 2.5, requires_grad=True).requires_grad


@pytest.mark.parametrize("make", [ag.rand, ag.randn])
def test_random_constructors_are_reproducible_with_a_seed_or_a_generator(
    make: Callable[..., ag.Tensor],
) -> None:
    np.testing.assert_array_equal(make(3, 2, generator=5).data, make((3, 2), generator=5).data)
    first = make(4, generator=np.random.default_rng(11)).data
    np.testing.assert_array_equal(first, make(4, generator=np.random.default_rng(11)).data)
    assert not np.array_equal(first, make(4, generator=np.random.default_rng(12)).data)
    ag.manual_seed(3)
    a = make(5)
    ag.manual_seed(3)
    b, c = make(5), make(5)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(b.data, c.data)  # the default generator moves on


def test_manual_seed_reseeds_the_one_default_generator_in_place() -> None:
    generator = ag.default_generator()
    assert ag.manual_seed(8) is generator is ag.default_generator()
    expected = np.random.default_rng(8)
    np.testing.assert_array_equal(ag.rand(3).data, expected.random(3))
    np.testing.assert_array_equal(generator.standard_normal(2), expected.standard_normal(2))
    with pytest.raises(ValueError, match="manual_seed: seed must be a non-negative int"):
        ag.manual_seed(-1)


def test_rand_is_uniform_in_0_1_and_randn_standard_normal() -> None:
    u = ag.rand(20000, generator=0)
    z = ag.randn(20000, generator=0)
    assert u.shape == z.shape == (20000,) and u.dtype == z.dtype == np.float64
    assert u.data.min() >= 0.0 and u.data.max() < 1.0 and abs(u.data.mean() - 0.5) < 0.01
    assert abs(z.data.mean()) < 0.03 and abs(z.data.std() - 1.0) < 0.03
    assert ag.rand(2, dtype=np.float32).dtype == np.float32
    assert ag.randn(2, 2, dtype="float32", requires_grad=True).requires_grad


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.zeros(2, -1), ValueError, r"zeros: negative dimension -1 in size \(2, -1\)"),
        (lambda: ag.ones(2.0), TypeError, "ones: sizes must be ints"),
        (lambda: ag.rand(-3), ValueError, "rand: negative dimension"),
        (lambda: ag.eye(-1), ValueError, "eye: negative dimension"),
        (lambda: ag.zeros(2, dtype="complex128"), TypeError, "zeros: dtype complex128 is not"),
        (lambda: ag.ones(2, dtype="nonsense"), TypeError, "ones: 'nonsense' is not a dtype"),
        (
            lambda: ag.zeros(2, dtype=np.int64, requires_grad=True),
            TypeError,
            "zeros: only floating tensors can require grad, this one is int64",
        ),
        (
            lambda: ag.arange(3, dtype=np.int64, requires_grad=True),
            TypeError,
            "arange: only floating tensors can require grad",
        ),
        (lambda: ag.rand(2, dtype=np.int64), TypeError, "rand: dtype int64 is not supported"),
        (lambda: ag.randn(2, dtype=np.float16), TypeError, "use float32 or float64"),
        (lambda: ag.randn(2, generator="seed"), TypeError, "randn: generator must be"),
        (lambda: ag.arange(0, 3, 0), ValueError, "arange: step must not be zero"),
        (lambda: ag.arange(0, -3), ValueError, "arange: a step of 1 never goes from 0 to -3"),
        (lambda: ag.arange(np.nan, 3), ValueError, "arange: unsupported range"),
        (
            lambda: ag.arange(0, 2.5, 0.5, dtype=np.int64),
            ValueError,
            "arange: an integer dtype",
        ),
        (lambda: ag.arange("5"), TypeError, "arange: end must be a real number"),
        (lambda: ag.linspace(0, 1, -1), ValueError, "linspace: steps must be a non-negative"),
        (lambda: ag.full((2,), "a"), TypeError, "full: fill_value must be a real number"),
        (lambda: ag.full((2,), np.nan, dtype=np.int64), ValueError, "does not fit the integer"),
        (lambda: ag.full_like(np.zeros(2), 1e30, dtype=np.int32), ValueError, "full_like: "),
    ],
)
def test_constructor_errors_name_the_constructor_and_what_was_wrong(
    call: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


def test_every_constructor_is_exported() -> None:
    names = "zeros ones full eye arange linspace rand randn zeros_like ones_like full_like"
    names += " manual_seed default_generator einsum tensordot outer diag trace tril triu"
    for name in names.split():
        assert name in ag.__all__ and callable(getattr(ag, name))


def test_one_seed_covers_random_constructors_and_nn_initialization() -> None:
    import nn

    nn.manual_seed(5)
    first = (ag.randn(3).data, nn.Linear(2, 2).weight.data.copy())
    ag.manual_seed(5)
    second = (ag.randn(3).data, nn.Linear(2, 2).weight.data.copy())
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
