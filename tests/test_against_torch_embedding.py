"""nn.Embedding, F.embedding, F.one_hot, nn.utils.pad_sequence and nn.GCNConv against PyTorch
in float64: outputs and every gradient to 1e-9, state dicts copied both ways. PyTorch has no
GCNConv, so the layer is compared with Kipf & Welling's formula written in torch. Skipped when
torch is absent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.functional import embedding, one_hot
from nn.utils.rnn import pad_sequence

torch = pytest.importorskip("torch")

TOL = 1e-9
rng = np.random.default_rng(1616)


def close(ours: Any, theirs: Any) -> None:
    ours = ours.data if isinstance(ours, ag.Tensor) else np.asarray(ours)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TOL, atol=TOL)


def to_torch(state: dict[str, np.ndarray]) -> dict[str, Any]:
    return {key: torch.from_numpy(value) for key, value in state.items()}


# -- Embedding -------------------------------------------------------------------------------

EMBEDDING_CASES = {
    "plain, repeated ids": ({}, rng.integers(0, 9, (4, 6))),
    "padding_idx 0": ({"padding_idx": 0}, np.array([[0, 3, 3, 0], [5, 0, 8, 3]])),
    "negative padding_idx": ({"padding_idx": -2}, np.array([7, 7, 1, 7, 2])),
    "3-d ids": ({"padding_idx": 4}, rng.integers(0, 9, (2, 3, 4))),
    "one id": ({}, np.array(5)),
    "max_norm": ({"max_norm": 1.5}, np.array([[1, 2, 2], [6, 1, 0]])),
    "max_norm L1 and padding": (
        {"max_norm": 2.0, "norm_type": 1.0, "padding_idx": 1},
        np.array([1, 2, 1, 3]),
    ),
}


@pytest.mark.parametrize("direction", ["ours -> torch", "torch -> ours"])
@pytest.mark.parametrize(("kwargs", "ids"), EMBEDDING_CASES.values(), ids=EMBEDDING_CASES.keys())
def test_embedding_matches_pytorch(kwargs, ids, direction) -> None:
    ours = nn.Embedding(9, 5, generator=0, **kwargs)
    theirs = torch.nn.Embedding(9, 5, dtype=torch.float64, **kwargs)
    if direction == "ours -> torch":
        theirs.load_state_dict(to_torch(ours.state_dict()))
    else:
        ours.load_state_dict(theirs.state_dict())
    if "padding_idx" in kwargs:  # both zero the padding row at initialization
        assert ours.padding_idx == theirs.padding_idx
        assert not theirs.weight.detach().numpy()[theirs.padding_idx].any()
    g = rng.standard_normal((*ids.shape, 5))
    out, expected = ours(ids), theirs(torch.from_numpy(ids))
    close(out, expected)
    (out * g).sum().backward()
    (expected * torch.from_numpy(g)).sum().backward()
    close(ours.weight.grad, theirs.weight.grad)
    close(ours.weight, theirs.weight)  # equal after max_norm's in-place renormalization


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained_matches_pytorch(freeze) -> None:
    table = rng.standard_normal((6, 3))
    ours = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=2)
    theirs = torch.nn.Embedding.from_pretrained(
        torch.from_numpy(table.copy()), freeze=freeze, padding_idx=2
    )
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    ids = np.array([[2, 0, 2], [5, 0, 1]])
    out, expected = ours(ids), theirs(torch.from_numpy(ids))
    close(out, expected)
    if not freeze:
        out.pow(3).sum().backward()
        expected.pow(3).sum().backward()
        close(ours.weight.grad, theirs.weight.grad)


def test_functional_embedding_matches_pytorch() -> None:
    w = rng.standard_normal((7, 4))
    ids = np.array([[6, 0, 6], [-1 % 7, 3, 0]])
    ours = ag.Tensor(w, requires_grad=True)
    theirs = torch.tensor(w, requires_grad=True)
    out = embedding(ids, ours, padding_idx=-1)
    expected = torch.nn.functional.embedding(torch.from_numpy(ids), theirs, padding_idx=-1)
    close(out, expected)
    out.sin().sum().backward()
    expected.sin().sum().backward()
    close(ours.grad, theirs.grad)


# -- one_hot ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "num_classes"),
    [
        (np.array([0, 3, 1, 3]), -1),
        (np.array([[2, 0], [1, 1]]), 5),
        (np.array(4), 6),
        (np.zeros((2, 0), np.int64), 3),
        (rng.integers(0, 10, (3, 4, 2)), 10),
    ],
)
def test_one_hot_matches_pytorch(ids, num_classes) -> None:
    out = one_hot(ids, num_classes)
    expected = torch.nn.functional.one_hot(torch.from_numpy(ids), num_classes)
    assert out.shape == tuple(expected.shape) and out.dtype == np.int64
    np.testing.assert_array_equal(out.data, expected.numpy())


# -- pad_sequence ----------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence_matches_pytorch(batch_first, padding_side, trailing) -> None:
    arrays = [rng.standard_normal((n, *trailing)) for n in (3, 1, 4, 0)]
    ours = [ag.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    kwargs = {"batch_first": batch_first, "padding_value": -2.5, "padding_side": padding_side}
    out = pad_sequence(ours, **kwargs)
    expected = torch.nn.utils.rnn.pad_sequence(theirs, **kwargs)
    close(out, expected)
    g = rng.standard_normal(out.shape)
    (out * g).sum().backward()
    (expected * torch.from_numpy(g)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        close(a.grad, b.grad)


def test_pad_sequence_of_token_ids_matches_pytorch() -> None:
    ids = [rng.integers(0, 50, n) for n in (5, 2, 7)]
    out = pad_sequence(ids, batch_first=True, padding_value=1)
    expected = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(i) for i in ids], batch_first=True, padding_value=1
    )
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, expected.numpy())


# -- GCNConv ---------------------------------------------------------------------------------


def torch_gcn(x: Any, a: Any, w: Any, b: Any) -> Any:
    """Kipf & Welling's D^-1/2 (A + I) D^-1/2 X W^T + b in torch."""
    a_hat = a + torch.eye(a.shape[-1], dtype=a.dtype)
    d = a_hat.sum(-1).pow(-0.5)
    out = (d.unsqueeze(-1) * a_hat * d.unsqueeze(-2)) @ (x @ w.T)
    return out if b is None else out + b


def graph(n: int, batch: tuple[int, ...] = ()) -> np.ndarray:
    a = (rng.random((*batch, n, n)) < 0.5) * rng.uniform(0.2, 2.0, (*batch, n, n))
    return a + np.swapaxes(a, -1, -2)


GCN_CASES = {
    "one graph": ((6, 3), graph(6), True),
    "batch of graphs": ((2, 5, 3), graph(5, (2,)), True),
    "one graph for a batch": ((3, 5, 3), graph(5), True),
    "directed, no bias": ((4, 3), graph(4) * np.tri(4), False),
}


@pytest.mark.parametrize("direction", ["ours -> torch", "torch -> ours"])
@pytest.mark.parametrize(("x_shape", "adjacency", "bias"), GCN_CASES.values(), ids=GCN_CASES.keys())
def test_gcn_matches_the_formula_in_pytorch(x_shape, adjacency, bias, direction) -> None:
    layer = nn.GCNConv(3, 4, bias=bias, generator=1)
    if direction == "ours -> torch":
        params = {k: torch.tensor(v, requires_grad=True) for k, v in layer.state_dict().items()}
    else:
        params = {"weight": torch.empty(4, 3, dtype=torch.float64)}
        torch.nn.init.xavier_uniform_(params["weight"])
        if bias:
            params["bias"] = torch.randn(4, dtype=torch.float64)
        layer.load_state_dict(params)
        params = {k: v.clone().requires_grad_() for k, v in params.items()}
    x_np = rng.standard_normal(x_shape)
    x, a = ag.Tensor(x_np, requires_grad=True), ag.Tensor(adjacency, requires_grad=True)
    tx, ta = torch.tensor(x_np, requires_grad=True), torch.tensor(adjacency, requires_grad=True)
    out = layer(x, a)
    expected = torch_gcn(tx, ta, params["weight"], params.get("bias"))
    close(out, expected)
    g = rng.standard_normal(out.shape)
    (out * g).sum().backward()
    (expected * torch.from_numpy(g)).sum().backward()
    close(x.grad, tx.grad)
    close(a.grad, ta.grad)
    close(layer.weight.grad, params["weight"].grad)
    if bias:
        close(layer.bias.grad, params["bias"].grad)
