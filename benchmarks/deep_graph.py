"""A chain one million ops deep: forward, backward and free, each in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

DEPTH = 1_000_000

_CHILD = r"""
import json, resource, sys, time
import numpy as np
depth = int(sys.argv[1])
def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
if sys.argv[2] == "ours":
    import autograd_core as ag
    x = ag.Tensor(np.ones(4), requires_grad=True)
    seed = np.ones(4)
else:
    import torch
    torch.set_num_threads(1)
    x = torch.ones(4, dtype=torch.float64, requires_grad=True)
    seed = torch.ones(4, dtype=torch.float64)
base = rss_mb()
t0 = time.perf_counter()
y = x
for _ in range(depth):
    y = y * 1.0000001
t1 = time.perf_counter()
y.backward(seed)
t2 = time.perf_counter()
del y
t3 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"forward_us_per_node": (t1 - t0) / depth * 1e6,
                  "backward_us_per_node": (t2 - t1) / depth * 1e6,
                  "free_us_per_node": (t3 - t2) / depth * 1e6,
                  "total_us_per_node": (t3 - t0) / depth * 1e6,
                  "peak_bytes_per_node": (peak - base) * 2**20 / depth}))
"""


def run(depth: int = DEPTH) -> dict[str, Any]:
    results: dict[str, Any] = {}
    contenders = ["ours"]
    try:
        import torch  # noqa: F401

        contenders.append("pytorch")
    except ImportError:
        pass
    for name in contenders:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(depth), name],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if done.returncode != 0:
            results[name] = {"error": done.stderr.strip().splitlines()[-1:]}
        else:
            results[name] = json.loads(done.stdout)
    return results
