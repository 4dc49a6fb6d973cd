"""Training steps of two convolutional networks, float32, against the same networks written in
PyTorch, from the same initial weights, on the same batch, with the same optimizer. A step is
zero grad, forward, loss, backward and the optimizer's step.

- "LeNet-5": `nn.models.LeNet5` on a batch of 64 MNIST-sized 1x28x28 images (random pixels
  and labels: the time does not depend on them), SGD with momentum.
- "digits CNN": demo.py's `lenet_style()` network (two 3x3 convolutions, each with
  BatchNorm2d, ReLU and 2x2 max pooling, then Linear(128, 64), ReLU, Linear(64, 10)) on a
  batch of 32 bundled digits as 1x8x8 images, Adam as in the demo.

Before timing, both networks' losses on the batch must agree (they are the same network).
`profile()` splits a step's time by operation, ours by primitive (its forward and its
backward rules, each op's own time) and PyTorch's by aten op (its profiler). Alone:
`.venv/bin/python -m benchmarks.cnn [--profile]` (glibc keeps freed memory, as in
`benchmarks.run`; KEEP_FREED_MEMORY=0 for its default).
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # pin BLAS and OpenMP to one thread before numpy loads
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import autograd_core as ag
import nn
from autograd_core.engine import PRIMITIVES
from benchmarks.timing import (
    cpu_clock,
    interleaved,
    page_faults_per_call,
    prepare_standalone_run,
    torch_or_none,
)


def _digits_network() -> nn.Module:
    from demo import lenet_style  # the demo's network itself, so the two cannot drift apart

    return lenet_style()


def _torch_lenet5(torch: Any) -> Any:
    """nn.models.LeNet5 in PyTorch, with the same parameter names."""
    tnn, functional = torch.nn, torch.nn.functional

    class TorchLeNet5(tnn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = tnn.Conv2d(6, 16, 5, padding=2)
            self.fc1, self.fc2 = tnn.Linear(400, 120), tnn.Linear(120, 84)
            self.fc3 = tnn.Linear(84, 10)

        def forward(self, x: Any) -> Any:
            x = functional.max_pool2d(functional.relu(self.conv1(x)), 2)
            x = functional.max_pool2d(functional.relu(self.conv2(x)), 2)
            x = torch.flatten(functional.adaptive_avg_pool2d(x, (5, 5)), 1)
            return self.fc3(functional.relu(self.fc2(functional.relu(self.fc1(x)))))

    return TorchLeNet5()


def _torch_digits_network(torch: Any) -> Any:
    """demo.py's lenet_style() in PyTorch: a Sequential with the same layer numbers."""
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 16, 3, padding=1),
        tnn.BatchNorm2d(16),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(16, 32, 3, padding=1),
        tnn.BatchNorm2d(32),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(32 * 2 * 2, 64),
        tnn.ReLU(),
        tnn.Linear(64, 10),
    )


def _lenet_batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)


def _digits_batch() -> tuple[np.ndarray, np.ndarray]:
    features, labels = nn.datasets.load_digits()
    chosen = np.random.default_rng(0).permutation(len(labels))[:32]
    images = (np.asarray(features, dtype=np.float32)[chosen] / 16.0).reshape(-1, 1, 8, 8)
    return images.astype(np.float32), np.asarray(labels, dtype=np.int64)[chosen]


# name -> (our network, the same in PyTorch, the batch, optimizer name and arguments)
WORKLOADS: dict[str, tuple[Callable[[], Any], Callable[[Any], Any], Callable[[], Any], Any]] = {
    "LeNet-5, batch 64, 1x28x28, SGD": (
        nn.models.LeNet5,
        _torch_lenet5,
        _lenet_batch,
        ("SGD", {"lr": 0.01, "momentum": 0.9}),
    ),
    "digits CNN, batch 32, 1x8x8, Adam": (
        _digits_network,
        _torch_digits_network,
        _digits_batch,
        ("Adam", {"lr": 3e-3}),
    ),
}


class TrainingStep:
    """One training step, the same code for ours and PyTorch (the same method names):
    calling it runs a step and returns the loss; `phases()` runs one and times its parts."""

    def __init__(self, model: Any, optimizer: Any, loss_fn: Any, inputs: Any, labels: Any) -> None:
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.inputs, self.labels = inputs, labels

    def __call__(self) -> float:
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.inputs), self.labels)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def phases(self) -> dict[str, float]:
        """Seconds spent in zero grad, forward (with the loss), backward and the step."""
        clock = cpu_clock()
        times = [clock()]
        self.optimizer.zero_grad()
        times.append(clock())
        loss = self.loss_fn(self.model(self.inputs), self.labels)
        times.append(clock())
        loss.backward()
        times.append(clock())
        self.optimizer.step()
        times.append(clock())
        names = ("zero grad", "forward + loss", "backward", "optimizer step")
        return {name: b - a for name, a, b in zip(names, times, times[1:], strict=False)}


def contenders(name: str) -> dict[str, TrainingStep]:
    """Fresh training steps of workload `name`: ours, and PyTorch's when installed, set to
    the same initial weights (ours, seeded, copied into PyTorch's network)."""
    make_ours, make_theirs, make_batch, (optimizer, options) = WORKLOADS[name]
    images, labels = make_batch()
    nn.manual_seed(0)
    ours = make_ours().float()
    steps = {
        "ours": TrainingStep(
            ours,
            getattr(nn.optim, optimizer)(ours.parameters(), **options),
            nn.CrossEntropyLoss(),
            ag.Tensor(images),
            labels,
        )
    }
    torch: Any = torch_or_none()
    if torch is not None:
        theirs = make_theirs(torch)
        state = ours.state_dict()
        theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
        steps["pytorch"] = TrainingStep(
            theirs,
            getattr(torch.optim, optimizer)(theirs.parameters(), **options),
            torch.nn.CrossEntropyLoss(),
            torch.from_numpy(images),
            torch.from_numpy(labels),
        )
        first = {contender: step() for contender, step in steps.items()}  # the same network?
        if not np.isclose(first["ours"], first["pytorch"], rtol=1e-4):
            raise RuntimeError(f"{name}: the first losses differ: {first}")
    return steps


def run(rounds: int = 60) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in WORKLOADS:
        steps = contenders(name)
        medians = interleaved(steps, rounds if "LeNet" in name else 4 * rounds)
        base = medians.get("pytorch")
        results[name] = {
            contender: {"ms": seconds * 1e3}
            | ({"ratio_to_pytorch": seconds / base} if base else {})
            | {"page_faults_per_step": page_faults_per_call(steps[contender])}
            for contender, seconds in medians.items()
        }
    return results


# --------------------------------------------------------------------------------------------
# Where the time goes
# --------------------------------------------------------------------------------------------


@contextmanager
def _timing_primitives(spent: dict[str, float]) -> Iterator[None]:
    """While active, every primitive's forward and backward rules add their own time (their
    time minus that of the primitives they call) to `spent`, under "<op>" and "<op> backward"."""
    clock = cpu_clock()
    children = [0.0]  # time of the calls made inside each open call

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            children.append(0.0)
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = clock() - start
                spent[label] = spent.get(label, 0.0) + elapsed - children.pop()
                children[-1] += elapsed

        return wrapper

    def timed_rules(label: str, rules: Callable[[int], Any]) -> Callable[[int], Any]:
        return lambda argnum: timed(label, rules(argnum))

    saved = {name: (p.forward, p.fused_vjp) for name, p in PRIMITIVES.items()}
    for name, prim in PRIMITIVES.items():
        prim.forward = timed(name, prim.forward)
        if prim.fused_vjp is not None:
            prim.fused_vjp = timed(f"{name} backward", prim.fused_vjp)
        # an instance attribute shadowing the method, deleted again below
        prim.vjp_rule = timed_rules(f"{name} backward", prim.vjp_rule)  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        for name, prim in PRIMITIVES.items():
            prim.forward, prim.fused_vjp = saved[name]
            del prim.vjp_rule


def _profile_ours(step: TrainingStep, steps: int) -> dict[str, float]:
    clock = cpu_clock()
    spent: dict[str, float] = {}
    with _timing_primitives(spent):
        step()  # warm-up
        spent.clear()
        start = clock()
        for _ in range(steps):
            step()
        total = clock() - start
    ms = {label: seconds / steps * 1e3 for label, seconds in spent.items()}
    outside = "(outside primitives: modules, the sweep, optimizer, work before a primitive)"
    ms[outside] = total / steps * 1e3 - sum(ms.values())
    return ms


def _profile_torch(torch: Any, step: TrainingStep, steps: int) -> dict[str, float]:
    step()  # warm-up
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    return {e.key: e.self_cpu_time_total / steps / 1e3 for e in prof.key_averages()}


def _phases(steps: dict[str, TrainingStep], rounds: int) -> dict[str, dict[str, float]]:
    """Median ms of each phase of a step, contenders interleaved round by round."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            samples[name].append(step.phases())
    return {
        name: {phase: statistics.median(s[phase] for s in runs) * 1e3 for phase in runs[0]}
        for name, runs in samples.items()
    }


def profile(rounds: int = 40, top: int = 8) -> dict[str, Any]:
    """Where a step's time goes, in ms per step: its phases (median of interleaved rounds),
    and by op (ours: each primitive's forward and backward rules, their own time; PyTorch:
    its profiler's self time per aten op), the `top` largest. Timing each op costs a little,
    so the ops' totals exceed an untimed step. Work a public function does before calling
    its primitive counts as outside primitives (e.g. max_pool2d's search for each window's
    first maximum: about 1.6 ms of a LeNet-5 step, 0.8 ms per pool)."""
    torch: Any = torch_or_none()
    results: dict[str, Any] = {}
    for name in WORKLOADS:
        steps = contenders(name)
        by_op = {"ours": _profile_ours(steps["ours"], rounds)}
        if torch is not None:
            by_op["pytorch"] = _profile_torch(torch, steps["pytorch"], rounds)
        results[name] = {
            "phases": _phases(steps, rounds),
            "by op": {
                contender: dict(sorted(ms.items(), key=lambda item: -item[1])[:top])
                | {"(total)": sum(ms.values())}
                for contender, ms in by_op.items()
            },
        }
    return results


if __name__ == "__main__":
    import sys

    prepare_standalone_run()
    for workload, entries in run().items():
        print(workload)
        for contender, figures in entries.items():
            print(f"  {contender:8s}", "  ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    if "--profile" in sys.argv:
        for workload, parts in profile().items():
            print(f"\n{workload}: phases, ms per step")
            for contender, ms in parts["phases"].items():
                print(f"  {contender:8s}", "  ".join(f"{k} {v:.3f}" for k, v in ms.items()))
            for contender, ms in parts["by op"].items():
                print(f"{workload}: {contender} by op, ms per step")
                for label, value in ms.items():
                    print(f"  {value:7.3f}  {label}")
