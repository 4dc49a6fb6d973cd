"""Optimizers with PyTorch's exact update formulas.

Each `step()` runs under `no_grad` and updates `p.data` in place (its dtype kept), reading
`p.grad`; parameters whose grad is None are skipped. Parameters come as an iterable of
tensors that require grad, or as a list of parameter groups (dicts with "params" and any
hyperparameters overriding the defaults).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor


class Optimizer:
    """Base class: parameter groups, per-parameter state, `zero_grad`, `state_dict`."""

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of tensors (e.g. model.parameters()), "
                "got a single Tensor"
            )
        items = list(params)
        if not items:
            raise ValueError(f"{name} got an empty parameter list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        seen: set[int] = set()
        for group in groups:
            if not isinstance(group, dict):
                raise TypeError(f"{name}: mix of parameter groups and tensors in params")
            group = {**defaults, **group}
            group["params"] = list(group["params"])
            for i, p in enumerate(group["params"]):
                if not isinstance(p, Tensor):
                    raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor")
                if not p.requires_grad or not p.is_leaf:
                    raise ValueError(
                        f"{name}: parameter {i} (shape {p.shape}) must be a leaf tensor with "
                        "requires_grad=True"
                    )
                if id(p) in seen:
                    raise ValueError(f"{name}: parameter {i} (shape {p.shape}) appears twice")
                seen.add(id(p))
            lr = group.get("lr", 0.0)
            if isinstance(lr, (int, float)) and lr < 0:
                raise ValueError(f"{name}: invalid learning rate {group['lr']}")
            self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (before the next backward)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor(np.zeros_like(p.data))

    def step(self) -> None:
        all_state, update = self.state, self._update
        with ag.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    data, grad = p.data, p.grad.data
                    if grad.dtype != data.dtype:
                        grad = grad.astype(data.dtype)
                    state = all_state.get(id(p))
                    if state is None:
                        state = all_state[id(p)] = {}
                    update(data, grad, state, group)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    # -- saving -----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: array or number}}, "param_groups": [{..., "params":
        [index, ...]}]}: parameters numbered by position across the groups, as PyTorch, so a
        fresh optimizer over a model of the same layout can load it. Arrays are copies."""
        index, groups, state = 0, [], {}
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if id(p) in self.state:
                    state[index] = {
                        k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
                        for k, v in self.state[id(p)].items()
                    }
                ids.append(index)
                index += 1
            hyper = copy.deepcopy({k: v for k, v in group.items() if k != "params"})
            groups.append({**hyper, "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the hyperparameters and per-parameter state saved by `state_dict` (also
        after `nn.save`/`nn.load`). Saved parameter numbers map to this optimizer's
        parameters by position; everything is checked (group sizes, state shapes and
        dtypes) before anything changes. Arrays are copied and cast to their parameter's
        dtype."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            keys = list(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(f'{where}: expected {{"state", "param_groups"}}, got {keys}')
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(
            isinstance(g, Mapping) and isinstance(g.get("params"), (list, tuple)) for g in groups
        ):
            raise ValueError(f'{where}: "param_groups" must be a list of dicts with "params"')
        if len(groups) != len(self.param_groups) or any(
            len(g["params"]) != len(own["params"])
            for g, own in zip(groups, self.param_groups, strict=False)
        ):
            raise ValueError(
                f"{where}: the saved groups have {[len(g['params']) for g in groups]} "
                f"parameters, this optimizer {[len(g['params']) for g in self.param_groups]}"
            )
        for i, group in enumerate(groups):
            lacking = [k for k in self.defaults if k not in group]
            if lacking:
                raise ValueError(
                    f"{where}: saved param group {i} lacks {lacking} (the state of another "
                    "kind of optimizer?)"
                )
        by_index = {}
        for saved, own in zip(groups, self.param_groups, strict=True):
            for index, p in zip(saved["params"], own["params"], strict=True):
                if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                    raise ValueError(f"{where}: parameter number {index!r} is not an int")
                by_index[int(index)] = p
        if not isinstance(saved_state, Mapping):
            raise ValueError(f'{where}: "state" must be a dict, got {type(saved_state).__name__}')
        new_state: dict[int, dict[str, Any]] = {}
        for index, values in saved_state.items():
            numbered = isinstance(index, (int, np.integer)) and not isinstance(index, bool)
            p = by_index.get(int(index)) if numbered else None
            if p is None:
                raise ValueError(f"{where}: state for parameter {index!r}, which no group lists")
            if not isinstance(values, Mapping):
                raise ValueError(f"{where}: state of parameter {index} is not a dict")
            new_state[id(p)] = {
                k: _restored(f"{where}: state {k!r} of parameter {index}", v, p)
                for k, v in values.items()
            }
        for own, saved in zip(self.param_groups, groups, strict=True):
            own.update(copy.deepcopy({k: v for k, v in saved.items() if k != "params"}))
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def _restored(where: str, value: Any, p: Tensor) -> Any:
    """A saved state value checked against its parameter: an array of the parameter's shape
    (copied, cast to its dtype), a 0-d array, a number, or None."""
    if value is None or isinstance(value, (bool, int, float, np.number)):
        return value
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{where} is a {type(value).__name__}, not an array or a number")
    if value.dtype.kind not in "biuf":
        raise ValueError(f"{where} has dtype {value.dtype}, not a numeric one")
    if value.shape == ():
        return value.copy()
    if value.shape != p.shape:
        raise ValueError(f"{where} has shape {value.shape}, the parameter {p.shape}")
    return value.astype(p.dtype, copy=True)


def _check(name: str, **values: float) -> None:
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: invalid {key} {value} (must be >= 0)")


class SGD(Optimizer):
    """Stochastic gradient descent with momentum and weight decay (PyTorch's formulas):

    g = grad + weight_decay * p
    b = g (first step), else momentum * b + (1 - dampening) * g
    g = g + momentum * b (nesterov) or b
    p = p - lr * g
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
            weight_decay=weight_decay,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        d_p = grad
        if group["weight_decay"] != 0:
            d_p = d_p + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d_p, copy=True)
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * d_p
            d_p = d_p + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * d_p


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as PyTorch:

    g = grad + weight_decay * p                     (L2; AdamW decouples it instead)
    m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        name = type(self).__name__
        _check(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{name}: betas must be in [0, 1), got {betas}")
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )
        super().__init__(params, defaults)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, (beta1, beta2), eps, wd = (
            group["lr"],
            group["betas"],
            group["eps"],
            group["weight_decay"],
        )
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        step = state["step"]
        if wd != 0:
            if self._decoupled:
                p *= 1.0 - lr * wd
            else:
                grad = grad + wd * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (grad - m) * (1.0 - beta1)  # PyTorch's lerp
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        bias_correction1 = 1.0 - beta1**step
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        p -= (lr / bias_correction1) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): first
    p = p (1 - lr * weight_decay), then the Adam step on the plain gradient."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """RMSprop, as PyTorch: v = alpha v + (1 - alpha) g^2; p = p - lr g / (sqrt(v) + eps)
    (centered: v - mean(g)^2 under the root; momentum: a buffer of those steps)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        _check("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=centered,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (grad - grad_avg) * (1.0 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * grad / avg


class Adagrad(Optimizer):
    """Adagrad, as PyTorch: s = s + g^2; p = p - lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        _check(
            "Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
            initial_accumulator_value=initial_accumulator_value,
        )  # fmt: skip
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
            initial_accumulator_value=initial_accumulator_value,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        clr = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        p -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])
