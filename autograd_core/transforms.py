"""JAX-style function transforms built on the engine.

`jvp` is true forward mode: tangents ride along the primal computation through each
primitive's own forward-mode rule, in the same pass; reverse mode is never run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_core.engine import STATE, apply
from autograd_core.ops import RESHAPE
from autograd_core.tensor import Tensor


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _attach_tangent(primal: Tensor, tangent: Tensor, level: int) -> Tensor:
    """A tensor equal to `primal`, still connected to its graph, carrying `tangent`."""
    if primal.requires_grad:
        x = apply(RESHAPE, primal, shape=primal.shape)  # keeps reverse-mode links
    else:
        x = Tensor._wrap(primal.data)
        x._tangents = dict(primal._tangents) if primal._tangents else None
    tangents = dict(x._tangents) if x._tangents else {}
    tangents[level] = tangent
    x._tangents = tangents
    return x


def _strip_level(out: Tensor, level: int) -> tuple[Tensor, Tensor]:
    """Split an output into (primal without this level's tangent, this level's tangent)."""
    tangents = out._tangents or {}
    tangent = tangents.get(level)
    if tangent is None:
        tangent = Tensor._wrap(np.zeros_like(out.data))
    primal = Tensor._wrap(out.data)
    primal._node, primal.requires_grad = out._node, out.requires_grad
    rest = {k: v for k, v in tangents.items() if k != level}
    primal._tangents = rest or None
    return primal, tangent


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Evaluate `f(*primals)` and its directional derivative along `tangents` in one pass.

    Returns `(out, tangent_out)` with the structure of `f`'s output (a tensor or a tuple).
    """
    primals_t = [_as_tensor(p) for p in primals]
    tangents_t = [_as_tensor(t) for t in tangents]
    if len(primals_t) != len(tangents_t):
        raise ValueError(f"jvp: {len(primals_t)} primals but {len(tangents_t)} tangents")
    for i, (p, t) in enumerate(zip(primals_t, tangents_t, strict=True)):
        if p.shape != t.shape:
            raise ValueError(
                f"jvp: primal {i} has shape {p.shape} but its tangent has shape {t.shape}"
            )
        if t.dtype != p.dtype:
            tangents_t[i] = t.astype(p.dtype)
    level = STATE.next_level
    STATE.next_level += 1
    inputs = [_attach_tangent(p, t, level) for p, t in zip(primals_t, tangents_t, strict=True)]
    saved = STATE.max_level, STATE.levels
    STATE.max_level, STATE.levels = level, STATE.levels | {level}
    try:
        out = f(*inputs)
    finally:
        STATE.max_level, STATE.levels = saved
    if isinstance(out, Tensor):
        return _strip_level(out, level)
    if isinstance(out, (tuple, list)):
        pairs = [_strip_level(_as_tensor(o), level) for o in out]
        return tuple(p for p, _ in pairs), tuple(t for _, t in pairs)
    raise TypeError(f"jvp: f must return a Tensor or a tuple of Tensors, got {type(out).__name__}")
