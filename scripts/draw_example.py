"""Regenerate docs/graph_example.png: the README's computation graph, with values and grads.

Run from the repository root: .venv/bin/python scripts/draw_example.py
"""

from __future__ import annotations

import autograd_core as ag

x1 = ag.Tensor(2.0, requires_grad=True, name="x1")
x2 = ag.Tensor(5.0, requires_grad=True, name="x2")
y = ag.log(x1) + x1 * x2 - ag.sin(x2)  # Baydin et al. (2018): f(2, 5) = 11.652
y.backward(retain_graph=True)  # retain_graph keeps the intermediate values for the picture
ag.draw_graph(y, show_values=True, show_grads=True).render("docs/graph_example.png")
