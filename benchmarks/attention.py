"""Attention, forward and backward, float32, against PyTorch's CPU layers: the issue's
workloads, MultiheadAttention self-attention (batch 16, sequence 32, embedding 64, 4 heads)
with the causal mask, and a TransformerEncoderLayer(64, 4, 128) training step (dropout 0.1)
on (16, 32, 64); then single-head causal attention on (16, 32, 64), composed by hand from
today's ops (the issue's reference point) and through F.scaled_dot_product_attention.
Alone: `.venv/bin/python -m benchmarks.attention` (glibc keeps freed memory, as in
`benchmarks.run`; KEEP_FREED_MEMORY=0 for its default)."""

from __future__ import annotations

import os

if __name__ == "__main__":  # pin BLAS and OpenMP to one thread before numpy loads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_core as ag
import nn
from benchmarks.timing import (
    against_pytorch,
    interleaved,
    prepare_standalone_run,
    print_results,
    torch_or_none,
)

BATCH, LENGTH, WIDTH, HEADS, FEEDFORWARD = 16, 32, 64, 4, 128


def _step(forward: Callable[[Any], Any], x: Any, g: Any) -> Callable[[], None]:
    """One forward and backward from x (ours or PyTorch's: the same calls)."""

    def step() -> None:
        x.grad = None
        forward(x).backward(g)

    return step


def _self_attention(module: Any, mask: Any) -> Callable[[Any], Any]:
    return lambda x: module(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)[0]


def _by_hand(x: ag.Tensor) -> ag.Tensor:
    """softmax(Q K^T / sqrt(d), future hidden) V with Q = K = V = x, from plain ops."""
    future = np.triu(np.ones((LENGTH, LENGTH), dtype=bool), 1)
    scores = ag.matmul(x, x.mT) * (1.0 / math.sqrt(WIDTH))
    return ag.matmul(ag.softmax(ag.masked_fill(scores, future, -math.inf), axis=-1), x)


def _contenders(torch: Any, x: np.ndarray, g: np.ndarray) -> dict[str, dict[str, Any]]:
    """workload -> contender -> step."""
    mask = nn.Transformer.generate_square_subsequent_mask(LENGTH, dtype=np.float32)
    mha = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True, dtype=np.float32, generator=0)
    layer = nn.TransformerEncoderLayer(
        WIDTH, HEADS, FEEDFORWARD, batch_first=True, dtype=np.float32, generator=0
    )

    def ours() -> ag.Tensor:
        return ag.Tensor(x, requires_grad=True)

    workloads: dict[str, dict[str, Any]] = {
        "MultiheadAttention causal, 16x32x64, 4 heads": {
            "ours": _step(_self_attention(mha, mask), ours(), g)
        },
        "TransformerEncoderLayer(64, 4, 128), 16x32x64": {"ours": _step(layer, ours(), g)},
        "single-head causal attention, 16x32x64": {
            "by hand": _step(_by_hand, ours(), g),
            "ours": _step(
                lambda t: nn.functional.scaled_dot_product_attention(t, t, t, is_causal=True),
                ours(),
                g,
            ),
        },
    }
    if torch is None:
        return workloads
    torch.manual_seed(0)
    their_mha = torch.nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
    their_layer = torch.nn.TransformerEncoderLayer(WIDTH, HEADS, FEEDFORWARD, batch_first=True)
    their_mask = torch.from_numpy(mask.data)
    their_g = torch.from_numpy(g)

    def theirs() -> Any:
        return torch.tensor(x, requires_grad=True)

    sdpa = torch.nn.functional.scaled_dot_product_attention
    for name, step in zip(
        workloads,
        [
            _step(_self_attention(their_mha, their_mask), theirs(), their_g),
            _step(their_layer, theirs(), their_g),
            _step(lambda t: sdpa(t, t, t, is_causal=True), theirs(), their_g),
        ],
        strict=True,
    ):
        workloads[name]["pytorch"] = step
    return workloads


def run(rounds: int = 100) -> dict[str, Any]:
    torch: Any = torch_or_none()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, LENGTH, WIDTH)).astype(np.float32)
    g = rng.standard_normal((BATCH, LENGTH, WIDTH)).astype(np.float32)
    results: dict[str, Any] = {}
    for name, contenders in _contenders(torch, x, g).items():
        results[name] = against_pytorch(interleaved(contenders, rounds))
    return results


if __name__ == "__main__":
    prepare_standalone_run()
    print_results(run())
