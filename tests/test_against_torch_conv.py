"""conv2d, conv1d, conv_transpose2d, unfold and fold against PyTorch in float64 across
strides, paddings (numbers, pairs, "same", "valid"), dilations and groups: value, gradient
and Hessian-vector product (through create_graph) to 1e-10, and the forward-mode tangent
against torch.func.jvp. Skipped when torch is absent."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag

torch = pytest.importorskip("torch")

from tests.test_against_torch import RTOL, compare_with_pytorch  # noqa: E402 - after the skip

F = torch.nn.functional
rng = np.random.default_rng(1515)


def normal(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def both(name: str, **kwargs: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Our function and torch.nn.functional's of the same name, with the same arguments."""

    def theirs(*xs: Any) -> Any:
        with warnings.catch_warnings():  # "same" with an even kernel: PyTorch copies the input
            warnings.filterwarnings("ignore", message=".*padding='same'", category=UserWarning)
            return getattr(F, name)(*xs, **kwargs)

    return (lambda *xs: getattr(ag, name)(*xs, **kwargs)), theirs


# name -> (our function, torch function, input arrays)
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    "conv2d": (*both("conv2d"), [normal(2, 3, 7, 6), normal(4, 3, 3, 2), normal(4)]),
    "conv2d_no_bias": (*both("conv2d"), [normal(2, 3, 5, 5), normal(2, 3, 2, 2)]),
    "conv2d_stride_padding": (
        *both("conv2d", stride=2, padding=1),
        [normal(2, 3, 8, 7), normal(4, 3, 3, 3), normal(4)],
    ),
    "conv2d_pairs_dilation": (
        *both("conv2d", stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        [normal(2, 2, 9, 7), normal(3, 2, 3, 2), normal(3)],
    ),
    "conv2d_groups": (
        *both("conv2d", groups=2, padding=1, stride=(1, 2)),
        [normal(2, 4, 6, 7), normal(6, 2, 3, 3), normal(6)],
    ),
    "conv2d_depthwise_dilated": (
        *both("conv2d", groups=3, dilation=2, stride=3),
        [normal(2, 3, 9, 10), normal(3, 1, 3, 3), normal(3)],
    ),
    "conv2d_same_odd_kernel": (
        *both("conv2d", padding="same", dilation=2),
        [normal(2, 2, 7, 6), normal(3, 2, 3, 3), normal(3)],
    ),
    "conv2d_same_even_kernel": (
        *both("conv2d", padding="same", groups=2),
        [normal(2, 4, 6, 5), normal(2, 2, 2, 4), normal(2)],
    ),
    "conv2d_valid": (
        *both("conv2d", padding="valid", stride=2),
        [normal(1, 2, 6, 6), normal(2, 2, 3, 3)],
    ),
    "conv2d_unbatched": (*both("conv2d", padding=1), [normal(3, 5, 5), normal(2, 3, 3, 3)]),
    "conv2d_lenet_layer": (
        *both("conv2d"),
        [normal(4, 6, 12, 12), normal(16, 6, 5, 5), normal(16)],
    ),
    "conv1d": (*both("conv1d"), [normal(2, 3, 9), normal(4, 3, 3), normal(4)]),
    "conv1d_stride_padding_dilation_groups": (
        *both("conv1d", stride=2, padding=2, dilation=2, groups=2),
        [normal(2, 4, 11), normal(6, 2, 3), normal(6)],
    ),
    "conv1d_same": (
        *both("conv1d", padding="same", dilation=3),
        [normal(2, 2, 10), normal(3, 2, 4), normal(3)],
    ),
    "conv_transpose2d": (
        *both("conv_transpose2d"),
        [normal(2, 3, 4, 5), normal(3, 2, 3, 2), normal(2)],
    ),
    "conv_transpose2d_stride_padding_output_padding": (
        *both("conv_transpose2d", stride=2, padding=1, output_padding=1),
        [normal(2, 3, 4, 4), normal(3, 4, 3, 3), normal(4)],
    ),
    "conv_transpose2d_pairs_groups_dilation": (
        *both(
            "conv_transpose2d",
            stride=(2, 3),
            padding=(1, 0),
            output_padding=(0, 2),
            groups=2,
            dilation=(1, 2),
        ),
        [normal(2, 4, 3, 4), normal(4, 3, 3, 2), normal(6)],
    ),
    "conv_transpose2d_output_padding_below_dilation": (
        *both("conv_transpose2d", stride=1, dilation=3, output_padding=2),
        [normal(2, 2, 4, 3), normal(2, 3, 2, 3), normal(3)],
    ),
    "conv_transpose2d_output_padding_past_stride": (
        *both("conv_transpose2d", stride=2, padding=1, dilation=3, output_padding=2),
        [normal(1, 2, 3, 4), normal(2, 2, 3, 3)],
    ),
    "unfold": (*both("unfold", kernel_size=2), [normal(2, 3, 4, 5)]),
    "unfold_geometry": (
        *both("unfold", kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1)),
        [normal(2, 2, 7, 6)],
    ),
    "fold": (*both("fold", output_size=(4, 5), kernel_size=2), [normal(2, 12, 12)]),
    "fold_geometry": (
        *both(
            "fold",
            output_size=(7, 6),
            kernel_size=(3, 2),
            dilation=(1, 2),
            padding=1,
            stride=(2, 1),
        ),
        [normal(2, 12, 24)],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_gradient_and_hessian_vector_product_match_pytorch(name: str) -> None:
    compare_with_pytorch(*CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_mode_tangent_matches_pytorch(name: str) -> None:
    ours, theirs, arrays = CASES[name]
    tangents = [normal(*a.shape) for a in arrays]
    _, our_tangent = ag.jvp(ours, [ag.Tensor(a) for a in arrays], tangents)
    with warnings.catch_warnings():  # its first use scripts helpers: torch.jit's deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        _, their_tangent = torch.func.jvp(
            theirs,
            tuple(torch.from_numpy(a) for a in arrays),
            tuple(torch.from_numpy(t) for t in tangents),
        )
    np.testing.assert_allclose(our_tangent.data, their_tangent.numpy(), rtol=RTOL, atol=1e-12)


def test_float32_values_and_gradients_match_pytorch() -> None:
    x, w, b = (
        a.astype(np.float32) for a in (normal(4, 6, 12, 12), normal(16, 6, 5, 5), normal(16))
    )
    ours = [ag.Tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = ag.conv2d(*ours, stride=1, padding=2)
    expected = F.conv2d(*theirs, stride=1, padding=2)
    g = normal(*out.shape).astype(np.float32)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.grad.dtype == np.float32
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-4, atol=1e-3)
