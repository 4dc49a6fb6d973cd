"""`fit`, `evaluate` and `predict`: the usual loop, written once.

The plain loop stays first-class and is what `fit` runs for every batch::

    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

The default metrics follow the task the loss names: accuracy for classification (argmax over
the classes for CrossEntropyLoss and NLLLoss, logits > 0 for BCEWithLogitsLoss, probabilities
> 0.5 for BCELoss), none for regression losses. Without a known loss (a plain function, or
`evaluate` without one), integer targets with one more output axis read as classes.

tqdm and matplotlib are imported only when a progress bar or a plot is made.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn import functional as F
from nn import losses
from nn.module import Module
from nn.optim.lr_scheduler import ReduceLROnPlateau

Metric = Callable[[np.ndarray, Any], float]
Metrics = Sequence[str | Metric] | Mapping[str, Metric] | str | None


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def accuracy(output: np.ndarray, target: Any) -> float:
    """Share of samples whose largest output over the classes (axis 1, as CrossEntropyLoss:
    (N, C) or (N, C, d...)) is the target class; targets are class indices (N, d...) or class
    probabilities of the output's shape. For one output per sample use `binary_accuracy`."""
    output, target = np.asarray(output), _array(target)
    if output.ndim >= 2 and target.shape == output.shape:  # probabilities (or one-hot)
        target = target.argmax(axis=1)
    expected = output.shape[:1] + output.shape[2:]
    if output.ndim < 2 or output.shape[1] < 2 or target.shape != expected:
        raise ValueError(
            f"accuracy: expected outputs (N, C, ...) with C >= 2 classes and class targets of "
            f"shape {expected}, got outputs {output.shape} and targets {target.shape} (for one "
            f"output per sample use binary_accuracy)"
        )
    return float(np.mean(output.argmax(axis=1) == target))


def binary_accuracy(output: np.ndarray, target: Any, threshold: float = 0.0) -> float:
    """Share of outputs on the right side of `threshold` for 0/1 targets: 0 for logits
    (BCEWithLogitsLoss), 0.5 for probabilities (BCELoss)."""
    output, target = np.asarray(output), _array(target)
    if output.size != target.size:
        raise ValueError(
            f"binary_accuracy: expected one output per target, got outputs {output.shape} and "
            f"targets {target.shape}"
        )
    return float(np.mean((output.reshape(target.shape) > threshold) == (target > 0.5)))


METRICS: dict[str, Metric] = {"accuracy": accuracy, "binary_accuracy": binary_accuracy}
"""Metrics by name. "accuracy" in `fit` and `evaluate` is read for the task (see TASKS)."""

TASKS: dict[Any, str] = {
    losses.CrossEntropyLoss: "classes",
    losses.NLLLoss: "classes",
    F.cross_entropy: "classes",
    F.nll_loss: "classes",
    losses.BCEWithLogitsLoss: "logits",
    F.binary_cross_entropy_with_logits: "logits",
    losses.BCELoss: "probabilities",
    F.binary_cross_entropy: "probabilities",
    losses.MSELoss: "regression",
    losses.L1Loss: "regression",
    losses.HuberLoss: "regression",
    F.mse_loss: "regression",
    F.l1_loss: "regression",
    F.huber_loss: "regression",
}
"""What a loss (module class or function) says its model's outputs are: scores per class on
axis 1, one logit or one probability per target, or regression values."""

_ACCURACY: dict[str, Metric] = {
    "classes": accuracy,
    "logits": binary_accuracy,
    "probabilities": functools.partial(binary_accuracy, threshold=0.5),
}


def loss_task(loss_fn: Any) -> str | None:
    """The task of a loss from TASKS (its class or function), or None if it is not listed."""
    for key, task in TASKS.items():
        if loss_fn is key or (isinstance(key, type) and isinstance(loss_fn, key)):
            return task
    return None


def _batch_task(output: np.ndarray, target: Any) -> str | None:
    """The task a batch shows without a known loss: integer targets with one more output axis
    (the classes) are class labels; anything else is not decided."""
    target = _array(target)
    if target.dtype.kind in "iu" and output.ndim == target.ndim + 1:
        return "classes"
    return None


@dataclass
class EarlyStopping:
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs;
    with `restore_best`, put back the parameters of the best epoch."""

    patience: int = 5
    monitor: str = "val_loss"
    mode: str = "min"
    min_delta: float = 0.0
    restore_best: bool = True
    best: float = field(default=float("nan"), init=False)
    best_epoch: int = field(default=-1, init=False)
    best_state: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    def improved(self, value: float) -> bool:
        if np.isnan(self.best):
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class History:
    """Per-epoch metrics of a `fit`: `history["loss"]`, `history["val_accuracy"]`, ...

    `history.history` is the dict of lists (as Keras), `history.epochs` the epoch numbers.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}

    def append(self, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.history.get("loss", []))

    def keys(self) -> Iterable[str]:
        return self.history.keys()

    @property
    def epochs(self) -> list[int]:
        return list(range(1, len(self) + 1))

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self)} epochs; last: {last})"

    def plot(self, path: str | Path | None = None, title: str | None = None) -> Any:
        """One panel per metric (training and validation curves together); saved as an image
        when `path` is given. Returns the matplotlib Figure (needs no display)."""
        from matplotlib.figure import Figure

        names = [k for k in self.history if not k.startswith("val_") and k != "lr"]
        fig = Figure(figsize=(5 * max(len(names), 1), 3.6), layout="constrained")
        axes = fig.subplots(1, max(len(names), 1), squeeze=False)[0]
        for ax, name in zip(axes, names, strict=False):
            ax.plot(self.epochs, self.history[name], marker=".", label=f"train {name}")
            if f"val_{name}" in self.history:
                ax.plot(self.epochs, self.history[f"val_{name}"], marker=".", label=f"val {name}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        if path is not None:
            fig.savefig(path, dpi=110)
        return fig


def _split(batch: Any) -> tuple[tuple[Any, ...], Any]:
    """(inputs..., target) from a batch; a lone tensor is an input without a target."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return tuple(batch), None
        return tuple(batch[:-1]), batch[-1]
    return (batch,), None


def _metric_fns(
    metrics: Metrics, loss_fn: Any, output: np.ndarray, target: Any, where: str
) -> dict[str, Metric]:
    """The metric functions by name, for the task of the loss (or, without a known loss, of
    the first batch's `output` and `target`). "auto": accuracy for classification, nothing
    otherwise; "accuracy" where there are no classes to be right about is an error."""
    if isinstance(metrics, Mapping):
        return dict(metrics)
    task = loss_task(loss_fn) or _batch_task(output, target)
    if metrics == "auto":
        metrics = ("accuracy",) if task in _ACCURACY else ()
    elif isinstance(metrics, str):
        metrics = (metrics,)
    fns: dict[str, Metric] = {}
    for metric in metrics or ():
        if metric == "accuracy":
            fns["accuracy"] = _task_accuracy(task, loss_fn, output, target, where)
        elif isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(
                    f"{where}: unknown metric {metric!r}; choose from {sorted(METRICS)}"
                )
            fns[metric] = METRICS[metric]
        else:
            fns[getattr(metric, "__name__", f"metric{len(fns)}")] = metric
    return fns


def _task_accuracy(
    task: str | None, loss_fn: Any, output: np.ndarray, target: Any, where: str
) -> Metric:
    if task in _ACCURACY:
        return _ACCURACY[task]
    if task == "regression":
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        reason = f"{name} is a regression loss"
    else:
        reason = (
            f"neither the loss nor outputs of shape {output.shape} with targets of shape "
            f"{_array(target).shape} show classes"
        )
    raise ValueError(
        f"{where}: 'accuracy' needs a classification task, but {reason}; pass metrics=None "
        f"(the loss only), 'binary_accuracy' (logits) or a function (output array, target) "
        f"-> float"
    )


def _batch_size(inputs: tuple[Any, ...]) -> int:
    first = inputs[0]
    return len(first) if getattr(first, "ndim", 1) > 0 else 1


def evaluate(
    model: Module,
    loader: Iterable[Any],
    loss_fn: Callable[..., Tensor] | None = None,
    metrics: Metrics = "auto",
) -> dict[str, float]:
    """Mean loss and metrics over a loader, in eval mode and without recording a graph
    (the model's mode is restored afterwards). `metrics` as in `fit`."""
    fns: dict[str, Metric] | None = None
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    count = 0
    try:
        with ag.no_grad():
            for batch in loader:
                inputs, target = _split(batch)
                out = model(*inputs)
                n = _batch_size(inputs)
                count += n
                if loss_fn is not None:
                    totals["loss"] = totals.get("loss", 0.0) + n * loss_fn(out, target).item()
                if fns is None:
                    fns = _metric_fns(metrics, loss_fn, out.data, target, "evaluate")
                for name, fn in fns.items():
                    totals[name] = totals.get(name, 0.0) + n * fn(out.data, target)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {name: total / count for name, total in totals.items()}


def predict(model: Module, data: Any, batch_size: int = 256) -> np.ndarray:
    """The model's outputs as a numpy array, in eval mode without a graph; `data` is an
    array/Tensor of inputs or a loader (whose batches' first entries are the inputs). No
    inputs give the model's output for an empty batch: shape (0, ...), as the model makes it."""
    if batch_size < 1:
        raise ValueError(f"predict: batch_size must be positive, got {batch_size}")
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with ag.no_grad():
            if isinstance(data, (np.ndarray, Tensor, list)):
                array = data.data if isinstance(data, Tensor) else np.asarray(data)
                for start in range(0, max(len(array), 1), batch_size):
                    outputs.append(model(Tensor(array[start : start + batch_size])).data)
            else:
                for batch in data:
                    inputs, _ = _split(batch)
                    outputs.append(model(*inputs).data)
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict: the loader yielded no batches (the output shape is unknown)")
    return np.concatenate(outputs)


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled or not sys.stdout.isatty():
        return None
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - tqdm is a dependency; degrade quietly
        return None
    return tqdm(total=total, unit="batch", leave=True)


def fit(
    model: Module,
    loss_fn: Callable[..., Tensor],
    optimizer: Any,
    train_loader: Iterable[Any],
    epochs: int,
    val_loader: Iterable[Any] | None = None,
    metrics: Metrics = "auto",
    scheduler: Any = None,
    early_stopping: int | EarlyStopping | None = None,
    progress: bool = True,
    clip_grad_norm: float | None = None,
) -> History:
    """Train for `epochs` passes over `train_loader` and return the per-epoch History.

    Each epoch records the mean training loss and `metrics`, the same on `val_loader`
    prefixed `val_`, and `lr`. `metrics` lists names from METRICS and functions
    `(output array, target) -> float` (or is a dict of them by name); the default "auto" is
    accuracy for a classification loss (see TASKS) and nothing else: regression records
    only the loss, and "accuracy" with a regression loss is an error.
    `scheduler.step()` runs after each epoch (`ReduceLROnPlateau` steps on the validation
    loss, or the training loss without a validation loader). `early_stopping` is a patience
    (monitoring val_loss, or loss without a val_loader) or an `EarlyStopping`. The tqdm progress bar
    shows the live loss; it is silent when `progress=False` or stdout is not a terminal.
    """
    if epochs < 0:
        raise ValueError(f"fit: epochs must be non-negative, got {epochs}")
    fns: dict[str, Metric] | None = None
    stopper = (
        EarlyStopping(patience=early_stopping)
        if isinstance(early_stopping, int)
        else (early_stopping)
    )
    if stopper is not None and val_loader is None and stopper.monitor.startswith("val_"):
        stopper.monitor = stopper.monitor[len("val_") :]
    history = History()
    try:
        per_epoch = len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        per_epoch = 0
    bar = _progress_bar(per_epoch * epochs, progress)
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            totals: dict[str, float] = {}
            count = 0
            for batch in train_loader:
                inputs, target = _split(batch)
                out = model(*inputs)
                loss = loss_fn(out, target)
                if fns is None:  # the task is known by now (from the loss, or this batch)
                    fns = _metric_fns(metrics, loss_fn, out.data, target, "fit")
                optimizer.zero_grad()
                loss.backward()
                if clip_grad_norm is not None:
                    from nn.utils import clip_grad_norm_

                    clip_grad_norm_(
                        [p for g in optimizer.param_groups for p in g["params"]], clip_grad_norm
                    )
                optimizer.step()
                n = _batch_size(inputs)
                count += n
                value = loss.item()
                totals["loss"] = totals.get("loss", 0.0) + n * value
                for name, fn in fns.items():
                    totals[name] = totals.get(name, 0.0) + n * fn(out.data, target)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({"epoch": f"{epoch}/{epochs}", "loss": f"{value:.4f}"})
            if count == 0:
                raise ValueError("fit: the training loader yielded no batches")
            record = {name: total / count for name, total in totals.items()}
            if val_loader is not None:
                scores = evaluate(model, val_loader, loss_fn, fns)
                record.update({f"val_{k}": v for k, v in scores.items()})
            record["lr"] = float(optimizer.param_groups[0]["lr"])
            history.append(record)
            if bar is not None:  # the epoch's means: loss, then the validation scores
                shown = {"epoch": f"{epoch}/{epochs}", "loss": f"{record['loss']:.4f}"}
                shown.update({k: f"{v:.4f}" for k, v in record.items() if k.startswith("val_")})
                bar.set_postfix(shown)
            if isinstance(scheduler, ReduceLROnPlateau):  # it steps on a metric
                scheduler.step(record.get("val_loss", record["loss"]))
            elif scheduler is not None:
                scheduler.step()
            if stopper is not None and _should_stop(stopper, record, model, epoch):
                break
    finally:
        if bar is not None:
            bar.close()
    if stopper is not None and stopper.restore_best and stopper.best_state is not None:
        model.load_state_dict(stopper.best_state)
    return history


def _should_stop(
    stopper: EarlyStopping, record: dict[str, float], model: Module, epoch: int
) -> bool:
    if stopper.monitor not in record:
        raise ValueError(
            f"early stopping monitors {stopper.monitor!r}, but the epoch recorded only "
            f"{sorted(record)}"
        )
    value = record[stopper.monitor]
    if stopper.improved(value):
        stopper.best, stopper.best_epoch = value, epoch
        if stopper.restore_best:
            stopper.best_state = model.state_dict()
        return False
    return epoch - stopper.best_epoch >= stopper.patience
