"""One convolution layer, forward and backward: conv2d + bias, batch 64, 6x12x12 -> 16
channels, 5x5 kernel (LeNet-5's second convolution), float32; gradients of input, weight and
bias, against PyTorch's CPU convolution and the same layer written by hand in numpy (im2col
as one copy of a sliding-window view, one matrix product each way, col2im as 25 slice-adds).
Alone: `.venv/bin/python -m benchmarks.conv`.

Each contender's minor page faults per step are reported too: the columns of im2col are
2.4 MB here, and glibc's default is to hand freed blocks of that size back to the operating
system, so the next step faults them in again, page by page and zeroed. On this VM that cost
more than the convolution itself (about 1,360 faults per step: 2.6x PyTorch instead of
1.2x); `keep_freed_memory()` (benchmarks/timing.py) asks glibc to keep them for reuse
instead, which running this file alone does (KEEP_FREED_MEMORY=0 to measure the default).
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # pin BLAS and OpenMP to one thread before numpy loads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import autograd_core as ag
from benchmarks.timing import (
    interleaved,
    page_faults_per_call,
    prepare_standalone_run,
    torch_or_none,
)

BATCH, IN_CHANNELS, SIZE, OUT_CHANNELS, KERNEL = 64, 6, 12, 16, 5


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = SIZE - KERNEL + 1
    bound = 1 / np.sqrt(IN_CHANNELS * KERNEL * KERNEL)  # PyTorch's default initialization
    arrays = {
        "x": rng.standard_normal((BATCH, IN_CHANNELS, SIZE, SIZE)),
        "w": rng.uniform(-bound, bound, (OUT_CHANNELS, IN_CHANNELS, KERNEL, KERNEL)),
        "b": rng.uniform(-bound, bound, OUT_CHANNELS),
        "g": rng.standard_normal((BATCH, OUT_CHANNELS, out, out)),  # the output's cotangent
    }
    return {name: a.astype(np.float32) for name, a in arrays.items()}


def _ours(arrays: dict[str, np.ndarray]) -> Callable[[], None]:
    x, w, b = (ag.Tensor(arrays[k], requires_grad=True) for k in "xwb")
    g = arrays["g"]

    def step() -> None:
        for t in (x, w, b):
            t.grad = None
        ag.conv2d(x, w, b).backward(g)

    return step


def _numpy_by_hand(arrays: dict[str, np.ndarray]) -> Callable[[], tuple[np.ndarray, ...]]:
    """The layer as one would write it in numpy: columns (C*k*k, N*oH*oW) copied from a
    sliding-window view, the weight matrix times them, and back."""
    x, w, b, g = (arrays[k] for k in "xwbg")
    n, c, h, width = x.shape
    o, k = w.shape[0], w.shape[2]
    oh, ow = h - k + 1, width - k + 1
    w_rows = w.reshape(o, -1)

    def step() -> tuple[np.ndarray, ...]:
        windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, oH, oW, k, k)
        cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * oh * ow)
        y = (w_rows @ cols).reshape(o, n, oh, ow).transpose(1, 0, 2, 3) + b[:, None, None]
        g_rows = g.transpose(1, 0, 2, 3).reshape(o, n * oh * ow)
        grad_w = (g_rows @ cols.T).reshape(w.shape)
        grad_b = g.sum(axis=(0, 2, 3))
        grad_cols = (w_rows.T @ g_rows).reshape(c, k, k, n, oh, ow)
        grad_x = np.zeros((c, n, h, width), x.dtype)
        for i in range(k):
            for j in range(k):
                grad_x[:, :, i : i + oh, j : j + ow] += grad_cols[:, i, j]
        return y, grad_x.transpose(1, 0, 2, 3), grad_w, grad_b  # (views, as they come)

    return step


def _torch(torch: Any, arrays: dict[str, np.ndarray]) -> Callable[[], None]:
    x, w, b = (torch.tensor(arrays[k], requires_grad=True) for k in "xwb")
    g = torch.from_numpy(arrays["g"])

    def step() -> None:
        for t in (x, w, b):
            t.grad = None
        torch.nn.functional.conv2d(x, w, b).backward(g)

    return step


def _check_by_hand(arrays: dict[str, np.ndarray]) -> None:
    """The hand-written layer must compute what conv2d does (output and all gradients)."""
    x, w, b = (ag.Tensor(arrays[k], requires_grad=True) for k in "xwb")
    y = ag.conv2d(x, w, b)
    y.backward(arrays["g"])
    for name, ours, theirs in zip(
        ("output", "grad x", "grad w", "grad b"),
        (y.data, *(t.grad.data for t in (x, w, b))),
        _numpy_by_hand(arrays)(),
        strict=True,
    ):
        if not np.allclose(ours, theirs, rtol=1e-4, atol=1e-4):
            raise RuntimeError(f"conv benchmark: the hand-written layer's {name} differs")


def run(rounds: int = 60) -> dict[str, Any]:
    arrays = _arrays()
    _check_by_hand(arrays)
    contenders = {"ours": _ours(arrays), "numpy by hand": _numpy_by_hand(arrays)}
    torch: Any = torch_or_none()
    if torch is not None:
        contenders["pytorch"] = _torch(torch, arrays)
    medians = interleaved(contenders, rounds)
    base = medians.get("pytorch")
    results: dict[str, Any] = {}
    for name, seconds in medians.items():
        results[name] = {"ms": seconds * 1e3}
        if base:
            results[name]["ratio_to_pytorch"] = seconds / base
        results[name]["ratio_to_numpy"] = seconds / medians["numpy by hand"]
        results[name]["page_faults_per_step"] = page_faults_per_call(contenders[name])
    return results


if __name__ == "__main__":
    prepare_standalone_run()
    for contender, figures in run().items():
        print(f"{contender:14s}", "  ".join(f"{k}={v:.3f}" for k, v in figures.items()))
