"""Run the benchmarks: `.venv/bin/python -m benchmarks.run [--threads N] [--only NAME ...]
[--malloc keep|default]`.

BLAS is pinned to one thread by default (set before numpy is imported), glibc keeps freed
memory for every contender (see benchmarks/timing.py; `--malloc default` measures glibc's
default instead), every timing is a median of interleaved rounds, and the results go to
benchmarks/results/ as JSON and a plot.
"""

from __future__ import annotations

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
parser.add_argument(
    "--only",
    nargs="*",
    default=None,
    choices=[
        "overhead",
        "mlp_step",
        "deep_graph",
        "digits_training",
        "conv",
        "pooling",
        "cnn",
        "recurrent",
        "attention",
    ],
)
parser.add_argument(
    "--malloc",
    choices=["keep", "default"],
    default="keep",
    help="keep: glibc keeps freed memory for reuse (the default here); default: glibc's own",
)
parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
ARGS = parser.parse_args()
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(ARGS.threads)

from benchmarks.timing import keep_freed_memory, torch_or_none  # noqa: E402

# Once, before anything is allocated, for every contender (and deep_graph's child processes).
KEEPS_FREED_MEMORY = ARGS.malloc == "keep" and keep_freed_memory()

import json  # noqa: E402
import platform  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import (  # noqa: E402
    attention,
    cnn,
    conv,
    deep_graph,
    digits_training,
    mlp_step,
    overhead,
    pooling,
    recurrent,
)

BENCHMARKS = {
    "overhead": overhead.run,
    "mlp_step": mlp_step.run,
    "digits_training": digits_training.run,
    "deep_graph": deep_graph.run,
    "conv": conv.run,
    "pooling": pooling.run,
    "cnn": cnn.run,
    "recurrent": recurrent.run,
    "attention": attention.run,
}


def machine() -> dict[str, Any]:
    torch: Any = torch_or_none()
    if torch is not None:
        torch.set_num_threads(ARGS.threads)
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pytorch": getattr(torch, "__version__", None),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "threads": ARGS.threads,
        "malloc": "glibc keeps freed memory" if KEEPS_FREED_MEMORY else "default",
    }


def print_table(name: str, results: dict[str, Any]) -> None:
    print(f"\n== {name} ==")
    for group, value in results.items():
        nested = all(isinstance(v, dict) for v in value.values())
        entries = value.items() if nested else [(None, value)]
        for contender, metrics in entries:
            label = group if contender is None else f"{group:6s} {contender}"
            cells = "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
            )
            print(f"  {label:34s} {cells}")


def plot(results: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars: list[tuple[str, float]] = []
    for dtype, entries in results.get("mlp_step", {}).items():
        bars += [(f"MLP step {dtype}\n{name}", e["ratio_to_numpy"]) for name, e in entries.items()]
    for name, entry in results.get("digits_training", {}).items():
        bars.append((f"digits training\n{name}", entry["ratio_to_numpy"]))
    if not bars:
        return
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.5))
    ax.barh([b[0] for b in bars], [b[1] for b in bars], color="#4c72b0")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.axvline(1.1, color="#c44e52", linestyle="--", label="target 1.10x (MLP step)")
    ax.set_xlabel("time relative to hand-written numpy (lower is better)")
    ax.set_title(f"autograd_core benchmarks ({ARGS.threads} BLAS thread(s))")
    ax.invert_yaxis()
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    selected = ARGS.only or list(BENCHMARKS)
    results: dict[str, Any] = {"machine": machine()}
    print("machine:", results["machine"])
    for name in selected:
        results[name] = BENCHMARKS[name]()
        print_table(name, results[name])
    os.makedirs(ARGS.out, exist_ok=True)
    partial = "-partial" if ARGS.only else ""  # a full run's file always holds one whole run
    malloc = "" if ARGS.malloc == "keep" else "-malloc-default"
    stem = os.path.join(ARGS.out, f"results-{ARGS.threads}thread{malloc}{partial}")
    with open(stem + ".json", "w") as handle:
        json.dump(results, handle, indent=2)
    plot(results, stem + ".png")
    print(f"\nwrote {stem}.json and {stem}.png")


if __name__ == "__main__":
    sys.exit(main())
