"""Convolution: conv2d and its two adjoints (the gradient in the input, which is the transposed
convolution, and the gradient in the weight), unfold/fold (im2col / col2im).

Convolution is bilinear in input and weight, so three primitives close under
differentiation: `conv2d(w, x)` (weight first, see below), `conv2d_input(g, w)` (the adjoint
in x) and `conv2d_weight(x, g)` (the adjoint in w). Each one's reverse rules are calls to the
other two, and, being bilinear (`multilinear=True`), its forward rule is itself with the
tangent in one argument's place, so forward mode and every order come from these three.

The kernel is "im2col + one matrix product": every window of the padded input is copied into
a column (`_columns`), the product with the flattened weight gives all outputs at once, and
the adjoint adds columns back into their windows (`_add_columns`, col2im). Columns keep the
batch axis innermost, `(C, kH, kW, oH, oW, N)`: then each product is one 2-D GEMM per group,
and col2im is kH*kW slice-adds whose inner runs are whole rows of the batch (for LeNet's
second convolution, 0.7 ms against 2.3 ms with the batch axis first and 9 ms with
`np.add.at`).

Sizes follow the course's formula, per spatial axis: out = floor((in + 2p - d(k-1) - 1)/s) + 1
(here with the two sides' paddings p_before + p_after in place of 2p).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import export, quiet, tensor
from autograd_core.ops.shape import reshape
from autograd_core.tensor import Tensor

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]  # ((top, bottom), (left, right))


# --------------------------------------------------------------------------------------------
# The numpy kernel: columns of windows (im2col) and their sum back into the image (col2im).
# --------------------------------------------------------------------------------------------


def output_size(size: int, kernel: int, stride: int, padding: Pair, dilation: int) -> int:
    """The course's formula: floor((in + p_before + p_after - d(k-1) - 1)/s) + 1."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def _out_sizes(
    in_size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: Pair,
    padding: Padding,
    dilation: Pair,
) -> Pair:
    oh, ow = map(output_size, in_size, kernel, stride, padding, dilation)
    return oh, ow


def _copy_batch_last(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Copy x (N, A, B, C) into out (A, B, C, N), 8 samples at a time. A plain transposing
    copy reads all N samples in its inner loop; when a sample is 4 KB (1,024 float32s, as
    LeNet's 16 maps of 8x8) they share cache sets and evict each other: LeNet's second
    convolution measured 1.24-1.33x PyTorch with plain copies, 1.08-1.12x with this."""
    for start in range(0, x.shape[0], 8):
        out[..., start : start + 8] = x[start : start + 8].transpose(1, 2, 3, 0)
    return out


def _batch_last_padded(x: np.ndarray, padding: Padding) -> np.ndarray:
    """x (N, C, H, W) as a zero-padded (C, H', W', N) array, the batch axis innermost. A
    negative bottom or right padding (only conv_transpose2d makes one) crops instead: those
    rows are beyond the last window, which `_columns` never reads."""
    n, c, h, w = x.shape
    (top, bottom), (left, right) = padding
    padded = np.zeros((c, top + h + max(bottom, 0), left + w + max(right, 0), n), x.dtype)
    _copy_batch_last(x, padded[:, top : top + h, left : left + w])
    return padded


def _columns(
    x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair
) -> np.ndarray:
    """im2col: every (kH, kW) window of the padded x (N, C, H, W), as columns of shape
    (C, kH, kW, oH, oW, N); one copy of a sliding-window view."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = _out_sizes(x.shape[2:], kernel, stride, padding, dilation)
    padded = _batch_last_padded(x, padding)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # a dilated window's extent
    windows = sliding_window_view(padded, span, axis=(1, 2))  # (C, H'', W'', N, span...)
    windows = windows[:, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw, :, ::dh, ::dw]
    return np.ascontiguousarray(windows.transpose(0, 4, 5, 1, 2, 3))


def _add_columns(
    cols: np.ndarray, in_size: tuple[int, ...], stride: Pair, padding: Padding, dilation: Pair
) -> np.ndarray:
    """col2im, the adjoint of `_columns`: columns (C, kH, kW, oH, oW, N) added back into
    their windows, overlaps summing, into an (N, C, H, W) array. One strided slice-add per
    kernel position."""
    c, kh, kw, oh, ow, n = cols.shape
    (sh, sw), (dh, dw), ((top, bottom), (left, right)) = stride, dilation, padding
    h, w = in_size
    image = np.zeros((c, top + h + max(bottom, 0), left + w + max(right, 0), n), cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            image[:, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[:, i, j]
    return np.ascontiguousarray(image[:, top : top + h, left : left + w].transpose(3, 0, 1, 2))


def _by_group(a: np.ndarray, groups: int, rows: int) -> np.ndarray:
    """An array as `groups` matrices of `rows` rows each (their channels in order)."""
    return a.reshape(groups, rows, -1)


def _batch_last_rows(g: np.ndarray, groups: int) -> np.ndarray:
    """An output-shaped g (N, O, oH, oW) as per-group matrices (G, O/G, oH*oW*N), ordered as
    the columns are."""
    n, o, oh, ow = g.shape
    rows = _copy_batch_last(g, np.empty((o, oh, ow, n), g.dtype))
    return _by_group(rows, groups, o // groups)


def _conv2d_forward(
    w: np.ndarray, x: np.ndarray, stride: Pair, padding: Padding, dilation: Pair, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """y[n, o] = sum over c, i, j of w[o, c, i, j] x_padded[n, c, s*p + d*i, s*q + d*j] within
    o's group: the weight matrix (O/G, C/G*kH*kW) times the columns, per group. Returns the
    columns too, for the weight's gradient."""
    cols = _columns(x, w.shape[2:], stride, padding, dilation)
    _, _, _, oh, ow, n = cols.shape
    o, rows = w.shape[0], w[0].size  # rows: C/G*kH*kW
    y = _by_group(w, groups, o // groups) @ _by_group(cols, groups, rows)  # (G, O/G, oH*oW*N)
    return np.ascontiguousarray(y.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)), cols


def _conv2d_input_forward(
    g: np.ndarray,
    w: np.ndarray,
    input_size: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
    groups: int,
) -> np.ndarray:
    """The adjoint of x -> conv2d(x, w) for x of spatial size `input_size`: the weight
    matrix transposed times g gives columns, which col2im adds back into the image."""
    n, o, oh, ow = g.shape
    cols = _by_group(w, groups, o // groups).mT @ _batch_last_rows(g, groups)  # (G, C/G*kk, L)
    cols = cols.reshape(w.shape[1] * groups, *w.shape[2:], oh, ow, n)
    return _add_columns(cols, input_size, stride, padding, dilation)


def _weight_gradient(g: np.ndarray, cols: np.ndarray, groups: int) -> np.ndarray:
    """g (N, O, oH, oW) times the columns of x, transposed, per group: (O, C/G, kH, kW)."""
    c, kh, kw = cols.shape[:3]
    rows = _by_group(cols, groups, c // groups * kh * kw)
    gw = _batch_last_rows(g, groups) @ rows.mT  # (G, O/G, C/G*kH*kW)
    return gw.reshape(g.shape[1], c // groups, kh, kw)


def _conv2d_weight_forward(
    x: np.ndarray,
    g: np.ndarray,
    kernel_size: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
    groups: int,
) -> np.ndarray:
    """The adjoint of w -> conv2d(x, w) applied to g: g times the columns of x."""
    return _weight_gradient(g, _columns(x, kernel_size, stride, padding, dilation), groups)


# --------------------------------------------------------------------------------------------
# The three bilinear primitives. For y = conv2d(w, x) with cotangent g:
#   <g, conv2d(w, x)> = <conv2d_input(g, w), x> = <conv2d_weight(x, g), w>,
# and every rule below is one of these identities read for another argument.
#
# conv2d takes the weight first: the engine's fused rule, which reads what the forward kept,
# is for input 0, and what the forward keeps, the columns of x, is what the weight's gradient
# needs. (The layer of benchmarks/conv.py, written out in numpy: 1.15-1.23x PyTorch
# recomputing the columns, 0.99-1.03x keeping them; memory: the columns are kH*kW times the
# input, held from the forward to the backward.)
# --------------------------------------------------------------------------------------------


def _conv2d_vjp_w(g: Any, out: Any, w: Any, x: Any, **geometry: Any) -> Any:
    return CONV2D_WEIGHT(x, g, kernel_size=w.shape[2:], **geometry)


def _conv2d_vjp_x(g: Any, out: Any, w: Any, x: Any, **geometry: Any) -> Any:
    return CONV2D_INPUT(g, w, input_size=x.shape[2:], **geometry)


def _conv2d_fused_vjp_w(
    g: np.ndarray, cols: np.ndarray, w: np.ndarray, x: np.ndarray, groups: int, **geometry: Any
) -> np.ndarray:
    """conv2d_weight(x, g) from the forward's columns of x (no second im2col)."""
    return _weight_gradient(g, cols, groups)


CONV2D: Primitive = register(
    Primitive(
        "conv2d",
        quiet(_conv2d_forward),
        (_conv2d_vjp_w, _conv2d_vjp_x),
        multilinear=True,
        fused_vjp=_conv2d_fused_vjp_w,
        doc="2-D cross-correlation of x (N, C, H, W) with w (O, C/groups, kH, kW), weight "
        "first, no bias; bilinear: d/dw = conv2d_weight(x, g), d/dx = conv2d_input(g, w)",
    )
)


def _conv2d_input_vjp_w(
    g: Any, out: Any, gy: Any, w: Any, input_size: Pair, **geometry: Any
) -> Any:
    return CONV2D_WEIGHT(g, gy, kernel_size=w.shape[2:], **geometry)


CONV2D_INPUT: Primitive = register(
    Primitive(
        "conv2d_input",
        quiet(_conv2d_input_forward),
        (
            lambda g, out, gy, w, input_size, **geometry: CONV2D(w, g, **geometry),
            _conv2d_input_vjp_w,
        ),
        multilinear=True,
        doc="the transposed convolution: the adjoint of x -> conv2d(x, w) applied to g, "
        "for x of spatial size input_size; d/dg = conv2d(., w), d/dw = conv2d_weight(., g)",
    )
)


def _conv2d_weight_vjp_x(
    g: Any, out: Any, x: Any, gy: Any, kernel_size: Pair, **geometry: Any
) -> Any:
    return CONV2D_INPUT(gy, g, input_size=x.shape[2:], **geometry)


CONV2D_WEIGHT: Primitive = register(
    Primitive(
        "conv2d_weight",
        quiet(_conv2d_weight_forward),
        (
            _conv2d_weight_vjp_x,
            lambda g, out, x, gy, kernel_size, **geometry: CONV2D(g, x, **geometry),
        ),
        multilinear=True,
        doc="the adjoint of w -> conv2d(x, w) applied to g: the weight's gradient, of "
        "spatial size kernel_size; d/dx = conv2d_input(g, .), d/dg = conv2d(x, .)",
    )
)


# --------------------------------------------------------------------------------------------
# unfold and fold (im2col and col2im as ops): linear, and each the other's adjoint.
# --------------------------------------------------------------------------------------------


def _unfold_forward(
    x: np.ndarray, kernel_size: Pair, stride: Pair, padding: Padding, dilation: Pair
) -> np.ndarray:
    """(N, C, H, W) -> (N, C*kH*kW, oH*oW): PyTorch's layout, channel-major rows."""
    cols = _columns(x, kernel_size, stride, padding, dilation)
    c, kh, kw, oh, ow, n = cols.shape
    return np.ascontiguousarray(cols.reshape(c * kh * kw, oh * ow, n).transpose(2, 0, 1))


def _fold_forward(
    cols: np.ndarray,
    output_size: Pair,
    kernel_size: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
) -> np.ndarray:
    """(N, C*kH*kW, L) -> (N, C, H, W), each column added into its window."""
    n, rows, _ = cols.shape
    kh, kw = kernel_size
    oh, ow = _out_sizes(output_size, kernel_size, stride, padding, dilation)
    blocks = cols.reshape(n, rows // (kh * kw), kh, kw, oh, ow).transpose(1, 2, 3, 4, 5, 0)
    return _add_columns(blocks, output_size, stride, padding, dilation)


UNFOLD: Primitive = register(
    Primitive(
        "unfold",
        _unfold_forward,
        (lambda g, out, x, **geometry: FOLD(g, output_size=x.shape[2:], **geometry),),
        linear=True,
        doc="im2col: every window of the padded input as a column; the adjoint is fold",
    )
)


def _fold_vjp(g: Any, out: Any, cols: Any, output_size: Pair, **geometry: Any) -> Any:
    return UNFOLD(g, **geometry)


FOLD: Primitive = register(
    Primitive(
        "fold",
        quiet(_fold_forward),
        (_fold_vjp,),
        linear=True,
        doc="col2im: columns added back into their windows, overlaps summing; the adjoint "
        "is unfold",
    )
)


# --------------------------------------------------------------------------------------------
# Public functions: arguments checked at the edge, with the course's formula in size errors.
# --------------------------------------------------------------------------------------------

FORMULA = "out = floor((in + 2p - d(k-1) - 1)/s) + 1"
TRANSPOSED_FORMULA = "out = (in - 1)s - 2p + d(k-1) + output_padding + 1"


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _ints(op: str, name: str, value: Any, dims: int, minimum: int) -> tuple[int, ...]:
    """An int, or a tuple of `dims` ints, as a tuple of `dims` ints, each >= minimum."""
    if _is_int(value):
        values = (int(value),) * dims
    elif isinstance(value, (tuple, list)) and len(value) == dims and all(map(_is_int, value)):
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    if min(values) < minimum:
        bound = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{op}: {name} must be {bound}, got {value!r}")
    return values


def _paddings(
    op: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: Any
) -> tuple[Pair, ...]:
    """Each axis's (before, after) padding from an int, a tuple, "valid" or "same" (PyTorch's
    rule: stride 1 only; total d(k-1), the odd one extra after, i.e. at the bottom/right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride {stride}), as in PyTorch; pass the padding as numbers"
                )
            totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
            return tuple((total // 2, total - total // 2) for total in totals)
        raise ValueError(
            f"{op}: padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}"
        )
    return tuple((p, p) for p in _ints(op, "padding", padding, len(kernel), 0))


def _shown(padding: tuple[Pair, ...]) -> tuple[Any, ...]:
    """Paddings as the user wrote them: one number per axis, or (before, after) pairs."""
    if all(before == after for before, after in padding):
        return tuple(before for before, _ in padding)
    return padding


def _check_output_sizes(
    op: str,
    described: str,
    in_size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[Pair, ...],
    dilation: tuple[int, ...],
) -> tuple[int, ...]:
    """Each spatial output size, or an error naming the op, the shapes and the formula."""
    sizes = []
    names = ("length",) if len(in_size) == 1 else ("height", "width")
    for name, n, k, s, p, d in zip(names, in_size, kernel, stride, padding, dilation, strict=True):
        out = output_size(n, k, s, p, d)
        if out < 1:
            raise ValueError(
                f"{op}: {described} leaves no output: the output {name} would be {FORMULA} = "
                f"floor(({n} + {p[0] + p[1]} - {d}*({k}-1) - 1)/{s}) + 1 = {out} (stride "
                f"{stride}, padding {_shown(padding)}, dilation {dilation}); the kernel, "
                f"dilated, must fit the padded input"
            )
        sizes.append(out)
    return tuple(sizes)


def _same_dtype(op: str, **tensors: Tensor | None) -> None:
    """Input, weight and bias of one float dtype (as PyTorch; no silent promotion)."""
    dtypes = {name: t.dtype for name, t in tensors.items() if t is not None}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise TypeError(f"{op}: {listed}: all must have the same dtype, as in PyTorch")


def _batched(op: str, x: Tensor, dims: int, layout: str) -> Tensor:
    """The input with its batch axis: (N, C, ...) as given, or (C, ...) as a batch of one."""
    if x.ndim == dims + 2:
        return x
    if x.ndim == dims + 1:
        return reshape(x, (1, *x.shape))
    raise ValueError(
        f"{op}: expected an input of shape {layout} ({dims + 2}-D, or {dims + 1}-D without the "
        f"batch axis), got shape {x.shape}"
    )


def _bias(op: str, bias: Any, channels: int) -> Tensor | None:
    if bias is None:
        return None
    b = tensor(bias)
    if b.shape != (channels,):
        raise ValueError(f"{op}: bias of shape {b.shape} does not fit {channels} output channels")
    return b


def _groups(op: str, groups: Any, shapes: str, **channels: int) -> int:
    """groups, checked: a positive int dividing each of the given channel counts."""
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(count % groups for count in channels.values()):
        counts = " and ".join(f"the {name.replace('_', ' ')} ({n})" for name, n in channels.items())
        raise ValueError(f"{op}: groups={groups} must divide {counts}; {shapes}")
    return int(groups)


def _convolution(
    op: str,
    given: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    dims: int,
) -> Tensor:
    """conv1d (dims 1) and conv2d (dims 2): checks, then the conv2d primitive (a 1-D
    convolution is a 2-D one over a height of 1), then the bias added by broadcasting."""
    spatial = ("L",) if dims == 1 else ("H", "W")
    x = _batched(op, tensor(given), dims, f"(N, C_in, {', '.join(spatial)})")
    w = tensor(weight)
    kernel_axes = ("k",) if dims == 1 else ("kH", "kW")
    if w.ndim != dims + 2:
        raise ValueError(
            f"{op}: expected a weight of shape (C_out, C_in / groups, {', '.join(kernel_axes)}), "
            f"got shape {w.shape}"
        )
    shapes = f"input of shape {tuple(x.shape)}, weight of shape {tuple(w.shape)}"
    groups = _groups(op, groups, shapes, input_channels=x.shape[1], output_channels=w.shape[0])
    if w.shape[1] * groups != x.shape[1]:
        raise ValueError(
            f"{op}: {shapes}: the input has {x.shape[1]} channels, but the weight expects "
            f"C_in / groups * groups = {w.shape[1]} * {groups} = {w.shape[1] * groups}"
        )
    b = _bias(op, bias, w.shape[0])
    _same_dtype(op, input=x, weight=w, bias=b)
    kernel = tuple(w.shape[2:])
    strides = _ints(op, "stride", stride, dims, 1)
    dilations = _ints(op, "dilation", dilation, dims, 1)
    pads = _paddings(op, padding, kernel, strides, dilations)
    _check_output_sizes(op, shapes, x.shape[2:], kernel, strides, pads, dilations)
    n, out_channels = x.shape[0], w.shape[0]
    if dims == 1:  # a height of 1, which stride 1, dilation 1 and no padding leave alone
        x, w = reshape(x, (n, x.shape[1], 1, -1)), reshape(w, (*w.shape[:2], 1, -1))
        strides, dilations, pads = (1, *strides), (1, *dilations), ((0, 0), *pads)
    y = CONV2D(w, x, stride=strides, padding=pads, dilation=dilations, groups=groups)
    if dims == 1:
        y = reshape(y, (n, out_channels, -1))
    if b is not None:
        y = y + reshape(b, (out_channels, *(1,) * dims))
    return y if np.ndim(given) == dims + 2 else reshape(y, y.shape[1:])


@export
def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of input (N, C_in, H, W) with weight
    (C_out, C_in / groups, kH, kW), plus bias (C_out,): output (N, C_out, oH, oW) with
    out = floor((in + 2p - d(k-1) - 1)/s) + 1 per axis.

    `padding` is an int, a pair, "valid" (none) or "same" (output size = input size; stride
    1 only; an odd total puts the extra row/column at the bottom/right, as PyTorch). With
    `groups` g, channels split into g groups convolved separately. A (C, H, W) input is one
    image."""
    return _convolution("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


@export
def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of input (N, C_in, L) with weight (C_out, C_in / groups, k): conv2d's
    arguments and rules along one axis (computed as conv2d over a height of 1)."""
    return _convolution("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


@export
def conv_transpose2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    output_padding: int | tuple[int, ...] = 0,
    groups: int = 1,
    dilation: int | tuple[int, ...] = 1,
) -> Tensor:
    """Transposed convolution, PyTorch's: input (N, C_in, H, W), weight (C_in, C_out /
    groups, kH, kW), output (N, C_out, oH, oW) with
    out = (in - 1)s - 2p + d(k-1) + output_padding + 1 per axis.

    It is the adjoint (the gradient in the input) of conv2d with the same weight, stride,
    padding and dilation, mapping the larger size back onto the smaller: each input pixel
    adds a copy of the kernel, scaled, into the output. `output_padding` (smaller than the
    stride or the dilation) adds rows/columns at the bottom/right to pick among the sizes
    that conv2d would map to the input's size."""
    op = "conv_transpose2d"
    x, w = _batched(op, tensor(input), 2, "(N, C_in, H, W)"), tensor(weight)
    if w.ndim != 4:
        raise ValueError(
            f"{op}: expected a weight of shape (C_in, C_out / groups, kH, kW), got shape {w.shape}"
        )
    shapes = f"input of shape {tuple(x.shape)}, weight of shape {tuple(w.shape)}"
    groups = _groups(op, groups, shapes, input_channels=w.shape[0])
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"{op}: {shapes}: the input has {x.shape[1]} channels, but the weight expects "
            f"{w.shape[0]} (its first axis is C_in for a transposed convolution)"
        )
    out_channels = w.shape[1] * groups
    b = _bias(op, bias, out_channels)
    _same_dtype(op, input=x, weight=w, bias=b)
    kernel = tuple(w.shape[2:])
    strides = _ints(op, "stride", stride, 2, 1)
    dilations = _ints(op, "dilation", dilation, 2, 1)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair of ints, got {padding!r}")
    pad = _ints(op, "padding", padding, 2, 0)
    extra = _ints(op, "output_padding", output_padding, 2, 0)
    sizes = []
    for n, k, s, p, d, e in zip(x.shape[2:], kernel, strides, pad, dilations, extra, strict=True):
        if e >= s and e >= d:
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either the stride "
                f"{strides} or the dilation {dilations}, as in PyTorch"
            )
        size = (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        if size < 1:
            raise ValueError(
                f"{op}: {shapes} leaves no output: {TRANSPOSED_FORMULA} = ({n} - 1)*{s} - "
                f"2*{p} + {d}*({k}-1) + {e} + 1 = {size}"
            )
        sizes.append(size)
    # conv2d maps `sizes` back to the input's size when output_padding % s rows are beyond
    # its last window: bottom/right paddings p - s*(output_padding // s) (negative: cropped).
    pads = tuple((p, p - s * (e // s)) for p, s, e in zip(pad, strides, extra, strict=True))
    y = CONV2D_INPUT(
        x,
        w,
        input_size=tuple(sizes),
        stride=strides,
        padding=pads,
        dilation=dilations,
        groups=groups,
    )
    if b is not None:
        y = y + reshape(b, (out_channels, 1, 1))
    return y if np.ndim(input) == 4 else reshape(y, y.shape[1:])


@export
def unfold(
    input: Any,
    kernel_size: int | tuple[int, ...],
    dilation: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    stride: int | tuple[int, ...] = 1,
) -> Tensor:
    """im2col, PyTorch's `unfold`: every (kH, kW) window of the padded input (N, C, H, W) as
    a column, giving (N, C*kH*kW, L), L = oH*oW windows; rows are channel-major (c, i, j).
    A convolution is then one matrix product: weight.reshape(C_out, -1) @ unfold(x)."""
    op = "unfold"
    x = _batched(op, tensor(input), 2, "(N, C, H, W)")
    kernel = _ints(op, "kernel_size", kernel_size, 2, 1)
    dilations = _ints(op, "dilation", dilation, 2, 1)
    strides = _ints(op, "stride", stride, 2, 1)
    pads = tuple((p, p) for p in _ints(op, "padding", padding, 2, 0))
    described = f"input of shape {tuple(x.shape)} with kernel_size {kernel}"
    _check_output_sizes(op, described, x.shape[2:], kernel, strides, pads, dilations)
    cols = UNFOLD(x, kernel_size=kernel, stride=strides, padding=pads, dilation=dilations)
    return cols if np.ndim(input) == 4 else reshape(cols, cols.shape[1:])


@export
def fold(
    input: Any,
    output_size: int | tuple[int, ...],
    kernel_size: int | tuple[int, ...],
    dilation: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    stride: int | tuple[int, ...] = 1,
) -> Tensor:
    """col2im, PyTorch's `fold`, the adjoint of `unfold`: columns (N, C*kH*kW, L) added back
    into their windows of an (N, C, H, W) image, output_size (H, W); overlapping windows
    sum, so fold(unfold(x)) is x times how many windows cover each pixel."""
    op = "fold"
    x = tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{op}: expected an input of shape (N, C*kH*kW, L) (3-D, or 2-D without the "
            f"batch axis), got shape {x.shape}"
        )
    if x.ndim == 2:
        x = reshape(x, (1, *x.shape))
    size = _ints(op, "output_size", output_size, 2, 1)
    kernel = _ints(op, "kernel_size", kernel_size, 2, 1)
    dilations = _ints(op, "dilation", dilation, 2, 1)
    strides = _ints(op, "stride", stride, 2, 1)
    pads = tuple((p, p) for p in _ints(op, "padding", padding, 2, 0))
    described = f"output_size {size} with kernel_size {kernel}"
    oh, ow = _check_output_sizes(op, described, size, kernel, strides, pads, dilations)
    kh, kw = kernel
    if x.shape[1] % (kh * kw) or x.shape[2] != oh * ow:
        raise ValueError(
            f"{op}: input of shape {tuple(x.shape)} does not fit output_size {size} and "
            f"kernel_size {kernel} (stride {strides}, padding {_shown(pads)}, dilation "
            f"{dilations}): "
            f"expected (N, C*{kh * kw}, {oh * ow}), a multiple of kH*kW = {kh * kw} rows and "
            f"oH*oW = {oh}*{ow} = {oh * ow} columns ({FORMULA})"
        )
    image = FOLD(
        x, output_size=size, kernel_size=kernel, stride=strides, padding=pads, dilation=dilations
    )
    return image if np.ndim(input) == 3 else reshape(image, image.shape[1:])
