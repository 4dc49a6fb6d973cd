"""The demo scripts in examples/: each runs in --quick mode and prints what it promises, the
Transformer demo reaches 99% exact match in a full run, and its key/value-cache decoding
computes what re-running the decoder on the whole prefix computes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.datasets import BOS

# The script sets OPENBLAS_NUM_THREADS for itself on import; keep that out of this process's
# environment (and so out of the other tests' subprocesses).
with mock.patch.dict(os.environ):
    from examples.seq2seq_transformer import (
        OUT_LEN,
        Reverser,
        cached_greedy_decode,
        decode_step,
        greedy_decode,
        reversal_pairs,
        start_cache,
    )

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str, timeout: float = 120) -> str:
    """Run examples/<name> with warnings as errors; return what it printed."""
    out = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    return out.stdout


def test_char_lm_quick_run_prints_samples_losses_and_the_baseline(tmp_path: Path) -> None:
    out = run_example("char_lm.py", "--quick", "--out", str(tmp_path))
    before = re.search(r"before training: '(the time traveller.+)'", out)
    after = re.search(r"after training: '(the time traveller.+)'", out)
    assert before and after, out
    assert len(before.group(1)) == 18 + 80 and len(after.group(1)) == 18 + 160
    losses = [float(x) for x in re.findall(r"validation loss ([\d.]+)", out)]
    assert len(losses) == 3, out  # untrained, then after each of the 2 quick epochs
    assert losses[-1] < losses[0], out  # a few steps already help
    assert re.search(r"perplexity [\d.]+; unigram 2\.8\d\d", out), out
    assert (tmp_path / "char_lm_loss.png").stat().st_size > 0


def test_seq2seq_quick_run_decodes_both_ways_and_they_agree(tmp_path: Path) -> None:
    out = run_example("seq2seq_transformer.py", "--quick", "--out", str(tmp_path))
    assert re.search(r"exact match on 50 held-out sequences: [\d.]+%", out), out
    assert "full-prefix and cached decoding agree on all 550 tokens" in out, out
    assert re.search(r"key/value cache [\d.]+ s: [\d.]+x faster", out), out
    assert len(re.findall(r"^ +[a-j]+ -> ", out, flags=re.MULTILINE)) == 5, out
    assert (tmp_path / "seq2seq_loss.png").stat().st_size > 0


def test_seq2seq_full_run_reaches_99_percent_exact_match_on_held_out_sequences(
    tmp_path: Path,
) -> None:
    out = run_example("seq2seq_transformer.py", "--out", str(tmp_path), timeout=300)
    accuracy = re.search(r"exact match on 1000 held-out sequences: ([\d.]+)%", out)
    assert accuracy and float(accuracy.group(1)) >= 99.0, out
    assert "agree on all 11000 tokens" in out, out


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
def test_cached_decoding_step_gives_the_full_decoders_scores(norm_first: bool) -> None:
    """Teacher-forced through the cache one token at a time, every position's scores equal
    those of the decoder run on the whole prefix (float64, an untrained model)."""
    nn.manual_seed(1)
    model = Reverser(norm_first=norm_first, dtype=np.float64)
    model.eval()
    src, tgt = reversal_pairs(6, np.random.default_rng(2))
    prefix = np.concatenate([np.full((len(src), 1), BOS), tgt[:, :-1]], axis=1)
    with ag.no_grad():
        memory = model.encode(src)
        full = model.decode(prefix, memory, src).data
        caches = [start_cache(layer, memory) for layer in model.transformer.decoder.layers]
        steps = [decode_step(model, caches, prefix[:, t], t, src) for t in range(OUT_LEN)]
    np.testing.assert_allclose(np.stack(steps, axis=1), full, rtol=1e-9, atol=1e-12)
    assert caches[0].keys is not None and caches[0].keys.shape == (6, 2, OUT_LEN, 16)


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
def test_cached_greedy_decoding_emits_the_full_prefix_decodings_tokens(norm_first: bool) -> None:
    nn.manual_seed(3)
    model = Reverser(norm_first=norm_first, dtype=np.float64)
    model.eval()
    src, _ = reversal_pairs(20, np.random.default_rng(4))
    full = greedy_decode(model, src)
    assert full.shape == (20, OUT_LEN)
    assert len(np.unique(full)) > 1  # an untrained model, but not a constant one
    np.testing.assert_array_equal(cached_greedy_decode(model, src), full)
