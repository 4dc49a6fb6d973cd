"""Compare this working tree with an earlier commit, in one session, runs alternating:
`.venv/bin/python -m benchmarks.compare REF [--new REF2] [--repeats 3]` (REF: a commit, e.g.
HEAD~1; `--new` measures a second commit instead of the working tree, so it can be edited
meanwhile).

Each run is `benchmarks.run --only overhead mlp_step digits_training` in its own process,
so its ratios (to hand-written numpy, to PyTorch) are measured within that run, with glibc
keeping freed memory in both trees (its environment variables, as `benchmarks.run` does
since issue 15, so older commits are measured alike); the two
trees alternate run by run (which goes first alternates too: on a shared VM the second of
two back-to-back runs is often the slower), and the table shows the median of each ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.timing import KEEP_FREED_MEMORY_ENV

ROOT = Path(__file__).resolve().parent.parent


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """The figures the README's table holds as ratios (time relative to a baseline)."""
    mlp, op, digits = results["mlp_step"], results["overhead"], results["digits_training"]
    figures = {
        "MLP step float32 / numpy": mlp["float32"]["ours"]["ratio_to_numpy"],
        "MLP step float64 / numpy": mlp["float64"]["ours"]["ratio_to_numpy"],
        "digits training / numpy": digits["ours"]["ratio_to_numpy"],
        "per op fwd+bwd (us)": op["ours"]["us_per_op"],
        "per op no_grad (us)": op["ours no_grad"]["us_per_op"],
    }
    if "pytorch" in op:
        figures["per op / pytorch"] = op["ours"]["us_per_op"] / op["pytorch"]["us_per_op"]
    return figures


def run_in(tree: Path, out: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.run", "--out", str(out), "--only"]
    command += ["overhead", "mlp_step", "digits_training"]
    environment = os.environ | KEEP_FREED_MEMORY_ENV
    subprocess.run(command, cwd=tree, env=environment, check=True, capture_output=True)
    return ratios(json.loads((out / "results-1thread-partial.json").read_text()))


def checkout(ref: str, where: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(where), ref], cwd=ROOT, check=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ref", help="the commit to compare against")
    parser.add_argument("--new", default=None, help="a second commit (default: this tree)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"old": checkout(args.ref, Path(scratch) / "old")}
        trees["new"] = ROOT if args.new is None else checkout(args.new, Path(scratch) / "new")
        try:
            samples: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
            for k in range(args.repeats):
                order = list(trees.items())
                for label, tree in order if k % 2 == 0 else reversed(order):
                    samples[label].append(run_in(tree, Path(scratch) / f"{label}{k}"))
                    print(f"run {k + 1}/{args.repeats} {label}: {samples[label][-1]}")
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    new_label = args.new or "this tree"
    print(f"\n{'median of ' + str(args.repeats) + ' runs':34s} {args.ref:>12s} {new_label:>12s}")
    for key in samples["new"][0]:
        before = statistics.median(s[key] for s in samples["old"])
        after = statistics.median(s[key] for s in samples["new"])
        print(f"{key:34s} {before:12.3f} {after:12.3f}   ({after / before - 1:+.1%})")


if __name__ == "__main__":
    main()
