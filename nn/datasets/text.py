"""Text for language models: the bundled novel, a character-level tokenizer and the cutting of
a long id sequence into (input, target) windows for next-token prediction."""

from __future__ import annotations

import lzma
from importlib import resources
from typing import Any

import numpy as np

from autograd_core import Tensor

__all__ = ["CharTokenizer", "lm_windows", "load_time_machine"]


def load_time_machine() -> str:
    """H. G. Wells' *The Time Machine* (1895; public domain) as one str: 181,671 ASCII
    characters in 3,380 lines, from Project Gutenberg eBook #35 without its licence footer.
    Shipped xz-compressed in the package (63 kB); see nn/datasets/TIME_MACHINE_LICENSE.txt."""
    path = resources.files(__package__).joinpath("time_machine.txt.xz")
    with path.open("rb") as f:
        return lzma.decompress(f.read()).decode("ascii")


class CharTokenizer:
    """Maps each character of a text to an integer id and back.

    The vocabulary is the sorted set of characters of `text` (so the same text always gives
    the same ids), `vocab[i]` is the character of id i. No id is reserved: ids run
    0..len(tokenizer) - 1. Encoding a character the text did not contain is an error.

    >>> tok = CharTokenizer("hello")
    >>> tok.vocab, tok.encode("hole").tolist(), tok.decode([2, 1])
    (['e', 'h', 'l', 'o'], [1, 3, 2, 0], 'le')
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer: text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("CharTokenizer: text is empty, so the vocabulary would be empty")
        self.vocab: list[str] = sorted(set(text))
        self.stoi: dict[str, int] = {ch: i for i, ch in enumerate(self.vocab)}
        # Code points in id order: encoding is one searchsorted, decoding one take.
        self._codes = np.array([ord(ch) for ch in self.vocab], dtype=np.uint32)

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"CharTokenizer({len(self)} characters: {''.join(self.vocab)!r})"

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of `text`: int64 array of shape (len(text),)."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode: expected a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        ids = np.searchsorted(self._codes, codes).clip(max=len(self) - 1)
        unknown = np.flatnonzero(self._codes[ids] != codes)
        if unknown.size:
            pos = int(unknown[0])
            raise ValueError(
                f"CharTokenizer.encode: character {text[pos]!r} at position {pos} is not in the "
                f"vocabulary of {len(self)} characters ({unknown.size} unknown in all)"
            )
        return ids.astype(np.int64)

    def decode(self, ids: Any) -> str:
        """The text of a 1-D sequence of ids (list, numpy array or Tensor of whole numbers)."""
        array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if array.ndim != 1:
            raise ValueError(
                f"CharTokenizer.decode: expected a 1-D sequence of ids, got shape {array.shape}"
            )
        if array.size == 0:
            return ""
        if array.dtype.kind not in "iuf" or (
            array.dtype.kind == "f" and not np.all(array == np.round(array))
        ):
            raise TypeError(f"CharTokenizer.decode: ids must be integers, got dtype {array.dtype}")
        bad = (array < 0) | (array >= len(self))
        if np.any(bad):
            raise ValueError(
                f"CharTokenizer.decode: id {array[bad][0]} is out of range for a vocabulary of "
                f"{len(self)} characters (ids 0..{len(self) - 1})"
            )
        return self._codes[array.astype(np.int64)].astype("<u4").tobytes().decode("utf-32-le")


def lm_windows(ids: Any, seq_len: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut a long 1-D id sequence into windows for next-token prediction.

    Window k starts at k * stride (default stride = seq_len: windows do not overlap):
    inputs[k] = ids[s : s + seq_len] and targets[k] = ids[s + 1 : s + seq_len + 1], the same
    window shifted by one, so the model learns to predict each next id. Returns two int64
    arrays of shape (n_windows, seq_len); ids left over at the end are dropped.
    `TensorDataset(inputs, targets)` makes them a dataset for `DataLoader`.
    """
    array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(
            f"lm_windows: ids must be a 1-D integer array, got shape {array.shape} and dtype "
            f"{array.dtype}"
        )
    stride = seq_len if stride is None else stride
    if seq_len < 1 or stride < 1:
        raise ValueError(
            f"lm_windows: seq_len and stride must be at least 1, got {seq_len} and {stride}"
        )
    if len(array) < seq_len + 1:
        raise ValueError(
            f"lm_windows: {len(array)} ids are too few for one window of seq_len {seq_len} "
            f"(it needs seq_len + 1 = {seq_len + 1})"
        )
    starts = np.arange(0, len(array) - seq_len, stride)
    index = starts[:, None] + np.arange(seq_len)
    array = array.astype(np.int64)
    return array[index], array[index + 1]
