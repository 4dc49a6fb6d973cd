"""Modes are per thread, as PyTorch's grad mode is thread-local.

`no_grad()`, forward-mode levels (`jvp`), `detect_anomaly()` and the nn module scope set in one
thread never change what another thread does. Each test makes the threads overlap in a fixed
order with events, and every wait has a timeout, so a deadlock fails the test instead of
hanging it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn

TIMEOUT = 10.0


class Worker(threading.Thread):
    """Runs `fn` in a daemon thread; `result()` joins it and returns or re-raises."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._fn = fn
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as error:
            self._error = error

    def result(self) -> Any:
        self.join(timeout=TIMEOUT)
        assert not self.is_alive(), "the thread did not finish in time (deadlock?)"
        if self._error is not None:
            raise self._error
        return self._value


def started(fn: Callable[[], Any]) -> Worker:
    worker = Worker(fn)
    worker.start()
    return worker


def wait_for(event: threading.Event) -> None:
    assert event.wait(timeout=TIMEOUT), "timed out waiting for the other thread"


@pytest.fixture(autouse=True)
def _grad_mode_left_on() -> Iterator[None]:
    yield
    if not ag.is_grad_enabled():  # only after a failure here: keep later tests working
        ag.enable_grad().__enter__()


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on() -> None:
    """A enters, B enters, A exits, B exits: with one global mode, B would restore A's False."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def thread_a() -> None:
        try:
            with ag.no_grad():
                a_in.set()
                wait_for(b_in)
        finally:
            a_out.set()

    def thread_b() -> None:
        wait_for(a_in)
        with ag.no_grad():
            b_in.set()
            wait_for(a_out)

    a, b = started(thread_a), started(thread_b)
    a.result()
    b.result()
    assert started(ag.is_grad_enabled).result() is True
    assert ag.is_grad_enabled()


def test_a_thread_records_a_graph_while_another_sits_inside_no_grad() -> None:
    a_in, b_done = threading.Event(), threading.Event()

    def thread_a() -> bool:
        with ag.no_grad():
            a_in.set()
            wait_for(b_done)
            return ag.is_grad_enabled()

    def thread_b() -> tuple[bool, bool, np.ndarray]:
        try:
            wait_for(a_in)
            enabled = ag.is_grad_enabled()
            x = ag.Tensor([1.0, 2.0], requires_grad=True)
            y = (x * x).sum()
            y.backward()
            return enabled, y.requires_grad, x.grad.data
        finally:
            b_done.set()

    a, b = started(thread_a), started(thread_b)
    enabled, recorded, gradient = b.result()
    assert enabled
    assert recorded
    np.testing.assert_array_equal(gradient, [2.0, 4.0])
    assert a.result() is False  # A's no_grad held throughout


def test_overlapping_jvp_calls_in_two_threads_each_get_their_own_tangent() -> None:
    """A's jvp starts first and returns while B's is still running: B keeps its tangent."""
    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()

    def cube_a(x: ag.Tensor) -> ag.Tensor:
        square = x * x
        a_inside.set()
        wait_for(b_inside)
        return square * x

    def cube_b(x: ag.Tensor) -> ag.Tensor:
        b_inside.set()
        wait_for(a_done)
        return x * x * x

    def thread_a() -> Any:
        try:
            return ag.jvp(cube_a, (ag.Tensor(1.0),), (ag.Tensor(1.0),))
        finally:
            a_done.set()

    def thread_b() -> Any:
        wait_for(a_inside)
        return ag.jvp(cube_b, (ag.Tensor(2.0),), (ag.Tensor(1.0),))

    a, b = started(thread_a), started(thread_b)
    out_a, tangent_a = a.result()
    out_b, tangent_b = b.result()
    assert out_a.item() == 1.0
    assert tangent_a.item() == 3.0  # 3x^2 at 1
    assert out_b.item() == 8.0
    assert tangent_b.item() == 12.0  # 3x^2 at 2


def test_detect_anomaly_in_one_thread_does_not_make_another_threads_nan_raise() -> None:
    a_in, b_done = threading.Event(), threading.Event()

    def thread_a() -> None:
        with ag.detect_anomaly():
            a_in.set()
            wait_for(b_done)
            with pytest.raises(FloatingPointError):  # it is on here
                ag.log(ag.Tensor(-1.0))

    def thread_b() -> float:
        try:
            wait_for(a_in)
            return ag.log(ag.Tensor(-1.0)).item()
        finally:
            b_done.set()

    a, b = started(thread_a), started(thread_b)
    assert np.isnan(b.result())
    a.result()


def test_a_module_scope_in_one_thread_does_not_tag_ops_recorded_in_another() -> None:
    """Seen through draw_graph, which draws the ops of each module call in a cluster."""
    layer = nn.Linear(2, 2)
    a_in, b_done = threading.Event(), threading.Event()

    def graph_of_x_squared() -> ag.Tensor:
        x = ag.Tensor([1.0, 2.0], requires_grad=True)
        return (x * x).sum()

    def thread_a() -> str:
        with ag.module_scope(layer):
            inside = graph_of_x_squared()
            a_in.set()
            wait_for(b_done)
        return str(ag.draw_graph(inside, legend=False).source)

    def thread_b() -> str:
        try:
            wait_for(a_in)
            elsewhere = graph_of_x_squared()
        finally:
            b_done.set()
        return str(ag.draw_graph(elsewhere, legend=False).source)

    a, b = started(thread_a), started(thread_b)
    assert "cluster" not in b.result()
    assert "cluster" in a.result()  # the scope does tag A's own ops
