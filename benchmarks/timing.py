"""Interleaved timing: every contender runs once per round, so drift hits all alike.

Times are CPU time of the calling thread: with BLAS and PyTorch pinned to one thread that is
all the work of a step, and it does not count time the machine gave to other processes.
`--threads 2` runs switch to wall-clock time, which then is the honest measure.

The allocator: by glibc's default, malloc hands large freed blocks back to the operating
system (it trims the heap's top past a threshold that adapts to the largest block freed, and
maps big blocks separately); the next step then faults the same memory in again, page by
page and zeroed by the kernel. How much of that happens depends on what the process
allocated before. `keep_freed_memory()` makes glibc keep freed memory for reuse instead,
which `benchmarks.run` does once at its start, for every contender alike (`--malloc
default` measures glibc's default). On this VM, by default, a LeNet-5 step (ours) faulted
1,800-3,400 times (up to 13 MB, the convolutions' columns: 1.41-1.70x PyTorch, 1.04-1.13x
with freed memory kept), and the hand-written numpy MLP step in float64 about 940 times
(3 ms of kernel time in its 7.8 ms), which had made ours look 0.88x of it (1.08-1.13x kept).
"""

from __future__ import annotations

import ctypes
import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def cpu_clock() -> Callable[[], float]:
    """This thread's CPU time with one BLAS thread (see above), else wall-clock time."""
    single_thread = os.environ.get("OMP_NUM_THREADS", "1") == "1"
    return time.thread_time if single_thread else time.perf_counter


def interleaved(
    contenders: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 3
) -> dict[str, float]:
    """Median seconds per call of each contender, measured in alternating rounds."""
    clock = cpu_clock()
    for _ in range(warmup):
        for run in contenders.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = clock()
            run()
            samples[name].append(clock() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


# Keep up to 256 MB of freed memory at the heap's top, and serve blocks below 32 MB from the
# heap: as environment variables (read by glibc when a process starts) and as mallopt's
# options M_TRIM_THRESHOLD and M_MMAP_THRESHOLD (glibc's malloc.h) for a running process.
KEEP_FREED_MEMORY_ENV = {
    "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
}
_MALLOPT_OPTIONS = {"MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_MMAP_THRESHOLD_": -3}


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse (no trimming of the heap below 256 MB,
    no separate mapping of blocks under 32 MB): in this process through mallopt, and in the
    processes it starts through the environment variables, which do the same. False where
    there is no glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    for variable, value in KEEP_FREED_MEMORY_ENV.items():
        if not mallopt(_MALLOPT_OPTIONS[variable], int(value)):
            return False
    os.environ.update(KEEP_FREED_MEMORY_ENV)
    return True


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


def torch_or_none() -> object | None:
    """PyTorch when installed (an optional contender), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def prepare_standalone_run() -> None:
    """What a benchmark script run on its own sets up, as `benchmarks.run` does: glibc keeping
    freed memory (unless KEEP_FREED_MEMORY=0) and PyTorch on the pinned number of threads."""
    if os.environ.get("KEEP_FREED_MEMORY", "1") == "1":
        print("glibc keeps freed memory:", keep_freed_memory(), "(KEEP_FREED_MEMORY=0: default)")
    torch: Any = torch_or_none()
    if torch is not None:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def against_pytorch(medians: dict[str, float]) -> dict[str, dict[str, float]]:
    """Each contender's median in microseconds, with its ratio to PyTorch's when it ran."""
    base = medians.get("pytorch")
    return {
        contender: {"us": seconds * 1e6} | ({"ratio_to_pytorch": seconds / base} if base else {})
        for contender, seconds in medians.items()
    }


def print_results(results: dict[str, dict[str, dict[str, float]]]) -> None:
    """A standalone run's results: each workload, then each contender's figures."""
    for workload, entries in results.items():
        print(workload)
        for contender, figures in entries.items():
            cells = "  ".join(f"{k}={v:.3f}" for k, v in figures.items())
            print(f"  {contender:14s} {cells}")
