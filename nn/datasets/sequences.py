"""Seeded synthetic sequence-to-sequence tasks (copy, reverse, sort, addition) for RNNs and
the encoder-decoder Transformer.

Every task returns `(src, tgt)`: int64 arrays of token ids with one row per sample, of fixed
widths (no padding needed). Ids 0, 1 and 2 are reserved in every task for `PAD`, `BOS` and
`EOS` and never occur in `src` or `tgt`, so a seq2seq model can feed `BOS` as its first
decoder input, mark ends with `EOS` and pad with `PAD` without renumbering; the task symbols
start at id 3. The same seed gives the same data.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ADDITION_VOCAB",
    "BOS",
    "EOS",
    "PAD",
    "SPECIAL_TOKENS",
    "make_addition_task",
    "make_copy_task",
    "make_reverse_task",
    "make_sort_task",
]

#: Reserved token ids: padding, beginning and end of sequence.
PAD, BOS, EOS = 0, 1, 2
#: The reserved tokens' texts, indexed by their ids.
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<bos>", "<eos>")
#: The addition task's vocabulary: ADDITION_VOCAB[id] is the token of id (digit d is id 3 + d).
ADDITION_VOCAB: tuple[str, ...] = (*SPECIAL_TOKENS, *"0123456789", "+")

Seed = int | np.random.Generator | None


def _check_int(name: str, arg: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: {arg} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: {arg} must be at least {minimum}, got {value}")
    return int(value)


def _symbols(name: str, n_samples: int, length: int, vocab_size: int, seed: Seed) -> np.ndarray:
    """(n_samples, length) ids drawn uniformly from the task symbols 3..vocab_size - 1."""
    n_samples = _check_int(name, "n_samples", n_samples, 1)
    length = _check_int(name, "length", length, 1)
    vocab_size = _check_int(name, "vocab_size", vocab_size, len(SPECIAL_TOKENS) + 1)
    rng = np.random.default_rng(seed)
    return rng.integers(len(SPECIAL_TOKENS), vocab_size, size=(n_samples, length))


def make_copy_task(
    n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Copy: `tgt` equals `src`. src and tgt are int64 (n_samples, length) with symbols drawn
    uniformly from ids 3..vocab_size - 1; `vocab_size` counts the three reserved ids, so it is
    the size of the model's embedding and output layers."""
    src = _symbols("make_copy_task", n_samples, length, vocab_size, seed)
    return src, src.copy()


def make_reverse_task(
    n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reverse: `tgt` is `src` read backwards (src[:, ::-1]); otherwise as make_copy_task.
    The first output depends on the last input: a long-range dependency for an RNN."""
    src = _symbols("make_reverse_task", n_samples, length, vocab_size, seed)
    return src, src[:, ::-1].copy()


def make_sort_task(
    n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sort: `tgt` is each row of `src` in ascending order (repeats kept); otherwise as
    make_copy_task."""
    src = _symbols("make_sort_task", n_samples, length, vocab_size, seed)
    return src, np.sort(src, axis=1)


def make_addition_task(
    n_samples: int = 1000, digits: int = 3, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Addition of two random whole numbers below 10**digits, written with leading zeros.

    src is "a+b" (e.g. "123+045" for digits=3), int64 (n_samples, 2 * digits + 1); tgt is the
    sum with digits + 1 digits, most significant first (e.g. "0168"), int64
    (n_samples, digits + 1). Ids index `ADDITION_VOCAB` (14 tokens: the three reserved ones,
    the digits 0..9 as ids 3..12 and "+" as id 13), so
    `"".join(ADDITION_VOCAB[i] for i in src[0])` reads a sample back.
    """
    n_samples = _check_int("make_addition_task", "n_samples", n_samples, 1)
    digits = _check_int("make_addition_task", "digits", digits, 1)
    if digits > 17:
        raise ValueError(f"make_addition_task: digits must be at most 17 (int64), got {digits}")
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 10**digits, size=(2, n_samples))
    plus = np.full((n_samples, 1), ADDITION_VOCAB.index("+"), dtype=np.int64)
    src = np.concatenate([_digit_ids(a, digits), plus, _digit_ids(b, digits)], axis=1)
    return src, _digit_ids(a + b, digits + 1)


def _digit_ids(numbers: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of each number, most significant first, zero-padded to `width`, as
    ids of ADDITION_VOCAB: (n,) -> (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (numbers[:, None] // powers) % 10 + len(SPECIAL_TOKENS)
