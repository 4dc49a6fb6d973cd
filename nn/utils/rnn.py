"""Sequences of different lengths as one batch (PyTorch's `torch.nn.utils.rnn`): padded to
the longest, or packed, the steps of all sequences without padding, for the recurrent layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def pad_sequence(
    sequences: Sequence[Any],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Any:
    """Stack sequences of different lengths into one batch, padding the short ones
    (torch.nn.utils.rnn.pad_sequence).

    Each sequence has shape (L_i, *) with the same trailing dims `*`; the result is
    (T, B, *) with T = max L_i, or (B, T, *) with `batch_first`. `padding_value` fills
    the missing steps after each sequence (`padding_side="right"`) or before it ("left").
    Tensors give a Tensor through which gradients flow back to each sequence; numpy integer
    arrays (token ids) give a numpy integer array, as nn.data hands out integer data.
    """
    if padding_side not in ("right", "left"):
        raise ValueError(
            f'pad_sequence: padding_side must be "right" or "left", got {padding_side!r}'
        )
    if isinstance(sequences, (Tensor, np.ndarray)) or not len(sequences):
        raise ValueError(
            "pad_sequence: expected a non-empty list of sequences (each of shape (L, *)), got "
            + (f"a single {type(sequences).__name__}" if len(sequences) else "an empty one")
        )
    as_tensors = any(isinstance(s, Tensor) for s in sequences) or any(
        np.asarray(s).dtype.kind == "f" for s in sequences
    )
    seqs = [_as_tensor(s) if as_tensors else np.asarray(s) for s in sequences]
    first = seqs[0]
    for i, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != first.shape[1:] or s.dtype != first.dtype:
            raise ValueError(
                f"pad_sequence: every sequence needs shape (L, *) with the same trailing dims "
                f"and dtype; sequence 0 has shape {first.shape} and dtype {first.dtype}, "
                f"sequence {i} has shape {s.shape} and dtype {s.dtype}"
            )
    lengths = np.array([len(s) for s in seqs])
    steps, batch = int(lengths.max()), len(seqs)
    # Where each sequence's steps go: batch row b, time steps t (shifted right when padding
    # on the left); one scatter of all steps at once instead of a pad per sequence.
    row = np.repeat(np.arange(batch), lengths)
    time = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if padding_side == "left":
        time += np.repeat(steps - lengths, lengths)
    index = (row, time) if batch_first else (time, row)
    shape = (batch, steps, *first.shape[1:]) if batch_first else (steps, batch, *first.shape[1:])
    if first.dtype.kind in "biu" and not float(padding_value).is_integer():
        raise ValueError(
            f"pad_sequence: padding_value {padding_value} is not a whole number, but the "
            f"sequences are {first.dtype}"
        )
    if not as_tensors:
        out = np.full(shape, padding_value, dtype=first.dtype)
        out[index] = np.concatenate(seqs)
        return out
    filler = ag.full(shape, padding_value, dtype=first.dtype)
    return ag.index_put(filler, ag.cat(seqs), index)


# --------------------------------------------------------------------------------------------
# Packed sequences.
# --------------------------------------------------------------------------------------------


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: np.ndarray
    sorted_indices: np.ndarray | None
    unsorted_indices: np.ndarray | None


class PackedSequence(_PackedFields):
    """A batch of sequences of different lengths without padding (torch's PackedSequence).

    The sequences are sorted by length, longest first (sample `sorted_indices[k]` of the
    original batch is the k-th; None when it already was sorted), and `data` holds their steps
    time-major, (sum of lengths, *): step 0 of every sequence, then step 1 of those at least 2
    long, and so on; `batch_sizes[t]` (int64) is how many sequences have a step t.
    `unsorted_indices` is the inverse permutation (computed when not given). A recurrent
    layer runs each sequence to its own end and returns a PackedSequence laid out alike.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Any,
        sorted_indices: Any = None,
        unsorted_indices: Any = None,
    ) -> PackedSequence:
        if sorted_indices is not None:
            sorted_indices = np.asarray(sorted_indices, dtype=np.int64)
            if unsorted_indices is None:
                unsorted_indices = np.argsort(sorted_indices).astype(np.int64)
        if unsorted_indices is not None:
            unsorted_indices = np.asarray(unsorted_indices, dtype=np.int64)
        sizes = np.asarray(batch_sizes, dtype=np.int64)
        return super().__new__(cls, data, sizes, sorted_indices, unsorted_indices)


def _packed_index(packed: PackedSequence, batch_first: bool) -> tuple[Any, ...]:
    """Where each row of `packed.data` sits in the padded batch, in the original order: the
    index (time, batch), or (batch, time) with `batch_first` (the recurrent layers repack
    their outputs with it)."""
    sizes = packed.batch_sizes
    time = np.repeat(np.arange(len(sizes)), sizes)
    rank = np.arange(len(time)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    batch = rank if packed.sorted_indices is None else packed.sorted_indices[rank]
    return (batch, time) if batch_first else (time, batch)


def _lengths(packed: PackedSequence) -> np.ndarray:
    """Each sequence's length (int64), in the original batch order."""
    sizes = packed.batch_sizes
    lengths = (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(axis=1).astype(np.int64)
    return lengths if packed.unsorted_indices is None else lengths[packed.unsorted_indices]


def pack_padded_sequence(
    input: Any, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) with `batch_first`) of sequences whose
    lengths are `lengths` (B integers in [1, T]) into a PackedSequence: their steps only.

    With `enforce_sorted` the lengths must be non-increasing (the batch sorted longest first);
    otherwise the batch is sorted here and the layer's results come back in the original order.
    `data` is a selection of `input`'s rows, so gradients flow back to the steps it holds.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    steps = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    where = "pack_padded_sequence"
    if x.ndim < 2:
        raise ValueError(f"{where}: expected input of shape (T, B, *) or (B, T, *), got {x.shape}")
    if x.numel() == 0:
        raise ValueError(f"{where}: Cannot pack empty tensors (input of shape {x.shape}).")
    if steps.ndim != 1 or (steps.size and steps.dtype.kind not in "iu"):
        raise ValueError(f"{where}: lengths must be a 1-D list of integers, got {steps!r}")
    batch, total = (x.shape[0], x.shape[1]) if batch_first else (x.shape[1], x.shape[0])
    if len(steps) != batch:
        raise ValueError(
            f"{where}: Expected `len(lengths)` to be equal to batch_size, but got {len(steps)} "
            f"(batch_size={batch}, input of shape {x.shape}, batch_first={batch_first})"
        )
    if enforce_sorted and np.any(np.diff(steps) > 0):
        raise ValueError(
            f"{where}: `lengths` array must be sorted in decreasing order when `enforce_sorted` "
            f"is True, got {steps.tolist()}. You can pass `enforce_sorted=False` to "
            f"pack_padded_sequence and/or pack_sequence to sidestep this requirement."
        )
    if steps.min() <= 0:
        raise ValueError(
            f"{where}: Length of all samples has to be greater than 0, but found an element in "
            f"'lengths' that is <= 0: {steps.tolist()}"
        )
    if steps.max() > total:
        raise ValueError(
            f"{where}: lengths {steps.tolist()} go past the input's {total} time steps (input "
            f"of shape {x.shape}, batch_first={batch_first})"
        )
    order = None if enforce_sorted else np.argsort(-steps, kind="stable").astype(np.int64)
    sorted_steps = steps if order is None else steps[order]
    sizes = (sorted_steps[None, :] > np.arange(sorted_steps[0])[:, None]).sum(axis=1)
    packed = PackedSequence(x, sizes, order)  # `data` is filled in just below
    return packed._replace(data=ag.getitem(x, _packed_index(packed, batch_first)))


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, np.ndarray]:
    """Undo `pack_padded_sequence`: the padded batch (T, B, *) ((B, T, *) with `batch_first`)
    in the original order, `padding_value` after each sequence's end, and the lengths (B,)
    (int64). T is the longest length, or `total_length` (to get back a fixed size)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}"
        )
    data, longest = sequence.data, len(sequence.batch_sizes)
    steps = longest if total_length is None else int(total_length)
    if steps < longest:
        raise ValueError(
            f"pad_packed_sequence: Expected total_length to be at least the length of the "
            f"longest sequence in input, but got total_length={total_length} and max sequence "
            f"length being {longest}"
        )
    batch = int(sequence.batch_sizes[0])
    lead = (batch, steps) if batch_first else (steps, batch)
    filler = ag.full((*lead, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = ag.index_put(filler, data, _packed_index(sequence, batch_first))
    return padded, _lengths(sequence)


def pack_sequence(sequences: Sequence[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences, each (L_i, *), into a PackedSequence (with `enforce_sorted`,
    longest first): `pack_padded_sequence(pad_sequence(sequences), lengths)`."""
    if isinstance(sequences, (Tensor, np.ndarray)) or not len(sequences):
        raise ValueError("pack_sequence: received an empty list of sequences")
    lengths = [len(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Any, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Undo `pad_sequence`: the list of sequences, sequence b its first lengths[b] steps of
    the padded batch (T, B, *) ((B, T, *) with `batch_first`); each a slice, so gradients
    flow back into the batch."""
    padded = _as_tensor(padded_sequences)
    steps = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths).reshape(-1)
    batch, time = (0, 1) if batch_first else (1, 0)
    if padded.ndim < 2 or len(steps) != padded.shape[batch]:
        raise ValueError(
            f"unpad_sequence: expected one sequence per length ({len(steps)}) on axis {batch} "
            f"of the padded batch, got shape {padded.shape}"
        )
    if steps.dtype.kind not in "iu" or (steps < 0).any() or (steps > padded.shape[time]).any():
        raise ValueError(
            f"unpad_sequence: lengths must be whole numbers from 0 to {padded.shape[time]} "
            f"(the padded length of shape {padded.shape}), got {steps.tolist()}"
        )
    return [padded[:n, b] if time == 0 else padded[b, :n] for b, n in enumerate(steps.tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo `pack_sequence`: the list of sequences, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
