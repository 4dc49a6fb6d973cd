"""Repros of the nn defects of issue 14, each failing before its fix: targets that are all
`ignore_index`, binary cross-entropy where its logs are clamped, labels of small integer
dtypes, fit's metrics outside multi-class classification, unclear errors, dtype discipline
of layers, and warnings at inf/nan. Values and gradients are compared with PyTorch where it
is installed."""

from __future__ import annotations

import warnings
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
INF = np.inf


def _same(ours: Any, theirs: Any, what: str) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = np.asarray(ours.data if isinstance(ours, ag.Tensor) else ours)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=what)


# --------------------------------------------------------------------------------------------
# 1. A batch whose targets are all ignore_index: loss nan (mean), 0 (sum), zeros (none), as
#    PyTorch, and zero gradients (one SGD step used to turn every weight into nan).
# --------------------------------------------------------------------------------------------

IGNORED = np.full(3, -100)
ALL_IGNORED: dict[str, Callable[[ag.Tensor, str], ag.Tensor]] = {
    "cross_entropy": lambda x, r: F.cross_entropy(x, IGNORED, reduction=r),
    "cross_entropy_int32": lambda x, r: F.cross_entropy(x, IGNORED.astype(np.int32), reduction=r),
    "cross_entropy_weighted": lambda x, r: F.cross_entropy(
        x, IGNORED, weight=np.arange(1.0, 5.0), reduction=r
    ),
    "cross_entropy_smoothed": lambda x, r: F.cross_entropy(
        x, IGNORED, reduction=r, label_smoothing=0.2
    ),
    "cross_entropy_spatial": lambda x, r: F.cross_entropy(
        x.reshape(1, 4, 3), np.full((1, 3), -100), reduction=r
    ),
    "nll_loss": lambda x, r: F.nll_loss(x, IGNORED, reduction=r),
    "nll_loss_weighted": lambda x, r: F.nll_loss(
        x, IGNORED, weight=np.arange(1.0, 5.0), reduction=r
    ),
    "softmax_cross_entropy": lambda x, r: ag.softmax_cross_entropy(x, IGNORED, reduction=r),
    "softmax_cross_entropy_ignore_2": lambda x, r: ag.softmax_cross_entropy(
        x, np.full(3, 2), reduction=r, ignore_index=2
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(ALL_IGNORED))
def test_all_ignored_targets_give_pytorchs_loss_and_zero_gradients(
    name: str, reduction: str
) -> None:
    x = ag.Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    loss = ALL_IGNORED[name](x, reduction)
    loss.sum().backward()
    expected = {"mean": np.nan, "sum": 0.0, "none": np.zeros(3)}[reduction]
    np.testing.assert_array_equal(loss.data.reshape(np.shape(expected)), expected)
    np.testing.assert_array_equal(x.grad.data, np.zeros((3, 4)))


def test_one_sgd_step_on_an_all_ignored_batch_leaves_the_weights_finite() -> None:
    model = nn.MLP([4, 5, 3], generator=0)
    before = [p.data.copy() for p in model.parameters()]
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()(model(ag.Tensor(np.ones((2, 4)))), np.array([-100, -100]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert np.isnan(loss.item())
    for old, p in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, old)


def test_ignored_rows_with_an_in_range_ignore_index_match_torch() -> None:
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(1).standard_normal((5, 4))
    labels = np.array([0, 1, 2, 1, 3])
    for reduction in ("mean", "sum", "none"):
        x = ag.Tensor(logits, requires_grad=True)
        out = ag.softmax_cross_entropy(x, labels, reduction, ignore_index=1)
        out.sum().backward()
        tx = torch.tensor(logits, requires_grad=True)
        tout = torch.nn.functional.cross_entropy(
            tx, torch.tensor(labels), ignore_index=1, reduction=reduction
        )
        tout.sum().backward()
        _same(out, tout, f"value, {reduction}")
        _same(x.grad, tx.grad, f"gradient, {reduction}")


@FAST
@given(data=st.data(), reduction=st.sampled_from(["none", "mean", "sum"]))
def test_softmax_cross_entropy_with_ignored_rows_passes_every_gradient_check(
    data: st.DataObject, reduction: str
) -> None:
    logits = data.draw(agt.arrays(agt.shapes(min_dims=1, max_dims=3)))
    classes = logits.shape[-1]
    labels = data.draw(
        st.lists(
            st.integers(-1, classes - 1),
            min_size=logits[..., 0].size,
            max_size=logits[..., 0].size,
        )
    )
    labels = np.asarray(labels, dtype=np.int64).reshape(logits.shape[:-1])

    def loss(z: ag.Tensor) -> ag.Tensor:
        return ag.softmax_cross_entropy(z, labels, reduction, ignore_index=-1)

    if reduction == "mean" and not (labels != -1).any():
        labels[...] = 0  # nan value: central differences cannot check it (tested above)
    rng = np.random.default_rng(0)
    check_reverse(loss, [logits], rng)
    check_forward(loss, [logits], rng)
    check_second_order(loss, [logits], rng)


# --------------------------------------------------------------------------------------------
# 2. binary_cross_entropy: PyTorch's value (logs clamped at -100) and gradient
#    (p - y) / max(p (1 - p), 1e-12): large where the log is clamped, never 0.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_bce_gradient_where_the_log_is_clamped_is_pytorchs_not_zero(reduction: str) -> None:
    p = ag.Tensor([1.0, 0.0, 1e-50], requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([0.0, 1.0, 1.0]), reduction=reduction)
    loss.sum().backward()
    np.testing.assert_array_equal(loss.data, [100.0] * 3 if reduction == "none" else 300.0)
    big = 1.0 / float(np.float32(1e-12))  # PyTorch's: 1 / EPSILON, stored as a float32
    np.testing.assert_array_equal(p.grad.data, [big, -big, -big])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_matches_torch_in_value_and_both_gradients_at_and_near_the_clamps(dtype: str) -> None:
    torch = pytest.importorskip("torch")
    grid = np.array([0.0, 1e-50, 1e-13, 1e-6, 0.3, 0.5, 1 - 1e-9, 1.0])
    p, y = (a.ravel().astype(dtype) for a in np.meshgrid(grid, [0.0, 0.3, 1.0]))
    weight = np.linspace(0.5, 2.0, p.size).astype(dtype)
    ours_p, ours_y = ag.Tensor(p, requires_grad=True), ag.Tensor(y, requires_grad=True)
    loss = F.binary_cross_entropy(ours_p, ours_y, weight=weight, reduction="none")
    cotangent = np.linspace(-1.0, 2.0, p.size).astype(dtype)
    loss.backward(cotangent)
    tp, ty = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
    tloss = torch.nn.functional.binary_cross_entropy(
        tp, ty, weight=torch.tensor(weight), reduction="none"
    )
    tloss.backward(torch.tensor(cotangent))
    assert loss.dtype == np.dtype(dtype) and ours_p.grad.dtype == np.dtype(dtype)
    rtol = 1e-10 if dtype == "float64" else 1e-5
    for ours, theirs, what in [
        (loss.data, tloss, "value"),
        (ours_p.grad.data, tp.grad, "d/dp"),
        (ours_y.grad.data, ty.grad, "d/dy"),
    ]:
        theirs = theirs.detach().numpy()
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True, err_msg=what)


@FAST
@given(data=st.data())
def test_binary_cross_entropy_passes_every_gradient_check_inside_the_clamps(
    data: st.DataObject,
) -> None:
    shape = data.draw(agt.shapes())
    p = data.draw(agt.arrays(shape, low=0.05, high=0.95))
    y = data.draw(agt.arrays(shape, low=0.01, high=0.99))  # differences stay in [0, 1]
    rng = np.random.default_rng(0)
    check_reverse(ag.binary_cross_entropy, [p, y], rng)
    check_forward(ag.binary_cross_entropy, [p, y], rng)
    check_second_order(ag.binary_cross_entropy, [p, y], rng)


@pytest.mark.parametrize(
    ("p", "y", "match"),
    [
        (0.5, 2.0, r"target must be in \[0, 1\]"),
        (0.5, -0.1, r"target must be in \[0, 1\]"),
        (0.5, np.nan, r"target must be in \[0, 1\]"),
        (1.5, 1.0, r"input must be in \[0, 1\].*sigmoid"),
        (np.nan, 1.0, r"input must be in \[0, 1\]"),
    ],
)
def test_bce_rejects_inputs_and_targets_outside_0_1(p: float, y: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        nn.BCELoss()(ag.Tensor([0.2, p]), np.array([1.0, y]))


# --------------------------------------------------------------------------------------------
# 3. Labels of every integer dtype are range-checked as integers (an int8 -100 viewed as a
#    uint8 is 156, which a 200-class range accepted, picking class 100); bool and float
#    labels are errors.
# --------------------------------------------------------------------------------------------

INTEGER_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def test_an_int8_label_of_minus_100_is_not_class_100() -> None:
    logits = ag.Tensor(np.zeros((1, 200)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\[-100\] are out of range for 200 classes"):
        ag.softmax_cross_entropy(logits, np.array([-100], dtype=np.int8), ignore_index=-1)
    loss = ag.softmax_cross_entropy(logits, np.array([-100], dtype=np.int8))  # ignored
    loss.sum().backward()
    assert loss.data.tolist() == [0.0] and not logits.grad.data.any()


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_labels_of_every_integer_dtype_give_the_int64_result(dtype: str) -> None:
    logits = np.random.default_rng(2).standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    expected = ag.softmax_cross_entropy(logits, labels, "none").data
    ours = ag.softmax_cross_entropy(logits, labels.astype(dtype), "none").data
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(
        F.cross_entropy(logits, labels.astype(dtype), reduction="none").data, expected
    )


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_labels_out_of_range_are_errors_in_every_integer_dtype(dtype: str) -> None:
    info = np.iinfo(dtype)
    bad = [3, info.max] + ([-1, info.min] if info.min < 0 else [])
    for label in bad:
        with pytest.raises(ValueError, match="out of range for 3 classes"):
            ag.softmax_cross_entropy(np.zeros((1, 3)), np.array([label], dtype=dtype))


@pytest.mark.parametrize(
    "labels",
    [np.array([True, False]), np.array([0.0, 1.0]), ag.Tensor([0.0, 1.0])],
    ids=["bool", "float", "tensor"],
)
def test_bool_float_and_tensor_labels_are_clear_errors(labels: Any) -> None:
    with pytest.raises(TypeError, match="softmax_cross_entropy: labels must be"):
        ag.softmax_cross_entropy(np.zeros((2, 3)), labels)


# --------------------------------------------------------------------------------------------
# 4. fit's metrics follow the task: BCELoss thresholds probabilities at 0.5, BCEWithLogitsLoss
#    logits at 0, regression records no accuracy (and refuses one when asked).
# --------------------------------------------------------------------------------------------


def _frozen_fit(model: nn.Module, loss_fn: Any, X: np.ndarray, y: np.ndarray, **kwargs: Any) -> Any:
    """One epoch with lr = 0 (the model does not change, so its accuracy is known)."""
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=10)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.0)
    return nn.fit(model, loss_fn, optimizer, loader, 1, val_loader=loader, progress=False, **kwargs)


def _binary_problem() -> tuple[nn.Module, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 2))
    y = (X[:, :1] + 0.3 * rng.standard_normal((40, 1)) > 0.4).astype(np.float64)
    linear = nn.Linear(2, 1, generator=0)
    linear.weight.data[...] = [[2.0, 0.1]]
    linear.bias.data[...] = -0.5
    return linear, X, y


def test_fit_thresholds_sigmoid_outputs_at_one_half_for_bce() -> None:
    linear, X, y = _binary_problem()
    model = nn.Sequential(linear, nn.Sigmoid())
    expected = np.mean((nn.predict(model, X) > 0.5) == (y > 0.5))
    assert expected != np.mean((nn.predict(model, X) > 0.0) == (y > 0.5))  # 0 would differ
    history = _frozen_fit(model, nn.BCELoss(), X, y)
    assert history["accuracy"] == [pytest.approx(expected)]
    assert history["val_accuracy"] == [pytest.approx(expected)]


def test_fit_thresholds_logits_at_zero_for_bce_with_logits() -> None:
    model, X, y = _binary_problem()
    expected = np.mean((nn.predict(model, X) > 0.0) == (y > 0.5))
    history = _frozen_fit(model, nn.BCEWithLogitsLoss(), X, y)
    assert history["accuracy"] == [pytest.approx(expected)]


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), nn.L1Loss(), nn.HuberLoss(), F.mse_loss])
def test_fit_records_no_accuracy_for_regression_and_refuses_one(loss_fn: Any, outputs: int) -> None:
    X = np.random.default_rng(4).standard_normal((30, 2))
    y = X @ np.ones((2, outputs))
    history = _frozen_fit(nn.Linear(2, outputs, generator=0), loss_fn, X, y)
    assert set(history.keys()) == {"loss", "val_loss", "lr"}
    with pytest.raises(
        ValueError, match=r"fit: 'accuracy' needs a classification task.*regression"
    ):
        _frozen_fit(nn.Linear(2, outputs, generator=0), loss_fn, X, y, metrics=["accuracy"])


def test_metrics_without_a_known_loss_read_integer_targets_as_classes() -> None:
    X, y = nn.datasets.make_moons(30, noise=0.1, seed=0)
    model = nn.Linear(2, 2, generator=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=8)
    expected = np.mean(nn.predict(model, X).argmax(axis=1) == y)
    assert nn.evaluate(model, loader)["accuracy"] == pytest.approx(expected)
    history = _frozen_fit(model, lambda out, t: F.cross_entropy(out, t), X, y)
    assert history["accuracy"] == [pytest.approx(expected)]
    regression = nn.data.DataLoader(nn.data.TensorDataset(X, X), batch_size=8)
    assert nn.evaluate(model, regression) == {}
    with pytest.raises(ValueError, match=r"evaluate: 'accuracy'.*show classes"):
        nn.evaluate(model, regression, metrics=["accuracy"])


def test_accuracy_reads_probability_targets_and_rejects_one_column() -> None:
    output = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    assert nn.training.accuracy(output, probabilities) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"accuracy: expected outputs \(N, C, ...\)"):
        nn.training.accuracy(np.zeros((3, 1)), np.zeros(3))


# --------------------------------------------------------------------------------------------
# 5. Clear errors naming the layer or function and what was expected.
# --------------------------------------------------------------------------------------------


def test_mlp_checks_activation_names_even_without_hidden_layers() -> None:
    with pytest.raises(ValueError, match=r"MLP: unknown activation 'foo'; choose one of .*'relu'"):
        nn.MLP([3, 3], activation="foo")
    with pytest.raises(ValueError, match="MLP: unknown activation 'bar'"):
        nn.MLP([3, 4, 3], output_activation="bar")
    with pytest.raises(TypeError, match="MLP: activation must be"):
        nn.MLP([3, 3], activation=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (
            lambda: nn.Linear("a", 2),
            TypeError,
            r"Linear: in_features must be a positive int, got 'a'",
        ),
        (lambda: nn.Linear(2, 2.5), TypeError, "Linear: out_features must be a positive int"),
        (lambda: nn.Linear(True, 2), TypeError, "Linear: in_features"),
        (lambda: nn.Linear(0, 2), ValueError, "Linear: in_features must be a positive int, got 0"),
        (lambda: nn.Maxout(3, "b"), TypeError, "Maxout: out_features"),
        (lambda: nn.Maxout(3, 2, k=0), ValueError, "Maxout: k must be a positive int"),
        (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters"),
        (lambda: nn.BatchNorm1d("3"), TypeError, "BatchNorm1d: num_features"),
        (lambda: nn.LayerNorm(-2), ValueError, "LayerNorm: normalized_shape"),
        (lambda: nn.LayerNorm((3, "a")), TypeError, "LayerNorm: normalized_shape"),
        (lambda: nn.DyT(None), TypeError, "DyT: num_features"),
        (lambda: nn.MLP([3, "a"]), TypeError, r"MLP: sizes\[1\] must be a positive int"),
        (lambda: nn.MLP([3, 0, 2]), ValueError, r"MLP: sizes\[1\]"),
    ],
)
def test_layers_check_their_size_arguments(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_predict_on_no_inputs_gives_the_models_empty_output() -> None:
    model = nn.MLP([3, 4, 2], generator=0)
    assert nn.predict(model, np.zeros((0, 3))).shape == (0, 2)
    assert nn.predict(nn.Linear(3, 5), ag.Tensor(np.zeros((0, 3)))).shape == (0, 5)
    with pytest.raises(ValueError, match=r"expected input of shape \(\.\.\., 3\), got \(0,\)"):
        nn.predict(model, [])  # no inputs and no feature axis
    with pytest.raises(ValueError, match="predict: the loader yielded no batches"):
        nn.predict(model, nn.data.DataLoader(nn.data.TensorDataset(np.zeros((0, 3)))))


# --------------------------------------------------------------------------------------------
# 6. dtype discipline: a floating input of another dtype than the layer's parameters raises,
#    naming the layer and both dtypes; integer inputs and lists are converted.
# --------------------------------------------------------------------------------------------

LAYERS: dict[str, Callable[[Any], nn.Module]] = {
    "Linear": lambda dtype: nn.Linear(3, 2, dtype=dtype),
    "Maxout": lambda dtype: nn.Maxout(3, 2, dtype=dtype),
    "PReLU": lambda dtype: nn.PReLU(3, dtype=dtype),
    "BatchNorm1d": lambda dtype: nn.BatchNorm1d(3, dtype=dtype),
    "BatchNorm1d_no_affine": lambda dtype: nn.BatchNorm1d(3, affine=False, dtype=dtype),
    "LayerNorm": lambda dtype: nn.LayerNorm(3, dtype=dtype),
    "DyT": lambda dtype: nn.DyT(3, dtype=dtype),
    "MLP": lambda dtype: nn.MLP([3, 4, 2], norm="layer", dtype=dtype),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_floating_input_of_another_dtype_is_an_error_naming_the_layer(name: str) -> None:
    x = np.random.default_rng(5).standard_normal((4, 3))
    layer = LAYERS[name](np.float32)
    label = name.split("_")[0] if name != "MLP" else "Linear"
    for wrong in (ag.Tensor(x), x):
        with pytest.raises(TypeError, match=rf"{label}\(.*input dtype float64 .* float32"):
            layer(wrong)
    assert layer(ag.Tensor(x.astype(np.float32))).dtype == np.float32
    assert layer(np.arange(12).reshape(4, 3)).dtype == np.float32  # integers are converted
    assert layer(x.astype(np.float32).tolist()).dtype == np.float32
    with pytest.raises(TypeError, match=r"input dtype float32 .* float64"):
        LAYERS[name](np.float64)(ag.Tensor(x.astype(np.float32)))


def test_a_converted_model_takes_inputs_of_its_new_dtype() -> None:
    model = nn.MLP([3, 4, 2], norm="batch", generator=0).to(np.float32)
    assert model(np.ones((2, 3), np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match=r"model\.to\(np\.float64\)"):
        model(np.ones((2, 3)))


# --------------------------------------------------------------------------------------------
# 7. Silent IEEE results, as PyTorch: nothing warns under warnings-as-errors, and the values
#    (and gradients) are torch's.
# --------------------------------------------------------------------------------------------

ROWS = np.array([[0.0, -INF, 1.0], [0.0, -INF, 1.0], [-INF, -INF, -INF], [INF, 0.0, 1.0]])
ROW_LABELS = np.array([0, 1, 1, 2])
LOGITS = np.array([INF, -INF, 30.0, -30.0, 0.0])
BINARY = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
PROBABILITIES = np.array([0.0, 1.0, 0.0, 1.0, 1e-50])

# name -> (ours, theirs (torch, *tensors), arrays)
SPECIAL: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]] = {
    "softmax": (F.softmax, lambda t, x: t.softmax(x, -1), [ROWS]),
    "log_softmax": (F.log_softmax, lambda t, x: t.log_softmax(x, -1), [ROWS]),
    "cross_entropy": (
        lambda x: F.cross_entropy(x, ROW_LABELS, reduction="none"),
        lambda t, x: t.nn.functional.cross_entropy(x, t.tensor(ROW_LABELS), reduction="none"),
        [ROWS],
    ),
    "cross_entropy_finite_rows": (
        lambda x: F.cross_entropy(x[:2], ROW_LABELS[:2], reduction="none"),
        lambda t, x: t.nn.functional.cross_entropy(
            x[:2], t.tensor(ROW_LABELS[:2]), reduction="none"
        ),
        [ROWS],
    ),
    "cross_entropy_smoothed": (
        lambda x: F.cross_entropy(x[:1], ROW_LABELS[:1], label_smoothing=0.1),
        lambda t, x: t.nn.functional.cross_entropy(
            x[:1], t.tensor(ROW_LABELS[:1]), label_smoothing=0.1
        ),
        [ROWS],
    ),
    "nll_loss": (
        lambda x: F.nll_loss(x, ROW_LABELS, reduction="none"),
        lambda t, x: t.nn.functional.nll_loss(x, t.tensor(ROW_LABELS), reduction="none"),
        [ROWS],
    ),
    "binary_cross_entropy": (
        lambda p: F.binary_cross_entropy(p, BINARY, reduction="none"),
        lambda t, p: t.nn.functional.binary_cross_entropy(p, t.tensor(BINARY), reduction="none"),
        [PROBABILITIES],
    ),
    "binary_cross_entropy_with_logits": (
        lambda x: F.binary_cross_entropy_with_logits(x, BINARY, reduction="none"),
        lambda t, x: t.nn.functional.binary_cross_entropy_with_logits(
            x, t.tensor(BINARY), reduction="none"
        ),
        [LOGITS],
    ),
    "gelu": (F.gelu, lambda t, x: t.nn.functional.gelu(x), [LOGITS]),
    "silu": (F.silu, lambda t, x: t.nn.functional.silu(x), [LOGITS]),
    "softplus": (F.softplus, lambda t, x: t.nn.functional.softplus(x), [LOGITS]),
    "elu": (F.elu, lambda t, x: t.nn.functional.elu(x), [LOGITS]),
    "hardsigmoid": (F.hardsigmoid, lambda t, x: t.nn.functional.hardsigmoid(x), [LOGITS]),
    "logsigmoid": (F.logsigmoid, lambda t, x: t.nn.functional.logsigmoid(x), [LOGITS]),
    "layer_norm": (
        lambda x: F.layer_norm(x, (3,)),
        lambda t, x: t.nn.functional.layer_norm(x, (3,)),
        [ROWS],
    ),
    "mse_loss": (
        lambda x: F.mse_loss(x, np.full(5, INF), reduction="none"),
        lambda t, x: t.nn.functional.mse_loss(
            x, t.full((5,), INF, dtype=t.float64), reduction="none"
        ),
        [LOGITS],
    ),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_values_are_silent_and_match_torch(name: str) -> None:
    ours, theirs, arrays = SPECIAL[name]
    inputs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours(*inputs)
        out.sum().backward()
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = theirs(torch, *tensors)
    tout.sum().backward()
    _same(out, tout, f"{name} value")
    for ours_x, their_x in zip(inputs, tensors, strict=True):
        _same(ours_x.grad, their_x.grad, f"{name} gradient")


def test_batch_norm_with_infinite_statistics_is_silent() -> None:
    running_mean, running_var = np.array([INF, 0.0]), np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.batch_norm(
            ag.Tensor([[-INF, 0.0], [-INF, 1.0]]), running_mean, running_var, training=True
        )
    assert np.isnan(out.data[:, 0]).all() and np.isnan(running_mean[0])
    np.testing.assert_allclose(running_var[1], 0.95)
