"""Training a 64-64-10 ReLU MLP on the bundled digits: 20 epochs of SGD, batch 32, float32,
the same initialization and batch order for every contender."""

from __future__ import annotations

import itertools
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


def _batches(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    batches = []
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        batches.extend(order[i : i + BATCH] for i in range(0, n, BATCH))
    return batches


def _initial_weights() -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(2)
    weights = [
        (rng.uniform(-1, 1, (n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
        for n_in, n_out in itertools.pairwise(SIZES)
    ]
    return weights, [np.zeros(n, dtype=np.float32) for n in SIZES[1:]]


def run() -> dict[str, Any]:
    clock = cpu_clock()
    x_train, y_train, x_test, y_test = _data()
    batches = _batches(len(y_train))
    weights, biases = _initial_weights()
    results: dict[str, Any] = {}

    baseline = NumpyMLP(weights, biases)
    start = clock()
    for index in batches:
        baseline.step(x_train[index], y_train[index], LR)
    results["numpy by hand"] = {
        "seconds": clock() - start,
        "test_accuracy": float(np.mean(baseline.predict(x_test) == y_test)),
    }

    model = our_mlp(weights, biases)
    loss_fn, optimizer = nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=LR)
    start = clock()
    for index in batches:
        optimizer.zero_grad()
        loss_fn(model(ag.Tensor(x_train[index])), y_train[index]).backward()
        optimizer.step()
    seconds = clock() - start
    with ag.no_grad():
        predicted = model(ag.Tensor(x_test)).data.argmax(axis=1)
    results["ours"] = {"seconds": seconds, "test_accuracy": float(np.mean(predicted == y_test))}

    torch: Any = torch_or_none()
    if torch is not None:
        net = torch_mlp(torch, weights, biases)
        opt, criterion = torch.optim.SGD(net.parameters(), lr=LR), torch.nn.CrossEntropyLoss()
        xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
        start = clock()
        for index in batches:
            idx = torch.from_numpy(index)
            opt.zero_grad()
            criterion(net(xt[idx]), yt[idx]).backward()
            opt.step()
        seconds = clock() - start
        with torch.no_grad():
            accuracy = float((net(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
        results["pytorch"] = {"seconds": seconds, "test_accuracy": accuracy}

    base = results["numpy by hand"]["seconds"]
    for entry in results.values():
        entry["ratio_to_numpy"] = entry["seconds"] / base
    return results
