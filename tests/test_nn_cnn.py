"""The CNN layers: Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
Flatten, BatchNorm2d and Dropout2d: PyTorch's parameter names, shapes, initialization and
repr; the course's worked examples; shape errors that name the layer, the input shape and
the size formula; the dtype rule; and (with torch installed) every layer's forward and
backward against PyTorch's to 1e-10 in float64, with state dicts loaded both ways."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import functional as F
from tests.numeric import check_reverse

TOL = 1e-10


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------------------------
# The course's worked examples
# --------------------------------------------------------------------------------------------

POOLED_MAP = np.array([[1, 2, 3, 3], [0, 1, 1, 5], [3, 0, 1, 0], [1, 4, 1, 2]], dtype=float)


def test_a_3x3_input_padded_by_1_under_a_2x2_kernel_with_stride_1_gives_4x4() -> None:
    assert nn.convolution.conv_output_size(3, 2, stride=1, padding=1) == 4
    conv = nn.Conv2d(1, 1, 2, padding=1, bias=False)
    nn.init.ones_(conv.weight)
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = conv(x).data[0, 0]
    assert out.shape == (4, 4)
    padded = np.pad(x[0, 0], 1)
    expected = [[padded[i : i + 2, j : j + 2].sum() for j in range(4)] for i in range(4)]
    np.testing.assert_array_equal(out, expected)


def test_pooling_the_course_map_with_2x2_windows_and_stride_2() -> None:
    x = POOLED_MAP.reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(nn.MaxPool2d(2, stride=2)(x).data[0, 0], [[2, 5], [4, 2]])
    np.testing.assert_array_equal(nn.AvgPool2d(2, stride=2)(x).data[0, 0], [[1, 3], [2, 1]])
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d(1)(x).data[0, 0], [[POOLED_MAP.mean()]])


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [(28, 5, 1, 0, 1, 24), (28, 5, 1, 2, 1, 28), (32, 5, 1, 0, 1, 28), (7, 3, 2, 1, 1, 4),
     (8, 3, 1, 0, 2, 4), (5, 2, 2, 0, 1, 2)],
)  # fmt: skip
def test_conv_output_size_is_the_course_formula(
    size: int, kernel: int, stride: int, padding: int, dilation: int, expected: int
) -> None:
    assert nn.convolution.conv_output_size(size, kernel, stride, padding, dilation) == expected
    conv = nn.Conv2d(1, 1, kernel, stride, padding, dilation)
    assert conv(np.zeros((1, 1, size, size))).shape == (1, 1, expected, expected)


def test_nn_functional_has_api_mds_cnn_functions_and_they_are_the_cores() -> None:
    for name in ("conv2d", "conv1d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
                 "adaptive_avg_pool2d", "unfold", "fold"):  # fmt: skip
        assert getattr(F, name) is getattr(ag, name)
    x = _rng(11).standard_normal((2, 3, 4, 5))
    out = F.batch_norm(x, None, None, training=True).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5, training=False).data, x)


# --------------------------------------------------------------------------------------------
# Parameters, initialization, repr
# --------------------------------------------------------------------------------------------


def test_conv_parameters_have_pytorchs_names_and_shapes() -> None:
    conv = nn.Conv2d(6, 16, 5)
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert conv.weight.shape == (16, 6, 5, 5) and conv.bias.shape == (16,)
    assert nn.Conv2d(6, 16, (3, 5), groups=2).weight.shape == (16, 3, 3, 5)
    assert nn.Conv1d(4, 8, 3).weight.shape == (8, 4, 3)
    assert nn.ConvTranspose2d(6, 16, 5, groups=2).weight.shape == (6, 8, 5, 5)
    assert list(nn.Conv2d(2, 3, 1, bias=False).state_dict()) == ["weight"]
    assert nn.Conv2d(2, 3, 1, bias=False).bias is None
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=(1, 0), dilation=2)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == (
        (3, 3), (2, 2), (1, 0), (2, 2)
    )  # fmt: skip
    assert nn.Conv2d(3, 4, 3, padding="same").padding == "same"


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [(lambda: nn.Conv2d(30, 64, 5, generator=1), 30 * 25),
     (lambda: nn.Conv2d(32, 64, 3, groups=4, generator=2), 8 * 9),
     (lambda: nn.Conv1d(40, 60, 7, generator=3), 40 * 7),
     (lambda: nn.ConvTranspose2d(64, 30, 5, generator=4), 30 * 25)],
)  # fmt: skip
def test_conv_init_is_pytorchs_kaiming_uniform_with_a_sqrt5(
    make: Callable[[], nn.Module], fan_in: int
) -> None:
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.std(layer.weight.data) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    np.testing.assert_array_equal(make().weight.data, layer.weight.data)  # seeded


def test_reprs_read_as_pytorchs() -> None:
    assert repr(nn.Conv2d(3, 8, 5)) == "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2, groups=2, bias=False)) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "groups=2, bias=False)"
    )
    assert repr(nn.Conv2d(1, 2, 3, padding="same")) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    )
    assert repr(nn.Conv1d(2, 4, 3)) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,))"
    assert repr(nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1)) == (
        "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"
    )
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2)"
    assert repr(nn.BatchNorm2d(4)) == (
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )


def test_conv_reprs_equal_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Conv2d(3, 8, 5), torch.nn.Conv2d(3, 8, 5)),
        (nn.Conv2d(4, 8, (3, 1), 2, (1, 0), 2, 4, False),
         torch.nn.Conv2d(4, 8, (3, 1), 2, (1, 0), 2, 4, False)),
        (nn.Conv2d(1, 2, 3, padding="same"), torch.nn.Conv2d(1, 2, 3, padding="same")),
        (nn.Conv1d(2, 4, 3, padding=1), torch.nn.Conv1d(2, 4, 3, padding=1)),
        (nn.ConvTranspose2d(4, 2, 3, 2, 1, 1), torch.nn.ConvTranspose2d(4, 2, 3, 2, 1, 1)),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ]  # fmt: skip
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


# --------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------


def test_conv2d_is_the_cross_correlation_sum() -> None:
    rng = _rng(1)
    conv = nn.Conv2d(2, 3, (2, 3), stride=(1, 2), padding=(1, 0), generator=0)
    x = rng.standard_normal((2, 2, 4, 7))
    out = conv(x).data
    w, b = conv.weight.data, conv.bias.data
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    assert out.shape == (2, 3, 5, 3)
    for i in range(5):
        for j in range(3):
            window = padded[:, :, i : i + 2, 2 * j : 2 * j + 3]
            expected = np.einsum("nchw,ochw->no", window, w) + b
            np.testing.assert_allclose(out[:, :, i, j], expected, rtol=1e-12, atol=1e-12)


def test_layers_take_one_unbatched_sample() -> None:
    rng = _rng(2)
    x = rng.standard_normal((3, 6, 6))
    for layer in [nn.Conv2d(3, 4, 3, generator=0), nn.ConvTranspose2d(3, 2, 2, stride=2),
                  nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.AdaptiveAvgPool2d(2)]:  # fmt: skip
        np.testing.assert_array_equal(layer(x).data, layer(x[None]).data[0])
    signal = rng.standard_normal((3, 10))
    conv1d = nn.Conv1d(3, 5, 3, generator=0)
    np.testing.assert_array_equal(conv1d(signal).data, conv1d(signal[None]).data[0])


def test_padding_same_keeps_the_size_and_valid_is_no_padding() -> None:
    x = np.zeros((1, 2, 7, 6))
    for kernel in (1, 2, 3, 4, (5, 2)):
        assert nn.Conv2d(2, 3, kernel, padding="same")(x).shape == (1, 3, 7, 6)
    assert nn.Conv2d(2, 3, 3, padding="same", dilation=2)(x).shape == (1, 3, 7, 6)
    assert nn.Conv2d(2, 3, 3, padding="valid")(x).shape == (1, 3, 5, 4)
    assert nn.Conv1d(2, 3, 4, padding="same")(np.zeros((1, 2, 9))).shape == (1, 3, 9)


def test_conv_transpose2d_inverts_the_size_of_a_strided_conv2d() -> None:
    x = np.zeros((1, 4, 7, 8))
    down = nn.Conv2d(4, 6, 3, stride=2, padding=1)(x)
    assert down.shape == (1, 6, 4, 4)
    assert nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1)(down).shape == (1, 4, 7, 7)
    up = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)(down)
    assert up.shape == (1, 4, 8, 8)


def test_adaptive_avg_pool2d_averages_pytorchs_windows_and_none_keeps_an_axis() -> None:
    x = np.arange(5.0 * 7).reshape(1, 1, 5, 7)
    out = nn.AdaptiveAvgPool2d((2, 3))(x).data[0, 0]
    for i in range(2):
        for j in range(3):
            rows = slice(i * 5 // 2, -(-(i + 1) * 5 // 2))
            cols = slice(j * 7 // 3, -(-(j + 1) * 7 // 3))
            assert out[i, j] == pytest.approx(x[0, 0, rows, cols].mean())
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (1, 1, 5, 2)


def test_flatten_merges_the_given_axes() -> None:
    x = np.zeros((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)


def test_batchnorm2d_normalizes_each_channel_over_batch_height_and_width() -> None:
    rng = _rng(3)
    bn = nn.BatchNorm2d(3)
    x = rng.standard_normal((4, 3, 5, 6)) * np.array([1.0, 3.0, 0.5])[:, None, None] + 2
    out = bn(x).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    n = 4 * 5 * 6
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)) * n / (n - 1))
    assert int(bn.num_batches_tracked) == 1
    assert list(bn.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip
    bn.eval()
    mean, var = bn.running_mean[:, None, None], bn.running_var[:, None, None]
    np.testing.assert_allclose(bn(x).data, (x - mean) / np.sqrt(var + 1e-5))


def test_batchnorm2d_gradients_match_central_differences() -> None:
    rng = _rng(4)
    x, gamma, beta = (
        rng.standard_normal((3, 2, 2, 3)),
        rng.standard_normal(2),
        rng.standard_normal(2),
    )

    def batch(x: ag.Tensor, g: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
        return F.batch_norm(x, None, None, g, b, training=True)

    check_reverse(batch, [x, gamma, beta], rng)


def test_dropout2d_zeroes_whole_channels_and_is_the_identity_in_eval() -> None:
    drop = nn.Dropout2d(0.4, generator=0)
    x = ag.Tensor(np.ones((50, 40, 3, 3)))
    out = drop(x).data
    per_channel = out.reshape(50, 40, 9)
    assert np.all(per_channel == per_channel[:, :, :1])  # a channel is kept or dropped whole
    assert set(np.unique(out)) == {0.0, 1 / 0.6}
    assert np.mean(out == 0) == pytest.approx(0.4, abs=0.03)
    assert nn.Dropout2d(0.4, generator=5)(x).data.tolist() == (
        nn.Dropout2d(0.4, generator=5)(x).data.tolist()
    )
    drop.eval()
    assert drop(x) is x
    x.requires_grad = True
    nn.Dropout2d(0.5, generator=1)(x).sum().backward()
    assert set(np.unique(x.grad.data)) == {0.0, 2.0}


def test_float32_layers_stay_float32_and_other_floats_are_refused() -> None:
    x32 = np.ones((2, 3, 8, 8), np.float32)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, dtype=np.float32),
        nn.BatchNorm2d(4, dtype=np.float32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.ConvTranspose2d(4, 2, 2, stride=2, dtype=np.float32),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    out = model(x32)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    with pytest.raises(TypeError, match=r"Conv2d\(3, 4, .*float64.*float32"):
        model(np.ones((2, 3, 8, 8)))
    with pytest.raises(TypeError, match=r"Conv1d\(3, 4, .*float32.*float64"):
        nn.Conv1d(3, 4, 3)(x32[:, :, 0])
    with pytest.raises(TypeError, match=r"BatchNorm2d\(3, .*float32.*float64"):
        nn.BatchNorm2d(3)(x32)
    assert nn.Conv2d(3, 1, 1)(np.ones((1, 3, 2, 2), dtype=np.int64)).dtype == np.float64


# --------------------------------------------------------------------------------------------
# Errors that say what is wrong, with which layer
# --------------------------------------------------------------------------------------------


def test_a_too_small_input_names_the_layer_the_shape_and_the_formula() -> None:
    with pytest.raises(ValueError) as error:
        nn.Conv2d(3, 8, 5)(np.zeros((2, 3, 4, 9)))
    assert str(error.value) == (
        "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1)): input of shape (2, 3, 4, 9) is too "
        "small along height: out = floor((in + 2p - d(k-1) - 1)/s) + 1 = "
        "floor((4 + 2*0 - 1*(5-1) - 1)/1) + 1 = 0; use a larger input, more padding or a "
        "smaller kernel"
    )
    with pytest.raises(ValueError, match=r"Conv1d\(2, 2, kernel_size=\(3,\).*along length"):
        nn.Conv1d(2, 2, 3, dilation=2)(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=3.*\(1, 1, 2, 5\).*height"):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ValueError, match=r"AvgPool2d\(kernel_size=\(1, 4\).*width.*= 0"):
        nn.AvgPool2d((1, 4))(np.zeros((1, 1, 2, 3)))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(1, 1.*\(in - 1\)s - 2p"):
        nn.ConvTranspose2d(1, 1, 1, padding=1)(np.zeros((1, 1, 1, 1)))


def test_a_wrong_channel_count_names_both_numbers() -> None:
    with pytest.raises(ValueError) as error:
        nn.Conv2d(3, 8, 5)(np.zeros((2, 4, 32, 32)))
    assert str(error.value) == (
        "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1)): expected 3 input channels, got 4 "
        "(input of shape (2, 4, 32, 32), channels on axis 1)"
    )
    with pytest.raises(ValueError, match=r"expected 6 input channels, got 3"):
        nn.ConvTranspose2d(6, 3, 2)(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError) as error:
        nn.BatchNorm2d(16)(np.zeros((2, 8, 4, 4)))
    assert str(error.value) == (
        "BatchNorm2d(16): expected input (N, 16, H, W), got (2, 8, 4, 4) (8 channels, not 16)"
    )


def test_a_wrong_number_of_axes_names_the_expected_layout() -> None:
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*expected input \(N, 3, H, W\) or "):
        nn.Conv2d(3, 8, 5)(np.zeros((3, 32)))
    with pytest.raises(ValueError, match=r"Conv1d.*expected input \(N, 3, L\).*\(1, 3, 8, 8\)"):
        nn.Conv1d(3, 8, 5)(np.zeros((1, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"MaxPool2d.*\(N, C, H, W\).*got shape \(8,\)"):
        nn.MaxPool2d(2)(np.zeros(8))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input \(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"dropout2d: expected input"):
        nn.Dropout2d()(np.zeros((4, 3)))


def test_errors_inside_a_model_carry_the_layer_path() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 5))
    with pytest.raises(ValueError, match=r"^2: Conv2d\(4, 4, kernel_size=\(5, 5\).*\(1, 4, 4, 4\)"):
        model(np.zeros((1, 1, 6, 6)))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [(lambda: nn.Conv2d(3, 8, 0), ValueError, "kernel_size must be at least 1"),
     (lambda: nn.Conv2d(3, 8, (3, 3, 3)), TypeError, "kernel_size must be an int or 2 ints"),
     (lambda: nn.Conv2d(3, 8, 3, stride=0), ValueError, "stride must be at least 1"),
     (lambda: nn.Conv2d(3, 8, 3, padding=-1), ValueError, "padding must be at least 0"),
     (lambda: nn.Conv2d(3, 8, 3, padding="full"), ValueError, "'valid', 'same'"),
     (lambda: nn.Conv2d(3, 8, 3, 2, padding="same"), ValueError, "'same' needs stride 1"),
     (lambda: nn.Conv2d(3, 8, 3, groups=2), ValueError, "in_channels=3 must be divisible by"),
     (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, "out_channels=6 must be divisible"),
     (lambda: nn.Conv2d(0, 6, 3), ValueError, "in_channels must be a positive int"),
     (lambda: nn.Conv2d(2.0, 6, 3), TypeError, "in_channels must be a positive int"),
     (lambda: nn.ConvTranspose2d(2, 2, 3, padding="same"), ValueError, "an int or a pair"),
     (lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2), ValueError,
      "output_padding=\\(2, 2\\) must be smaller"),
     (lambda: nn.MaxPool2d(3, padding=2), ValueError, "at most half of kernel_size=3"),
     (lambda: nn.AvgPool2d(2, stride=0), ValueError, "AvgPool2d: stride must be at least 1"),
     (lambda: nn.AdaptiveAvgPool2d(0), ValueError, "output_size must be a positive int"),
     (lambda: nn.BatchNorm2d(0), ValueError, "BatchNorm2d: num_features"),
     (lambda: nn.Dropout2d(1.5), ValueError, "Dropout2d: probability p")],
)  # fmt: skip
def test_bad_arguments_are_refused_by_the_layer_that_got_them(
    make: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make()


# --------------------------------------------------------------------------------------------
# Against PyTorch (float64, 1e-10), state dicts both ways
# --------------------------------------------------------------------------------------------


def _torch_layers() -> list[tuple[str, Callable[[Any], tuple[Any, Any]], tuple[int, ...]]]:
    """(id, torch -> (our layer, the torch.nn layer of the same name), input shape)."""
    f64 = {"dtype": np.float64}

    def pair(layer: str, *args: Any, **kwargs: Any) -> Any:
        def make(torch: Any) -> tuple[Any, Any]:
            extra = {"dtype": torch.float64} if "dtype" in kwargs else {}
            plain = {k: v for k, v in kwargs.items() if k != "dtype"}
            return getattr(nn, layer)(*args, **kwargs), getattr(torch.nn, layer)(
                *args, **plain, **extra
            )

        return make

    return [
        ("conv2d", pair("Conv2d", 3, 4, 3, **f64), (2, 3, 7, 6)),
        ("conv2d_strided", pair("Conv2d", 3, 4, (3, 2), (2, 1), (1, 0), (1, 2), **f64),
         (2, 3, 8, 9)),
        ("conv2d_groups", pair("Conv2d", 4, 6, 3, 1, 1, 1, 2, False, **f64),
         (2, 4, 5, 5)),
        ("conv2d_depthwise", pair("Conv2d", 4, 8, 3, 2, 1, 1, 4, **f64), (3, 4, 6, 7)),
        ("conv2d_same_even", pair("Conv2d", 2, 3, 4, padding="same", **f64),
         (2, 2, 6, 5)),
        ("conv2d_same_dilated", pair("Conv2d", 2, 3, (3, 2), padding="same",
                                     dilation=2, **f64), (1, 2, 7, 7)),
        ("conv2d_valid", pair("Conv2d", 2, 3, 2, padding="valid", **f64), (2, 2, 4, 4)),
        ("conv1d", pair("Conv1d", 3, 5, 3, 2, 1, **f64), (2, 3, 11)),
        ("conv1d_same", pair("Conv1d", 4, 2, 2, padding="same", dilation=3, groups=2,
                             **f64), (2, 4, 9)),
        ("conv_transpose2d", pair("ConvTranspose2d", 3, 4, 3, **f64),
         (2, 3, 4, 5)),
        ("conv_transpose2d_strided", pair("ConvTranspose2d", 4, 6, 3, 2, 1, 1,
                                          2, **f64), (2, 4, 4, 3)),
        ("conv_transpose2d_dilated", pair("ConvTranspose2d", 2, 3, (2, 3),
                                          (2, 1), 0, 0, 1, False, (1, 2), **f64), (1, 2, 3, 4)),
        ("max_pool2d", pair("MaxPool2d", 2), (2, 3, 6, 7)),
        ("max_pool2d_overlapping", pair("MaxPool2d", 3, 2, 1), (2, 2, 7, 6)),
        ("max_pool2d_rect", pair("MaxPool2d", (2, 3), (1, 2)), (1, 2, 5, 7)),
        ("avg_pool2d", pair("AvgPool2d", 2), (2, 3, 6, 7)),
        ("avg_pool2d_padded", pair("AvgPool2d", 3, 2, 1), (2, 2, 7, 6)),
        ("adaptive_avg_pool2d_global", pair("AdaptiveAvgPool2d", 1),
         (2, 3, 5, 4)),
        ("adaptive_avg_pool2d", pair("AdaptiveAvgPool2d", (3, 5)),
         (2, 2, 7, 9)),
        ("adaptive_avg_pool2d_none", pair("AdaptiveAvgPool2d", (None, 2)),
         (1, 2, 4, 5)),
        ("flatten", pair("Flatten"), (2, 3, 4, 5)),
        ("flatten_dims", pair("Flatten", 0, 2), (2, 3, 4, 5)),
        ("batch_norm2d", pair("BatchNorm2d", 3, **f64), (4, 3, 3, 5)),
        ("batch_norm2d_cumulative", pair("BatchNorm2d", 3, 1e-3, None, **f64),
         (2, 3, 4, 4)),
        ("batch_norm2d_no_affine", pair("BatchNorm2d", 2, affine=False, **f64),
         (3, 2, 2, 2)),
        ("batch_norm2d_no_running", pair("BatchNorm2d", 2,
                                         track_running_stats=False, **f64), (3, 2, 2, 2)),
    ]  # fmt: skip


TORCH_LAYERS = _torch_layers()


def _to_torch(torch: Any, state: dict[str, Any]) -> dict[str, Any]:
    return {k: torch.from_numpy(np.array(v)) for k, v in state.items()}


def _compare_pass(torch: Any, ours: Any, theirs: Any, x: np.ndarray, seed: int) -> None:
    """One forward and backward of both layers on x, compared to TOL: output, input gradient
    and every parameter's gradient (by name), and the state afterwards (running stats)."""
    mine = ag.Tensor(x, requires_grad=True)
    their_x = torch.tensor(x, requires_grad=True)
    out, their_out = ours(mine), theirs(their_x)
    np.testing.assert_allclose(out.data, their_out.detach().numpy(), rtol=TOL, atol=TOL)
    g = _rng(seed).standard_normal(out.shape)
    out.backward(g)
    their_out.backward(torch.from_numpy(g))
    np.testing.assert_allclose(mine.grad.data, their_x.grad.numpy(), rtol=TOL, atol=TOL)
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        expected = their_params[name].grad.numpy()
        np.testing.assert_allclose(param.grad.data, expected, rtol=TOL, atol=TOL, err_msg=name)
    their_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, their_state[name].numpy(), rtol=TOL, atol=TOL)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize(
    ("make", "shape"), [c[1:] for c in TORCH_LAYERS], ids=[c[0] for c in TORCH_LAYERS]
)
def test_layer_matches_pytorch_forward_backward_and_state_dict_both_ways(
    make: Callable[[Any], tuple[Any, Any]], shape: tuple[int, ...]
) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = make(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))  # ours -> theirs
    x = _rng(5).standard_normal(shape)
    _compare_pass(torch, ours, theirs, x, seed=6)  # training mode
    ours.eval(), theirs.eval()
    _compare_pass(torch, ours, theirs, x * 2 + 1, seed=7)  # eval mode (running statistics)
    fresh, other = make(torch)
    other(torch.from_numpy(x))  # a training pass moves their running statistics
    with torch.no_grad():  # move their parameters away from the defaults, then load back
        for p in other.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype))
    fresh.load_state_dict({k: v.numpy() for k, v in other.state_dict().items()})  # theirs -> ours
    fresh.eval(), other.eval()
    _compare_pass(torch, fresh, other, x, seed=8)


def test_conv_layers_match_pytorch_in_float32_to_float32_precision() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Conv2d(6, 16, 5, padding=2, dtype=np.float32)
    theirs = torch.nn.Conv2d(6, 16, 5, padding=2)
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))
    x = _rng(9).standard_normal((4, 6, 12, 12)).astype(np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    out = ours(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-4)


def test_dropout2d_in_eval_and_with_p0_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = _rng(10).standard_normal((2, 3, 4, 4))
    theirs = torch.nn.Dropout2d(0.3).eval()
    expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(nn.Dropout2d(0.3).eval()(x).data, expected)
    np.testing.assert_array_equal(nn.Dropout2d(0.0)(x).data, x)
