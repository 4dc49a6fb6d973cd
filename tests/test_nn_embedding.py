"""nn.Embedding, F.embedding, F.one_hot and nn.utils.pad_sequence: values, gradients
(repeated ids add up, the padding row gets none), initialization and errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core.checking import gradcheck
from nn import functional as F
from nn.utils import pad_sequence

rng = np.random.default_rng(16)


def ids_of(*shape: int, high: int = 7) -> np.ndarray:
    return rng.integers(0, high, shape)


# -- Embedding: initialization ---------------------------------------------------------------


def test_embedding_weight_is_standard_normal_and_reproducible() -> None:
    emb = nn.Embedding(400, 50, generator=0)
    w = emb.weight.data
    assert emb.weight.shape == (400, 50) and w.dtype == np.float64 and emb.weight.requires_grad
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02  # N(0, 1), 20,000 draws
    assert np.array_equal(nn.Embedding(400, 50, generator=0).weight.data, w)
    nn.manual_seed(3)
    first = nn.Embedding(4, 3).weight.data
    nn.manual_seed(3)
    assert np.array_equal(nn.Embedding(4, 3).weight.data, first)
    assert list(emb.state_dict()) == ["weight"] and not list(emb.buffers())


@pytest.mark.parametrize(("padding_idx", "row"), [(0, 0), (3, 3), (-1, 5), (-6, 0)])
def test_padding_row_starts_at_zero_and_negative_counts_from_the_end(padding_idx, row) -> None:
    emb = nn.Embedding(6, 4, padding_idx=padding_idx, generator=1)
    assert emb.padding_idx == row
    assert np.all(emb.weight.data[row] == 0)
    others = np.delete(emb.weight.data, row, axis=0)
    assert np.all(others != 0)
    assert repr(emb) == f"Embedding(6, 4, padding_idx={row})"


def test_embedding_keeps_its_dtype() -> None:
    emb = nn.Embedding(5, 3, padding_idx=0, dtype=np.float32, generator=0)
    out = emb(np.array([0, 4, 4]))
    assert emb.weight.dtype == out.dtype == np.float32
    out.sum().backward()
    assert emb.weight.grad.dtype == np.float32


# -- Embedding: lookup and gradients ---------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3), (2, 3, 4), (0,), (3, 0)])
def test_embedding_returns_the_rows_of_the_ids_for_any_shape(shape) -> None:
    emb = nn.Embedding(7, 3, generator=2)
    ids = ids_of(*shape)
    out = emb(ids)
    assert out.shape == (*shape, 3)
    np.testing.assert_array_equal(out.data, emb.weight.data[ids])


def test_embedding_accepts_lists_ints_and_integer_tensors() -> None:
    emb = nn.Embedding(7, 3, generator=2)
    np.testing.assert_array_equal(emb([[1, 2]]).data, emb.weight.data[[[1, 2]]])
    np.testing.assert_array_equal(emb(4).data, emb.weight.data[4])
    np.testing.assert_array_equal(emb(np.int8(5)).data, emb.weight.data[5])
    ids = ag.argmax(ag.Tensor([[0.0, 9.0, 1.0], [5.0, 0.0, 0.0]]), dim=1)  # an int64 Tensor
    np.testing.assert_array_equal(emb(ids).data, emb.weight.data[[1, 0]])
    np.testing.assert_array_equal(emb(np.array([6], np.uint8)).data, emb.weight.data[[6]])


def test_repeated_ids_add_their_gradients_in_one_row() -> None:
    emb = nn.Embedding(6, 4, generator=3)
    ids = np.array([[1, 3, 1], [1, 5, 3]])
    g = rng.standard_normal((2, 3, 4))
    (emb(ids) * g).sum().backward()
    expected = np.zeros((6, 4))
    np.add.at(expected, ids, g)
    np.testing.assert_allclose(emb.weight.grad.data, expected, rtol=0, atol=1e-15)
    assert np.all(emb.weight.grad.data[[0, 2, 4]] == 0)
    np.testing.assert_allclose(emb.weight.grad.data[1], g[0, 0] + g[0, 2] + g[1, 0])


def test_embedding_is_a_linear_map_of_the_one_hot_vector() -> None:
    """The course's claim: one_hot(ids) @ W is the row lookup W[ids], gradients included."""
    w = ag.Tensor(rng.standard_normal((6, 3)), requires_grad=True)
    ids = np.array([2, 0, 2, 5])
    g = rng.standard_normal((4, 3))
    by_lookup = F.embedding(ids, w)
    (by_lookup * g).sum().backward()
    lookup_grad = w.grad.data.copy()
    w.grad = None
    by_matmul = F.one_hot(ids, 6).double() @ w
    (by_matmul * g).sum().backward()
    np.testing.assert_allclose(by_lookup.data, by_matmul.data, rtol=0, atol=1e-15)
    np.testing.assert_allclose(lookup_grad, w.grad.data, rtol=0, atol=1e-15)


def test_embedding_derivatives_pass_gradcheck_to_second_order() -> None:
    ids = np.array([[0, 3], [3, 3]])
    assert gradcheck(lambda w: F.embedding(ids, w) ** 2, [rng.standard_normal((4, 2))], order=2)


def test_padding_row_gets_no_gradient_but_its_value_is_returned() -> None:
    emb = nn.Embedding(5, 3, padding_idx=1, generator=4)
    with ag.no_grad():
        emb.weight.data[1] = [1.0, 2.0, 3.0]  # the padding row need not stay zero
    ids = np.array([[1, 2, 1], [0, 1, 2]])
    out = emb(ids)
    np.testing.assert_array_equal(out.data, emb.weight.data[ids])
    (out * out).sum().backward()
    grad = emb.weight.grad.data
    assert np.all(grad[1] == 0)
    np.testing.assert_allclose(grad[2], 2 * 2 * emb.weight.data[2])
    np.testing.assert_allclose(grad[0], 2 * emb.weight.data[0])
    assert np.all(grad[[3, 4]] == 0)


def test_padding_stays_zero_while_training() -> None:
    emb = nn.Embedding(4, 2, padding_idx=0, generator=5)
    opt = nn.optim.SGD(emb.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        (emb(np.array([0, 1, 0, 2])) - 1.0).pow(2).sum().backward()
        opt.step()
    assert np.all(emb.weight.data[0] == 0) and np.all(emb.weight.data[1] != 0)


def test_functional_embedding_takes_a_negative_padding_idx() -> None:
    w = ag.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    F.embedding(np.array([3, 2, 3]), w, padding_idx=-1).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[0, 0], [0, 0], [1, 1], [0, 0]])


# -- Embedding: from_pretrained and max_norm -------------------------------------------------


def test_from_pretrained_copies_and_freezes_by_default() -> None:
    table = rng.standard_normal((5, 3))
    emb = nn.Embedding.from_pretrained(table, padding_idx=2)
    assert not emb.weight.requires_grad and emb.padding_idx == 2
    np.testing.assert_array_equal(emb.weight.data, table)  # the padding row is not zeroed
    table[0, 0] = 100.0
    assert emb.weight.data[0, 0] != 100.0  # a copy
    out = emb(np.array([0, 1]))
    assert not out.requires_grad
    trainable = nn.Embedding.from_pretrained(ag.Tensor(table, dtype=np.float32), freeze=False)
    assert trainable.weight.requires_grad and trainable.weight.dtype == np.float32
    assert (trainable.num_embeddings, trainable.embedding_dim) == (5, 3)


def test_max_norm_rescales_the_rows_looked_up_in_place() -> None:
    table = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [30.0, 40.0]])  # norms 5, .5, 10, 50
    emb = nn.Embedding(4, 2, max_norm=1.0, _weight=table)
    out = emb(np.array([0, 1, 0, 2]))
    scale = 1.0 / (np.array([5.0, 10.0]) + 1e-7)
    np.testing.assert_allclose(emb.weight.data[[0, 2]], table[[0, 2]] * scale[:, None])
    np.testing.assert_array_equal(emb.weight.data[1], table[1])  # norm below max_norm
    np.testing.assert_array_equal(emb.weight.data[3], table[3])  # not looked up
    np.testing.assert_array_equal(out.data, emb.weight.data[[0, 1, 0, 2]])
    l1 = nn.Embedding(2, 2, max_norm=2.0, norm_type=1.0, _weight=np.array([[3.0, 1.0], [1, 0]]))
    l1(np.array([0, 1]))
    np.testing.assert_allclose(np.abs(l1.weight.data).sum(1), [2.0, 1.0], rtol=1e-6)
    assert repr(l1) == "Embedding(2, 2, max_norm=2.0, norm_type=1.0)"


# -- Embedding: errors -----------------------------------------------------------------------


def test_ids_outside_the_table_name_the_layer_and_the_range() -> None:
    emb = nn.Embedding(10, 3, padding_idx=0)
    with pytest.raises(IndexError, match=r"Embedding\(10, 3, padding_idx=0\).*\[0, 10\)"):
        emb(np.array([1, 10]))
    with pytest.raises(IndexError, match=r"num_embeddings = 10.*e\.g\. -1"):
        emb(np.array([[-1, 2]]))
    with pytest.raises(IndexError, match=r"^embedding: ids must be in \[0, 3\)"):
        F.embedding(np.array([3]), ag.zeros(3, 2))


def test_floating_ids_are_refused() -> None:
    emb = nn.Embedding(10, 3)
    with pytest.raises(TypeError, match=r"Embedding\(10, 3\): ids must be integers.*float64"):
        emb(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="numpy integer array"):
        emb(ag.Tensor([1, 2]))  # a Tensor made from integers is float64
    with pytest.raises(TypeError, match="bool"):
        emb(np.array([True, False]))


def test_embedding_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"padding_idx must be within num_embeddings \(5\)"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=-6)
    with pytest.raises(TypeError, match="padding_idx must be an int"):
        nn.Embedding(5, 2, padding_idx=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_embeddings must be a positive int"):
        nn.Embedding(0, 2)
    with pytest.raises(TypeError, match="embedding_dim must be a positive int"):
        nn.Embedding(3, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_norm must be positive"):
        nn.Embedding(3, 2, max_norm=0.0)
    with pytest.raises(ValueError, match=r"_weight must have shape .* \(3, 2\), got \(2, 3\)"):
        nn.Embedding(3, 2, _weight=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="from_pretrained: embeddings must be 2-D"):
        nn.Embedding.from_pretrained(np.zeros(4))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.embedding(np.array([0]), ag.zeros(3))


def test_embedding_state_dict_round_trips() -> None:
    a, b = nn.Embedding(6, 3, padding_idx=2, generator=0), nn.Embedding(6, 3, generator=1)
    b.load_state_dict(a.state_dict())
    ids = ids_of(2, 4, high=6)
    np.testing.assert_array_equal(a(ids).data, b(ids).data)
    with pytest.raises(RuntimeError, match=r"weight: shape \(6, 3\) in the state dict"):
        nn.Embedding(5, 3).load_state_dict(a.state_dict())


# -- one_hot ---------------------------------------------------------------------------------


def test_one_hot_puts_a_one_at_each_id() -> None:
    out = F.one_hot(np.array([[0, 2], [1, 2]]), 4)
    assert isinstance(out, ag.Tensor) and out.dtype == np.int64 and not out.requires_grad
    assert out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.data, np.eye(4, dtype=np.int64)[[[0, 2], [1, 2]]])
    assert F.one_hot(np.array([3, 1])).shape == (2, 4)  # num_classes=-1: max + 1
    assert F.one_hot(2, 3).data.tolist() == [0, 0, 1]
    assert F.one_hot([1, 0], num_classes=2).data.tolist() == [[0, 1], [1, 0]]
    assert F.one_hot(np.zeros((0, 3), np.int64), 5).shape == (0, 3, 5)
    assert F.one_hot(np.zeros(0, np.int64), 0).shape == (0, 0)
    ids = ag.argmax(ag.Tensor([[1.0, 2.0], [3.0, 0.0]]), dim=1)
    assert F.one_hot(ids, 2).data.tolist() == [[0, 1], [1, 0]]


def test_one_hot_vectors_are_all_equally_far_apart() -> None:
    """Why embeddings: one-hot vectors have no notion of similarity (all dot products 0)."""
    vectors = F.one_hot(np.arange(5)).double()
    gram = (vectors @ vectors.T).data
    np.testing.assert_array_equal(gram, np.eye(5))


def test_one_hot_errors() -> None:
    with pytest.raises(IndexError, match=r"one_hot: ids must be non-negative.*-1"):
        F.one_hot(np.array([0, -1]))
    with pytest.raises(IndexError, match=r"one_hot: ids must be in \[0, 3\) \(num_classes = 3"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: ids must be integers, got dtype float64"):
        F.one_hot(np.array([0.0, 1.0]), 2)
    with pytest.raises(TypeError, match="numpy integer array"):
        F.one_hot(ag.Tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="cannot infer the number of classes from an empty"):
        F.one_hot(np.zeros(0, np.int64))
    with pytest.raises(ValueError, match=r"-1 \(infer\) or >= 0, got -2"):
        F.one_hot(np.array([0]), -2)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        F.one_hot(np.array([0]), 2.0)  # type: ignore[arg-type]


# -- pad_sequence ----------------------------------------------------------------------------


def _sequences(*lengths: int, trailing: tuple[int, ...] = (2,)) -> list[ag.Tensor]:
    return [ag.Tensor(rng.standard_normal((n, *trailing)), requires_grad=True) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_places_each_sequence_and_pads_the_rest(batch_first, side) -> None:
    seqs = _sequences(3, 1, 5, 0, trailing=(2, 3))
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-7.0, padding_side=side)
    assert out.shape == ((4, 5, 2, 3) if batch_first else (5, 4, 2, 3))
    batch = out.data if batch_first else np.swapaxes(out.data, 0, 1)
    for b, s in enumerate(seqs):
        n = len(s)
        steps = slice(5 - n, 5) if side == "left" else slice(0, n)
        pad = slice(0, 5 - n) if side == "left" else slice(n, 5)
        np.testing.assert_array_equal(batch[b, steps], s.data)
        assert np.all(batch[b, pad] == -7.0)


def test_pad_sequence_layouts_are_time_first_or_batch_first() -> None:
    seqs = _sequences(2, 5, trailing=())
    assert pad_sequence(seqs).shape == (5, 2)
    assert pad_sequence(seqs, batch_first=True).shape == (2, 5)
    single = pad_sequence(_sequences(3))
    assert single.shape == (3, 1, 2)
    assert pad_sequence(_sequences(0, 0)).shape == (0, 2, 2)


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_gradients_flow_back_to_each_sequence(side) -> None:
    seqs = _sequences(3, 1, 2)
    out = pad_sequence(seqs, batch_first=True, padding_value=5.0, padding_side=side)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    for b, s in enumerate(seqs):
        n = len(s)
        rows = slice(3 - n, 3) if side == "left" else slice(0, n)
        np.testing.assert_array_equal(s.grad.data, weights[b, rows])
    assert gradcheck(
        lambda a, b: pad_sequence([a, b], padding_side=side) ** 2,
        [rng.standard_normal((2, 3)), rng.standard_normal((4, 3))],
        order=2,
    )


def test_pad_sequence_keeps_float32_and_integer_ids() -> None:
    seqs = [ag.Tensor(np.ones((2, 3)), dtype=np.float32), ag.Tensor(np.ones((1, 3)), dtype="f4")]
    assert pad_sequence(seqs).dtype == np.float32
    ids = pad_sequence([np.array([4, 5, 6]), np.array([7])], batch_first=True, padding_value=1)
    assert isinstance(ids, np.ndarray) and ids.dtype == np.int64
    assert ids.tolist() == [[4, 5, 6], [7, 1, 1]]
    ids = pad_sequence([[1, 2], [3]], padding_side="left")  # lists of ints too
    assert ids.tolist() == [[1, 0], [2, 3]]
    emb = nn.Embedding(8, 2, padding_idx=0)
    assert emb(pad_sequence([np.array([4, 5]), np.array([7])], batch_first=True)).shape == (2, 2, 2)
    mixed = pad_sequence([np.array([1.0, 2.0]), ag.Tensor([3.0])])  # a float array joins a Tensor
    assert isinstance(mixed, ag.Tensor) and mixed.data.tolist() == [[1.0, 3.0], [2.0, 0.0]]


def test_pad_sequence_errors() -> None:
    with pytest.raises(ValueError, match="non-empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ValueError, match="a single Tensor"):
        pad_sequence(ag.zeros(3, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"sequence 0 has shape \(2, 3\).*sequence 1 has shape"):
        pad_sequence([ag.zeros(2, 3), ag.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"dtype float64.*dtype float32"):
        pad_sequence([ag.zeros(2, 3), ag.zeros(2, 3, dtype=np.float32)])
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(\)"):
        pad_sequence([ag.zeros(2), ag.Tensor(1.0)])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([ag.zeros(2)], padding_side="both")
    with pytest.raises(ValueError, match="not a whole number, but the sequences are int64"):
        pad_sequence([np.array([1, 2]), np.array([3])], padding_value=0.5)
