"""One convolution layer, forward and backward: conv2d + bias, batch 64, 6x12x12 -> 16
channels, 5x5 kernel (LeNet-5's second convolution), float32; gradients of input, weight and
bias, against PyTorch's CPU convolution. Alone: `.venv/bin/python -m benchmarks.conv`.

Each contender's minor page faults per step are reported too: the columns of im2col are
2.4 MB here, and glibc's default is to hand freed blocks of that size back to the operating
system, so the next step faults them in again, page by page and zeroed. On this VM that cost
more than the convolution itself (about 1,300 faults per step: 2.0-2.8x PyTorch instead of
1.2-1.25x); `keep_freed_memory()` asks glibc to keep them for reuse instead, which running
this file alone does (KEEP_FREED_MEMORY=0 to measure the default).
"""

from __future__ import annotations

import ctypes
import os

if __name__ == "__main__":  # pin BLAS and OpenMP to one thread before numpy loads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_core as ag
from benchmarks.timing import interleaved, torch_or_none

BATCH, IN_CHANNELS, SIZE, OUT_CHANNELS, KERNEL = 64, 6, 12, 16, 5


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse (no trimming of the heap, no mmap for
    blocks under 32 MB), as the environment variables MALLOC_TRIM_THRESHOLD_ and
    MALLOC_MMAP_THRESHOLD_ would; for the whole process. False where there is no glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 256 << 20))


def page_faults_per_call(run: Callable[[], object], calls: int = 10) -> float | None:
    """Minor page faults (memory the OS had to map in) per call; None off Unix."""
    try:
        import resource
    except ImportError:
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


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


def _torch(torch: Any, arrays: dict[str, np.ndarray]) -> Callable[[], None]:
    x, w, b = (torch.tensor(arrays[k], requires_grad=True) for k in "xwb")
    g = torch.from_numpy(arrays["g"])

    def step() -> None:
        for t in (x, w, b):
            t.grad = None
        torch.nn.functional.conv2d(x, w, b).backward(g)

    return step


def run(rounds: int = 60) -> dict[str, Any]:
    arrays = _arrays()
    contenders = {"ours": _ours(arrays)}
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
        results[name]["page_faults_per_step"] = page_faults_per_call(contenders[name])
    return results


if __name__ == "__main__":
    if os.environ.get("KEEP_FREED_MEMORY", "1") == "1":
        print("glibc keeps freed memory:", keep_freed_memory(), "(KEEP_FREED_MEMORY=0: default)")
    torch_module: Any = torch_or_none()
    if torch_module is not None:
        torch_module.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    for contender, figures in run().items():
        print(f"{contender:8s}", "  ".join(f"{k}={v:.3f}" for k, v in figures.items()))
