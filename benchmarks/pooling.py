"""Pooling layers, forward and backward, float32, against PyTorch's CPU pools: max pooling at
batch 64, 16 channels, 8x8, 2x2 windows (the issue's workload), at LeNet's 6x28x28, and with
overlapping 3x3 windows (stride 2, padding 1); average pooling at the same sizes; global
average pooling. `max_pool2d` is compared with composing a reshape and the reduction `max`
(what the primitive replaced). Alone: `.venv/bin/python -m benchmarks.pooling` (glibc keeps
freed memory, as in `benchmarks.run`; KEEP_FREED_MEMORY=0 for its default)."""

from __future__ import annotations

import os

if __name__ == "__main__":  # pin BLAS and OpenMP to one thread before numpy loads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_core as ag
from benchmarks.timing import (
    against_pytorch,
    interleaved,
    prepare_standalone_run,
    print_results,
    torch_or_none,
)

# name -> (input shape, our pool, PyTorch's pool by name, its arguments)
WORKLOADS: dict[str, tuple[tuple[int, ...], str, tuple[Any, ...]]] = {
    "max 2x2, 64x16x8x8": ((64, 16, 8, 8), "max_pool2d", (2,)),
    "max 2x2, 64x6x28x28": ((64, 6, 28, 28), "max_pool2d", (2,)),
    "max 3x3 s2 p1, 64x16x8x8": ((64, 16, 8, 8), "max_pool2d", (3, 2, 1)),
    "avg 2x2, 64x16x8x8": ((64, 16, 8, 8), "avg_pool2d", (2,)),
    "avg 2x2, 64x6x28x28": ((64, 6, 28, 28), "avg_pool2d", (2,)),
    "avg 3x3 s2 p1, 64x16x8x8": ((64, 16, 8, 8), "avg_pool2d", (3, 2, 1)),
    "global avg, 64x64x8x8": ((64, 64, 8, 8), "adaptive_avg_pool2d", (1,)),
}


def _reshape_max(x: ag.Tensor) -> ag.Tensor:
    """2x2 max pooling composed: the windows as axes of a reshape, then the reduction."""
    n, c, h, w = x.shape
    return ag.max(x.reshape(n, c, h // 2, 2, w // 2, 2), axis=(3, 5))


def _step(pool: Callable[..., Any], x: Any, g: Any, args: tuple[Any, ...]) -> Callable[[], None]:
    """One forward and backward through `pool` (ours or PyTorch's: the same calls)."""

    def step() -> None:
        x.grad = None
        pool(x, *args).backward(g)

    return step


def run(rounds: int = 100) -> dict[str, Any]:
    torch: Any = torch_or_none()
    results: dict[str, Any] = {}
    rng = np.random.default_rng(0)
    for name, (shape, op, args) in WORKLOADS.items():
        x = rng.standard_normal(shape).astype(np.float32)
        ours = getattr(ag, op)
        g = rng.standard_normal(ours(x, *args).shape).astype(np.float32)
        contenders = {"ours": _step(ours, ag.Tensor(x, requires_grad=True), g, args)}
        if name.startswith("max 2x2"):
            contenders["reshape + max"] = _step(
                _reshape_max, ag.Tensor(x, requires_grad=True), g, ()
            )
        if torch is not None:
            theirs = getattr(torch.nn.functional, op)
            contenders["pytorch"] = _step(
                theirs, torch.tensor(x, requires_grad=True), torch.from_numpy(g), args
            )
        results[name] = against_pytorch(interleaved(contenders, rounds))
    return results


if __name__ == "__main__":
    prepare_standalone_run()
    print_results(run())
