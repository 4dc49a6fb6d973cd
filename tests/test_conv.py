"""Convolution: the course's worked example computed by hand, the size formula, convolution as
unfold + matrix product (an independent check), fold and unfold as adjoints, the transposed
convolution as conv2d's adjoint, PyTorch's "same" padding, dtypes, and the errors.

Derivatives of every order are checked for each primitive in test_op_gradients.py and against
PyTorch in test_against_torch_conv.py."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

rng = np.random.default_rng(15)


def normal(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def test_course_example_3x3_input_with_padding_1_and_a_2x2_kernel_gives_4x4() -> None:
    """OH = (H + 2P - FH)/S + 1 = (3 + 2 - 2)/1 + 1 = 4; every output is the kernel's dot
    product with one window of the zero-padded input, computed here by hand."""
    image = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    # padded rows: [0 0 0 0 0], [0 1 2 3 0], [0 4 5 6 0], [0 7 8 9 0], [0 0 0 0 0];
    # e.g. out[1, 1] = 1*1 + 2*2 + 3*4 + 4*5 = 37, out[0, 0] = 4*1 = 4
    by_hand = [[4, 11, 18, 9], [18, 37, 47, 21], [36, 67, 77, 33], [14, 23, 26, 9]]
    out = ag.conv2d(image, kernel, padding=1, stride=1)
    assert out.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(out.data[0, 0], by_hand)


def test_a_bias_is_added_once_per_output_channel() -> None:
    x, w, b = normal(2, 3, 5, 5), normal(4, 3, 3, 3), np.array([1.0, -2.0, 0.5, 3.0])
    difference = ag.conv2d(x, w, b).data - ag.conv2d(x, w).data
    np.testing.assert_allclose(difference, np.broadcast_to(b[:, None, None], (2, 4, 3, 3)))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [
        (3, 2, 1, 1, 1, 4),  # the course's example
        (28, 5, 1, 0, 1, 24),  # LeNet's first convolution
        (32, 3, 1, 1, 1, 32),  # VGG's 3x3 convolutions keep the size
        (7, 3, 2, 0, 1, 3),  # floor((7 - 3)/2) + 1
        (8, 3, 2, 1, 1, 4),  # floor((8 + 2 - 3)/2) + 1 = floor(3.5) + 1
        (9, 3, 1, 0, 2, 5),  # dilation 2: the kernel spans 5
        (5, 1, 3, 0, 1, 2),  # a 1x1 kernel with stride 3 reads pixels 0 and 3
    ],
)
def test_output_size_follows_the_course_formula(
    size: int, kernel: int, stride: int, padding: int, dilation: int, expected: int
) -> None:
    """out = floor((in + 2p - d(k-1) - 1)/s) + 1, along each axis."""
    x, w = normal(1, 1, size, size + 1), normal(1, 1, kernel, kernel)
    out = ag.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    formula = [
        (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1 for n in (size, size + 1)
    ]
    assert out.shape[2:] == tuple(formula)
    assert out.shape[2] == expected


def test_a_multichannel_convolution_sums_one_convolution_per_channel() -> None:
    """A filter has as many channels as its input; each slice convolves its channel and the
    results add up (the course's 3-D picture)."""
    x, w = normal(2, 3, 6, 5), normal(4, 3, 3, 2)
    per_channel = sum(ag.conv2d(x[:, c : c + 1], w[:, c : c + 1]).data for c in range(3))
    np.testing.assert_allclose(ag.conv2d(x, w).data, per_channel, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "geometry",
    [
        {},
        {"stride": 2},
        {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)},
        {"padding": 2, "dilation": 2, "stride": 3},
    ],
)
def test_conv2d_equals_unfold_then_a_matrix_product(geometry: dict[str, Any]) -> None:
    """Convolution = im2col + one matrix product: the weight, flattened to (C_out,
    C_in*kH*kW), times the unfolded input (N, C_in*kH*kW, L), reshaped to the output."""
    x, w, b = normal(2, 3, 9, 8), normal(4, 3, 3, 2), normal(4)
    out = ag.conv2d(x, w, b, **geometry)
    columns = ag.unfold(x, w.shape[2:], **geometry)
    by_product = (w.reshape(4, -1) @ columns.data).reshape(out.shape) + b[:, None, None]
    np.testing.assert_allclose(out.data, by_product, rtol=1e-12, atol=1e-12)


def test_groups_convolve_channel_groups_separately() -> None:
    """groups=2: output channels 0-2 see input channels 0-1, output channels 3-5 see 2-3."""
    x, w = normal(2, 4, 6, 6), normal(6, 2, 3, 3)
    grouped = ag.conv2d(x, w, groups=2, padding=1)
    halves = [ag.conv2d(x[:, 2 * i : 2 * i + 2], w[3 * i : 3 * i + 3], padding=1) for i in (0, 1)]
    np.testing.assert_allclose(grouped.data, np.concatenate([h.data for h in halves], axis=1))


def test_depthwise_convolution_filters_each_channel_alone() -> None:
    x, w = normal(1, 3, 5, 5), normal(3, 1, 3, 3)
    depthwise = ag.conv2d(x, w, groups=3)
    for c in range(3):
        alone = ag.conv2d(x[:, c : c + 1], w[c : c + 1])
        np.testing.assert_allclose(depthwise.data[:, c : c + 1], alone.data, atol=1e-12)


def test_fold_of_unfold_counts_how_many_windows_cover_each_pixel() -> None:
    """A 2x2 window sliding over a 3x3 image covers the centre 4 times, the corners once."""
    x = normal(2, 3, 3, 3)
    counts = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])
    round_trip = ag.fold(ag.unfold(x, 2), (3, 3), 2)
    np.testing.assert_allclose(round_trip.data, x * counts, rtol=1e-12)


def test_fold_of_unfold_with_stride_and_padding_counts_overlaps() -> None:
    ones = np.ones((1, 1, 5, 5))
    counts = ag.fold(ag.unfold(ones, 3, padding=1, stride=2), (5, 5), 3, padding=1, stride=2)
    covering = np.zeros((7, 7))  # the padded image; windows start at 0, 2, 4
    for i in (0, 2, 4):
        for j in (0, 2, 4):
            covering[i : i + 3, j : j + 3] += 1
    np.testing.assert_array_equal(counts.data[0, 0], covering[1:6, 1:6])


def test_unfold_columns_are_channel_major_windows_as_pytorch() -> None:
    """Row c*kH*kW + i*kW + j of column l holds pixel (i, j) of window l in channel c."""
    x = normal(1, 2, 4, 3)
    columns = ag.unfold(x, (2, 2)).data  # windows: 3 rows x 2 columns of positions
    assert columns.shape == (1, 2 * 2 * 2, 3 * 2)
    for c in range(2):
        for i in range(2):
            for j in range(2):
                row = columns[0, c * 4 + i * 2 + j].reshape(3, 2)
                np.testing.assert_array_equal(row, x[0, c, i : i + 3, j : j + 2])


def test_unfold_and_fold_are_adjoint() -> None:
    """<unfold(x), c> = <x, fold(c)> for every x and c: fold is unfold's transpose."""
    x = normal(2, 3, 7, 6)
    kwargs = {"kernel_size": (3, 2), "dilation": (1, 2), "padding": (1, 0), "stride": (2, 1)}
    columns = ag.unfold(x, **kwargs)
    c = normal(*columns.shape)
    left = float(np.sum(columns.data * c))
    right = float(np.sum(x * ag.fold(c, (7, 6), **kwargs).data))
    assert left == pytest.approx(right, rel=1e-12)


@pytest.mark.parametrize(
    "geometry",
    [
        {"stride": 1, "padding": 0},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": (2, 3), "padding": (0, 1), "output_padding": (1, 2), "dilation": (1, 2)},
        {"stride": 1, "dilation": 3, "output_padding": 2},  # output_padding below the dilation
    ],
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(geometry: dict[str, Any]) -> None:
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>, with x of the transposed conv's
    output size (out = (in - 1)s - 2p + d(k-1) + output_padding + 1)."""
    w = normal(4, 3, 3, 2)  # conv2d: 3 -> 4 channels; transposed: 4 -> 3
    y = normal(2, 4, 4, 5)
    back = ag.conv_transpose2d(y, w, **geometry)
    s, p, d, e = (
        np.broadcast_to(geometry.get(k, default), 2)
        for k, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("output_padding", 0))
    )
    expected = [
        (n - 1) * s[i] - 2 * p[i] + d[i] * (k - 1) + e[i] + 1
        for i, (n, k) in enumerate(zip((4, 5), (3, 2), strict=True))
    ]
    assert back.shape == (2, 3, *expected)
    x = normal(*back.shape)
    forward_kwargs = {k: v for k, v in geometry.items() if k != "output_padding"}
    forward = ag.conv2d(x, w, **forward_kwargs).data
    # conv2d maps the larger size back onto y's, plus output_padding // stride rows (when the
    # dilation lets output_padding reach the stride) that lie beyond y: those pair with nothing
    assert forward.shape[2:] == tuple(n + e[i] // s[i] for i, n in enumerate(y.shape[2:]))
    forward = forward[:, :, : y.shape[2], : y.shape[3]]
    assert float(np.sum(forward * y)) == pytest.approx(float(np.sum(x * back.data)), rel=1e-12)


def test_conv_transpose2d_upsamples_a_single_pixel_into_a_copy_of_the_kernel() -> None:
    y = np.zeros((1, 1, 2, 2))
    y[0, 0, 1, 0] = 2.0
    w = normal(1, 1, 3, 3)
    out = ag.conv_transpose2d(y, w, stride=2)
    assert out.shape == (1, 1, 5, 5)  # (2 - 1)*2 + (3 - 1) + 1
    expected = np.zeros((5, 5))
    expected[2:5, 0:3] = 2.0 * w[0, 0]
    np.testing.assert_allclose(out.data[0, 0], expected)


@pytest.mark.parametrize(
    ("kernel", "dilation"), [((3, 3), 1), ((2, 4), 1), ((2, 3), 2), ((4, 1), 3)]
)
def test_same_padding_keeps_the_size_and_pads_the_odd_one_at_the_bottom_right(
    kernel: tuple[int, int], dilation: int
) -> None:
    """PyTorch's rule: a total padding of d(k-1) per axis, total // 2 before and the rest
    after."""
    x, w = normal(2, 2, 6, 7), normal(3, 2, *kernel)
    same = ag.conv2d(x, w, padding="same", dilation=dilation)
    assert same.shape == (2, 3, 6, 7)
    totals = [dilation * (k - 1) for k in kernel]
    padded = np.pad(x, [(0, 0), (0, 0), *((t // 2, t - t // 2) for t in totals)])
    np.testing.assert_allclose(same.data, ag.conv2d(padded, w, dilation=dilation).data)


def test_valid_padding_is_no_padding() -> None:
    x, w = normal(1, 2, 5, 5), normal(1, 2, 3, 3)
    np.testing.assert_array_equal(ag.conv2d(x, w, padding="valid").data, ag.conv2d(x, w).data)


def test_conv1d_is_conv2d_over_a_height_of_one() -> None:
    x, w, b = normal(2, 4, 11), normal(6, 2, 3), normal(6)
    one = ag.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2)
    two = ag.conv2d(
        x[:, :, None], w[:, :, None], b, stride=(1, 2), padding=(0, 1), dilation=(1, 2), groups=2
    )
    np.testing.assert_allclose(one.data, two.data[:, :, 0])
    assert ag.conv1d(x, w, padding="same", groups=2).shape == (2, 6, 11)


def test_an_input_without_batch_axis_is_one_image() -> None:
    x, w = normal(3, 6, 6), normal(2, 3, 3, 3)
    np.testing.assert_allclose(ag.conv2d(x, w).data, ag.conv2d(x[None], w).data[0])
    signal, filters = normal(3, 9), normal(2, 3, 4)
    np.testing.assert_allclose(
        ag.conv1d(signal, filters).data, ag.conv1d(signal[None], filters).data[0]
    )
    np.testing.assert_allclose(ag.unfold(x, 2).data, ag.unfold(x[None], 2).data[0])
    y = normal(2, 4, 4)
    np.testing.assert_allclose(
        ag.conv_transpose2d(y, w).data, ag.conv_transpose2d(y[None], w).data[0]
    )


def test_float32_stays_float32_through_values_and_gradients() -> None:
    x = ag.Tensor(normal(2, 3, 8, 8).astype(np.float32), requires_grad=True)
    w = ag.Tensor(normal(4, 3, 3, 3).astype(np.float32), requires_grad=True)
    b = ag.Tensor(normal(4).astype(np.float32), requires_grad=True)
    out = ag.conv2d(x, w, b, stride=2, padding=1)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    w_t = w.data.transpose(1, 0, 2, 3).copy()  # (C_in, C_out, kH, kW) for 3 -> 4 channels
    for fn in (
        lambda t: ag.conv_transpose2d(t, w_t),
        lambda t: ag.fold(ag.unfold(t, 3), (8, 8), 3),
    ):
        assert fn(x).dtype == np.float32


def test_conv2d_in_double_backward_and_forward_mode_agrees_with_the_plain_backward() -> None:
    """The plain backward reads the forward's columns (the fused rule); a differentiated
    backward and jvp run the generic rules: all three give the same weight gradient."""
    x, w = normal(2, 3, 6, 6), normal(4, 3, 3, 3)

    def loss(w_: Any) -> Any:
        return ag.conv2d(x, w_, stride=2, padding=1).sum()

    plain = ag.grad(loss)(w)
    weight = ag.Tensor(w, requires_grad=True)
    (recorded,) = ag.engine.grad(loss(weight), [weight], create_graph=True)
    np.testing.assert_allclose(recorded.data, plain.data, rtol=1e-12)
    direction = normal(*w.shape)
    _, tangent = ag.jvp(loss, [w], [direction])
    assert float(tangent.data) == pytest.approx(float(np.sum(plain.data * direction)), rel=1e-10)


def test_infinities_give_ieee_results_without_numpy_warnings() -> None:
    x = normal(1, 1, 4, 4)
    x[0, 0, 1, 1], x[0, 0, 2, 2] = np.inf, -np.inf
    w = ag.Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ag.conv2d(x, w)
        back = ag.conv_transpose2d(out.data, w.data)
        out.sum().backward()
    assert np.isnan(out.data).any() and np.isinf(out.data).any() and np.isnan(back.data).any()


# ------------------------------------------------------------------------------------------
# Errors name the op and the shapes, and give the course's formula for sizes.
# ------------------------------------------------------------------------------------------


def test_a_kernel_larger_than_the_padded_input_is_an_error_with_the_formula() -> None:
    with pytest.raises(ValueError) as error:
        ag.conv2d(normal(1, 1, 3, 3), normal(1, 1, 5, 5), padding=0)
    message = str(error.value)
    assert "conv2d" in message and "(1, 1, 3, 3)" in message and "(1, 1, 5, 5)" in message
    assert "floor((in + 2p - d(k-1) - 1)/s) + 1" in message
    assert "floor((3 + 0 - 1*(5-1) - 1)/1) + 1 = -1" in message


def test_a_dilated_kernel_that_does_not_fit_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"conv1d: .*length would be .* = 0"):
        ag.conv1d(normal(1, 1, 4), normal(1, 1, 3), dilation=2)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: ag.conv2d(normal(1, 3, 5, 5), normal(2, 2, 3, 3)),
            r"the input has 3 channels.*expects.* = 2",
        ),
        (
            lambda: ag.conv2d(normal(1, 4, 5, 5), normal(3, 2, 3, 3), groups=2),
            r"groups=2 must divide.*\(4\).*\(3\)",
        ),
        (
            lambda: ag.conv2d(normal(1, 4, 5, 5), normal(4, 2, 3, 3), groups=0),
            r"groups must be a positive int",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(1, 1, 3, 3), stride=2, padding="same"),
            r"'same' is not supported for strided",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(1, 1, 3, 3), padding="full"),
            r"padding must be an int.*'full'",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(1, 1, 3, 3), padding=-1),
            r"padding must be non-negative",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(1, 1, 3, 3), stride=0),
            r"stride must be positive",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(1, 1, 3, 3), stride=(1, 2, 3)),
            r"stride must be an int or a tuple of 2 ints",
        ),
        (
            lambda: ag.conv2d(normal(5, 5), normal(1, 1, 3, 3)),
            r"conv2d: expected an input of shape \(N, C_in, H, W\)",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(1, 3, 3)),
            r"conv2d: expected a weight of shape",
        ),
        (
            lambda: ag.conv2d(normal(1, 1, 5, 5), normal(2, 1, 3, 3), normal(3)),
            r"bias of shape \(3,\) does not fit 2 output",
        ),
        (
            lambda: ag.conv1d(normal(1, 2, 5), normal(1, 1, 3)),
            r"conv1d: .*\(1, 2, 5\).*\(1, 1, 3\)",
        ),
        (
            lambda: ag.conv_transpose2d(normal(1, 2, 3, 3), normal(3, 1, 3, 3)),
            r"the input has 2 channels.*expects 3",
        ),
        (
            lambda: ag.conv_transpose2d(
                normal(1, 1, 3, 3), normal(1, 1, 3, 3), stride=2, output_padding=2
            ),
            r"output_padding .* smaller than either the stride",
        ),
        (
            lambda: ag.conv_transpose2d(normal(1, 1, 1, 1), normal(1, 1, 1, 1), padding=1),
            r"\(in - 1\)s - 2p \+ d\(k-1\) \+ output_padding \+ 1 = .* = -1",
        ),
        (
            lambda: ag.unfold(normal(1, 1, 2, 2), 3),
            r"unfold: input of shape \(1, 1, 2, 2\) with kernel_size \(3, 3\).*floor",
        ),
        (
            lambda: ag.fold(normal(1, 6, 4), (3, 3), 2),
            r"fold: input of shape \(1, 6, 4\) does not fit.*\(N, C\*4, 4\)",
        ),
        (lambda: ag.fold(normal(1, 4, 5), (3, 3), 2), r"oH\*oW = 2\*2 = 4 columns"),
    ],
)
def test_bad_arguments_are_clear_errors(call: Any, pattern: str) -> None:
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


def test_mixed_dtypes_are_a_type_error_as_in_pytorch() -> None:
    x = normal(1, 1, 4, 4).astype(np.float32)
    with pytest.raises(TypeError, match=r"conv2d: input float32, weight float64"):
        ag.conv2d(x, normal(1, 1, 2, 2))
    with pytest.raises(TypeError, match=r"bias float64"):
        ag.conv2d(x, normal(1, 1, 2, 2).astype(np.float32), normal(1))
