"""Linear algebra: the matrix product, with numpy's rules for 1-D and batched operands.

Rules use what arrays and tensors share (`@`, `.mT`, indexing), so each runs on arrays in an
ordinary backward pass and records on tensors when the pass is differentiated."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import export, operand
from autograd_core.tensor import Tensor


def _matmul_rule_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/da applied to g = g @ b^T; 1-D operands as numpy treats them."""
    if b.ndim == 1:
        return g[..., None] * b
    if a.ndim == 1:
        return (b @ g[..., None])[..., 0]
    return g @ b.mT


def _matmul_rule_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/db applied to g = a^T @ g; 1-D operands as numpy treats them."""
    if a.ndim == 1:
        return g * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return (a.mT @ g[..., None])[..., 0]
    return a.mT @ g


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
