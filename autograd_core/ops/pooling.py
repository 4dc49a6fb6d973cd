"""Pooling: max pooling (which keeps its argmax), average and adaptive average pooling.

Max pooling is two linear primitives. Once the position of each window's first maximum is
known (the argmax, found on the arrays and a constant of the graph), `max_pool2d` is x read
at those positions and its adjoint `max_pool2d_backward` adds a cotangent back at them;
each one's VJP is the other and each one's JVP is itself, so forward mode and derivatives
of any order come for free (fwd+bwd 0.7-0.9x PyTorch with 2x2 windows at batch 64, where a
reshape and the reduction `max` took 5-6x). Average pooling is linear too, and composed:
each plane times two small averaging matrices, rows @ plane @ cols^T.

Sizes follow the course's formula, out = floor((in + 2p - k)/s) + 1, per spatial axis.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import export, tensor
from autograd_core.ops.linalg import matmul
from autograd_core.ops.reductions import mean
from autograd_core.ops.shape import reshape
from autograd_core.tensor import Tensor

Pair = tuple[int, int]

# --------------------------------------------------------------------------------------------
# Arguments: kernel, stride and padding as pairs, checked against the input.
# --------------------------------------------------------------------------------------------


def _pair(op: str, name: str, value: Any, low: int) -> Pair:
    """An int or a pair of ints, each at least `low` (PyTorch's `_pair`)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
    ):
        hint = " ('same' and 'valid' are for convolutions)" if isinstance(value, str) else ""
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}{hint}")
    if min(items) < low:
        raise ValueError(f"{op}: {name} must be at least {low}, got {value!r}")
    return int(items[0]), int(items[1])


def _image(op: str, value: Any) -> Tensor:
    """The input as a tensor of shape (N, C, H, W) or (C, H, W), with pixels to pool."""
    x = tensor(value)
    if x.ndim not in (3, 4) or 0 in x.shape[-2:]:
        raise ValueError(
            f"{op}: expected an input of shape (N, C, H, W) or (C, H, W) with H, W >= 1, "
            f"got shape {x.shape}"
        )
    return x


def _output_size(
    op: str, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair
) -> Pair:
    """(OH, OW) by the course's formula, out = floor((in + 2p - k)/s) + 1, or an error
    that shows the formula with the numbers that made it less than 1."""
    sizes = []
    for axis, n, k, s, p in zip(
        ("height", "width"), shape[-2:], kernel, stride, padding, strict=True
    ):
        out = (n + 2 * p - k) // s + 1
        if out < 1:
            raise ValueError(
                f"{op}: input of shape {shape} is too small for kernel_size={kernel}, "
                f"stride={stride}, padding={padding}: out = floor((in + 2p - k)/s) + 1 = "
                f"floor(({n} + 2*{p} - {k})/{s}) + 1 = {out} for the {axis}"
            )
        sizes.append(out)
    return sizes[0], sizes[1]


def _window_args(
    op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any
) -> tuple[Pair, Pair, Pair, Pair]:
    """Kernel, stride (the kernel's when None), padding and output size, checked as PyTorch
    checks them: padding at most half the kernel, so every window holds an input pixel."""
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    strides = kernel if stride is None else _pair(op, "stride", stride, 1)
    pads = _pair(op, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(pads, kernel, strict=True)):
        raise ValueError(
            f"{op}: padding={pads} is more than half of kernel_size={kernel}; pooling pads "
            f"at most half a window on each side (as PyTorch)"
        )
    return kernel, strides, pads, _output_size(op, x.shape, kernel, strides, pads)


# --------------------------------------------------------------------------------------------
# Max pooling: the argmax of each window, then two linear primitives.
# --------------------------------------------------------------------------------------------


def _first_maxima(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """The flat position in `x` of each window's first maximum, shaped as the output.

    Windows are scanned in row-major order and a later value replaces the best only when
    strictly greater, so a tie goes to the first maximum (PyTorch's rule); a NaN always
    replaces it (NaN propagates, as in PyTorch). Padding is -inf and never wins over an input
    pixel: a window whose pixels are all -inf picks its first pixel, as PyTorch does."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    *lead, h, w = x.shape
    planes = x.reshape(-1, h, w)
    if ph or pw:
        planes = np.pad(planes, ((0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    windows = sliding_window_view(planes, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    # One copy with the window offset first makes every comparison below run on contiguous
    # arrays: 1.3-1.8x faster than on the strided views (batch 64, 2x2 and 3x3 windows).
    offsets = np.ascontiguousarray(windows.transpose(3, 4, 0, 1, 2))
    best = offsets[0, 0].copy()
    step = np.zeros(best.shape, dtype=np.int32)  # from the window's corner to its maximum
    for i, j in list(np.ndindex(kh, kw))[1:]:
        candidate = offsets[i, j]
        replaces = (candidate > best) | np.isnan(candidate)
        # steps grow in scan order, so the last replacement is the largest step; arithmetic,
        # not np.putmask (7x slower on a random mask)
        np.maximum(step, replaces * np.int32(i * w + j), out=step)
        np.maximum(best, candidate, out=best)
    n, oh, ow = best.shape
    rows, cols = np.arange(oh) * sh - ph, np.arange(ow) * sw - pw  # corners (maybe padding)
    corners = (np.arange(n) * (h * w))[:, None, None] + (rows * w)[:, None] + cols
    argmax = corners + step
    if (ph or pw) and (lost := best == -np.inf).any():  # all -inf: their first pixel
        first_pixels = (
            corners + (np.maximum(rows, 0) - rows)[:, None] * w + np.maximum(cols, 0) - cols
        )
        argmax = np.where(lost, first_pixels, argmax)
    return argmax.reshape(*lead, oh, ow)


def _add_at(g: np.ndarray, argmax: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """zeros(shape) with g added at the flat positions argmax (repeats add: overlapping
    windows can share a maximum)."""
    # numpy >= 1.25's np.add.at measured as fast as assigning (which loses repeats) and 2x
    # faster than np.bincount, batch 64, 2x2 and 3x3 windows
    out = np.zeros(math.prod(shape), dtype=g.dtype)
    np.add.at(out, argmax.reshape(-1), g.reshape(-1))
    return out.reshape(shape)


MAX_POOL2D: Primitive = register(
    Primitive(
        "max_pool2d",
        lambda x, argmax: np.take(x, argmax),
        (lambda g, out, x, argmax: MAX_POOL2D_BACKWARD(g, argmax=argmax, shape=np.shape(x)),),
        linear=True,
        doc="each window's maximum: x read at the flat positions `argmax` of the windows' "
        "first maxima (constants), so linear in x; the cotangent goes back to those positions",
    )
)

MAX_POOL2D_BACKWARD: Primitive = register(
    Primitive(
        "max_pool2d_backward",
        _add_at,
        (lambda g, out, gy, argmax, shape: MAX_POOL2D(g, argmax=argmax),),
        linear=True,
        doc="zeros(shape) with the pooled cotangent added at the windows' maxima (overlapping "
        "windows add): max_pool2d's adjoint, whose own adjoint is max_pool2d",
    )
)


@export
def max_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
) -> Tensor:
    """The maximum of each kernel_size window of an (N, C, H, W) or (C, H, W) input, the
    windows `stride` apart (kernel_size when None) over the input padded with -inf
    (`padding` at most half the kernel); out = floor((in + 2p - k)/s) + 1 per axis.

    The gradient of a window goes to its first maximum only (PyTorch's rule), and
    overlapping windows add theirs. The reduction `max` differs on purpose: it splits a
    tie's gradient evenly among the tied elements."""
    x = _image("max_pool2d", input)
    kernel, stride, padding, _ = _window_args("max_pool2d", x, kernel_size, stride, padding)
    return MAX_POOL2D(x, argmax=_first_maxima(x.data, kernel, stride, padding))


# --------------------------------------------------------------------------------------------
# Average pooling: a linear map of each plane, composed of matrix products.
# --------------------------------------------------------------------------------------------


def _averaging_matrix(
    n_in: int, starts: np.ndarray, ends: np.ndarray, divisors: Any, dtype: Any
) -> np.ndarray:
    """The (n_out, n_in) matrix that averages windows along one axis: row i holds
    1/divisors[i] on the inputs starts[i] <= j < ends[i] (indices outside the input are
    padding, zeros that add nothing but count in the divisor)."""
    j = np.arange(n_in)
    inside = (starts[:, None] <= j) & (j < ends[:, None])
    return (inside / np.reshape(divisors, (-1, 1))).astype(dtype)


def _average_windows(x: Tensor, rows: np.ndarray, cols: np.ndarray) -> Tensor:
    """The mean of each window: rows (OH, H) @ plane (H, W) @ cols (OW, W)^T on every
    plane, which is the plane flattened times kron(rows, cols)^T, one (OH OW, H W) matrix.

    One product with that matrix is fastest while it is small (fwd+bwd at batch 64, 8x8 and
    12x12 planes: 0.4-0.5x PyTorch, against 0.65-0.95x for the two factors), the factors
    past about 10,000 entries (16x16 planes: 1.4x faster; 28x28: 7x)."""
    *lead, h, w = x.shape
    oh, ow = len(rows), len(cols)
    if rows.size * cols.size <= 10_000:
        pooled = reshape(x, (-1, h * w)) @ np.kron(rows, cols).T
    else:  # along W on all rows at once (one matrix product, not one per plane), then H
        pooled = matmul(rows, reshape(reshape(x, (-1, w)) @ cols.T, (-1, h, ow)))
    return reshape(pooled, (*lead, oh, ow))


@export
def avg_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
) -> Tensor:
    """The mean of each kernel_size window of an (N, C, H, W) or (C, H, W) input, the
    windows `stride` apart (kernel_size when None) over the input padded with zeros that
    count in the mean (PyTorch's count_include_pad=True); out = floor((in + 2p - k)/s) + 1."""
    x = _image("avg_pool2d", input)
    kernel, stride, padding, out = _window_args("avg_pool2d", x, kernel_size, stride, padding)
    rows, cols = (
        _averaging_matrix(n, np.arange(m) * s - p, np.arange(m) * s - p + k, k, x.dtype)
        for n, m, k, s, p in zip(x.shape[-2:], out, kernel, stride, padding, strict=True)
    )
    return _average_windows(x, rows, cols)


@export
def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:
    """Average pooling to a chosen output size (OH, OW) (an int for both; None keeps the
    input's size): along an axis of n inputs, output i averages inputs floor(i n / out) up
    to ceil((i + 1) n / out) - 1 (PyTorch's windows; they tile the input when out divides
    n). Global average pooling, one number per channel, is adaptive_avg_pool2d(x, 1)."""
    x = _image("adaptive_avg_pool2d", input)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise TypeError(
            f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}"
        )
    h, w = x.shape[-2:]
    sizes = tuple(n if m is None else m for n, m in zip((h, w), sizes, strict=True))
    out = _pair("adaptive_avg_pool2d", "output_size", sizes, 1)
    if out == (1, 1):  # global average pooling: one mean, 2.3x faster than the product
        return mean(x, axis=(-2, -1), keepdims=True)
    windows = []
    for n, m in zip((h, w), out, strict=True):
        starts = np.arange(m) * n // m
        ends = -(-(np.arange(m) + 1) * n // m)  # ceil((i + 1) n / m)
        windows.append(_averaging_matrix(n, starts, ends, ends - starts, x.dtype))
    return _average_windows(x, *windows)
