"""Optimizers on hand-computed steps, state_dict round trips, argument errors, schedulers,
gradient clipping, penalties, and (when PyTorch is installed) 20-step trajectories equal to
torch.optim's, and every scheduler's learning rates (and momenta) equal to torch's."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn


def quadratic_step(optimizer_factory: Callable[[list[nn.Parameter]], Any], steps: int = 1):
    """Minimize sum(p^2 / 2) (gradient = p) from p = [1, -2]; return p after `steps`."""
    p = nn.Parameter([1.0, -2.0])
    opt = optimizer_factory([p])
    for _ in range(steps):
        opt.zero_grad()
        (p * p * 0.5).sum().backward()
        opt.step()
    return p.data


def test_sgd_plain_step_is_p_minus_lr_grad() -> None:
    np.testing.assert_allclose(quadratic_step(lambda ps: nn.optim.SGD(ps, lr=0.1)), [0.9, -1.8])


def test_sgd_weight_decay_adds_lambda_p_to_the_gradient() -> None:
    got = quadratic_step(lambda ps: nn.optim.SGD(ps, lr=0.1, weight_decay=0.5))
    np.testing.assert_allclose(got, np.array([1.0, -2.0]) * (1 - 0.1 * 1.5))


def test_sgd_momentum_and_nesterov_by_hand() -> None:
    # step 1: b = g = p0; p1 = p0 - lr b.  step 2: b = m b + g(p1); p2 = p1 - lr b
    p0, lr, m = np.array([1.0, -2.0]), 0.1, 0.9
    p1 = p0 - lr * p0
    b2 = m * p0 + p1
    got = quadratic_step(lambda ps: nn.optim.SGD(ps, lr=lr, momentum=m), steps=2)
    np.testing.assert_allclose(got, p1 - lr * b2)
    # nesterov: the step uses g + m b
    q1 = p0 - lr * (p0 + m * p0)
    b2 = m * p0 + q1
    got = quadratic_step(lambda ps: nn.optim.SGD(ps, lr=lr, momentum=m, nesterov=True), steps=2)
    np.testing.assert_allclose(got, q1 - lr * (q1 + m * b2))


def test_adam_first_step_moves_each_weight_by_about_lr() -> None:
    # after bias correction m_hat = g and v_hat = g^2, so the step is lr g / (|g| + eps)
    got = quadratic_step(lambda ps: nn.optim.Adam(ps, lr=0.01))
    np.testing.assert_allclose(got, [1.0 - 0.01 / (1 + 1e-8), -2.0 + 0.01 * 2 / (2 + 1e-8)])


def test_adamw_decays_weights_before_the_adam_step() -> None:
    adam = quadratic_step(lambda ps: nn.optim.Adam(ps, lr=0.01))
    adamw = quadratic_step(lambda ps: nn.optim.AdamW(ps, lr=0.01, weight_decay=0.1))
    np.testing.assert_allclose(adamw, adam - 0.01 * 0.1 * np.array([1.0, -2.0]))


def test_rmsprop_and_adagrad_first_steps() -> None:
    p0 = np.array([1.0, -2.0])
    got = quadratic_step(lambda ps: nn.optim.RMSprop(ps, lr=0.01, alpha=0.9))
    np.testing.assert_allclose(got, p0 - 0.01 * p0 / (np.sqrt(0.1 * p0**2) + 1e-8))
    got = quadratic_step(lambda ps: nn.optim.Adagrad(ps, lr=0.1))
    np.testing.assert_allclose(got, p0 - 0.1 * p0 / (np.abs(p0) + 1e-10))


def test_updates_keep_float32_and_skip_parameters_without_grad() -> None:
    p = nn.Parameter(np.ones(3, np.float32))
    idle = nn.Parameter(np.ones(2))
    for opt in [
        nn.optim.SGD([p, idle], lr=0.1, momentum=0.9),
        nn.optim.Adam([p, idle]),
        nn.optim.AdamW([p, idle]),
        nn.optim.RMSprop([p, idle], centered=True, momentum=0.5),
        nn.optim.Adagrad([p, idle]),
    ]:
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        assert p.dtype == np.float32
    np.testing.assert_array_equal(idle.data, [1.0, 1.0])


def test_optimizer_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        nn.optim.Adam([nn.Parameter([1.0]), np.ones(2)])
    with pytest.raises(ValueError, match="requires_grad=True"):
        nn.optim.Adam([ag.Tensor([1.0])])
    with pytest.raises(ValueError, match="invalid lr -1"):
        nn.optim.SGD([nn.Parameter([1.0])], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        nn.optim.SGD([nn.Parameter([1.0])], lr=0.1, nesterov=True)


def test_parameter_groups_override_defaults() -> None:
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert a.data.tolist() == [0.9] and b.data.tolist() == [0.0]


def test_optimizer_state_dict_round_trip_continues_identically() -> None:
    def run(resume: bool) -> np.ndarray:
        p = nn.Parameter([1.0, -2.0, 3.0])
        opt = nn.optim.Adam([p], lr=0.1)
        for step in range(6):
            if resume and step == 3:
                saved = opt.state_dict()
                opt = nn.optim.Adam([p], lr=0.5)
                opt.load_state_dict(saved)
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        return p.data

    np.testing.assert_array_equal(run(False), run(True))


def test_schedulers_follow_their_closed_forms() -> None:
    def lrs(make: Callable[[nn.optim.Optimizer], Any], epochs: int = 6) -> list[float]:
        opt = nn.optim.SGD([nn.Parameter([1.0])], lr=1.0)
        scheduler = make(opt)
        out = []
        for _ in range(epochs):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return out

    sched = nn.optim.lr_scheduler
    assert lrs(lambda o: sched.StepLR(o, step_size=2, gamma=0.5)) == [1, 1, 0.5, 0.5, 0.25, 0.25]
    assert lrs(lambda o: sched.ExponentialLR(o, gamma=0.5)) == [0.5**k for k in range(6)]
    cosine = lrs(lambda o: sched.CosineAnnealingLR(o, T_max=4, eta_min=0.1), epochs=5)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(cosine, expected)


def test_clip_grad_norm_scales_all_gradients_together() -> None:
    a, b = nn.Parameter([0.0, 0.0]), nn.Parameter([0.0])
    a.grad, b.grad = ag.Tensor([3.0, 0.0]), ag.Tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad.data, b.grad.data]), [0.6, 0, 0.8], rtol=1e-6)
    assert nn.utils.clip_grad_norm_([a, b], max_norm=10.0).item() == pytest.approx(1.0, rel=1e-5)


def test_penalties_are_sums_of_absolute_values_and_squares() -> None:
    model = nn.Linear(2, 2, generator=0)
    weights = [p.data for p in model.parameters()]
    assert nn.l1_penalty(model.parameters()).item() == pytest.approx(
        sum(np.abs(w).sum() for w in weights)
    )
    penalty = nn.l2_penalty(model.parameters())
    assert penalty.item() == pytest.approx(sum((w**2).sum() for w in weights))
    penalty.backward()
    np.testing.assert_allclose(model.weight.grad.data, 2 * model.weight.data)


# --------------------------------------------------------------------------------------------
# Against PyTorch (optional): 20 steps on a small regression network
# --------------------------------------------------------------------------------------------

TORCH_CASES = {
    "sgd": ("SGD", dict(lr=0.05)),
    "sgd_momentum_wd": ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    "sgd_dampening": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_wd": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "adam_amsgrad": ("Adam", dict(lr=0.01, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_wd": ("AdamW", dict(lr=0.01, weight_decay=0.3, eps=1e-6)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_momentum": (
        "RMSprop",
        dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01),
    ),
    "adagrad": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_trajectory_matches_torch_over_20_steps(case: str) -> None:
    torch = pytest.importorskip("torch")
    name, kwargs = TORCH_CASES[case]
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    ours = nn.MLP([3, 5, 1], activation="tanh", generator=1)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 5, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(5, 1, dtype=torch.float64),
    )
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.layers.state_dict().items()})
    opt = getattr(nn.optim, name)(ours.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(ours(ag.Tensor(x)), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.mse_loss(theirs(tx), ty).backward()
        topt.step()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(
            ours.layers.state_dict()[key], value.numpy(), rtol=1e-10, atol=1e-12, err_msg=key
        )


# the values ReduceLROnPlateau monitors (the other schedulers step as many times)
METRICS = [3.0, 2.0, 2.0, 1.9999, 2.1, 1.5, 1.5, 1.6, 1.7, 1.8, 1.2, 1.3, 1.3, 1.3, 1.3]
METRICS += [1.3, 0.9, 0.95, 1.0, 1.0]

# name -> (scheduler, kwargs, optimizer, exact): closed forms (ours) against PyTorch's chained
# products agree to rounding; the others follow PyTorch's own arithmetic, so bit for bit
TORCH_SCHEDULERS: dict[str, tuple[str, dict[str, Any], str, bool]] = {
    "step": ("StepLR", dict(step_size=3, gamma=0.3), "SGD", False),
    "exponential": ("ExponentialLR", dict(gamma=0.9), "SGD", False),
    "cosine": ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01), "SGD", False),
    "lambda": ("LambdaLR", dict(lr_lambda=lambda epoch: 0.9**epoch / (1 + epoch)), "SGD", True),
    "lambda_per_group": (
        "LambdaLR",
        dict(lr_lambda=[lambda epoch: 1 / (1 + epoch), lambda epoch: 0.7 ** (epoch // 2)]),
        "SGD",
        True,
    ),
    "onecycle_sgd": ("OneCycleLR", dict(max_lr=1.0, total_steps=20), "SGD", True),
    "onecycle_adam_three_phase_linear": (
        "OneCycleLR",
        dict(max_lr=[0.1, 0.2], total_steps=20, three_phase=True, anneal_strategy="linear"),
        "Adam",
        True,
    ),
    "onecycle_epochs": (
        "OneCycleLR",
        dict(
            max_lr=0.3,
            epochs=4,
            steps_per_epoch=5,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
            base_momentum=[0.8, 0.7],
            max_momentum=0.9,
        ),
        "SGD",
        True,
    ),
    "onecycle_no_momentum": (
        "OneCycleLR",
        dict(max_lr=0.5, total_steps=20, cycle_momentum=False),
        "Adagrad",
        True,
    ),
    "plateau": ("ReduceLROnPlateau", dict(patience=1, cooldown=1, factor=0.5), "SGD", True),
    "plateau_max_abs": (
        "ReduceLROnPlateau",
        dict(mode="max", threshold=0.05, threshold_mode="abs", min_lr=[0.05, 0.02], patience=0),
        "SGD",
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_SCHEDULERS))
def test_scheduler_trajectories_match_torch(case: str) -> None:
    torch = pytest.importorskip("torch")
    name, kwargs, optimizer, exact = TORCH_SCHEDULERS[case]
    extra = {"momentum": 0.9} if optimizer == "SGD" else {}

    def groups(make: Any) -> list[dict[str, Any]]:
        return [{"params": [make()], "lr": 0.5}, {"params": [make()], "lr": 0.1}]

    opt = getattr(nn.optim, optimizer)(groups(lambda: nn.Parameter([1.0])), **extra)
    topt = getattr(torch.optim, optimizer)(
        groups(lambda: torch.nn.Parameter(torch.ones(1))), **extra
    )
    ours = getattr(nn.optim.lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)

    def check(step: int) -> None:
        for key in ("lr", "momentum", "betas"):
            mine = [g.get(key) for g in opt.param_groups]
            expected = [g.get(key) for g in topt.param_groups]
            if exact or key != "lr":
                assert mine == expected, (case, step, key)
            else:
                assert mine == pytest.approx(expected, rel=1e-12), (case, step, key)
        assert ours.get_last_lr() == [g["lr"] for g in opt.param_groups]
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=0 if exact else 1e-12)

    check(0)
    for step, metric in enumerate(METRICS, start=1):
        opt.step()
        topt.step()
        if name == "ReduceLROnPlateau":
            ours.step(metric)
            theirs.step(metric)
        else:
            ours.step()
            theirs.step()
        check(step)
    if name == "OneCycleLR":
        with pytest.raises(ValueError, match="stepped 21 times, but total_steps is 20"):
            ours.step()
