"""A training loop leaves nothing behind: graphs die with their loss, without the cyclic GC."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import autograd_core as ag
import nn
from autograd_core.engine import Node


def live(kind: type) -> int:
    """Objects of exactly this type (type(), unlike isinstance, runs no hooks of other
    libraries' lazy modules)."""
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


def test_a_thousand_training_steps_keep_tensors_nodes_and_memory_flat_without_the_gc() -> None:
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((32, 8)), rng.integers(0, 3, 32)
    model = nn.MLP([8, 16, 3], activation="tanh", norm="batch", generator=0)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_fn(model(ag.Tensor(x)), labels)
        loss.backward()
        optimizer.step()

    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(1000):  # warm up: optimizer state, numpy's and Python's caches fill
            step()
        tensors, nodes = live(ag.Tensor), live(Node)
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            step()
        after, _ = tracemalloc.get_traced_memory()
        assert (live(ag.Tensor), live(Node)) == (tensors, nodes)
        assert after - before < 8 * 1024, f"memory grew by {after - before} bytes"
    finally:
        tracemalloc.stop()
        gc.enable()
