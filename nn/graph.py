"""Graph networks: graph convolution on a dense adjacency matrix.

A graph of n nodes is its node features X (n, F) and its adjacency A (n, n), A[i, j] the
weight of the edge from node j to node i (0: no edge). A graph convolution updates each node
from its neighbours' features: message passing, one hop per layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn import init
from nn.layers import _dtype, _input, _size
from nn.module import Module, Parameter

__all__ = ["GCNConv"]

Generator = np.random.Generator | int | None


class GCNConv(Module):
    """Graph convolution of Kipf & Welling (2017):

        H = D^-1/2 (A + I) D^-1/2 X W^T + b,    D = diag of the row sums of A + I.

    - A + I adds a self-loop to every node, so a node keeps its own features in the mix.
    - D^-1/2 (A + I) D^-1/2 weighs the edge j -> i by 1 / sqrt(deg_i deg_j): every node
      averages its neighbourhood instead of summing it, so high-degree nodes do not blow up
      the scale; for an undirected graph with non-negative weights the matrix stays
      symmetric with eigenvalues in (-1, 1], so stacking layers stays numerically stable.
    - X W^T + b is a Linear layer shared by all nodes: weight (out_features, in_features),
      initialized Glorot/Xavier-uniform as Kipf & Welling and PyTorch Geometric; bias zeros.

    `forward(x, adjacency)`: x (n, in_features) with adjacency (n, n), or a batch x
    (B, n, in_features) with adjacency (B, n, n) (or one (n, n) shared by the batch). The
    adjacency is dense, may be weighted, and need not be symmetric (degrees are row sums); an
    existing self-loop gets 1 added, as in the formula. It may be a numpy array (a constant)
    or a Tensor; a Tensor that requires grad receives gradients too (learned edge weights).
    Negative weights are allowed as long as every degree of A + I stays positive.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        self.in_features = _size("GCNConv", "in_features", in_features)
        self.out_features = _size("GCNConv", "out_features", out_features)
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator = None) -> None:
        init.xavier_uniform_(self.weight, generator=init.as_generator(generator))
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Any, adjacency: Any) -> Tensor:
        x = _input(self, x, self.weight)
        a = _input(self, adjacency, self.weight)
        self._check_shapes(x.shape, a.shape)
        n = a.shape[-1]
        a_hat = a + np.eye(n, dtype=a.dtype)  # A + I: self-loops
        degree = a_hat.sum(-1)  # row sums, (..., n)
        if np.any(degree.data <= 0):
            *graph, node = (int(i) for i in np.argwhere(degree.data <= 0)[0])
            where = f"node {node}" + (f" of graph {graph[0]}" if graph else "")
            raise ValueError(
                f"{self._label()}: every node's degree in A + I must be positive for "
                f"D^-1/2; {where} has degree {degree.data[(*graph, node)]:.6g} (negative edge "
                f"weights)"
            )
        d = degree ** (-0.5)
        normalized = d.unsqueeze(-1) * a_hat * d.unsqueeze(-2)  # D^-1/2 (A + I) D^-1/2
        out = normalized @ ag.linear(x, self.weight)
        return out if self.bias is None else out + self.bias

    def _check_shapes(self, x: tuple[int, ...], a: tuple[int, ...]) -> None:
        if len(a) not in (2, 3) or a[-1] != a[-2]:
            raise ValueError(
                f"{self._label()}: adjacency must be a square (n, n) or batched (B, n, n) "
                f"matrix, got shape {a}"
            )
        if len(x) not in (2, 3) or x[-1] != self.in_features or x[-2] != a[-1]:
            raise ValueError(
                f"{self._label()}: x must be (n, {self.in_features}) or "
                f"(B, n, {self.in_features}) with n = {a[-1]} nodes as the adjacency; got x "
                f"{x} and adjacency {a}"
            )
        if len(x) == len(a) == 3 and x[0] != a[0]:
            raise ValueError(
                f"{self._label()}: x has a batch of {x[0]} graphs but the adjacency {a[0]}: "
                f"got x {x} and adjacency {a}"
            )

    def _label(self) -> str:
        return f"GCNConv(in_features={self.in_features}, out_features={self.out_features})"

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"
