"""Interleaved timing: every contender runs once per round, so drift hits all alike.

Times are CPU time of the calling thread: with BLAS and PyTorch pinned to one thread that is
all the work of a step, and it does not count time the machine gave to other processes.
`--threads 2` runs switch to wall-clock time, which then is the honest measure.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def cpu_clock() -> Callable[[], float]:
    """This thread's CPU time with one BLAS thread (see above), else wall-clock time."""
    single_thread = os.environ.get("OMP_NUM_THREADS", "1") == "1"
    return time.thread_time if single_thread else time.perf_counter


def interleaved(
    contenders: dict[str, Callable[[], object]], rounds: int, warmup: int = 3
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


def torch_or_none() -> object | None:
    """PyTorch when installed (an optional contender), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch
