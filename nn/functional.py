"""Activations, losses and regularizers as functions of tensors (`torch.nn.functional`).

Everything is composed from `autograd_core` ops, so it is differentiable in reverse and
forward mode and to any order. Formulas are chosen to be exact and stable for every input
(log-sum-exp, softplus-based binary cross-entropy, branches masked before they can overflow)
and to match PyTorch, including its conventions at kinks. Python floats in the formulas keep
float32 inputs float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn.init import as_generator

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _const(values: np.ndarray, like: Tensor) -> np.ndarray:
    """A constant array in the dtype of the tensor it is combined with."""
    return np.asarray(values, dtype=like.dtype)


class TargetError(ValueError, IndexError):
    """A class-index target outside [0, C) (both a ValueError and, as PyTorch, an IndexError)."""


class TargetTypeError(TypeError, ValueError):
    """A class-index target of a floating dtype (both a TypeError and a ValueError)."""


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


# The core's own functions (each takes anything Tensor() takes), not wrappers around them:
# an activation is called on every forward pass.
sigmoid = ag.sigmoid  # 1 / (1 + e^-x), stable; sigma' = sigma (1 - sigma)
tanh = ag.tanh  # 2 sigma(2x) - 1; tanh' = 1 - tanh^2
relu = ag.relu  # max(0, x), with relu'(0) = 0


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope * x (the slope is the derivative at 0, as PyTorch)."""
    x = _t(x)
    return ag.where(x.data > 0, x, x * float(negative_slope))


def prelu(x: Any, weight: Any) -> Tensor:
    """x if x > 0 else a * x with learnable slopes `weight`, one for all or one per channel
    (axis 1 of the input, as PyTorch)."""
    x, weight = _t(x), _t(weight)
    if weight.numel() > 1:
        if x.ndim < 2 or x.shape[1] != weight.numel():
            raise ValueError(
                f"prelu: {weight.numel()} slopes need an input with that many channels on axis 1, "
                f"got input of shape {x.shape}"
            )
        weight = weight.reshape((weight.numel(),) + (1,) * (x.ndim - 2))
    return ag.where(x.data > 0, x, weight * x)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else alpha (e^x - 1). The exponential sees min(x, 0) only, so large inputs
    never overflow in the branch that is not taken."""
    x = _t(x)
    return ag.where(x.data > 0, x, ag.expm1(ag.clip(x, hi=0.0)) * float(alpha))


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch);
    softplus' = sigma(beta x)."""
    x = _t(x)
    beta = float(beta)
    smooth = ag.softplus(x * beta) if beta == 1.0 else ag.softplus(x * beta) / beta
    return ag.where(x.data * beta > threshold, x, smooth)


def logsigmoid(x: Any) -> Tensor:
    """log sigma(x) = -softplus(-x), finite for any x (log of a tiny sigmoid never underflows
    to log 0); d/dx = 1 - sigma(x) = sigma(-x)."""
    return -ag.softplus(-_t(x))


log_sigmoid = logsigmoid  # the snake_case spelling of PyTorch's F.logsigmoid


def silu(x: Any) -> Tensor:
    """x sigma(x) (SiLU, swish with beta = 1)."""
    x = _t(x)
    return x * ag.sigmoid(x)


def swish(x: Any, beta: float = 1.0) -> Tensor:
    """x sigma(beta x): beta = 0 gives x / 2, beta -> inf gives ReLU, beta = 1 is SiLU."""
    x = _t(x)
    return x * ag.sigmoid(x * float(beta))


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF: exactly x (1 + erf(x / sqrt 2)) / 2;
    "tanh": x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2; "sigmoid": x sigma(1.702 x)."""
    x = _t(x)
    if approximate == "none":
        return x * 0.5 * (ag.erf(x * _SQRT1_2) + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (ag.tanh(inner) + 1.0)
    if approximate == "sigmoid":
        return x * ag.sigmoid(x * 1.702)
    raise ValueError(f"gelu: approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}")


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """max(min(x, max_val), min_val): tanh's first-order Taylor expansion, clipped."""
    x = _t(x)
    inside = (x.data > min_val) & (x.data < max_val)
    return ag.where(inside, x, _const(np.clip(x.data, min_val, max_val), x))


_TORCH_ONE_SIXTH = float(np.float32(1.0 / 6.0))


def hardsigmoid(x: Any) -> Tensor:
    """PyTorch's hard sigmoid relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1).

    The value is (x + 3) / 6 exactly. The slope is PyTorch's backward constant, 1/6 rounded
    to float32 (it differs from 1/6 by 3e-8 relative), so gradients agree with torch's to the
    last bit instead of to 1e-8: the slope term carries the gradient and a constant restores
    the exact value.
    """
    x = _t(x)
    inside = (x.data > -3.0) & (x.data < 3.0)
    near = np.clip(x.data, -3.0, 3.0)  # the correction is used inside only: no inf - inf
    correction = _const((near + 3.0) / 6.0 - near * _TORCH_ONE_SIXTH, x)
    return ag.where(inside, x * _TORCH_ONE_SIXTH + correction, _const(x.data >= 3.0, x))


def hard_logistic(x: Any) -> Tensor:
    """The course's hard logistic clip(0.25 x + 0.5, 0, 1): sigma's first-order Taylor
    expansion at 0, clipped (derivative 1/4 on (-2, 2), 0 outside and at the kinks)."""
    x = _t(x)
    inside = (x.data > -2.0) & (x.data < 2.0)
    return ag.where(inside, x * 0.25 + 0.5, _const(x.data >= 2.0, x))


hard_sigmoid = hardsigmoid  # snake_case of HardSigmoid; PyTorch spells it hardsigmoid
hard_tanh = hardtanh


def softmax(x: Any, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, computed without overflow."""
    return ag.softmax(_t(x), axis=dim)


def log_softmax(x: Any, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along `dim`, computed without overflow."""
    return ag.log_softmax(_t(x), axis=dim)


def maxout(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """max over k of (x W_k^T + b_k): `weight` (k, out, in), `bias` (k, out); x (..., in)."""
    x, weight = _t(x), _t(weight)
    if weight.ndim != 3 or x.ndim < 1 or x.shape[-1] != weight.shape[2]:
        raise ValueError(
            f"maxout: input of shape {x.shape} does not fit weight of shape {weight.shape} "
            "(expected input (..., in) and weight (k, out, in))"
        )
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    pieces = ag.matmul(flat, weight.mT)  # (k, n, out)
    if bias is not None:
        pieces = pieces + _t(bias).unsqueeze(1)
    return pieces.max(axis=0).reshape(*lead, weight.shape[1])


def dyt(x: Any, alpha: Any, weight: Any = None, bias: Any = None) -> Tensor:
    """Dynamic tanh (Zhu et al., CVPR 2025): weight * tanh(alpha x) + bias."""
    out = ag.tanh(_t(x) * alpha)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# --------------------------------------------------------------------------------------------
# Convolution and pooling: the core's own functions (autograd_core/ops/conv.py, pooling.py),
# inputs (N, C, H, W) or (N, C, L), PyTorch's arguments; the layers are in nn.convolution
# --------------------------------------------------------------------------------------------

conv2d = ag.conv2d  # cross-correlation, stride, padding (int, pair, "valid", "same"), groups
conv1d = ag.conv1d  # the same on (N, C, L)
conv_transpose2d = ag.conv_transpose2d  # the adjoint of conv2d: its gradient in the input
unfold = ag.unfold  # im2col: (N, C, H, W) -> (N, C*kH*kW, L), every window a column
fold = ag.fold  # col2im: the adjoint of unfold, overlapping windows add
max_pool2d = ag.max_pool2d  # the gradient goes to each window's first maximum (PyTorch)
avg_pool2d = ag.avg_pool2d  # zero padding counts in the mean (count_include_pad)
adaptive_avg_pool2d = ag.adaptive_avg_pool2d  # to a fixed output size; 1 = global average


# --------------------------------------------------------------------------------------------
# Regularization and normalization
# --------------------------------------------------------------------------------------------


def dropout(
    x: Any, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None
) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p),
    so evaluation (training=False) is the identity."""
    x = _t(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = as_generator(generator).random(x.shape) >= p
    return x * _const(keep / (1.0 - p), x)


def dropout2d(
    x: Any, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None
) -> Tensor:
    """Channel dropout: zero each whole channel (axis 1 of (N, C, H, W), or of (N, C, L) as
    PyTorch treats 3-D inputs) with probability p and scale the rest by 1/(1-p); the identity
    when training=False."""
    x = _t(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability p must be in [0, 1], got {p}")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected input (N, C, H, W) or (N, C, L), got shape {x.shape}"
        )
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = as_generator(generator).random(x.shape[:2]) >= p  # one draw per channel
    return x * _const((keep / (1.0 - p)).reshape(x.shape[:2] + (1,) * (x.ndim - 2)), x)


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """x_hat = (x - mu) / sqrt(var + eps), then weight * x_hat + bias, per channel (axis 1),
    the statistics taken over every other axis: (N, C), (N, C, L) or (N, C, H, W).

    In training the batch statistics are used (biased variance) and the running arrays are
    updated in place: r = (1 - momentum) r + momentum * stat, with the unbiased variance
    n / (n - 1) var, as PyTorch. Otherwise the running statistics are used.
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input (N, C), (N, C, L) or (N, C, H, W), got shape {x.shape}"
        )
    axes = (0, *range(2, x.ndim))  # every axis but the channels
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        n = int(np.prod([x.shape[a] for a in axes]))
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, "
                f"got input of shape {x.shape}"
            )
        if running_mean is not None and running_var is not None:
            with np.errstate(invalid="ignore", over="ignore"):  # inf/nan stats stay IEEE
                mean = x.data.mean(axis=axes)
                var = x.data.var(axis=axes)
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
                running_var *= 1.0 - momentum
                running_var += momentum * var * (n / (n - 1))
        x_hat = ag.normalize(x, axes, eps)  # one fused op, its gradient included
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation without running statistics")
        mean_c = _const(running_mean.reshape(shape), x)
        std_c = _const(np.sqrt(running_var.reshape(shape) + eps), x)
        x_hat = (x - mean_c) / std_c
    if weight is not None:
        x_hat = x_hat * _t(weight).reshape(shape)
    if bias is not None:
        x_hat = x_hat + _t(bias).reshape(shape)
    return x_hat


def layer_norm(
    x: Any,
    normalized_shape: tuple[int, ...],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each sample over its last len(normalized_shape) axes (biased variance), then
    weight * x_hat + bias."""
    x = _t(x)
    normalized_shape = tuple(normalized_shape)
    if x.shape[x.ndim - len(normalized_shape) :] != normalized_shape:
        raise ValueError(
            f"layer_norm: input of shape {x.shape} does not end in normalized_shape "
            f"{normalized_shape}"
        )
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    out = ag.normalize(x, axes, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def l1_penalty(params: Any) -> Tensor:
    """sum |w| over all given tensors (lambda * this makes weights sparse)."""
    total: Tensor | None = None
    for p in params:
        term = ag.abs(p).sum()
        total = term if total is None else total + term
    return total if total is not None else Tensor(0.0)


def l2_penalty(params: Any) -> Tensor:
    """sum w^2 over all given tensors, ||W||_F^2; the course's regularized risk adds
    (lambda / 2) * this, whose gradient lambda w is weight decay."""
    total: Tensor | None = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    return total if total is not None else Tensor(0.0)


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _pair(name: str, input: Any, target: Any) -> tuple[Tensor, Any]:
    """Input as a tensor, target as a tensor or a constant of the input's dtype, same shape."""
    input = _t(input)
    if not isinstance(target, Tensor):
        target = _const(np.asarray(target), input)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: input of shape {input.shape} and target of shape {target.shape} differ "
            "(reshape one of them, e.g. y.reshape(-1, 1))"
        )
    return input, target


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(input - target)^2, averaged or summed: the course's MSE."""
    _check_reduction("mse_loss", reduction)
    input, target = _pair("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """|input - target| (derivative sign, 0 at a tie)."""
    _check_reduction("l1_loss", reduction)
    input, target = _pair("l1_loss", input, target)
    return _reduce(ag.abs(input - target), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """d^2 / 2 where |d| < delta, delta (|d| - delta / 2) outside (d = input - target):
    quadratic near the target, linear (robust to outliers) far from it."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _pair("huber_loss", input, target)
    d = input - target
    size = ag.abs(d)
    loss = ag.where(size.data < delta, d * d * 0.5, (size - 0.5 * delta) * float(delta))
    return _reduce(loss, reduction)


def _class_targets(name: str, logp: Tensor, target: Any, ignore_index: int) -> np.ndarray:
    """Integer class indices of shape input.shape without axis 1, checked against C (any
    integer dtype, widened to int64 before the check); `ignore_index` may appear too."""
    if isinstance(target, Tensor):
        raise TargetTypeError(
            f"{name}: class-index targets must be integers, got a float Tensor of shape "
            f"{target.shape}; pass a numpy integer array (y.astype(np.int64)) or class "
            f"probabilities of the input's shape {logp.shape}"
        )
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TargetTypeError(
            f"{name}: class-index targets must be integers, got dtype {target.dtype} and shape "
            f"{target.shape}; pass y.astype(np.int64), or class probabilities of the input's "
            f"shape {logp.shape}"
        )
    expected = logp.shape[:1] + logp.shape[2:] if logp.ndim >= 2 else ()
    if target.shape != expected:
        raise ValueError(
            f"{name}: input of shape {logp.shape} (classes on axis {min(1, logp.ndim - 1)}) "
            f"needs targets of shape {expected}, got {target.shape}"
        )
    classes = logp.shape[1] if logp.ndim >= 2 else logp.shape[0]
    target = target if target.dtype == np.int64 else target.astype(np.int64)
    if target.size == 0 or (target.min() >= 0 and target.max() < classes):  # the common case
        return target
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any():
        raise TargetError(
            f"{name}: target values {sorted(set(target[bad].tolist()))[:10]} are out of range "
            f"for {classes} classes (valid: 0..{classes - 1}, or ignore_index={ignore_index})"
        )
    return target


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (C,) -> (1, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim > 2:
        x = x.permute(0, *range(2, x.ndim), 1)
    return x.reshape(-1, x.shape[-1])


def _weight_array(name: str, weight: Any, classes: int, like: Tensor) -> np.ndarray | None:
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=like.dtype)
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight must have shape ({classes},), got {w.shape}")
    return w


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-w[y] log p[y] from log-probabilities `input` (N, C) or (C,) and class indices.

    "mean" divides by the sum of the weights of the non-ignored targets (PyTorch's weighted
    mean), not by N.
    """
    _check_reduction("nll_loss", reduction)
    logp = _t(input)
    target = _class_targets("nll_loss", logp, target, ignore_index)
    return _nll(logp, target, weight, ignore_index, reduction, "nll_loss")[0]


def _nll(
    logp: Tensor, target: np.ndarray, weight: Any, ignore_index: int, reduction: str, name: str
) -> tuple[Tensor, np.ndarray, np.ndarray | None, float]:
    flat = _classes_last(logp)
    classes = flat.shape[1]
    y = target.reshape(-1)
    kept = y != ignore_index
    safe = np.where(kept, y, 0)
    w = _weight_array(name, weight, classes, logp)
    w_i = (w[safe] if w is not None else np.ones(y.shape, dtype=logp.dtype)) * kept
    w_i = _const(w_i, logp)
    picked = ag.where(kept, flat[np.arange(y.size), safe], 0.0)  # ignored: 0, no gradient
    losses = -(picked * w_i)
    denominator = float(w_i.sum())
    if reduction == "none":
        out = losses.reshape(target.shape)
    elif reduction == "sum":
        out = losses.sum()
    else:
        out = losses.sum() / denominator if kept.any() else _nan_with_zero_grad(losses.sum())
    return out, kept, w, denominator


def _nan_with_zero_grad(x: Tensor) -> Tensor:
    """nan, with `x` behind it and a zero gradient: PyTorch's mean over no targets at all
    (every one ignored), whose loss is nan but whose gradients are 0, so one such batch
    cannot turn the weights into nan."""
    return ag.where(np.zeros((), dtype=bool), x, math.nan)


def _check_distributions(target: Any, class_axis: int) -> None:
    """Probability targets must be >= 0 and sum to 1 over the classes."""
    target = np.asarray(target)
    tolerance = 1e-4 if target.dtype == np.float32 else 1e-8
    if np.any(target < 0):
        raise ValueError(
            f"cross_entropy: probability targets must be >= 0, found {target.min():.6g}"
        )
    sums = target.sum(axis=class_axis)
    worst = np.unravel_index(np.argmax(np.abs(sums - 1.0)), sums.shape) if sums.ndim else ()
    if abs(float(sums[worst]) - 1.0) > tolerance:
        raise ValueError(
            f"cross_entropy: probability targets must sum to 1 over the classes (axis "
            f"{class_axis}); sample {tuple(int(i) for i in worst)} sums to {float(sums[worst]):.6g}"
        )


def _is_plain_batch(input: Any, target: Any, weight: Any, smoothing: float, reduction: str) -> bool:
    """The training step's case: logits (N, C), int64 class indices (N,), no weights or
    smoothing (the fused op then checks the labels and honours `ignore_index` itself)."""
    if not (
        isinstance(input, Tensor)
        and type(target) is np.ndarray
        and target.dtype == np.int64
        and weight is None
        and smoothing == 0.0
        and reduction in _REDUCTIONS
    ):
        return False
    shape = input.data.shape
    return len(shape) == 2 and target.shape == shape[:1]


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    check_probabilities: bool = False,
) -> Tensor:
    """-sum_c y_c log softmax(input)_c with log softmax from log-sum-exp (no overflow).

    `target` is either integer class indices (N,) for input (N, C) — then `weight`,
    `ignore_index` and the weighted mean apply — or class probabilities of the input's shape.
    `label_smoothing` eps mixes the target with the uniform distribution: (1 - eps) y + eps / C.
    Semantics follow PyTorch exactly; `check_probabilities=True` also verifies that
    probability targets are non-negative and sum to 1 per sample (ValueError otherwise).
    """
    if _is_plain_batch(input, target, weight, label_smoothing, reduction):
        try:  # one fused, stable op, which checks the labels itself
            return ag.softmax_cross_entropy(input, target, reduction, ignore_index)
        except ValueError:
            pass  # a label out of range: the general path explains it
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = _t(input)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input needs a class axis, got a 0-d tensor")
    class_axis = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_axis]
    probabilities = (isinstance(target, Tensor) or np.asarray(target).dtype.kind == "f") and tuple(
        np.shape(target.data if isinstance(target, Tensor) else target)
    ) == input.shape
    if not probabilities and weight is None and label_smoothing == 0.0 and input.ndim <= 2:
        indices = _class_targets("cross_entropy", input, target, ignore_index)
        return ag.softmax_cross_entropy(input, indices, reduction, ignore_index)  # fused
    logp = ag.log_softmax(input, axis=class_axis)
    if probabilities and check_probabilities:
        _check_distributions(target.data if isinstance(target, Tensor) else target, class_axis)
    if probabilities:
        p = target if isinstance(target, Tensor) else _const(np.asarray(target), input)
        if label_smoothing > 0:
            p = p * (1.0 - label_smoothing) + label_smoothing / classes
        w = _weight_array("cross_entropy", weight, classes, input)
        terms = logp * p
        if w is not None:
            terms = terms * w.reshape((classes,) + (1,) * (input.ndim - class_axis - 1))
        if reduction == "none":
            return -terms.sum(axis=class_axis)
        total = -terms.sum()
        return total if reduction == "sum" else total / (input.numel() / classes)
    indices = _class_targets("cross_entropy", logp, target, ignore_index)
    nll, kept, w, denominator = _nll(
        logp, indices, weight, ignore_index, reduction, "cross_entropy"
    )
    if label_smoothing == 0.0:
        return nll
    flat = _classes_last(logp)
    smooth = -(flat * w).sum(axis=1) if w is not None else -flat.sum(axis=1)
    smooth = ag.where(kept, smooth, 0.0)  # ignored rows: 0, no gradient
    if reduction == "none":
        smooth_reduced = smooth.reshape(indices.shape)
    elif reduction == "sum":
        smooth_reduced = smooth.sum()
    elif kept.any():
        smooth_reduced = smooth.sum() / (denominator if w is not None else float(kept.sum()))
    else:
        smooth_reduced = _nan_with_zero_grad(smooth.sum())
    return nll * (1.0 - label_smoothing) + smooth_reduced * (label_smoothing / classes)


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) for probabilities p and targets y in [0, 1] (an
    error otherwise); exactly PyTorch's: each log clamped at -100, so p = 0 or 1 gives a
    finite loss, and d/dp = w (p - y) / max(p (1 - p), 1e-12), large (never 0) where p is
    confidently wrong. Prefer the logits version."""
    _check_reduction("binary_cross_entropy", reduction)
    p, y = _pair("binary_cross_entropy", input, target)
    loss = ag.binary_cross_entropy(p, y)
    if weight is not None:
        loss = loss * (weight if isinstance(weight, Tensor) else _const(np.asarray(weight), p))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """BCE of sigma(x) computed from the logit x without overflow:
    (1 - y) x + l softplus(-x), with l = 1 + (pos_weight - 1) y weighting the positive term."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    x, y = _pair("binary_cross_entropy_with_logits", input, target)
    negative_part = ag.softplus(-x)
    if pos_weight is not None:
        pw = pos_weight if isinstance(pos_weight, Tensor) else _const(np.asarray(pos_weight), x)
        negative_part = negative_part * ((pw - 1.0) * y + 1.0)
    loss = (1.0 - y) * x + negative_part
    if weight is not None:
        loss = loss * (weight if isinstance(weight, Tensor) else _const(np.asarray(weight), x))
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------------------------
# Attention (the layers are in nn.attention and nn.transformer)
# --------------------------------------------------------------------------------------------


def _attention_mask(
    op: str, mask: Any, like: Tensor, true_means: str = "attend"
) -> tuple[np.ndarray | None, Any]:
    """A user's mask as (allowed, bias): a boolean mask becomes `allowed` (True where a query
    may attend a key; `true_means="blocked"` reads True as hidden instead, MultiheadAttention's
    convention), a floating one becomes `bias`, added to the scores (a Tensor stays one, so a
    learned bias gets its gradient; either is cast to `like`'s dtype, exact for 0 and -inf).
    Other dtypes are a TypeError naming `op`."""
    if mask is None:
        return None, None
    if isinstance(mask, Tensor) and mask.dtype.kind == "f":
        return None, mask if mask.dtype == like.dtype else ag.cast(mask, like.dtype)
    array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)  # (a Tensor of bools
    # comes from a comparison such as `positions > 0`)
    if array.dtype == bool:
        return (array if true_means == "attend" else ~array), None
    if array.dtype.kind == "f":
        return None, array.astype(like.dtype, copy=False)
    raise TypeError(
        f"{op}: a mask must be boolean (True = {true_means}) or floating (added to the "
        f"scores), got dtype {array.dtype} and shape {array.shape}"
    )


def _mask_shape(allowed: Any, bias: Any) -> tuple[int, ...]:
    """The shape of a mask given as (allowed, bias)."""
    return tuple(np.shape(allowed if bias is None else bias))


def _causal_mask(target_length: int, source_length: int) -> np.ndarray:
    """(L, S) booleans, True where query i may attend key j: j <= i, aligned at the top left
    as PyTorch's is_causal (also when L != S)."""
    return np.tril(np.ones((target_length, source_length), dtype=bool))


def _attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    allowed: np.ndarray | None = None,
    bias: Any = None,
    dropout_p: float = 0.0,
    scale: float | None = None,
    generator: np.random.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """softmax(q k^T * scale + bias, hidden keys excluded) v for checked operands, and the
    weights (after dropout, as PyTorch's MultiheadAttention returns them).

    A row in which no key is allowed (every one hidden, or given a bias of -inf) gets zero
    weights, so its output is 0 and no gradient flows through it: its scores are replaced by
    0 before the softmax (finite, so no nan reaches the backward pass) and its weights by 0
    after it."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = ag.matmul(q * scale, k.mT)  # scaling q costs L*E multiplications, not L*S
    hidden = None if allowed is None else ~allowed
    blocked = hidden  # what a row cannot see: hidden, or given a bias of -inf
    if bias is not None:
        scores = scores + bias
        minus_inf = np.isneginf(bias.data if isinstance(bias, Tensor) else bias)
        if minus_inf.any():
            blocked = minus_inf if blocked is None else blocked | minus_inf
    dead = None if blocked is None else blocked.all(axis=-1, keepdims=True)
    if dead is not None and dead.any():
        scores = ag.where(dead, 0.0, scores)  # finite scores: a softmax without nan
        hidden = None if hidden is None else hidden & ~dead
    else:
        dead = None
    if hidden is not None:
        scores = ag.where(hidden, -math.inf, scores)
    weights = ag.softmax(scores, axis=-1)
    if dead is not None:
        weights = ag.where(dead, 0.0, weights)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True, generator)
    return ag.matmul(weights, v), weights


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, as PyTorch's: query (..., L, E),
    key (..., S, E), value (..., S, Ev) -> (..., L, Ev), leading (batch, head) axes
    broadcast.

    Dividing by sqrt(d_k) keeps the scores' variance near 1 whatever the width (a dot product
    of d_k unit-variance terms has variance d_k): unscaled, the softmax saturates to one-hot
    rows whose gradients vanish. `scale` replaces 1/sqrt(d_k).

    `attn_mask` broadcasts to (..., L, S): boolean True where a query may attend a key (a
    numpy bool array, or a Tensor of bools from a comparison), or floating, added to the
    scores (-inf hides; a Tensor mask gets its gradient). `is_causal` lets query i see keys j <= i
    (aligned at the top left, as PyTorch, also when L != S); not with `attn_mask`. A query
    with no key to attend gets zeros (and zero gradients), never nan, as PyTorch 2.13 does.
    `dropout_p` drops weights (always, as PyTorch: pass 0.0 in evaluation), drawing from
    `generator` (nn's default generator when None). `enable_gqa` lets key and value have
    fewer heads (axis -3) than query, each shared by a group of query heads.
    """
    q, k, v = _t(query), _t(key), _t(value)
    op = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"{op}: query, key and value need at least 2 dimensions (..., L, E), got shapes "
            f"{q.shape}, {k.shape} and {v.shape}"
        )
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(
            f"{op}: query, key and value must have one dtype, got {q.dtype}, {k.dtype} and "
            f"{v.dtype}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{op}: query {q.shape}, key {k.shape} and value {v.shape} do not fit: expected "
            "(..., L, E), (..., S, E) and (..., S, Ev)"
        )
    if enable_gqa:
        k, v = _grouped_heads(op, q, k), _grouped_heads(op, q, v)
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: the leading (batch) axes of query {q.shape}, key {k.shape} and value "
            f"{v.shape} do not broadcast"
        ) from None
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    length, source = q.shape[-2], k.shape[-2]
    allowed: np.ndarray | None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(
                f"{op}: pass attn_mask or is_causal=True, not both (add the causal mask to "
                "your own mask instead)"
            )
        allowed, bias = _causal_mask(length, source), None
    else:
        allowed, bias = _attention_mask(op, attn_mask, q)
        shape = _mask_shape(allowed, bias)
        scores_shape = (*batch, length, source)
        if attn_mask is not None and _broadcast_or_none(shape, scores_shape) != scores_shape:
            raise ValueError(
                f"{op}: attn_mask of shape {shape} does not broadcast to the scores' shape "
                f"{scores_shape} (..., L, S) of query {q.shape} and key {k.shape}"
            )
    return _attention(q, k, v, allowed, bias, dropout_p, scale, generator)[0]


def _broadcast_or_none(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _grouped_heads(op: str, q: Tensor, kv: Tensor) -> Tensor:
    """Key or value heads (axis -3) repeated to the query's, each `groups` times in a row
    (PyTorch's repeat_interleave for grouped-query attention)."""
    if q.ndim < 3 or kv.ndim < 3 or q.shape[-3] % kv.shape[-3]:
        raise ValueError(
            f"{op}: enable_gqa needs heads on axis -3, the query's a multiple of the key's and "
            f"value's; got query {q.shape} and {kv.shape}"
        )
    groups = q.shape[-3] // kv.shape[-3]
    if groups == 1:
        return kv
    *lead, heads, length, width = kv.shape
    spread = ag.broadcast_to(kv.unsqueeze(-3), (*lead, heads, groups, length, width))
    return spread.reshape(*lead, heads * groups, length, width)


# --------------------------------------------------------------------------------------------
# Embeddings and one-hot vectors (the layer is nn.Embedding in nn.embedding)
# --------------------------------------------------------------------------------------------


def _ids(op: str, ids: Any, size: int | None, what: str) -> np.ndarray:
    """Token or class ids as an int64 array, checked to be whole numbers in [0, size) (only
    non-negative when size is None).

    Ids are numpy integer arrays, lists or Python ints, or integer Tensors (as `argmax`
    returns). A Tensor built from integers is float64 in autograd_core, so floating ids are
    refused rather than guessed at, as PyTorch refuses them."""
    array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if array.dtype.kind not in "iu":
        hint = (
            "; a Tensor made from integers is float64 in autograd_core, so pass the ids as a "
            "numpy integer array"
            if isinstance(ids, Tensor)
            else ""
        )
        raise TypeError(
            f"{op}: ids must be integers, got dtype {array.dtype} (shape {array.shape}){hint}"
        )
    if array.size and (array.min() < 0 or (size is not None and array.max() >= size)):
        outside = (array < 0) if size is None else (array < 0) | (array >= size)
        bad = array[outside]
        allowed = "non-negative" if size is None else f"in [0, {size}) ({what} = {size})"
        raise IndexError(
            f"{op}: ids must be {allowed}; got {bad.size} id(s) outside, e.g. {bad.flat[0]} "
            f"(ids range from {array.min()} to {array.max()})"
        )
    return array.astype(np.int64, copy=False)


def _padding_index(op: str, padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx in [0, num_embeddings); a negative one counts from the end (PyTorch)."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{op}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{op}: padding_idx must be within num_embeddings ({num_embeddings}), i.e. in "
            f"[-{num_embeddings}, {num_embeddings}), got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings


def _embedding(
    op: str,
    input: Any,
    weight: Any,
    padding_idx: int | None,
    max_norm: float | None,
    norm_type: float,
) -> Tensor:
    """F.embedding, with `op` (the function's or the layer's name) in its error messages."""
    weight = _t(weight)
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}"
        )
    num_embeddings = weight.shape[0]
    ids = _ids(op, input, num_embeddings, "num_embeddings")
    padding_idx = _padding_index(op, padding_idx, num_embeddings)
    if max_norm is not None:
        # PyTorch's embedding_renorm_: rows looked up with a norm above max_norm are scaled
        # down to it in place, outside the graph.
        rows = np.unique(ids)
        norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1, keepdims=True)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.data[rows] *= scale.astype(weight.dtype)
    out = ag.getitem(weight, ids)  # weight[ids]: backward adds each id's gradient to its row
    if padding_idx is not None:
        is_padding = ids == padding_idx
        if is_padding.any():  # the padding row's value, as a constant: it gets no gradient
            out = ag.where(is_padding[..., None], weight.data[padding_idx].copy(), out)
    return out


def embedding(
    input: Any,
    weight: Any,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
) -> Tensor:
    """The rows of `weight` (num_embeddings, embedding_dim) at the integer ids `input` (any
    shape): output (*input.shape, embedding_dim), as torch.nn.functional.embedding.

    It equals one_hot(input, num_embeddings) @ weight, computed as a row lookup. In backward,
    repeated ids add up in their row; the row `padding_idx` (negative counts from the end)
    receives no gradient. With `max_norm`, rows looked up whose `norm_type`-norm exceeds it
    are first rescaled to it in place in `weight` (as PyTorch, outside the graph)."""
    return _embedding("embedding", input, weight, padding_idx, max_norm, norm_type)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class ids (any shape, integers) as one-hot vectors: an int64 Tensor of shape
    (*tensor.shape, num_classes) with a 1 at each id, as torch.nn.functional.one_hot.

    num_classes=-1 takes the largest id + 1. The result is int64 as in PyTorch and does not
    require grad; `.double()` or `.float()` makes it a floating tensor to multiply with
    (one_hot(ids, V).double() @ W equals embedding(ids, W)). One-hot vectors are as long as
    the vocabulary and all equally far apart, so they say nothing about similarity; an
    embedding learns short dense vectors instead."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be -1 (infer) or >= 0, got {num_classes}")
    ids = _ids("one_hot", tensor, None if num_classes == -1 else int(num_classes), "num_classes")
    if num_classes == -1:
        if ids.size == 0:
            raise ValueError(
                f"one_hot: cannot infer the number of classes from an empty input (shape "
                f"{ids.shape}); pass num_classes"
            )
        num_classes = int(ids.max()) + 1
    out = ag.zeros(*ids.shape, int(num_classes), dtype=np.int64)
    np.put_along_axis(out.data, ids[..., None], 1, axis=-1)  # fills the fresh array we own
    return out
