"""Sequences of different lengths as one batch (PyTorch's `torch.nn.utils.rnn`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

__all__ = ["pad_sequence"]


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
