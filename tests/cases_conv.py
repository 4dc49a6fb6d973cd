"""Test data for ops/conv.py: one line per primitive in `CASES` (the registry test requires
one for every primitive), composites of public functions in `COMPOSITES`. Both get reverse,
forward and second-order checks in test_op_gradients.py.

Shapes, strides, paddings (each side its own), dilations and groups are drawn; sizes stay
small, since the central differences take two forward passes per input element."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt
from autograd_core.ops.conv import CONV2D, CONV2D_INPUT, CONV2D_WEIGHT, output_size
from tests.case_builders import Case, Draw


def geometry(draw: Draw, max_groups: int = 2) -> dict[str, Any]:
    """A drawn convolution: shapes of x, w and the output, and the primitives' parameters.
    Each axis is at least as long as the dilated kernel needs, and at most 2 longer."""
    groups = draw(st.integers(1, max_groups))
    channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 1))) for _ in range(2))
    size = []
    for k, d, (before, after) in zip(kernel, dilation, padding, strict=True):
        shortest = max(1, d * (k - 1) + 1 - before - after)
        size.append(draw(st.integers(shortest, shortest + 2)))
    out = tuple(map(output_size, size, kernel, stride, padding, dilation))
    batch = draw(st.integers(1, 2))
    return {
        "x": (batch, channels, *size),
        "w": (out_channels, channels // groups, *kernel),
        "y": (batch, out_channels, *out),
        "params": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
    }


def conv2d_case(draw: Draw) -> Case:
    g = geometry(draw)
    return (lambda x, w: CONV2D(w, x, **g["params"])), [
        draw(agt.arrays(g["x"])),
        draw(agt.arrays(g["w"])),
    ]


def conv2d_input_case(draw: Draw) -> Case:
    g = geometry(draw)
    size = g["x"][2:]
    return (lambda gy, w: CONV2D_INPUT(gy, w, input_size=size, **g["params"])), [
        draw(agt.arrays(g["y"])),
        draw(agt.arrays(g["w"])),
    ]


def conv2d_weight_case(draw: Draw) -> Case:
    g = geometry(draw)
    kernel = g["w"][2:]
    return (lambda x, gy: CONV2D_WEIGHT(x, gy, kernel_size=kernel, **g["params"])), [
        draw(agt.arrays(g["x"])),
        draw(agt.arrays(g["y"])),
    ]


def window_geometry(draw: Draw) -> tuple[tuple[int, ...], tuple[int, int], dict[str, Any]]:
    """For unfold and fold: the image's shape, the windows' grid (oH, oW) and the keyword
    arguments (one padding per axis, both sides alike, as PyTorch's)."""
    g = geometry(draw, max_groups=1)
    params = g["params"]
    pads = tuple(max(p) for p in params["padding"])
    kwargs = {
        "kernel_size": g["w"][2:],
        "dilation": params["dilation"],
        "padding": pads,
        "stride": params["stride"],
    }
    grid = tuple(
        output_size(n, k, s, (p, p), d)
        for n, k, s, p, d in zip(
            g["x"][2:], g["w"][2:], params["stride"], pads, params["dilation"], strict=True
        )
    )
    return g["x"], grid, kwargs  # type: ignore[return-value]


def unfold_case(draw: Draw) -> Case:
    shape, _, kwargs = window_geometry(draw)
    return (lambda x: ag.unfold(x, **kwargs)), [draw(agt.arrays(shape))]


def fold_case(draw: Draw) -> Case:
    (batch, channels, *size), (oh, ow), kwargs = window_geometry(draw)
    rows = channels * kwargs["kernel_size"][0] * kwargs["kernel_size"][1]
    return (lambda c: ag.fold(c, tuple(size), **kwargs)), [draw(agt.arrays((batch, rows, oh * ow)))]


CASES: dict[str, Callable[[Draw], Case]] = {
    "conv2d": conv2d_case,
    "conv2d_input": conv2d_input_case,
    "conv2d_weight": conv2d_weight_case,
    "unfold": unfold_case,
    "fold": fold_case,
}


def conv2d_public_case(draw: Draw) -> Case:
    """The public conv2d: int or pair padding, or "same" (stride 1; even kernels pad the
    bottom/right one more), with a bias added by broadcasting."""
    g = geometry(draw)
    params = g["params"]
    same = draw(st.booleans())
    kwargs = {"dilation": params["dilation"], "groups": params["groups"]}
    shape = g["x"]
    if same:
        kwargs["padding"] = "same"
    else:
        kwargs["padding"] = tuple(p for p, _ in params["padding"])
        kwargs["stride"] = params["stride"]
        shape = (*shape[:2], *(n + 1 for n in shape[2:]))  # room for the other side's padding
    return (lambda x, w, b: ag.conv2d(x, w, b, **kwargs)), [
        draw(agt.arrays(shape)),
        draw(agt.arrays(g["w"])),
        draw(agt.arrays(g["w"][:1])),
    ]


def conv1d_case(draw: Draw) -> Case:
    groups = draw(st.integers(1, 2))
    channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, "same", "valid"]))
    if padding == "same":
        s = 1
    pads = d * (k - 1) if padding == "same" else 2 * padding if isinstance(padding, int) else 0
    length = max(1, d * (k - 1) + 1 - pads) + draw(st.integers(0, 2))
    x = draw(agt.arrays((draw(st.integers(1, 2)), channels, length)))
    w = draw(agt.arrays((out_channels, channels // groups, k)))
    b = draw(agt.arrays((out_channels,)))
    return (
        lambda x, w, b: ag.conv1d(x, w, b, stride=s, padding=padding, dilation=d, groups=groups)
    ), [x, w, b]


def conv_transpose2d_case(draw: Draw) -> Case:
    """PyTorch's transposed convolution, weight (C_in, C_out / groups, kH, kW); output_padding
    below the stride or the dilation (at or above the stride, conv2d's bottom/right padding
    turns negative: a crop)."""
    g = geometry(draw)
    params = g["params"]
    stride, dilation = params["stride"], params["dilation"]
    extra = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    pads = tuple(
        min(p, (k - 1) * d // 2)
        for (p, _), k, d in zip(params["padding"], g["w"][2:], dilation, strict=True)
    )
    c_out, c_in_per_group = g["w"][:2]
    weight = (c_in_per_group * params["groups"], c_out // params["groups"], *g["w"][2:])
    size = tuple(draw(st.integers(1, 3)) for _ in range(2))
    kwargs = {
        "stride": stride,
        "padding": pads,
        "output_padding": extra,
        "groups": params["groups"],
        "dilation": dilation,
    }
    return (lambda x, w, b: ag.conv_transpose2d(x, w, b, **kwargs)), [
        draw(agt.arrays((g["x"][0], weight[0], *size))),
        draw(agt.arrays(weight)),
        draw(agt.arrays((c_out,))),
    ]


COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    "conv2d_with_bias_or_same": conv2d_public_case,
    "conv1d": conv1d_case,
    "conv_transpose2d": conv_transpose2d_case,
}
