"""Training a 64-64-10 ReLU MLP on the bundled digits: 20 epochs of SGD, batch 32, float32,
the same initialization and batch order for every contender."""

from __future__ import annotations

import itertools
import statistics
from functools import partial
from typing import Any

import numpy as np

import autograd_core as ag
import nn
from benchmarks.networks import NumpyMLP, our_mlp, torch_mlp
from benchmarks.timing import cpu_clock, torch_or_none

SIZES = [64, 64, 10]
EPOCHS, BATCH, LR = 20, 32, 0.1


def _data() -> tuple[np.ndarray, ...]:
    features, labels = nn.datasets.load_digits()
    features = (np.asarray(features, dtype=np.float32) / 16.0).astype(np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:1437], order[1437:]
    return features[train], labels[train], features[test], labels[test]


def _epochs(n: int) -> list[list[np.ndarray]]:
    """The mini-batch indices of every epoch, from a fixed seed."""
    rng = np.random.default_rng(1)
    return [
        [order[i : i + BATCH] for i in range(0, n, BATCH)]
        for order in (rng.permutation(n) for _ in range(EPOCHS))
    ]


def _initial_weights() -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(2)
    weights = [
        (rng.uniform(-1, 1, (n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
        for n_in, n_out in itertools.pairwise(SIZES)
    ]
    return weights, [np.zeros(n, dtype=np.float32) for n in SIZES[1:]]


class _Numpy:
    def __init__(self, data: tuple[np.ndarray, ...]) -> None:
        self.data, self.net = data, NumpyMLP(*_initial_weights())

    def epoch(self, batches: list[np.ndarray]) -> None:
        x, y = self.data[0], self.data[1]
        for index in batches:
            self.net.step(x[index], y[index], LR)

    def accuracy(self) -> float:
        return float(np.mean(self.net.predict(self.data[2]) == self.data[3]))


class _Ours:
    def __init__(self, data: tuple[np.ndarray, ...]) -> None:
        self.data, self.model = data, our_mlp(*_initial_weights())
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = nn.optim.SGD(self.model.parameters(), lr=LR)

    def epoch(self, batches: list[np.ndarray]) -> None:
        x, y = self.data[0], self.data[1]
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        for index in batches:
            optimizer.zero_grad()
            loss_fn(model(ag.Tensor(x[index])), y[index]).backward()
            optimizer.step()

    def accuracy(self) -> float:
        with ag.no_grad():
            predicted = self.model(ag.Tensor(self.data[2])).data.argmax(axis=1)
        return float(np.mean(predicted == self.data[3]))


class _Torch:
    def __init__(self, torch: Any, data: tuple[np.ndarray, ...]) -> None:
        self.torch, self.data = torch, data
        self.net = torch_mlp(torch, *_initial_weights())
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=LR)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(data[0]), torch.from_numpy(data[1])

    def epoch(self, batches: list[np.ndarray]) -> None:
        net, loss_fn, optimizer = self.net, self.loss_fn, self.optimizer
        for index in batches:
            idx = self.torch.from_numpy(index)
            optimizer.zero_grad()
            loss_fn(net(self.x[idx]), self.y[idx]).backward()
            optimizer.step()

    def accuracy(self) -> float:
        with self.torch.no_grad():
            logits = self.net(self.torch.from_numpy(self.data[2]))
        return float((logits.argmax(1).numpy() == self.data[3]).mean())


def run(repeats: int = 5) -> dict[str, Any]:
    """CPU time of a whole training (median of `repeats`), each contender from the same
    start; contenders alternate epoch by epoch, so drift in the machine hits all alike."""
    clock = cpu_clock()
    data = _data()
    epochs = _epochs(len(data[1]))
    makers: dict[str, Any] = {"numpy by hand": _Numpy, "ours": _Ours}
    torch: Any = torch_or_none()
    if torch is not None:
        makers["pytorch"] = partial(_Torch, torch)
    totals: dict[str, list[float]] = {name: [] for name in makers}
    accuracy: dict[str, float] = {}
    for _ in range(repeats + 1):  # the first is a warm-up
        trainers = {name: make(data) for name, make in makers.items()}
        spent = dict.fromkeys(makers, 0.0)
        for batches in epochs:
            for name, trainer in trainers.items():
                start = clock()
                trainer.epoch(batches)
                spent[name] += clock() - start
        for name, trainer in trainers.items():
            totals[name].append(spent[name])
            accuracy[name] = trainer.accuracy()
    seconds = {name: statistics.median(times[1:]) for name, times in totals.items()}
    base = seconds["numpy by hand"]
    return {
        name: {
            "seconds": seconds[name],
            "test_accuracy": accuracy[name],
            "ratio_to_numpy": seconds[name] / base,
        }
        for name in makers
    }
