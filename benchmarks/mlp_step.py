"""One training step of a 784-256-128-10 ReLU MLP, batch 128, softmax cross-entropy, SGD."""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

import numpy as np

import autograd_core as ag
import nn
from benchmarks.networks import NumpyMLP, matmul_floor, our_mlp, torch_mlp
from benchmarks.timing import interleaved, torch_or_none

SIZES = [784, 256, 128, 10]
BATCH = 128
LR = 0.01


def _initial_weights(dtype: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    weights = [
        rng.normal(0, (2 / n_in) ** 0.5, (n_out, n_in)).astype(dtype)
        for n_in, n_out in itertools.pairwise(SIZES)
    ]
    biases = [np.zeros(n_out, dtype=dtype) for n_out in SIZES[1:]]
    return weights, biases


def _ours(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, labels: np.ndarray
) -> Any:
    model = our_mlp(weights, biases)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    inputs = ag.Tensor(x)

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()

    return step


def _torch(
    torch: Any,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    x: np.ndarray,
    labels: np.ndarray,
) -> Any:
    model = torch_mlp(torch, weights, biases)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(x), torch.from_numpy(labels)

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()

    return step


def run(rounds: int = 60) -> dict[str, Any]:
    results: dict[str, Any] = {}
    torch: Any = torch_or_none()
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
        labels = rng.integers(0, SIZES[-1], BATCH)
        weights, biases = _initial_weights(dtype)
        baseline = NumpyMLP(weights, biases)
        delta = rng.standard_normal((BATCH, SIZES[-1])).astype(dtype)
        contenders = {
            "numpy by hand": partial(baseline.step, x, labels, LR),
            "ours": _ours(weights, biases, x, labels),
            "matmuls only (floor)": partial(matmul_floor, weights, x, delta),
        }
        if torch is not None:
            contenders["pytorch"] = _torch(torch, weights, biases, x, labels)
        medians = interleaved(contenders, rounds)
        base = medians["numpy by hand"]
        results[np.dtype(dtype).name] = {
            name: {"ms": seconds * 1e3, "ratio_to_numpy": seconds / base}
            for name, seconds in medians.items()
        }
    return results
