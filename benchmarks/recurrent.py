"""Recurrent layers, forward and backward, float32: `nn.RNN`, `nn.LSTM` and `nn.GRU` with one
layer, sequence 32, batch 16, 64 -> 64 (the issue's workloads), against PyTorch's CPU layers
with the same weights, and the RNN and LSTM written by hand in numpy (the input projection of
all steps in one product, a loop over the steps, and backpropagation through time with W_hh's
gradient in one product at the end: what `autograd_core.recurrence` does, without the engine).
The gradients of all parameters are computed; the input is data (no gradient), as in a first
layer. Alone: `.venv/bin/python -m benchmarks.recurrent`.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # pin BLAS and OpenMP to one thread before numpy loads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

from collections.abc import Callable
from typing import Any

import numpy as np

import nn
from benchmarks.timing import interleaved, prepare_standalone_run, print_results, torch_or_none

LENGTH, BATCH, INPUT, HIDDEN = 32, 16, 64, 64
LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x < -88: sigmoid 0
        return 1.0 / (1.0 + np.exp(-x))  # type: ignore[no-any-return]


def _rnn_by_hand(
    x: np.ndarray, params: dict[str, np.ndarray], g: np.ndarray
) -> tuple[np.ndarray, ...]:
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), h_0 = 0, and BPTT for the
    output's cotangent g: (output, dW_ih, dW_hh, db_ih, db_hh)."""
    w_ih, w_hh = params["weight_ih_l0"], params["weight_hh_l0"]
    projected = x @ w_ih.T + (params["bias_ih_l0"] + params["bias_hh_l0"])
    hs = np.empty((LENGTH + 1, BATCH, HIDDEN), np.float32)  # hs[0] = h_0 = 0
    hs[0] = 0.0
    for t in range(LENGTH):
        hs[t + 1] = np.tanh(projected[t] + hs[t] @ w_hh.T)
    d_pre = np.empty_like(projected)
    d_h = np.zeros((BATCH, HIDDEN), np.float32)
    for t in reversed(range(LENGTH)):
        d_pre[t] = (g[t] + d_h) * (1.0 - hs[t + 1] ** 2)
        d_h = d_pre[t] @ w_hh
    rows = d_pre.reshape(-1, HIDDEN)
    d_w_ih = rows.T @ x.reshape(-1, INPUT)
    d_w_hh = rows.T @ hs[:-1].reshape(-1, HIDDEN)
    d_b = rows.sum(axis=0)
    return hs[1:], d_w_ih, d_w_hh, d_b, d_b


def _lstm_by_hand(
    x: np.ndarray, params: dict[str, np.ndarray], g: np.ndarray
) -> tuple[np.ndarray, ...]:
    """i, f, g, o gates; c_t = f c_{t-1} + i g, h_t = o tanh(c_t), zero initial state, and
    BPTT for the output's cotangent g: (output, dW_ih, dW_hh, db_ih, db_hh)."""
    w_ih, w_hh, size = params["weight_ih_l0"], params["weight_hh_l0"], HIDDEN
    projected = x @ w_ih.T + (params["bias_ih_l0"] + params["bias_hh_l0"])
    hs = np.zeros((LENGTH + 1, BATCH, size), np.float32)
    cs = np.zeros((LENGTH + 1, BATCH, size), np.float32)
    gates = np.empty_like(projected)  # i, f, g, o after their activations
    for t in range(LENGTH):
        pre = projected[t] + hs[t] @ w_hh.T
        gates[t] = _sigmoid(pre)
        gates[t, :, 2 * size : 3 * size] = np.tanh(pre[:, 2 * size : 3 * size])
        i, f, gg, o = (gates[t, :, k * size : (k + 1) * size] for k in range(4))
        cs[t + 1] = f * cs[t] + i * gg
        hs[t + 1] = o * np.tanh(cs[t + 1])
    d_pre = np.empty_like(projected)
    d_h = np.zeros((BATCH, size), np.float32)
    d_c = np.zeros((BATCH, size), np.float32)
    for t in reversed(range(LENGTH)):
        i, f, gg, o = (gates[t, :, k * size : (k + 1) * size] for k in range(4))
        tanh_c = np.tanh(cs[t + 1])
        d_h = d_h + g[t]
        d_c = d_c + d_h * o * (1.0 - tanh_c**2)
        d = d_pre[t]
        d[:, :size] = d_c * gg * i * (1.0 - i)
        d[:, size : 2 * size] = d_c * cs[t] * f * (1.0 - f)
        d[:, 2 * size : 3 * size] = d_c * i * (1.0 - gg**2)
        d[:, 3 * size :] = d_h * tanh_c * o * (1.0 - o)
        d_h = d @ w_hh
        d_c = d_c * f
    rows = d_pre.reshape(-1, 4 * size)
    d_w_ih = rows.T @ x.reshape(-1, INPUT)
    d_w_hh = rows.T @ hs[:-1].reshape(-1, size)
    d_b = rows.sum(axis=0)
    return hs[1:], d_w_ih, d_w_hh, d_b, d_b


BY_HAND: dict[str, Callable[..., tuple[np.ndarray, ...]]] = {
    "RNN": _rnn_by_hand,
    "LSTM": _lstm_by_hand,
}


def _ours(layer: nn.RNNBase, x: np.ndarray, g: np.ndarray) -> Callable[[], None]:
    def step() -> None:
        layer.zero_grad()
        layer(x)[0].backward(g)

    return step


def _torch(torch: Any, name: str, layer: nn.RNNBase, x: np.ndarray, g: Any) -> Callable[[], None]:
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    inputs, cotangent = torch.from_numpy(x), torch.from_numpy(g)

    def step() -> None:
        theirs.zero_grad(set_to_none=True)
        theirs(inputs)[0].backward(cotangent)

    return step


def _check_by_hand(name: str, layer: nn.RNNBase, x: np.ndarray, g: np.ndarray) -> None:
    """The hand-written layer must compute what ours does (output and every gradient)."""
    layer.zero_grad()
    output = layer(x)[0]
    output.backward(g)
    ours = [output.data, *(p.grad.data for _, p in layer.named_parameters())]
    theirs = BY_HAND[name](x, layer.state_dict(), g)
    for what, a, b in zip(("output", *dict(layer.named_parameters())), ours, theirs, strict=True):
        if not np.allclose(a, b, rtol=1e-3, atol=1e-4):
            raise RuntimeError(f"recurrent benchmark: the hand-written {name}'s {what} differs")


def run(rounds: int = 60) -> dict[str, Any]:
    torch: Any = torch_or_none()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((LENGTH, BATCH, INPUT)).astype(np.float32)
    g = rng.standard_normal((LENGTH, BATCH, HIDDEN)).astype(np.float32)
    results: dict[str, Any] = {}
    for name, kind in LAYERS.items():
        layer = kind(INPUT, HIDDEN, dtype=np.float32, generator=0)
        contenders = {"ours": _ours(layer, x, g)}
        if name in BY_HAND:
            _check_by_hand(name, layer, x, g)
            params = layer.state_dict()
            contenders["numpy by hand"] = lambda f=BY_HAND[name], p=params: f(x, p, g)
        if torch is not None:
            contenders["pytorch"] = _torch(torch, name, layer, x, g)
        medians = interleaved(contenders, rounds)
        workload = f"{name}, seq {LENGTH}, batch {BATCH}, {INPUT} -> {HIDDEN}"
        results[workload] = {}
        for contender, seconds in medians.items():
            figures = {"ms": seconds * 1e3}
            if "pytorch" in medians:
                figures["ratio_to_pytorch"] = seconds / medians["pytorch"]
            if "numpy by hand" in medians:
                figures["ratio_to_numpy"] = seconds / medians["numpy by hand"]
            results[workload][contender] = figures
    return results


if __name__ == "__main__":
    prepare_standalone_run()
    print_results(run())
