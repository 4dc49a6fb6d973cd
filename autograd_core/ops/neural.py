"""Fused neural-network ops: one primitive where a layer or loss would otherwise be several
(fewer nodes and passes over memory, and the numerically stable form by construction)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import check_axis, elementwise, export, quiet, tensor
from autograd_core.ops.elementwise import CLIP, LOG, LOG1P, SQRT
from autograd_core.ops.reductions import MEAN, SOFTMAX, SUM
from autograd_core.ops.shape import RESHAPE
from autograd_core.tensor import Tensor


def _linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias  # out is fresh: adding in place saves a pass and an allocation
    return out


def _linear_weight_grad(g: Any, x: Any) -> Any:
    """d/dweight = sum over the batch of g^T x, shaped (out, in) like the weight."""
    if x.ndim == 1:
        return g.reshape(-1, 1) * x
    if x.ndim > 2:  # every leading axis is batch
        g, x = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
    return g.mT @ x


LINEAR: Primitive = register(
    Primitive(
        "linear",
        _linear_forward,
        (
            lambda g, out, x, w, b: g @ w,
            lambda g, out, x, w, b: _linear_weight_grad(g, x),
            lambda g, out, x, w, b: g,  # the engine sums it over the batch axes
        ),
        (
            lambda t, out, x, w, b: t @ w.mT,
            lambda t, out, x, w, b: x @ t.mT,
            lambda t, out, x, w, b: t,
        ),
        doc="x @ weight.T + bias, fused (PyTorch's F.linear); d/dweight = g^T x",
    )
)


@export
def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight.T + bias in one op (weight has shape (out, in), as PyTorch's F.linear)."""
    x, weight = tensor(x), tensor(weight)
    x_shape, w_shape = x.data.shape, weight.data.shape
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(
            f"linear: input of shape {x_shape} does not fit weight of shape {w_shape} "
            f"(expected (..., {w_shape[-1] if w_shape else '?'}) inputs for a weight "
            f"of shape (out_features, in_features))"
        )
    if bias is not None:
        bias = tensor(bias)
        if bias.data.shape != w_shape[:1]:
            raise ValueError(
                f"linear: bias of shape {bias.data.shape} does not fit weight of shape "
                f"{w_shape}; expected ({w_shape[0]},)"
            )
    return LINEAR(x, weight, bias)


# --------------------------------------------------------------------------------------------
# Normalization (batch norm's and layer norm's core).
# --------------------------------------------------------------------------------------------


def _normalize_forward(
    x: np.ndarray, axes: tuple[int, ...], eps: float
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(x - mean) / sqrt(var + eps) over `axes` (population variance), in x's dtype; keeps
    x_hat and 1/sigma for the fused VJP below."""
    centered = x - x.mean(axis=axes, keepdims=True)
    var = np.mean(np.square(centered), axis=axes, keepdims=True)
    inv_sigma = 1.0 / np.sqrt(var + eps)
    centered *= inv_sigma  # centered is fresh: x_hat in place
    return centered, (centered, inv_sigma)


def _normalize_rule(g: Any, out: Any, x: Any, axes: tuple[int, ...], eps: float) -> Any:
    """J g for J = (I - 1/n - x_hat x_hat^T / n) / sigma per group, symmetric, so VJP and
    JVP alike: (g - mean(g) - x_hat mean(g x_hat)) / sigma, sigma recomputed from x with
    differentiable ops (second order)."""
    centered = x - MEAN(x, axis=axes, keepdims=True)
    sigma = SQRT(MEAN(centered * centered, axis=axes, keepdims=True) + eps)
    mean_g = MEAN(g, axis=axes, keepdims=True)
    return (g - mean_g - out * MEAN(g * out, axis=axes, keepdims=True)) / sigma


def _normalize_fused(
    g: Any, kept: tuple[np.ndarray, np.ndarray], x: Any, axes: tuple[int, ...], eps: float
) -> np.ndarray:
    """The rule above on arrays, with x_hat and 1/sigma from the forward (no recomputation)
    and the result built in place on one fresh array."""
    x_hat, inv_sigma = kept
    grad = x_hat * np.mean(g * x_hat, axis=axes, keepdims=True)
    np.subtract(g, grad, out=grad)
    grad -= g.mean(axis=axes, keepdims=True)
    grad *= inv_sigma
    return grad


NORMALIZE: Primitive = register(
    Primitive(
        "normalize",
        quiet(_normalize_forward),
        (_normalize_rule,),
        (_normalize_rule,),
        save_output=True,
        fused_vjp=_normalize_fused,
        doc="(x - mean) / sqrt(var + eps) over axes (population variance); symmetric "
        "Jacobian (I - 1/n - x_hat x_hat^T / n) / sigma per group",
    )
)


@export
def normalize(x: Any, axes: Any, eps: float = 1e-5) -> Tensor:
    """x_hat = (x - mean) / sqrt(var + eps) over `axes` (an int or a tuple; population
    variance), one fused op: batch norm's and layer norm's core, before weight and bias."""
    x = tensor(x)
    axis = check_axis("normalize", x, axes)
    if axis is None:
        axis = tuple(range(x.ndim))
    return NORMALIZE(x, axes=axis if isinstance(axis, tuple) else (axis,), eps=float(eps))


# --------------------------------------------------------------------------------------------
# Softmax cross-entropy against integer labels.
# --------------------------------------------------------------------------------------------


def _one_hot(labels: np.ndarray, classes: int, dtype: Any) -> np.ndarray:
    hot = np.zeros((*labels.shape, classes), dtype=dtype)
    np.put_along_axis(hot, labels[..., None], 1.0, axis=-1)
    return hot


def _count(labels: np.ndarray, mask: np.ndarray | None) -> int:
    """How many rows count: all of them, or those the mask keeps (not ignored)."""
    return labels.size if mask is None else int(np.count_nonzero(mask))


def _row_weights(g: Any, labels: np.ndarray, reduction: str, mask: np.ndarray | None) -> Any:
    """The reduced loss's cotangent as each row's weight, shaped to scale (..., C) rows;
    ignored rows weigh 0, and a mean divides by the rows that count (0 if none do)."""
    if reduction == "none":
        weights = RESHAPE(g, shape=(*np.shape(g), 1))
    elif reduction == "mean":
        weights = g * (1.0 / max(_count(labels, mask), 1))
    else:
        weights = g
    return weights if mask is None else weights * mask[..., None]


def _softmax_cross_entropy_forward(
    logits: np.ndarray, labels: np.ndarray, reduction: str, mask: np.ndarray | None
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """-log softmax(logits)[label] per row = logsumexp(row) - row[label], stable; 0 for an
    ignored row (mask False); then reduced ("none", "mean" over the rows that count, or
    "sum") in the same op, as PyTorch's cross_entropy. Keeps exp(logits - max) and its row
    sums for the fused VJP below."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    rows = shifted.reshape(-1, shifted.shape[-1])
    picked = rows[np.arange(len(rows)), labels.reshape(-1)].reshape(labels.shape)
    losses = np.log(total[..., 0]) - picked
    if mask is not None:
        losses = np.where(mask, losses, 0.0)
    if reduction == "mean":
        count = _count(labels, mask)  # none: nan, as PyTorch (its gradient is 0)
        losses = losses.sum() / count if count else np.full((), np.nan, logits.dtype)
    elif reduction == "sum":
        losses = losses.sum()
    return losses, (exp, total)


def _softmax_cross_entropy_fused(
    g: Any,
    kept: tuple[np.ndarray, np.ndarray],
    z: Any,
    labels: np.ndarray,
    reduction: str,
    mask: np.ndarray | None,
) -> np.ndarray:
    """The VJP below, on arrays: softmax from the forward's exp and sums (one division, no
    recomputation), then one_hot subtracted and rows weighted in place on that one array.
    Kept for its measured gain: digits training epochs 9-12% faster than running the
    rule below on arrays (benchmarks/digits_training.py; 1% on the larger mlp_step)."""
    exp, total = kept
    delta = exp / total
    rows = delta.reshape(-1, delta.shape[-1])  # a view: delta is fresh and contiguous
    rows[np.arange(len(rows)), labels.reshape(-1)] -= 1.0
    delta *= _row_weights(g, labels, reduction, mask)
    return delta


def _softmax_minus_one_hot(z: Any, labels: np.ndarray) -> Any:
    """d/dlogits of each row's loss: softmax(z) - one_hot(labels), differentiable in z."""
    return SOFTMAX(z, axis=-1) - _one_hot(labels, np.shape(z)[-1], z.dtype)


def _reduce(rows: Any, labels: np.ndarray, reduction: str, mask: np.ndarray | None) -> Any:
    """Per-row values reduced as the loss is: ignored rows dropped, a mean over the rest."""
    if mask is not None:
        rows = rows * mask
    if reduction == "none":
        return rows
    total = SUM(rows, axis=None, keepdims=False)
    return total * (1.0 / max(_count(labels, mask), 1)) if reduction == "mean" else total


SOFTMAX_CROSS_ENTROPY: Primitive = register(
    Primitive(
        "softmax_cross_entropy",
        quiet(_softmax_cross_entropy_forward),
        (
            lambda g, out, z, labels, reduction, mask: (
                _row_weights(g, labels, reduction, mask) * _softmax_minus_one_hot(z, labels)
            ),
        ),
        (
            lambda t, out, z, labels, reduction, mask: _reduce(
                SUM(t * _softmax_minus_one_hot(z, labels), axis=-1, keepdims=False),
                labels,
                reduction,
                mask,
            ),
        ),
        fused_vjp=_softmax_cross_entropy_fused,
        doc="cross-entropy of logits against integer labels per row, or its mean or sum, "
        "fused and stable, ignored rows masked; d/dlogits = softmax - one_hot per row",
    )
)


def labels_in_range(labels: np.ndarray, classes: int) -> bool:
    """Whether every integer label lies in [0, classes), with one reduction: as 64-bit
    unsigned integers, negative labels become huge, so the maximum alone decides (widened
    first: an int8 -100 is 156 as a uint8, which a 200-class range would accept)."""
    if labels.size == 0:
        return True
    if labels.dtype.kind == "u":
        return bool(labels.max() < classes)
    wide = labels if labels.dtype == np.int64 else labels.astype(np.int64)
    return bool(wide.view(np.uint64).max() < classes)


def class_labels(
    op: str, labels: Any, classes: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer class labels checked against `classes`: as int64 with ignored ones set to 0,
    and the mask of the labels that count (None when all do, the training step's case).
    Bool, float and Tensor labels are errors: a label names a class, it is not a number."""
    if isinstance(labels, Tensor):
        raise TypeError(
            f"{op}: labels must be an integer array, got a Tensor (always floating); pass "
            f"a numpy integer array such as y.astype(np.int64)"
        )
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: labels must be integers, got dtype {labels.dtype}; pass y.astype(np.int64)"
        )
    ignorable = 0 <= ignore_index < classes and bool((labels == ignore_index).any())
    if labels_in_range(labels, classes) and not ignorable:  # the common case: one pass
        return (labels if labels.dtype == np.int64 else labels.astype(np.int64)), None
    mask = labels != ignore_index
    bad = mask & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise ValueError(
            f"{op}: labels {sorted(set(labels[bad].tolist()))[:10]} are out of range for "
            f"{classes} classes (valid: 0..{classes - 1}, or ignore_index={ignore_index})"
        )
    return np.where(mask, labels, 0).astype(np.int64), mask


@export
def softmax_cross_entropy(
    logits: Any, labels: Any, reduction: str = "none", ignore_index: int = -100
) -> Tensor:
    """-log softmax(logits)[label] per row (logits (..., C), integer labels (...)), reduced
    as PyTorch's `reduction`: "none" (per row), "mean" or "sum"; one fused, stable op.

    Rows labelled `ignore_index` add 0 and get no gradient, and a mean is over the other
    rows (nan, with zero gradients, when every row is ignored, as PyTorch)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"softmax_cross_entropy: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
        )
    logits = tensor(logits)
    shape = np.shape(labels.data if isinstance(labels, Tensor) else labels)
    if logits.ndim < 1 or shape != logits.shape[:-1]:
        raise ValueError(
            f"softmax_cross_entropy: labels of shape {shape} do not fit logits of "
            f"shape {logits.shape}; expected labels of shape {logits.shape[:-1]}"
        )
    labels, mask = class_labels(
        "softmax_cross_entropy", labels, logits.shape[-1], int(ignore_index)
    )
    return SOFTMAX_CROSS_ENTROPY(logits, labels=labels, reduction=reduction, mask=mask)


# --------------------------------------------------------------------------------------------
# Binary cross-entropy of probabilities.
# --------------------------------------------------------------------------------------------

BCE_EPS = float(np.float32(1e-12))
"""The floor of p (1 - p) in the gradient of binary cross-entropy: PyTorch's EPSILON, 1e-12
as a float32 (so gradients where it applies agree with torch's to the last bit)."""


def _binary_cross_entropy_forward(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (y - 1.0) * np.maximum(np.log1p(-p), -100.0) - y * np.maximum(np.log(p), -100.0)


BINARY_CROSS_ENTROPY: Primitive = elementwise(
    "binary_cross_entropy",
    quiet(_binary_cross_entropy_forward),
    (
        lambda g, out, p, y: g * (p - y) / CLIP(p * (1.0 - p), lo=BCE_EPS, hi=None),
        lambda g, out, p, y: g * (LOG1P(-p) - LOG(p)),
    ),
    doc="-(y max(log p, -100) + (1 - y) max(log(1 - p), -100)), as PyTorch; "
    "d/dp = (p - y) / max(p (1 - p), 1e-12), d/dy = log(1 - p) - log(p)",
)


@export
def binary_cross_entropy(p: Any, y: Any) -> Tensor:
    """Elementwise -(y log p + (1 - y) log(1 - p)) of probabilities p and targets y, both in
    [0, 1] and of one shape, exactly as PyTorch: each log clamped at -100 (finite at p = 0
    and 1), and d/dp = (p - y) / max(p (1 - p), 1e-12), so a confident wrong prediction gets
    a large gradient, never a zero one."""
    p = tensor(p)
    y = y if isinstance(y, Tensor) else np.asarray(y, dtype=p.dtype)
    if np.shape(y) != p.shape:
        raise ValueError(
            f"binary_cross_entropy: probabilities of shape {p.shape} and targets of shape "
            f"{np.shape(y)} differ"
        )
    for name, values in (("input", p.data), ("target", y.data if isinstance(y, Tensor) else y)):
        if not np.all((values >= 0) & (values <= 1)):  # also rejects nan
            raise ValueError(
                f"binary_cross_entropy: all elements of {name} must be in [0, 1], found "
                f"{values[~((values >= 0) & (values <= 1))][:5].tolist()}"
                + (" (apply sigmoid first, or use the logits version)" if name == "input" else "")
            )
    return BINARY_CROSS_ENTROPY(p, y)
