"""What the engine does, in one screen: values and derivatives of a small function by forward
and reverse mode, and a tiny regression fitted by gradient descent.

Run: .venv/bin/python demo.py
"""

from __future__ import annotations

import numpy as np

import autograd_core as ag


def survey_example() -> None:
    """f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5), the example of Baydin et al. (2018)."""

    def f(x1: ag.Tensor, x2: ag.Tensor) -> ag.Tensor:
        return ag.log(x1) + x1 * x2 - ag.sin(x2)

    x1 = ag.Tensor(2.0, requires_grad=True)
    x2 = ag.Tensor(5.0, requires_grad=True)
    y = f(x1, x2)
    y.backward()
    print(f"f(2, 5)            = {y.item():.15f}")
    print(f"reverse mode  df   = ({x1.grad.item():.15f}, {x2.grad.item():.15f})  one pass")
    forward = [ag.jvp(f, (2.0, 5.0), tangent)[1].item() for tangent in [(1.0, 0.0), (0.0, 1.0)]]
    print(f"forward mode  df   = ({forward[0]:.15f}, {forward[1]:.15f})  one pass per input")


def tiny_regression(steps: int = 200, lr: float = 0.1) -> None:
    """Fit y = w x + b to noisy points of y = 3x - 2 by plain gradient descent."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=64)
    y = 3 * x - 2 + 0.1 * rng.standard_normal(64)
    w = ag.Tensor(0.0, requires_grad=True, name="w")
    b = ag.Tensor(0.0, requires_grad=True, name="b")
    for step in range(steps + 1):
        loss = ((w * x + b - y) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        with ag.no_grad():
            w.data -= lr * w.grad.data
            b.data -= lr * b.grad.data
        if step % 50 == 0:
            print(f"step {step:3d}  loss {loss.item():.5f}  w {w.item():+.4f}  b {b.item():+.4f}")


if __name__ == "__main__":
    print("== values and gradients ==")
    survey_example()
    print("\n== fitting y = 3x - 2 by gradient descent ==")
    tiny_regression()
