"""Per-op overhead: x = x * 1.0001 + 0.0001, 5,000 times on a 4-element float64 tensor."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from benchmarks.timing import interleaved, torch_or_none

STEPS = 5_000
OPS = 2 * STEPS


def _ours() -> None:
    x = ag.Tensor(np.ones(4), requires_grad=True)
    y = x
    for _ in range(STEPS):
        y = y * 1.0001 + 0.0001
    y.backward(np.ones(4))


def _ours_no_grad() -> None:
    y = ag.Tensor(np.ones(4))
    with ag.no_grad():
        for _ in range(STEPS):
            y = y * 1.0001 + 0.0001


def _numpy() -> None:
    y = np.ones(4)
    for _ in range(STEPS):
        y = y * 1.0001 + 0.0001


def run(rounds: int = 15) -> dict[str, Any]:
    contenders = {"ours": _ours, "ours no_grad": _ours_no_grad, "numpy (no autodiff)": _numpy}
    torch: Any = torch_or_none()
    if torch is not None:

        def _torch() -> None:
            x = torch.ones(4, dtype=torch.float64, requires_grad=True)
            y = x
            for _ in range(STEPS):
                y = y * 1.0001 + 0.0001
            y.backward(torch.ones(4, dtype=torch.float64))

        def _torch_no_grad() -> None:
            y = torch.ones(4, dtype=torch.float64)
            with torch.no_grad():
                for _ in range(STEPS):
                    y = y * 1.0001 + 0.0001

        contenders |= {"pytorch": _torch, "pytorch no_grad": _torch_no_grad}
    medians = interleaved(contenders, rounds)
    return {name: {"us_per_op": seconds / OPS * 1e6} for name, seconds in medians.items()}
