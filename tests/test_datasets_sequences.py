"""The bundled novel, the character tokenizer, language-model windows and the synthetic
sequence tasks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
from nn import datasets
from nn.data import DataLoader, TensorDataset
from nn.datasets import (
    ADDITION_VOCAB,
    BOS,
    EOS,
    PAD,
    CharTokenizer,
    lm_windows,
    load_time_machine,
    make_addition_task,
    make_copy_task,
    make_reverse_task,
    make_sort_task,
)

SHARED_COPY = Path("/work/shared/data/time_machine.txt")
TASKS = [make_copy_task, make_reverse_task, make_sort_task]


# -- The Time Machine ------------------------------------------------------------------------


def test_time_machine_is_the_clean_shared_text() -> None:
    text = load_time_machine()
    assert isinstance(text, str)
    assert len(text) == 181_671 and text.count("\n") == 3_380
    assert text.startswith("The Time Machine, by H(erbert) G(eorge) Wells [1898]\n\n\n     ")
    assert text.endswith("a mutual tenderness still lived on in the heart of man.\n")
    if SHARED_COPY.exists():
        assert text == SHARED_COPY.read_text(encoding="ascii")


def test_time_machine_ships_compressed_with_its_licence_and_loads_fast() -> None:
    folder = Path(datasets.__file__).parent
    assert (folder / "time_machine.txt.xz").stat().st_size < 70_000
    licence = (folder / "TIME_MACHINE_LICENSE.txt").read_text()
    assert "public domain" in licence and "Gutenberg" in licence
    start = time.perf_counter()
    load_time_machine()
    assert time.perf_counter() - start < 0.1


def test_package_data_lists_the_novel_and_its_licence() -> None:
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"time_machine.txt.xz"' in pyproject and '"TIME_MACHINE_LICENSE.txt"' in pyproject


# -- CharTokenizer ---------------------------------------------------------------------------


def test_tokenizer_vocabulary_is_the_sorted_set_of_characters() -> None:
    tok = CharTokenizer("hello world")
    assert tok.vocab == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert len(tok) == 8 and tok.stoi["h"] == 3
    ids = tok.encode("hold")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 5, 4, 1]
    assert tok.decode(ids) == "hold"
    assert tok.encode("").shape == (0,) and tok.decode([]) == ""


def test_tokenizer_round_trips_the_whole_novel() -> None:
    text = load_time_machine()
    tok = CharTokenizer(text)
    ids = tok.encode(text)
    assert ids.shape == (len(text),) and ids.min() == 0 and ids.max() == len(tok) - 1
    assert tok.decode(ids) == text
    assert [tok.vocab[i] for i in ids[:4]] == list("The ")


def test_tokenizer_handles_characters_beyond_ascii() -> None:
    tok = CharTokenizer("naïve café ☕")
    assert tok.decode(tok.encode("café ☕")) == "café ☕"


def test_tokenizer_decodes_tensors_and_whole_floats() -> None:
    tok = CharTokenizer("abc")
    assert tok.decode(ag.Tensor([2.0, 0.0])) == "ca"
    assert tok.decode(np.array([1, 1], dtype=np.int32)) == "bb"


def test_tokenizer_errors_name_the_character_and_the_vocabulary() -> None:
    tok = CharTokenizer("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2 .* vocabulary of 3"):
        tok.encode("abzz")
    with pytest.raises(ValueError, match=r"'!' at position 0"):
        tok.encode("!")  # below every code point of the vocabulary
    with pytest.raises(ValueError, match=r"id 3 is out of range .* \(ids 0..2\)"):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match="id -1"):
        tok.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        tok.decode([0.5])
    with pytest.raises(ValueError, match="1-D"):
        tok.decode([[0, 1]])
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer("")
    with pytest.raises(TypeError, match="str"):
        CharTokenizer(["a", "b"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        tok.encode(b"abc")  # type: ignore[arg-type]


# -- lm_windows ------------------------------------------------------------------------------


def test_lm_windows_targets_are_inputs_shifted_by_one() -> None:
    ids = np.arange(11)
    x, y = lm_windows(ids, 3)
    assert x.dtype == y.dtype == np.int64
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    x, y = lm_windows(ids, 4, stride=2)
    assert x[:, 0].tolist() == [0, 2, 4, 6] and np.array_equal(y, x + 1)
    x, y = lm_windows([0, 1, 2, 3], 3)  # exactly one window; a list works too
    assert x.tolist() == [[0, 1, 2]] and y.tolist() == [[1, 2, 3]]
    ids = ag.argmax(ag.Tensor(np.eye(5)), dim=1)  # an integer Tensor
    assert lm_windows(ids, 2)[1].tolist() == [[1, 2], [3, 4]]


def test_lm_windows_feed_a_data_loader() -> None:
    tok = CharTokenizer("the time machine")
    x, y = lm_windows(tok.encode("the time machine"), 5)
    (bx, by), *_ = DataLoader(TensorDataset(x, y), batch_size=2)
    assert bx.shape == (2, 5) and by.dtype == np.int64
    assert tok.decode(bx[0]) == "the t" and tok.decode(by[0]) == "he ti"


def test_lm_windows_errors() -> None:
    with pytest.raises(ValueError, match="too few"):
        lm_windows(np.arange(3), 3)
    with pytest.raises(ValueError, match="at least 1"):
        lm_windows(np.arange(10), 0)
    with pytest.raises(ValueError, match="at least 1"):
        lm_windows(np.arange(10), 2, stride=0)
    with pytest.raises(ValueError, match="1-D integer"):
        lm_windows(np.zeros((2, 5), np.int64), 2)
    with pytest.raises(ValueError, match="1-D integer"):
        lm_windows(np.arange(10.0), 2)


# -- synthetic tasks -------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_tasks_have_fixed_shapes_and_symbols_after_the_reserved_ids(task) -> None:
    src, tgt = task(50, length=6, vocab_size=9, seed=1)
    assert src.shape == tgt.shape == (50, 6)
    assert src.dtype == tgt.dtype == np.int64
    assert src.min() >= 3 and src.max() <= 8 and len(np.unique(src)) == 6
    assert not np.isin([PAD, BOS, EOS], tgt).any()


@pytest.mark.parametrize("task", [*TASKS, make_addition_task])
def test_tasks_are_reproducible_and_seeds_differ(task) -> None:
    a, b, c = task(20, seed=3), task(20, seed=3), task(20, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    rng = np.random.default_rng(3)
    assert np.array_equal(task(20, seed=rng)[0], a[0])  # a Generator works like its seed


def test_copy_reverse_and_sort_targets_are_correct() -> None:
    src, tgt = make_copy_task(30, 7, seed=0)
    assert np.array_equal(src, tgt) and src is not tgt
    src, tgt = make_reverse_task(30, 7, seed=0)
    assert all(list(t) == list(reversed(s)) for s, t in zip(src, tgt, strict=True))
    src, tgt = make_sort_task(30, 7, seed=0)
    assert all(list(t) == sorted(s) for s, t in zip(src, tgt, strict=True))
    assert tgt.flags.c_contiguous


def test_addition_task_reads_back_as_correct_sums() -> None:
    src, tgt = make_addition_task(200, digits=3, seed=0)
    assert src.shape == (200, 7) and tgt.shape == (200, 4) and src.dtype == np.int64
    assert len(ADDITION_VOCAB) == 14 and ADDITION_VOCAB[:3] == ("<pad>", "<bos>", "<eos>")
    for s, t in zip(src, tgt, strict=True):
        text, total = "".join(ADDITION_VOCAB[i] for i in s), "".join(ADDITION_VOCAB[i] for i in t)
        a, b = text.split("+")
        assert len(a) == len(b) == 3 and len(total) == 4
        assert int(a) + int(b) == int(total)
    assert tgt[:, 0].max() == ADDITION_VOCAB.index("1")  # some sums carry into a fourth digit
    one_digit = make_addition_task(5, digits=1, seed=2)
    assert one_digit[0].shape == (5, 3) and one_digit[1].shape == (5, 2)


def test_task_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="make_copy_task: n_samples must be at least 1"):
        make_copy_task(0)
    with pytest.raises(ValueError, match="make_reverse_task: length"):
        make_reverse_task(5, length=0)
    with pytest.raises(ValueError, match="make_sort_task: vocab_size must be at least 4"):
        make_sort_task(5, vocab_size=3)
    with pytest.raises(TypeError, match="length must be an int"):
        make_copy_task(5, length=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digits must be at least 1"):
        make_addition_task(5, digits=0)
    with pytest.raises(ValueError, match="at most 17"):
        make_addition_task(5, digits=18)
