"""nn.GCNConv against Kipf & Welling's formula written out in numpy, its gradients, its
initialization and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core.checking import gradcheck

rng = np.random.default_rng(2017)

PATH = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])  # 0 - 1 - 2 - 3


def gcn_reference(x: np.ndarray, a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """D^-1/2 (A + I) D^-1/2 X W^T + b, one graph at a time, with explicit matrices."""
    a_hat = a + np.eye(len(a))
    d_inv_sqrt = np.diag(1.0 / np.sqrt(a_hat.sum(axis=1)))
    return d_inv_sqrt @ a_hat @ d_inv_sqrt @ x @ w.T + b


def random_graph(n: int, weighted: bool = False, symmetric: bool = True) -> np.ndarray:
    a = (rng.random((n, n)) < 0.4) * (rng.uniform(0.5, 2.0, (n, n)) if weighted else 1.0)
    np.fill_diagonal(a, 0.0)
    return np.triu(a) + np.triu(a, 1).T if symmetric else a


@pytest.mark.parametrize(
    "adjacency",
    [PATH, random_graph(6), random_graph(6, weighted=True), random_graph(5, symmetric=False)],
    ids=["path", "random", "weighted", "directed"],
)
def test_gcn_matches_the_formula(adjacency) -> None:
    n = len(adjacency)
    layer = nn.GCNConv(3, 2, generator=0)
    with ag.no_grad():
        layer.bias.data[:] = [0.5, -1.0]
    x = rng.standard_normal((n, 3))
    out = layer(x, adjacency)
    assert out.shape == (n, 2)
    expected = gcn_reference(x, adjacency, layer.weight.data, layer.bias.data)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-13)


def test_gcn_on_a_batch_of_graphs_and_on_one_graph_shared_by_a_batch() -> None:
    layer = nn.GCNConv(3, 4, generator=1)
    x = rng.standard_normal((3, 5, 3))
    graphs = np.stack([random_graph(5, weighted=True) for _ in range(3)])
    w, b = layer.weight.data, layer.bias.data
    batched = layer(x, graphs)
    shared = layer(x, graphs[0])
    assert batched.shape == shared.shape == (3, 5, 4)
    for i in range(3):
        np.testing.assert_allclose(batched.data[i], gcn_reference(x[i], graphs[i], w, b))
        np.testing.assert_allclose(shared.data[i], gcn_reference(x[i], graphs[0], w, b))


def test_an_isolated_node_keeps_its_own_transformed_features() -> None:
    """With no edges, A + I = I and every degree is 1: H = X W^T + b."""
    layer = nn.GCNConv(3, 2, generator=2)
    x = rng.standard_normal((4, 3))
    out = layer(x, np.zeros((4, 4)))
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data)


def gcn_formula(x: ag.Tensor, a: ag.Tensor, w: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
    """The same formula in autograd_core ops, with every operand an input."""
    a_hat = a + np.eye(a.shape[-1])
    d = a_hat.sum(-1) ** -0.5
    return (d.unsqueeze(-1) * a_hat * d.unsqueeze(-2)) @ (x @ w.T) + b


def test_gcn_derivatives_in_features_weight_bias_and_adjacency() -> None:
    """The layer's gradients (adjacency included, when it is a Tensor that requires grad)
    equal the formula's, and the formula's derivatives pass gradcheck to second order."""
    layer = nn.GCNConv(3, 2, generator=3)
    arrays = [rng.standard_normal((4, 3)), random_graph(4, weighted=True) + 0.1]
    x, a = (ag.Tensor(v, requires_grad=True) for v in arrays)
    layer(x, a).pow(2).sum().backward()
    inputs = [ag.Tensor(v, requires_grad=True) for v in [*arrays, layer.weight, layer.bias]]
    gcn_formula(*inputs).pow(2).sum().backward()
    for ours, theirs in zip([x, a, layer.weight, layer.bias], inputs, strict=True):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.data, rtol=1e-12, atol=1e-14)
    params = [layer.weight.data.copy(), layer.bias.data.copy()]
    assert gradcheck(gcn_formula, [*arrays, *params], order=2)


def test_a_constant_adjacency_gets_no_gradient() -> None:
    layer = nn.GCNConv(3, 2, generator=3)
    a = ag.Tensor(PATH)  # does not require grad
    layer(rng.standard_normal((4, 3)), a).sum().backward()
    assert a.grad is None and layer.weight.grad is not None


def test_gcn_parameter_gradients_match_central_differences() -> None:
    layer = nn.GCNConv(2, 3, generator=4)
    x, a = rng.standard_normal((5, 2)), random_graph(5, weighted=True)
    loss = layer(x, a).pow(2).sum()
    loss.backward()
    for param in (layer.weight, layer.bias):
        numeric = np.zeros(param.shape)
        for i in np.ndindex(param.shape):
            saved = param.data[i]
            values = []
            for step in (1e-6, -1e-6):
                param.data[i] = saved + step
                values.append(layer(x, a).pow(2).sum().item())
            param.data[i] = saved
            numeric[i] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(param.grad.data, numeric, rtol=1e-6, atol=1e-8)


def test_gcn_initialization_is_glorot_uniform_with_zero_bias() -> None:
    layer = nn.GCNConv(60, 40, generator=5)
    bound = math.sqrt(6 / (60 + 40))
    w = layer.weight.data
    assert w.shape == (40, 60) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.var() - bound**2 / 3) < 0.1 * bound**2 / 3  # U(-a, a) has variance a^2 / 3
    assert np.all(layer.bias.data == 0)
    assert np.array_equal(nn.GCNConv(60, 40, generator=5).weight.data, w)
    assert nn.GCNConv(3, 2, bias=False).bias is None
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert repr(nn.GCNConv(3, 2, bias=False)) == "GCNConv(3, 2, bias=False)"


def test_gcn_without_bias_and_in_float32() -> None:
    layer = nn.GCNConv(3, 2, bias=False, dtype=np.float32, generator=6)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    out = layer(x, PATH)  # an integer adjacency takes the parameters' dtype
    assert out.dtype == np.float32
    expected = gcn_reference(x, PATH, layer.weight.data.astype(np.float64), np.zeros(2))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_negative_weights_are_fine_while_degrees_stay_positive() -> None:
    layer = nn.GCNConv(2, 2, generator=7)
    a = np.array([[0.0, -0.5], [-0.5, 0.0]])  # degrees 0.5
    x = rng.standard_normal((2, 2))
    np.testing.assert_allclose(
        layer(x, a).data, gcn_reference(x, a, layer.weight.data, layer.bias.data)
    )
    with pytest.raises(ValueError, match=r"node 1 has degree -1 \(negative edge weights\)"):
        layer(x, np.array([[0.0, 0.0], [-2.0, 0.0]]))
    with pytest.raises(ValueError, match=r"node 1 of graph 0 has degree 0"):
        layer(np.zeros((2, 2, 2)), np.array([[[0.0, 0.0], [-1.0, 0.0]], np.zeros((2, 2))]))


def test_gcn_shape_errors_name_the_layer_and_the_shapes() -> None:
    layer = nn.GCNConv(3, 2)
    label = r"GCNConv\(in_features=3, out_features=2\)"
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=label + r": adjacency must be a square.*\(4, 3\)"):
        layer(x, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"adjacency must be a square.*\(4,\)"):
        layer(x, np.zeros(4))
    with pytest.raises(ValueError, match=r"n = 5 nodes as the adjacency; got x \(4, 3\)"):
        layer(x, np.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"x must be \(n, 3\) or \(B, n, 3\)"):
        layer(np.zeros((4, 2)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="batch of 2 graphs but the adjacency 3"):
        layer(np.zeros((2, 4, 3)), np.zeros((3, 4, 4)))
    with pytest.raises(TypeError, match="dtype float32 does not match the parameters' dtype"):
        layer(x.astype(np.float32), np.zeros((4, 4)))
