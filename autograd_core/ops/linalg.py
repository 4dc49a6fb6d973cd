"""Linear algebra: the matrix product, with numpy's rules for 1-D and batched operands."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import export, operand
from autograd_core.ops.shape import RESHAPE, TRANSPOSE
from autograd_core.tensor import Tensor


def swap_last(x: Any) -> Any:
    """x with its last two axes swapped (the matrix transpose of a batch)."""
    axes = list(range(np.ndim(x)))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return TRANSPOSE(x, axes=tuple(axes))


def _with_axis(x: Any, position: int) -> Any:
    """x with a size-1 axis inserted at `position` (-1: last, -2: before last)."""
    shape = list(np.shape(x))
    shape.insert(len(shape) + 1 + position, 1)
    return RESHAPE(x, shape=tuple(shape))


def _without_last(x: Any) -> Any:
    return RESHAPE(x, shape=np.shape(x)[:-1])


def _matmul_rule_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/da applied to g = g @ b^T; 1-D operands as numpy treats them."""
    if np.ndim(b) == 1:
        return _with_axis(g, -1) * b
    if np.ndim(a) == 1:
        return _without_last(b @ _with_axis(g, -1))
    return g @ swap_last(b)


def _matmul_rule_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/db applied to g = a^T @ g; 1-D operands as numpy treats them."""
    if np.ndim(a) == 1:
        return g * a if np.ndim(b) == 1 else _with_axis(a, -1) * _with_axis(g, -2)
    if np.ndim(b) == 1:
        return _without_last(swap_last(a) @ _with_axis(g, -1))
    return swap_last(a) @ g


MATMUL: Primitive = register(
    Primitive(
        "matmul",
        np.matmul,
        (_matmul_rule_a, _matmul_rule_b),
        (lambda t, out, a, b: MATMUL(t, b), lambda t, out, a, b: MATMUL(a, t)),
        doc="a @ b; bilinear: d/da = g @ b^T, d/db = a^T @ g",
    )
)


@export
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules for 1-D and batched operands."""
    a, b = operand(a, b), operand(b, a)
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if a.ndim == 0 or np.ndim(b) == 0:
        raise ValueError(
            f"matmul: both operands need at least one dimension, got shapes {a.shape} and "
            f"{np.shape(b)}"
        )
    return MATMUL(a, b)
