"""Print the README's benchmark table from a results file:
`.venv/bin/python -m benchmarks.report [benchmarks/results/results-1thread.json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).parent / "results" / "results-1thread.json"


def _step(entry: dict[str, Any] | None) -> str:
    return "" if entry is None else f"{entry['ms']:.2f} ms ({entry['ratio_to_numpy']:.2f}x)"


def _deep(entry: dict[str, Any] | None) -> str:
    if entry is None or "error" in entry:
        return ""
    return f"{entry['total_us_per_node']:.1f} us, {entry['peak_bytes_per_node']:.0f} B"


def _digits(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    return (
        f"{entry['seconds']:.3f} s, {entry['ratio_to_numpy']:.2f}x ({entry['test_accuracy']:.1%})"
    )


def _vs_torch(entry: dict[str, Any] | None, unit: str = "ms") -> str:
    if entry is None:
        return ""
    scale = {"ms": 1.0, "us": 1e-3}[unit]
    ratio = entry.get("ratio_to_pytorch")
    return f"{entry[unit] * scale:.2f} ms" + ("" if ratio is None else f" ({ratio:.2f}x)")


def cnn_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The convolutional workloads, as time and ratio to PyTorch (the issue's reference)."""
    rows = []
    if "conv" in results:
        conv = results["conv"]
        rows.append(
            (
                "conv layer fwd+bwd, batch 64, 6x12x12 -> 16 ch, 5x5, float32; ratios to PyTorch",
                _vs_torch(conv["ours"]),
                _vs_torch(conv.get("pytorch")),
                f"{_vs_torch(conv['numpy by hand'])}, textbook im2col",
            )
        )
    if "pooling" in results:
        pool = results["pooling"]["max 2x2, 64x16x8x8"]
        rows.append(
            (
                "max pool 2x2 fwd+bwd, 64x16x8x8, float32; ratios to PyTorch",
                _vs_torch(pool["ours"], "us"),
                _vs_torch(pool.get("pytorch"), "us"),
                f"reshape + `max`: {_vs_torch(pool['reshape + max'], 'us')}",
            )
        )
    for name, label in (
        ("LeNet-5, batch 64, 1x28x28, SGD", "LeNet-5 training step, batch 64, 1x28x28, SGD"),
        ("digits CNN, batch 32, 1x8x8, Adam", "digits CNN (demo's) step, batch 32, 1x8x8, Adam"),
    ):
        entry = results.get("cnn", {}).get(name)
        if entry is not None:
            rows.append(
                (
                    f"{label}, float32; ratios to PyTorch",
                    _vs_torch(entry["ours"]),
                    _vs_torch(entry.get("pytorch")),
                    "",
                )
            )
    return rows


def sequence_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The recurrent and attention workloads, as time and ratio to PyTorch."""
    rows = []
    for name in ("RNN", "LSTM", "GRU"):
        entry = results.get("recurrent", {}).get(f"{name}, seq 32, batch 16, 64 -> 64")
        if entry is not None:
            by_hand = entry.get("numpy by hand")
            rows.append(
                (
                    f"`nn.{name}` fwd+bwd, seq 32, batch 16, 64 -> 64, float32; ratios to PyTorch",
                    _vs_torch(entry["ours"]),
                    _vs_torch(entry.get("pytorch")),
                    f"{_vs_torch(by_hand)}, BPTT by hand" if by_hand else "",
                )
            )
    for name, label in (
        ("MultiheadAttention causal, 16x32x64, 4 heads", "`MultiheadAttention` causal, 4 heads,"),
        ("TransformerEncoderLayer(64, 4, 128), 16x32x64", "`TransformerEncoderLayer(64, 4, 128)`"),
    ):
        entry = results.get("attention", {}).get(name)
        if entry is not None:
            rows.append(
                (
                    f"{label} fwd+bwd on 16x32x64, float32; ratios to PyTorch",
                    _vs_torch(entry["ours"], "us"),
                    _vs_torch(entry.get("pytorch"), "us"),
                    "",
                )
            )
    return rows


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    mlp, op = results["mlp_step"], results["overhead"]
    deep, digits = results["deep_graph"], results["digits_training"]
    rows = [
        (
            "MLP step 784-256-128-10, batch 128, float32",
            _step(mlp["float32"]["ours"]),
            _step(mlp["float32"].get("pytorch")),
            f"{_step(mlp['float32']['numpy by hand'])}; matmuls alone "
            f"{mlp['float32']['matmuls only (floor)']['ratio_to_numpy']:.2f}x",
        ),
        (
            "MLP step, float64",
            _step(mlp["float64"]["ours"]),
            _step(mlp["float64"].get("pytorch")),
            f"{_step(mlp['float64']['numpy by hand'])}; matmuls alone "
            f"{mlp['float64']['matmuls only (floor)']['ratio_to_numpy']:.2f}x",
        ),
        (
            "per op, `x * 1.0001 + 0.0001`, forward + backward",
            f"{op['ours']['us_per_op']:.2f} us",
            f"{op.get('pytorch', {}).get('us_per_op', 0):.2f} us",
            f"{op['numpy (no autodiff)']['us_per_op']:.2f} us (no autodiff)",
        ),
        (
            "per op under `no_grad`",
            f"{op['ours no_grad']['us_per_op']:.2f} us",
            f"{op.get('pytorch no_grad', {}).get('us_per_op', 0):.2f} us",
            "",
        ),
        (
            "chain 1,000,000 ops deep: time and peak memory per node",
            _deep(deep.get("ours")),
            _deep(deep.get("pytorch")),
            "",
        ),
        (
            "digits 64-64-10, SGD, 20 epochs, float32 (test accuracy)",
            _digits(digits["ours"]),
            _digits(digits.get("pytorch")),
            _digits(digits["numpy by hand"]),
        ),
        *cnn_rows(results),
        *sequence_rows(results),
    ]
    malloc = {"glibc keeps freed memory": ", glibc keeping freed memory"}.get(
        m.get("malloc", ""), ", glibc's default malloc"
    )
    lines = [
        f"One run: {m['cores']} cores, {m['cpu']}, Python {m['python']}, numpy {m['numpy']}, "
        f"PyTorch {m['pytorch']}, {m['threads']} BLAS thread(s){malloc}.",
        "",
        "| workload | ours | PyTorch | hand-written numpy |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    print(table(json.loads(path.read_text())))
