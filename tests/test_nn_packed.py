"""Packed sequences (nn.utils.rnn): PyTorch's layout, round trips through padding, gradients
through `data`, errors at the edge, and the recurrent layers on packed input: each sequence
run alone to its own end, whatever else is in the batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

LAYERS = [nn.RNN, nn.LSTM, nn.GRU]


def _padded(lengths: list[int], features: int = 2, seed: int = 0) -> np.ndarray:
    """A time-major batch (T, B, features), T = max length, random everywhere (padding too)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((max(lengths), len(lengths), features))


# -- layout and round trips ----------------------------------------------------------------------


def test_the_packed_layout_is_pytorchs_time_major_interleaving() -> None:
    """Steps of a (3), b (1), c (2) sorted longest first, a, c, b: a0 c0 b0 a1 c1 a2."""
    a, b, c = np.array([[1.0], [2], [3]]), np.array([[10.0]]), np.array([[20.0], [21]])
    packed = pack_sequence([a, b, c], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.data[:, 0], [1, 20, 10, 2, 21, 3])
    assert packed.batch_sizes.tolist() == [3, 2, 1] and packed.batch_sizes.dtype == np.int64
    assert packed.sorted_indices.tolist() == [0, 2, 1]
    assert packed.unsorted_indices.tolist() == [0, 2, 1]
    in_order = pack_sequence([a, c, b])
    assert in_order.sorted_indices is None and in_order.unsorted_indices is None
    np.testing.assert_array_equal(in_order.data.data, packed.data.data)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    ("lengths", "enforce_sorted"), [([4, 3, 3, 1], True), ([2, 4, 1, 3], False)]
)
def test_padding_a_packed_batch_gives_back_the_input_with_padding_past_each_end(
    lengths: list[int], enforce_sorted: bool, batch_first: bool
) -> None:
    x = _padded(lengths)
    given = np.swapaxes(x, 0, 1) if batch_first else x
    packed = pack_padded_sequence(given, lengths, batch_first, enforce_sorted)
    assert packed.data.shape == (sum(lengths), 2)
    padded, back = pad_packed_sequence(packed, batch_first, padding_value=-7.0, total_length=6)
    assert back.tolist() == lengths and back.dtype == np.int64
    expected = np.full((6, 4, 2), -7.0)
    for n, length in enumerate(lengths):
        expected[:length, n] = x[:length, n]
    np.testing.assert_array_equal(
        padded.data, np.swapaxes(expected, 0, 1) if batch_first else expected
    )


def test_pack_sequence_is_pack_padded_sequence_of_pad_sequence() -> None:
    rng = np.random.default_rng(1)
    sequences = [rng.standard_normal((n, 3)) for n in (2, 5, 1)]
    packed = pack_sequence(sequences, enforce_sorted=False)
    again = pack_padded_sequence(pad_sequence(sequences), [2, 5, 1], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.data, again.data.data)
    assert packed.batch_sizes.tolist() == again.batch_sizes.tolist() == [3, 2, 1, 1, 1]


def test_a_packed_sequence_computes_its_unsorted_indices() -> None:
    packed = PackedSequence(ag.zeros(3, 1), [2, 1], sorted_indices=[1, 0])
    _, sizes, order, inverse = packed  # a tuple of four, as PyTorch's
    assert sizes.tolist() == [2, 1] and sizes.dtype == np.int64
    assert order.tolist() == inverse.tolist() == [1, 0]


def test_gradients_flow_through_packing_to_the_steps_kept_only() -> None:
    x = ag.Tensor(_padded([3, 1, 2]), requires_grad=True)
    packed = pack_padded_sequence(x, [3, 1, 2], enforce_sorted=False)
    padded, _ = pad_packed_sequence(packed, padding_value=5.0)
    (padded * padded).sum().backward()
    kept = np.arange(3)[:, None, None] < np.array([3, 1, 2])[None, :, None]
    np.testing.assert_array_equal(x.grad.data, np.where(kept, 2 * x.data, 0.0))
    assert ag.gradcheck(
        lambda x: pad_packed_sequence(pack_padded_sequence(x, [2, 1], True))[0] ** 2,
        [_padded([2, 1])],
        order=2,
    )


# -- errors at the edge --------------------------------------------------------------------------


def test_packing_refuses_what_pytorch_refuses_naming_lengths_and_shapes() -> None:
    x = np.zeros((3, 2, 4))
    with pytest.raises(ValueError, match=r"must be sorted in decreasing order .* got \[1, 3\]"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(ValueError, match=r"greater than 0.* \[3, 0\]"):
        pack_padded_sequence(x, [3, 0])
    with pytest.raises(ValueError, match=r"greater than 0.* \[0, 3\]"):
        pack_padded_sequence(x, [0, 3], enforce_sorted=False)
    with pytest.raises(ValueError, match=r"lengths \[4, 1\] go past the input's 3 time steps"):
        pack_padded_sequence(x, [4, 1])
    with pytest.raises(ValueError, match=r"got 3 \(batch_size=2, input of shape \(3, 2, 4\)"):
        pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match=r"batch_size=3, input of shape \(3, 2, 4\), batch_f"):
        pack_padded_sequence(x, [2, 2], batch_first=True)
    with pytest.raises(ValueError, match=r"Cannot pack empty tensors \(input of shape \(0, 2, 4"):
        pack_padded_sequence(np.zeros((0, 2, 4)), [1, 1])
    with pytest.raises(ValueError, match=r"lengths must be a 1-D list of integers"):
        pack_padded_sequence(x, [2.5, 1.0])
    with pytest.raises(ValueError, match=r"expected input of shape \(T, B, \*\)"):
        pack_padded_sequence(np.zeros(3), [3])
    with pytest.raises(ValueError, match=r"empty list of sequences"):
        pack_sequence([])
    packed = pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match=r"total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(TypeError, match=r"expected a PackedSequence, got ndarray"):
        pad_packed_sequence(x)  # type: ignore[arg-type]


# -- recurrent layers on packed input ------------------------------------------------------------


def _run_alone(model: Any, x: np.ndarray, hx: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    output, state = model(x, hx)
    parts = list(state) if isinstance(state, tuple) else [state]
    return output.data, [p.data for p in parts]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_packed_batch_runs_each_sequence_alone_to_its_own_end(layer: Any) -> None:
    """Output steps and final states (both directions, two layers) of each sequence in a
    packed batch equal that sequence run by itself, with its own initial state."""
    model = layer(2, 3, num_layers=2, bidirectional=True, generator=0)
    lengths = [2, 4, 1]
    x = _padded(lengths)
    rng = np.random.default_rng(1)
    states = [rng.standard_normal((4, 3, 3)) for _ in range(2 if layer is nn.LSTM else 1)]
    hx = tuple(states) if layer is nn.LSTM else states[0]
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, state = model(packed, hx)
    assert isinstance(out, PackedSequence)
    assert out.sorted_indices.tolist() == packed.sorted_indices.tolist()
    padded, back = pad_packed_sequence(out)
    assert back.tolist() == lengths and padded.shape == (4, 3, 6)
    finals = list(state) if isinstance(state, tuple) else [state]
    for n, length in enumerate(lengths):
        own = tuple(s[:, n : n + 1] for s in states)
        alone, alone_finals = _run_alone(
            model, x[:length, n : n + 1], own if len(own) == 2 else own[0]
        )
        np.testing.assert_allclose(padded.data[:length, n : n + 1], alone, atol=1e-12)
        np.testing.assert_array_equal(padded.data[length:, n], 0.0)
        for final, expected in zip(finals, alone_finals, strict=True):
            np.testing.assert_allclose(final.data[:, n : n + 1], expected, atol=1e-12)


def test_a_packed_input_gets_no_gradient_past_a_sequence_and_is_checked_at_the_edge() -> None:
    model = nn.GRU(2, 3, generator=0)
    x = ag.Tensor(_padded([3, 1]), requires_grad=True)
    out, h = model(pack_padded_sequence(x, [3, 1]))
    (out.data.sum() + h.sum()).backward()
    assert np.abs(x.grad.data[1:, 1]).sum() == 0 and np.abs(x.grad.data[:, 0]).min() > 0
    with pytest.raises(ValueError, match=r"GRU\(2, 3\): h_0 of shape \(1, 3, 3\) .*\(1, 2, 3\)"):
        model(pack_padded_sequence(x, [3, 1]), np.zeros((1, 3, 3)))
    with pytest.raises(
        ValueError, match=r"packed data of shape \(sum of lengths, 2\), got \(4, 3\)"
    ):
        model(pack_padded_sequence(np.zeros((3, 2, 3)), [3, 1]))
    with pytest.raises(TypeError, match=r"input dtype float32 does not match .* float64"):
        model(pack_padded_sequence(np.zeros((3, 2, 2), np.float32), [3, 1]))


@pytest.mark.parametrize("layer", LAYERS)
def test_dropout_between_layers_acts_on_a_packed_batch_in_training_only(layer: Any) -> None:
    """With p = 1 the second layer sees zeros in training: the packed output is the second
    layer alone over packed zeros of the same lengths; in evaluation nothing is dropped."""
    model = layer(2, 3, num_layers=2, dropout=1.0, generator=0)
    second = layer(3, 3, generator=1)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(second, f"{name}_l0").data[...] = getattr(model, f"{name}_l1").data
    lengths = [1, 3, 2]
    packed = pack_padded_sequence(_padded(lengths), lengths, enforce_sorted=False)
    zeros = pack_padded_sequence(np.zeros((3, 3, 3)), lengths, enforce_sorted=False)
    np.testing.assert_allclose(model(packed)[0].data.data, second(zeros)[0].data.data)
    model.eval()
    plain = layer(2, 3, num_layers=2, generator=0)
    np.testing.assert_array_equal(model(packed)[0].data.data, plain(packed)[0].data.data)


def test_unpad_and_unpack_give_back_each_sequence_with_its_gradient() -> None:
    rng = np.random.default_rng(3)
    sequences = [ag.Tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in (2, 4, 1)]
    for batch_first in (False, True):
        padded = pad_sequence(sequences, batch_first=batch_first)
        back = unpad_sequence(padded, np.array([2, 4, 1]), batch_first=batch_first)
        for original, piece in zip(sequences, back, strict=True):
            np.testing.assert_array_equal(piece.data, original.data)
    unpacked = unpack_sequence(pack_sequence(sequences, enforce_sorted=False))
    assert [u.shape for u in unpacked] == [(2, 2), (4, 2), (1, 2)]
    sum(((k + 1) * u).sum() for k, u in enumerate(unpacked)).backward()
    for k, original in enumerate(sequences):
        np.testing.assert_array_equal(original.grad.data, np.full(original.shape, k + 1.0))


def test_unpad_refuses_lengths_that_do_not_fit_the_batch() -> None:
    padded = np.zeros((4, 3, 2))  # (T, B, features)
    with pytest.raises(
        ValueError, match=r"one sequence per length \(2\) on axis 1 .* got shape \(4, 3, 2\)"
    ):
        unpad_sequence(padded, [1, 2])
    with pytest.raises(ValueError, match=r"lengths must be whole numbers from 0 to 4"):
        unpad_sequence(padded, [1, 5, 2])
