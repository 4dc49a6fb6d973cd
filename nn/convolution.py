"""Convolution and pooling layers: Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d (Flatten, BatchNorm2d and Dropout2d sit next to their 1-D siblings in
`nn.layers`).

Names, argument orders, parameter shapes, state-dict keys and default initialization are
PyTorch's, so a state dict loads into the `torch.nn` layer of the same name and back:

- `Conv2d` weight (out_channels, in_channels / groups, kH, kW), bias (out_channels,);
- `ConvTranspose2d` weight (in_channels, out_channels / groups, kH, kW): it is the adjoint
  (the gradient in the input) of the Conv2d that maps out_channels back to in_channels;
- weights ~ kaiming_uniform(a=sqrt 5) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and biases
  ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight.shape[1] * kH * kW.

Inputs are (N, C, H, W) ((N, C, L) for Conv1d), or one unbatched sample (C, H, W). Every
layer checks its input where the user called it and says what is wrong with the layer, the
input shape and the course's size formula

    out = floor((in + 2p - d(k-1) - 1)/s) + 1

(k kernel size, s stride, p padding, d dilation; d = 1 for pooling) filled in with the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.layers import Generator, _dtype, _input, _label, _size
from nn.module import Module, Parameter

_FORMULA = "out = floor((in + 2p - d(k-1) - 1)/s) + 1"
_TRANSPOSED_FORMULA = "out = (in - 1)s - 2p + d(k-1) + output_padding + 1"
_AXES = {1: ("length",), 2: ("height", "width")}


def conv_output_size(
    in_size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """The course's feature-map size along one axis: floor((in + 2p - d(k-1) - 1)/s) + 1.

    E.g. a 3x3 input padded by 1 under a 2x2 kernel with stride 1 gives 4x4; a 28x28 image
    under a 5x5 kernel gives 24x24, with padding 2 it stays 28x28."""
    return (in_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _ints(layer: str, name: str, value: Any, n: int, least: int) -> tuple[int, ...]:
    """An int or a sequence of n ints, each >= least, as a tuple of n ints (PyTorch's
    `_pair`), checked here so a wrong argument is reported by the layer that got it."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
    ):
        raise TypeError(f"{layer}: {name} must be an int or {n} ints, got {value!r}")
    if any(v < least for v in values):
        raise ValueError(f"{layer}: {name} must be at least {least}, got {value!r}")
    return tuple(int(v) for v in values)


def _batched(layer: Module, x: Tensor, channels: int | None, dims: int) -> tuple[Tensor, bool]:
    """`x` with a batch axis (an unbatched sample (C, *spatial) gets one, as in PyTorch),
    after checking its number of axes and (when given) its channel count."""
    spatial = "H, W" if dims == 2 else "L"
    c = "C" if channels is None else str(channels)
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"{_label(layer)}: expected input (N, {c}, {spatial}) or unbatched "
            f"({c}, {spatial}), got shape {x.shape}"
        )
    unbatched = x.ndim == dims + 1
    if unbatched:
        x = x.unsqueeze(0)
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{_label(layer)}: expected {channels} input channels, got {x.shape[1]} "
            f"(input of shape {x.shape[1:] if unbatched else x.shape}, channels on axis "
            f"{0 if unbatched else 1})"
        )
    return x, unbatched


def _check_sizes(
    layer: Module,
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> None:
    """Raise, with the course's formula filled in, if the output would be empty along an axis
    (the input is smaller than the dilated kernel, padding included)."""
    dims = len(kernel)
    sizes = zip(_AXES[dims], shape[-dims:], kernel, stride, padding, dilation, strict=True)
    for name, n, k, s, p, d in sizes:
        out = conv_output_size(n, k, s, p, d)
        if out < 1:
            raise ValueError(
                f"{_label(layer)}: input of shape {shape} is too small along {name}: "
                f"{_FORMULA} = floor(({n} + 2*{p} - {d}*({k}-1) - 1)/{s}) + 1 = {out}; "
                "use a larger input, more padding or a smaller kernel"
            )


# --------------------------------------------------------------------------------------------
# Convolutions
# --------------------------------------------------------------------------------------------


class _ConvNd(Module):
    """What the convolutions share: arguments checked and stored as PyTorch stores them,
    parameters made and initialized, the PyTorch repr."""

    _dims = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: int | Sequence[int] | str,
        dilation: int | Sequence[int],
        groups: int,
        bias: bool,
        output_padding: int | Sequence[int],
        dtype: Any,
        generator: Generator,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        self.in_channels = _size(name, "in_channels", in_channels)
        self.out_channels = _size(name, "out_channels", out_channels)
        self.kernel_size = _ints(name, "kernel_size", kernel_size, dims, 1)
        self.stride = _ints(name, "stride", stride, dims, 1)
        self.dilation = _ints(name, "dilation", dilation, dims, 1)
        self.output_padding = _ints(name, "output_padding", output_padding, dims, 0)
        self.groups = _size(name, "groups", groups)
        self.padding: tuple[int, ...] | str
        if isinstance(padding, str):
            if padding not in ("valid", "same") or self._transposed:
                allowed = "an int or a pair" if self._transposed else "'valid', 'same' or ints"
                raise ValueError(f"{name}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and self.stride != (1,) * dims:
                raise ValueError(
                    f"{name}: padding='same' needs stride 1 (the output keeps the input's size),"
                    f" got stride={self.stride}"
                )
            self.padding = padding
        else:
            self.padding = _ints(name, "padding", padding, dims, 0)
        for what, channels in (("in_channels", self.in_channels), ("out_channels", out_channels)):
            if channels % self.groups:
                raise ValueError(
                    f"{name}: {what}={channels} must be divisible by groups={self.groups}"
                )
        for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if op >= s and op >= d:
                raise ValueError(
                    f"{name}: output_padding={self.output_padding} must be smaller than the "
                    f"stride {self.stride} or the dilation {self.dilation}"
                )
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator = None) -> None:
        """PyTorch's default: weight ~ kaiming_uniform(a=sqrt 5), i.e. U(-1/sqrt(fan_in),
        1/sqrt(fan_in)), and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in =
        weight.shape[1] * prod(kernel_size)."""
        rng = init.as_generator(generator)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def _prepare(self, x: Any) -> tuple[Tensor, bool]:
        """The input checked (dtype, axes, channels, sizes) and with a batch axis."""
        x = _input(self, x, self.weight)
        batch, unbatched = _batched(self, x, self.in_channels, self._dims)
        self._check_sizes(x.shape)  # the shape as the user gave it, for the message
        return batch, unbatched

    def _check_sizes(self, shape: tuple[int, ...]) -> None:
        if self.padding == "same":  # the output has the input's size
            return
        padding = self.padding if isinstance(self.padding, tuple) else (0,) * self._dims  # valid
        _check_sizes(self, shape, self.kernel_size, self.stride, padding, self.dilation)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class _Conv(_ConvNd):
    """Conv1d and Conv2d: PyTorch's constructor, and a forward through `convolve`."""

    convolve = staticmethod(F.conv2d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            0, dtype, generator,
        )  # fmt: skip

    def forward(self, x: Any) -> Tensor:
        x, unbatched = self._prepare(x)
        y = self.convolve(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )
        return y.squeeze(0) if unbatched else y


class Conv2d(_Conv):
    """2-D cross-correlation (the deep-learning "convolution") of (N, C_in, H, W) inputs with
    out_channels filters of shape (C_in / groups, kH, kW), plus a bias per output channel:

        y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] x[n, c, s*i + d*u - p, s*j + d*v - p]

    Output size per axis: floor((in + 2p - d(k-1) - 1)/s) + 1. `padding` may be an int, a
    pair, "valid" (0) or "same" (stride 1, output as large as the input). With groups=g the
    channels are split into g independent convolutions (g = in_channels: depthwise).
    """


class Conv1d(_Conv):
    """1-D cross-correlation of (N, C_in, L) inputs (sequences, signals): Conv2d with one
    spatial axis. Weight (out_channels, in_channels / groups, k)."""

    _dims = 1
    convolve = staticmethod(F.conv1d)


class ConvTranspose2d(_ConvNd):
    """The transposed convolution: the gradient in the input of a Conv2d with the same
    arguments, used to upsample (decoders, segmentation). Each input pixel scatters a
    weighted copy of the kernel into the output, stride pixels apart:

        out = (in - 1)s - 2p + d(k-1) + output_padding + 1 per axis.

    Weight (in_channels, out_channels / groups, kH, kW), as PyTorch; output_padding (smaller
    than the stride or the dilation) picks among the sizes a strided Conv2d maps to one.
    """

    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            output_padding, dtype, generator,
        )  # fmt: skip

    def forward(self, x: Any) -> Tensor:
        x, unbatched = self._prepare(x)
        padding = cast(tuple[int, int], self.padding)  # never a string here (see __init__)
        y = F.conv_transpose2d(
            x, self.weight, self.bias, self.stride, padding, self.output_padding, self.groups,
            self.dilation,
        )  # fmt: skip
        return y.squeeze(0) if unbatched else y

    def _check_sizes(self, shape: tuple[int, ...]) -> None:
        padding = cast(tuple[int, int], self.padding)
        for axis, name in enumerate(_AXES[2]):
            n, k, s = shape[axis - 2], self.kernel_size[axis], self.stride[axis]
            p, d, op = padding[axis], self.dilation[axis], self.output_padding[axis]
            out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            if out < 1:
                raise ValueError(
                    f"{_label(self)}: input of shape {shape} gives an empty output along "
                    f"{name}: {_TRANSPOSED_FORMULA} = ({n} - 1)*{s} - 2*{p} + {d}*({k}-1) + "
                    f"{op} + 1 = {out}; use less padding"
                )


# --------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------


class _Pool2d(Module):
    """What MaxPool2d and AvgPool2d share: kernel, stride (the kernel by default) and padding,
    kept as given (an int or a pair), as PyTorch keeps them."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self._kernel = _ints(name, "kernel_size", kernel_size, 2, 1)
        self._stride = _ints(name, "stride", self.stride, 2, 1)
        self._padding = _ints(name, "padding", padding, 2, 0)
        if any(2 * p > k for p, k in zip(self._padding, self._kernel, strict=True)):
            raise ValueError(
                f"{name}: padding={padding} must be at most half of kernel_size={kernel_size} "
                "(a window made mostly of padding would see no input)"
            )

    def _prepare(self, x: Any) -> tuple[Tensor, bool]:
        x = x if isinstance(x, Tensor) else Tensor(x)
        batch, unbatched = _batched(self, x, None, 2)
        _check_sizes(self, x.shape, self._kernel, self._stride, self._padding, (1, 1))
        return batch, unbatched

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each kernel_size window, windows `stride` apart (the kernel size by
    default: non-overlapping), per channel; padding counts as -inf.

    The gradient goes to the window's first maximum, as in PyTorch (the engine's `max`
    would split it among ties); overlapping windows add their gradients."""

    def forward(self, x: Any) -> Tensor:
        x, unbatched = self._prepare(x)
        y = F.max_pool2d(x, self.kernel_size, self.stride, self.padding)
        return y.squeeze(0) if unbatched else y


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size window, windows `stride` apart (the kernel size by
    default), per channel; zero padding counts in the mean (PyTorch's count_include_pad)."""

    def forward(self, x: Any) -> Tensor:
        x, unbatched = self._prepare(x)
        y = F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
        return y.squeeze(0) if unbatched else y


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's: output cell i along an
    axis averages input rows floor(i * in / out) .. ceil((i + 1) * in / out) - 1.

    output_size 1 is global average pooling (ResNet's and GoogLeNet's head: one number per
    channel, so the classifier works on any image size). An int is used for both axes; None
    in a pair keeps that axis's input size."""

    def __init__(self, output_size: int | Sequence[int | None]) -> None:
        super().__init__()
        sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2 or not all(
            s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1)
            for s in sizes
        ):
            raise ValueError(
                f"AdaptiveAvgPool2d: output_size must be a positive int or a pair of positive "
                f"ints (or None), got {output_size!r}"
            )
        self.output_size = output_size
        self._sizes = sizes

    def forward(self, x: Any) -> Tensor:
        x, unbatched = _batched(self, x if isinstance(x, Tensor) else Tensor(x), None, 2)
        size = tuple(n if s is None else s for s, n in zip(self._sizes, x.shape[2:], strict=True))
        y = F.adaptive_avg_pool2d(x, size)
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
