"""Every activation and loss of nn.functional: gradients in reverse and forward mode against
central differences on hypothesis-drawn inputs, stability at extreme inputs (finite, no
warnings), float32 preserved, and (when PyTorch is installed) values and gradients equal to
torch.nn.functional's to 1e-10 in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_core as ag
import nn
from autograd_core import testing as agt
from nn import functional as F
from tests.numeric import check_forward, check_reverse, check_second_order

FAST = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))

# name -> (our function of one tensor, kinks to stay away from, torch reference or None)
ACTIVATIONS: dict[str, tuple[Callable[[Any], ag.Tensor], tuple[float, ...], Any]] = {
    "sigmoid": (F.sigmoid, (), lambda t, x: t.sigmoid(x)),
    "tanh": (F.tanh, (), lambda t, x: t.tanh(x)),
    "relu": (F.relu, (0.0,), lambda t, x: t.nn.functional.relu(x)),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.1),
        (0.0,),
        lambda t, x: t.nn.functional.leaky_relu(x, 0.1),
    ),
    "elu": (lambda x: F.elu(x, 1.3), (0.0,), lambda t, x: t.nn.functional.elu(x, 1.3)),
    "softplus": (F.softplus, (), lambda t, x: t.nn.functional.softplus(x)),
    "logsigmoid": (F.logsigmoid, (), lambda t, x: t.nn.functional.logsigmoid(x)),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=5.0),
        (2.5,),
        lambda t, x: t.nn.functional.softplus(x, beta=2.0, threshold=5.0),
    ),
    "silu": (F.silu, (), lambda t, x: t.nn.functional.silu(x)),
    "swish": (lambda x: F.swish(x, 1.7), (), lambda t, x: x * t.sigmoid(1.7 * x)),
    "gelu": (F.gelu, (), lambda t, x: t.nn.functional.gelu(x)),
    "gelu_tanh": (
        lambda x: F.gelu(x, "tanh"),
        (),
        lambda t, x: t.nn.functional.gelu(x, approximate="tanh"),
    ),
    "gelu_sigmoid": (lambda x: F.gelu(x, "sigmoid"), (), lambda t, x: x * t.sigmoid(1.702 * x)),
    "hardsigmoid": (F.hardsigmoid, (-3.0, 3.0), lambda t, x: t.nn.functional.hardsigmoid(x)),
    "hard_logistic": (
        F.hard_logistic,
        (-2.0, 2.0),
        lambda t, x: t.nn.functional.hardtanh(0.25 * x + 0.5, 0.0, 1.0),
    ),
    "hardtanh": (F.hardtanh, (-1.0, 1.0), lambda t, x: t.nn.functional.hardtanh(x)),
    "softmax": (F.softmax, (), lambda t, x: t.softmax(x, dim=-1)),
    "log_softmax": (F.log_softmax, (), lambda t, x: t.log_softmax(x, dim=-1)),
    "softmax_dim0": (
        lambda x: F.softmax(x, dim=0),
        (),
        lambda t, x: t.softmax(x, dim=0),
    ),
}

EXTREMES = np.array([-1000.0, -50.0, -20.0, -3.0, -1e-3, 0.0, 1e-3, 3.0, 20.0, 50.0, 1000.0])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@FAST
@given(data=st.data())
def test_activation_gradients_match_central_differences(name: str, data: st.DataObject) -> None:
    fn, kinks, _ = ACTIVATIONS[name]
    shape = data.draw(agt.shapes(min_dims=1))
    x = data.draw(agt.arrays(shape, low=-4.0, high=4.0, avoid=kinks, margin=0.05))
    rng = np.random.default_rng(0)
    check_reverse(fn, [x], rng)
    check_forward(fn, [x], rng)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_is_finite_without_warnings_at_extreme_inputs(name: str) -> None:
    fn = ACTIVATIONS[name][0]
    x = ag.Tensor(EXTREMES, requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape))
    assert np.all(np.isfinite(out.data)), out.data
    assert np.all(np.isfinite(x.grad.data)), x.grad.data


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_keeps_float32(name: str) -> None:
    fn = ACTIVATIONS[name][0]
    x = ag.Tensor(EXTREMES.astype(np.float32), requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_prelu_learns_one_slope_per_channel() -> None:
    rng = np.random.default_rng(1)
    x = agt_away(rng.standard_normal((4, 3)))
    w = np.array([0.1, 0.25, -0.3])
    check_reverse(F.prelu, [x, w], rng)
    check_forward(F.prelu, [x, w], rng)
    np.testing.assert_allclose(F.prelu(ag.Tensor(x), ag.Tensor(w)).data, np.where(x > 0, x, w * x))


def test_maxout_and_dyt_gradients_match_central_differences() -> None:
    rng = np.random.default_rng(2)
    x, w, b = (
        rng.standard_normal((5, 3)),
        rng.standard_normal((4, 2, 3)),
        rng.standard_normal((4, 2)),
    )
    check_reverse(F.maxout, [x, w, b], rng)
    check_forward(F.maxout, [x, w, b], rng)
    expected = np.max(np.einsum("ni,koi->kno", x, w) + b[:, None, :], axis=0)
    np.testing.assert_allclose(F.maxout(ag.Tensor(x), ag.Tensor(w), ag.Tensor(b)).data, expected)
    alpha, gamma, beta = np.array([0.7]), rng.standard_normal(3), rng.standard_normal(3)
    check_reverse(F.dyt, [x, alpha, gamma, beta], rng)
    check_forward(F.dyt, [x, alpha, gamma, beta], rng)


def agt_away(x: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Values moved at least `margin` away from 0 (the kink of the ReLU family)."""
    return np.where(np.abs(x) < margin, np.where(x >= 0, margin, -margin), x)


def test_hard_activations_follow_their_formulas_and_kink_conventions() -> None:
    x = ag.Tensor([-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0], requires_grad=True)
    np.testing.assert_allclose(
        F.hard_logistic(x).data, np.clip(0.25 * x.data + 0.5, 0, 1), atol=0, rtol=0
    )
    np.testing.assert_allclose(F.hardsigmoid(x).data, np.clip(x.data / 6 + 0.5, 0, 1), rtol=1e-15)
    F.hard_logistic(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 0, 0.25, 0.25, 0.25, 0, 0, 0])


def test_gelu_exact_is_x_times_the_normal_cdf() -> None:
    from math import erf, sqrt

    xs = np.linspace(-6, 6, 25)
    expected = [x * 0.5 * (1 + erf(x / sqrt(2))) for x in xs]
    np.testing.assert_allclose(F.gelu(ag.Tensor(xs)).data, expected, rtol=1e-15, atol=1e-300)


def test_swish_limits_are_half_x_and_relu() -> None:
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(F.swish(ag.Tensor(x), beta=0.0).data, x / 2)
    np.testing.assert_allclose(F.swish(ag.Tensor(x), beta=200.0).data, np.maximum(x, 0), atol=1e-12)


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------

LossCase = Callable[[np.random.Generator], tuple[Callable[..., ag.Tensor], list[np.ndarray]]]


def _probs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.05, 0.95, shape)


LOSSES: dict[str, Callable[[np.random.Generator, str], tuple[Any, list[np.ndarray]]]] = {
    "mse": lambda rng, r: (
        lambda a, b: F.mse_loss(a, b, reduction=r),
        [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))],
    ),
    "l1": lambda rng, r: (
        lambda a, b: F.l1_loss(a, b, reduction=r),
        [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)) + 3.0],
    ),
    "huber": lambda rng, r: (
        lambda a, b: F.huber_loss(a, b, reduction=r, delta=0.7),
        [rng.uniform(-2, 2, (4, 3)).round(1) + 0.05, np.zeros((4, 3))],
    ),
    "cross_entropy": lambda rng, r: (
        lambda a: F.cross_entropy(a, np.array([0, 2, 1, 2]), reduction=r),
        [rng.standard_normal((4, 3))],
    ),
    "cross_entropy_weighted_smoothed_ignored": lambda rng, r: (
        lambda a: F.cross_entropy(
            a,
            np.array([0, 2, -100, 1]),
            weight=np.array([0.2, 1.0, 3.0]),
            reduction=r,
            label_smoothing=0.1,
        ),
        [rng.standard_normal((4, 3))],
    ),
    "cross_entropy_probabilities": lambda rng, r: (
        lambda a, p: F.cross_entropy(a, p, reduction=r, label_smoothing=0.2),
        [rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)],
    ),
    "cross_entropy_spatial": lambda rng, r: (
        lambda a: F.cross_entropy(a, np.array([[0, 2], [1, 1]]), reduction=r),
        [rng.standard_normal((2, 3, 2))],
    ),
    "nll": lambda rng, r: (
        lambda a: F.nll_loss(a, np.array([1, 0, 2]), weight=np.array([1.0, 2.0, 0.5]), reduction=r),
        [rng.standard_normal((3, 3))],
    ),
    "bce": lambda rng, r: (
        lambda p, y: F.binary_cross_entropy(p, y, reduction=r),
        [_probs(rng, (5,)), _probs(rng, (5,))],
    ),
    "bce_with_logits": lambda rng, r: (
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, reduction=r, pos_weight=np.array([0.5, 2.0, 3.0])
        ),
        [rng.standard_normal((4, 3)) * 3, _probs(rng, (4, 3))],
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradients_match_central_differences(name: str, reduction: str) -> None:
    rng = np.random.default_rng(hash(name) % 1000)
    fn, arrays = LOSSES[name](rng, reduction)
    check_reverse(fn, arrays, rng)
    check_forward(fn, arrays, rng)


def test_losses_are_finite_without_warnings_for_extreme_logits() -> None:
    logits = ag.Tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0]], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 0]), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad.data))
    x = ag.Tensor([1000.0, -1000.0, 30.0, -30.0], requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0, 1.0, 0.0]), reduction="sum")
    bce.backward()
    assert bce.item() == pytest.approx(2000.0) and np.all(np.isfinite(x.grad.data))
    p = ag.Tensor([0.0, 1.0, 0.5], requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [100.0, 100.0, np.log(2)])
    assert np.all(np.isfinite(p.grad.data))


def test_losses_keep_float32() -> None:
    x = ag.Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    for loss in [
        F.cross_entropy(x, np.array([0, 1]), weight=np.ones(3), label_smoothing=0.1),
        F.mse_loss(x, np.ones((2, 3))),
        F.huber_loss(x, np.ones((2, 3))),
        F.binary_cross_entropy_with_logits(x, np.ones((2, 3)), pos_weight=np.full(3, 2.0)),
    ]:
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_cross_entropy_rejects_float_labels_and_labels_out_of_range() -> None:
    logits = ag.Tensor(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(logits, ag.Tensor([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match=r"\[4, 7\].*4 classes"):
        F.cross_entropy(logits, np.array([0, 4, 7]))
    with pytest.raises(ValueError, match="out of range"):
        F.nll_loss(logits, np.array([-1, 0, 1]))
    with pytest.raises(ValueError, match=r"got \(2,\)"):
        F.cross_entropy(logits, np.array([0, 1]))


def test_regression_losses_reject_mismatched_shapes_and_bad_reductions() -> None:
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(ag.Tensor(np.zeros((4, 1))), np.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(ag.Tensor([1.5]), np.array([1.0]))


def test_loss_modules_call_their_functions() -> None:
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    y = np.array([0, 1, 2, 1])
    assert nn.MSELoss()(ag.Tensor(x), t).item() == pytest.approx(np.mean((x - t) ** 2))
    assert nn.L1Loss(reduction="sum")(ag.Tensor(x), t).item() == pytest.approx(np.abs(x - t).sum())
    ce = nn.CrossEntropyLoss()(ag.Tensor(x), y).item()
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    assert ce == pytest.approx(-logp[np.arange(4), y].mean())
    assert nn.NLLLoss()(ag.Tensor(logp), y).item() == pytest.approx(ce)
    p = 1 / (1 + np.exp(-x))
    target = (t > 0).astype(float)
    bce = nn.BCELoss()(ag.Tensor(p), target).item()
    assert nn.BCEWithLogitsLoss()(ag.Tensor(x), target).item() == pytest.approx(bce)
    assert nn.HuberLoss(delta=100.0)(ag.Tensor(x), t).item() == pytest.approx(
        0.5 * np.mean((x - t) ** 2)
    )


# --------------------------------------------------------------------------------------------
# Against PyTorch (optional)
# --------------------------------------------------------------------------------------------

TORCH_INPUTS = np.concatenate([EXTREMES, np.linspace(-6, 6, 49)]).reshape(-1, 6)


def _close(ours: np.ndarray, theirs: Any, what: str) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10, err_msg=what)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch_in_value_and_gradient(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn, _, reference = ACTIVATIONS[name]
    cotangent = np.random.default_rng(0).standard_normal(TORCH_INPUTS.shape)
    x = ag.Tensor(TORCH_INPUTS, requires_grad=True)
    out = fn(x)
    out.backward(cotangent)
    tx = torch.tensor(TORCH_INPUTS, dtype=torch.float64, requires_grad=True)
    tout = reference(torch, tx)
    tout.backward(torch.tensor(cotangent))
    _close(out.data, tout, f"{name} value")
    _close(x.grad.data, tx.grad, f"{name} gradient")


def test_prelu_maxout_dyt_match_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((5, 3)) * 10, np.array([0.1, 0.25, -0.3])
    ours_x, ours_w = ag.Tensor(x, requires_grad=True), ag.Tensor(w, requires_grad=True)
    F.prelu(ours_x, ours_w).sum().backward()
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.prelu(tx, tw).sum().backward()
    _close(ours_x.grad.data, tx.grad, "prelu dx")
    _close(ours_w.grad.data, tw.grad, "prelu dw")


LOSS_TORCH: dict[str, Any] = {
    "mse": lambda t, a, b, r: t.nn.functional.mse_loss(a, b, reduction=r),
    "l1": lambda t, a, b, r: t.nn.functional.l1_loss(a, b, reduction=r),
    "huber": lambda t, a, b, r: t.nn.functional.huber_loss(a, b, reduction=r, delta=0.7),
    "cross_entropy": lambda t, a, r: t.nn.functional.cross_entropy(
        a, t.tensor([0, 2, 1, 2]), reduction=r
    ),
    "cross_entropy_weighted_smoothed_ignored": lambda t, a, r: t.nn.functional.cross_entropy(
        a,
        t.tensor([0, 2, -100, 1]),
        weight=t.tensor([0.2, 1.0, 3.0], dtype=t.float64),
        reduction=r,
        label_smoothing=0.1,
    ),
    "cross_entropy_probabilities": lambda t, a, p, r: t.nn.functional.cross_entropy(
        a, p, reduction=r, label_smoothing=0.2
    ),
    "cross_entropy_spatial": lambda t, a, r: t.nn.functional.cross_entropy(
        a, t.tensor([[0, 2], [1, 1]]), reduction=r
    ),
    "nll": lambda t, a, r: t.nn.functional.nll_loss(
        a, t.tensor([1, 0, 2]), weight=t.tensor([1.0, 2.0, 0.5], dtype=t.float64), reduction=r
    ),
    "bce": lambda t, p, y, r: t.nn.functional.binary_cross_entropy(p, y, reduction=r),
    "bce_with_logits": lambda t, x, y, r: t.nn.functional.binary_cross_entropy_with_logits(
        x, y, reduction=r, pos_weight=t.tensor([0.5, 2.0, 3.0], dtype=t.float64)
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_torch_in_value_and_gradient(name: str, reduction: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    fn, arrays = LOSSES[name](rng, reduction)
    ours = [ag.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ours)
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = LOSS_TORCH[name](torch, *theirs, reduction)
    tout.backward(torch.tensor(cotangent))
    _close(out.data, tout, f"{name} value")
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        _close(a.grad.data, b.grad, f"{name} gradient {i}")


def test_losses_match_torch_at_extreme_logits() -> None:
    torch = pytest.importorskip("torch")
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0], [20.0, -30.0, 40.0]])
    labels = np.array([1, 0, 2])
    x = ag.Tensor(logits, requires_grad=True)
    F.cross_entropy(x, labels, label_smoothing=0.1).backward()
    tx = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(labels), label_smoothing=0.1).backward()
    _close(x.grad.data, tx.grad, "cross entropy at extreme logits")
    targets = (logits > 0).astype(float)[:, ::-1].copy()
    x = ag.Tensor(logits, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, targets, reduction="sum")
    loss.backward()
    tx = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.tensor(targets), reduction="sum"
    )
    tloss.backward()
    _close(loss.data, tloss, "bce with logits at extremes")
    _close(x.grad.data, tx.grad, "bce with logits gradient at extremes")


# --------------------------------------------------------------------------------------------
# Drawn shapes for the class-index losses, and second order for the smooth activations
# --------------------------------------------------------------------------------------------


@FAST
@given(
    batch=st.integers(1, 5),
    classes=st.integers(2, 5),
    smoothing=st.sampled_from([0.0, 0.15]),
    weighted=st.booleans(),
    data=st.data(),
)
def test_cross_entropy_gradients_on_drawn_batches(
    batch: int, classes: int, smoothing: float, weighted: bool, data: st.DataObject
) -> None:
    logits = data.draw(agt.arrays((batch, classes)))
    labels = np.asarray(
        data.draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch))
    )
    weight = np.linspace(0.5, 2.0, classes) if weighted else None

    def loss(x: ag.Tensor) -> ag.Tensor:
        return F.cross_entropy(x, labels, weight=weight, label_smoothing=smoothing)

    rng = np.random.default_rng(0)
    check_reverse(loss, [logits], rng)
    check_forward(loss, [logits], rng)


@FAST
@given(data=st.data())
def test_bce_with_logits_gradients_on_drawn_shapes(data: st.DataObject) -> None:
    shape = data.draw(agt.shapes())
    x = data.draw(agt.arrays(shape, low=-30.0, high=30.0))
    y = data.draw(agt.arrays(shape, low=0.0, high=1.0))
    rng = np.random.default_rng(0)
    check_reverse(F.binary_cross_entropy_with_logits, [x, y], rng)
    check_forward(F.binary_cross_entropy_with_logits, [x, y], rng)


@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "softplus", "silu", "swish", "gelu", "gelu_tanh", "log_softmax"]
)
def test_smooth_activations_have_second_derivatives(name: str) -> None:
    fn = ACTIVATIONS[name][0]
    x = np.random.default_rng(6).uniform(-3, 3, (2, 3))
    check_second_order(fn, [x], np.random.default_rng(7))
