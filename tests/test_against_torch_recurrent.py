"""The recurrent layers against PyTorch (optional: skipped without torch), in float64 to 1e-9:
outputs, final states, and the gradients of the input, the initial state and every parameter,
for RNN (tanh, relu), LSTM and GRU over one and two layers, one and two directions, either
batch layout, with and without biases and initial state, unbatched, and a sequence of one
step; the three cells likewise. Weights go through state dicts both ways (the keys are
PyTorch's, in PyTorch's order)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core.engine import grad

torch = pytest.importorskip("torch")

TOL = {"rtol": 1e-9, "atol": 1e-9}
INPUT, HIDDEN = 5, 4
KINDS = {  # name -> (our class, PyTorch's class, keyword arguments)
    "rnn_tanh": (nn.RNN, "RNN", {}),
    "rnn_relu": (nn.RNN, "RNN", {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, "LSTM", {}),
    "gru": (nn.GRU, "GRU", {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, "RNNCell", {}),
    "rnn_relu": (nn.RNNCell, "RNNCell", {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, "LSTMCell", {}),
    "gru": (nn.GRUCell, "GRUCell", {}),
}


def _close(ours: Any, theirs: Any, what: str) -> None:
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL, err_msg=what)


def _pair(ours: nn.Module, theirs: Any, ours_to_torch: bool, seed: int) -> None:
    """The same weights in both: ours copied into PyTorch's, or PyTorch's (its own random
    init, reseeded) into ours. Either way the state dicts' keys are the same, in order."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if ours_to_torch:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    else:
        torch.manual_seed(seed)
        theirs.reset_parameters()
        ours.load_state_dict(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy())


def _compare(
    ours: nn.Module,
    theirs: Any,
    x: np.ndarray,
    hx: Any,
    lstm: bool,
    rng: np.random.Generator,
    packing: dict[str, Any] | None = None,
) -> None:
    """Forward both, weight every result by one random cotangent, backward both, compare.
    With `packing` (pack_padded_sequence's arguments), x is packed before the layer, and the
    results are the packed output's data, the output padded again, and the final states."""
    x_ours, x_theirs = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    states = [] if hx is None else (list(hx) if lstm else [hx])
    s_ours = [ag.Tensor(s, requires_grad=True) for s in states]
    s_theirs = [torch.tensor(s, requires_grad=True) for s in states]
    pack = (lambda s: tuple(s) if lstm else s[0]) if states else (lambda s: None)
    if packing is None:
        out_ours = ours(x_ours, pack(s_ours))
        out_theirs = theirs(x_theirs, pack(s_theirs))
    else:
        out_ours = _packed_run(ours, nn.utils.rnn, x_ours, pack(s_ours), packing)
        out_theirs = _packed_run(theirs, torch.nn.utils.rnn, x_theirs, pack(s_theirs), packing)
    flat_ours = list(_flatten(out_ours))
    flat_theirs = list(_flatten(out_theirs))
    loss_ours: Any = 0.0
    loss_theirs: Any = 0.0
    for i, (a, b) in enumerate(zip(flat_ours, flat_theirs, strict=True)):
        _close(a, b, f"result {i}")
        weight = rng.standard_normal(a.shape)
        loss_ours = loss_ours + (a * weight).sum()
        loss_theirs = loss_theirs + (b * torch.from_numpy(weight)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    _close(x_ours.grad, x_theirs.grad, "gradient of the input")
    for i, (a, b) in enumerate(zip(s_ours, s_theirs, strict=True)):
        _close(a.grad, b.grad, f"gradient of initial state {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        _close(param.grad, theirs_params[name].grad, f"gradient of {name}")


def _packed_run(layer: Any, utils: Any, x: Any, hx: Any, packing: dict[str, Any]) -> Any:
    """Pack x, run the layer, and return (packed output data, padded output, final states),
    with the same checks on both libraries: the output keeps the input's sorting, and the
    lengths come back in the original order."""
    packed = utils.pack_padded_sequence(x, **packing)
    output, state = layer(packed, hx)
    assert isinstance(output, utils.PackedSequence)
    padded, lengths = utils.pad_packed_sequence(output, batch_first=packing["batch_first"])
    assert np.asarray(lengths).tolist() == list(packing["lengths"])
    assert np.asarray(output.batch_sizes).tolist() == np.asarray(packed.batch_sizes).tolist()
    for name in ("sorted_indices", "unsorted_indices"):
        given, kept = getattr(packed, name), getattr(output, name)
        assert (given is None and kept is None) or np.asarray(kept).tolist() == np.asarray(
            given
        ).tolist()
    return output.data, padded, state


def _flatten(result: Any) -> Any:
    if isinstance(result, (tuple, list)):
        for part in result:
            yield from _flatten(part)
    else:
        yield result


CONFIGS = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (True, False)))


@pytest.mark.parametrize(("kind", "layers", "bidirectional", "batch_first", "bias"), CONFIGS)
@pytest.mark.parametrize("initial", [False, True], ids=["no_hx", "hx"])
def test_sequence_layers_match_pytorch(
    kind: str, layers: int, bidirectional: bool, batch_first: bool, bias: bool, initial: bool
) -> None:
    ours_class, name, kwargs = KINDS[kind]
    options = dict(
        num_layers=layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional
    )
    seed = CONFIGS.index((kind, layers, bidirectional, batch_first, bias)) * 2 + initial
    ours = ours_class(INPUT, HIDDEN, **kwargs, **options, generator=seed)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, **kwargs, **options).double()
    _pair(ours, theirs, ours_to_torch=seed % 2 == 0, seed=seed)
    rng = np.random.default_rng(seed)
    length, batch = 4, 3
    x = rng.standard_normal((batch, length, INPUT) if batch_first else (length, batch, INPUT))
    hx = None
    if initial:
        shape = (layers * (2 if bidirectional else 1), batch, HIDDEN)
        hx = (rng.standard_normal(shape), rng.standard_normal(shape))
        hx = hx if kind == "lstm" else hx[0]
    _compare(ours, theirs, x, hx, kind == "lstm", rng)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("initial", [False, True], ids=["no_hx", "hx"])
def test_unbatched_sequences_match_pytorch(kind: str, initial: bool) -> None:
    ours_class, name, kwargs = KINDS[kind]
    ours = ours_class(INPUT, HIDDEN, num_layers=2, bidirectional=True, **kwargs, generator=1)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, 2, bidirectional=True, **kwargs).double()
    _pair(ours, theirs, ours_to_torch=True, seed=0)
    rng = np.random.default_rng(1)
    hx = None
    if initial:
        hx = (rng.standard_normal((4, HIDDEN)), rng.standard_normal((4, HIDDEN)))
        hx = hx if kind == "lstm" else hx[0]
    _compare(ours, theirs, rng.standard_normal((6, INPUT)), hx, kind == "lstm", rng)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_a_sequence_of_one_step_matches_pytorch(kind: str, batch_first: bool) -> None:
    ours_class, name, kwargs = KINDS[kind]
    ours = ours_class(INPUT, HIDDEN, 2, batch_first=batch_first, **kwargs, generator=2)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, 2, batch_first=batch_first, **kwargs)
    _pair(ours, theirs.double(), ours_to_torch=False, seed=2)
    rng = np.random.default_rng(2)
    _compare(ours, theirs, rng.standard_normal((3, 1, INPUT)), None, kind == "lstm", rng)


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("initial", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_cells_match_pytorch(kind: str, bias: bool, initial: bool, batched: bool) -> None:
    ours_class, name, kwargs = CELLS[kind]
    ours = ours_class(INPUT, HIDDEN, bias=bias, **kwargs, generator=3)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, bias=bias, **kwargs).double()
    _pair(ours, theirs, ours_to_torch=bias, seed=3)
    rng = np.random.default_rng(3)
    lead = (3,) if batched else ()
    hx = None
    if initial:
        hx = (rng.standard_normal((*lead, HIDDEN)), rng.standard_normal((*lead, HIDDEN)))
        hx = hx if kind == "lstm" else hx[0]
    _compare(ours, theirs, rng.standard_normal((*lead, INPUT)), hx, kind == "lstm", rng)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_gradient_penalty_through_the_layer_matches_pytorch(kind: str) -> None:
    """Second order: the gradient of |d loss / d x|^2 with respect to the weights, through
    a differentiated backward pass (create_graph), as PyTorch's double backward."""
    ours_class, name, kwargs = KINDS[kind]
    ours = ours_class(3, 2, num_layers=2, bidirectional=True, **kwargs, generator=4)
    theirs = getattr(torch.nn, name)(3, 2, 2, bidirectional=True, **kwargs).double()
    _pair(ours, theirs, ours_to_torch=True, seed=4)
    x = np.random.default_rng(4).standard_normal((3, 2, 3))
    x_ours, x_theirs = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g_ours,) = grad((ours(x_ours)[0] ** 2).sum(), [x_ours], create_graph=True)
    (g_theirs,) = torch.autograd.grad((theirs(x_theirs)[0] ** 2).sum(), x_theirs, create_graph=True)
    _close(g_ours, g_theirs, "first derivative")
    (g_ours**2).sum().backward()
    (g_theirs**2).sum().backward()
    theirs_params = dict(theirs.named_parameters())
    for key, param in ours.named_parameters():
        _close(param.grad, theirs_params[key].grad, f"second-order gradient of {key}")


PACKED = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (True, False)))


@pytest.mark.parametrize(
    ("kind", "layers", "bidirectional", "batch_first", "enforce_sorted"), PACKED
)
def test_packed_sequences_match_pytorch(
    kind: str, layers: int, bidirectional: bool, batch_first: bool, enforce_sorted: bool
) -> None:
    """A PackedSequence through the layer: its output data, the output padded again, h_n (and
    c_n), and the gradients of the padded input, h_0 (and c_0) and every parameter. Lengths
    of 5, 3, 3, 1 (sorted) or 3, 5, 1, 3 (not), so sequences end at different steps in both
    directions, with a tie; an initial state in every other configuration."""
    ours_class, name, kwargs = KINDS[kind]
    options = dict(num_layers=layers, batch_first=batch_first, bidirectional=bidirectional)
    seed = PACKED.index((kind, layers, bidirectional, batch_first, enforce_sorted))
    ours = ours_class(INPUT, HIDDEN, **kwargs, **options, generator=seed)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, **kwargs, **options).double()
    _pair(ours, theirs, ours_to_torch=seed % 2 == 0, seed=seed)
    rng = np.random.default_rng(seed)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    batch = len(lengths)
    x = rng.standard_normal((batch, 5, INPUT) if batch_first else (5, batch, INPUT))
    hx = None
    if seed % 2:
        shape = (layers * (2 if bidirectional else 1), batch, HIDDEN)
        hx = (rng.standard_normal(shape), rng.standard_normal(shape))
        hx = hx if kind == "lstm" else hx[0]
    packing = {"lengths": lengths, "batch_first": batch_first, "enforce_sorted": enforce_sorted}
    _compare(ours, theirs, x, hx, kind == "lstm", rng, packing)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packing_and_padding_match_pytorch(batch_first: bool, enforce_sorted: bool) -> None:
    """pack_padded_sequence, pack_sequence and pad_packed_sequence: the same data, batch
    sizes, indices, padded batch (with a padding value and total_length) and lengths."""
    rng = np.random.default_rng(5)
    lengths = [4, 3, 3, 1] if enforce_sorted else [2, 4, 1, 3]
    x = rng.standard_normal((4, 4, 2))
    ours = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x), lengths, batch_first, enforce_sorted
    )
    sequences = [rng.standard_normal((n, 2)) for n in lengths]
    ours_list = nn.utils.rnn.pack_sequence(sequences, enforce_sorted)
    theirs_list = torch.nn.utils.rnn.pack_sequence(
        [torch.tensor(s) for s in sequences], enforce_sorted
    )
    for a, b in ((ours, theirs), (ours_list, theirs_list)):
        _close(a.data, b.data, "packed data")
        np.testing.assert_array_equal(a.batch_sizes, b.batch_sizes.numpy())
        for name in ("sorted_indices", "unsorted_indices"):
            mine, torch_s = getattr(a, name), getattr(b, name)
            assert (mine is None) == (torch_s is None)
            if mine is not None:
                np.testing.assert_array_equal(mine, torch_s.numpy())
        padding = {"batch_first": batch_first, "padding_value": -2.0, "total_length": 6}
        padded, back = nn.utils.rnn.pad_packed_sequence(a, **padding)
        padded_theirs, back_theirs = torch.nn.utils.rnn.pad_packed_sequence(b, **padding)
        _close(padded, padded_theirs, "padded")
        np.testing.assert_array_equal(back, back_theirs.numpy())


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_a_gradient_penalty_through_a_packed_layer_matches_pytorch(kind: str) -> None:
    """Second order through the masked steps: the gradient of |d loss / d x|^2 with respect
    to the weights, for a packed batch through two bidirectional layers."""
    ours_class, name, kwargs = KINDS[kind]
    ours = ours_class(3, 2, num_layers=2, bidirectional=True, **kwargs, generator=6)
    theirs = getattr(torch.nn, name)(3, 2, 2, bidirectional=True, **kwargs).double()
    _pair(ours, theirs, ours_to_torch=True, seed=6)
    x = np.random.default_rng(6).standard_normal((3, 3, 3))
    x_ours, x_theirs = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lengths = [2, 3, 1]
    packed_ours = nn.utils.rnn.pack_padded_sequence(x_ours, lengths, enforce_sorted=False)
    packed_theirs = torch.nn.utils.rnn.pack_padded_sequence(x_theirs, lengths, enforce_sorted=False)
    out_ours, out_theirs = ours(packed_ours)[0].data, theirs(packed_theirs)[0].data
    (g_ours,) = grad((out_ours**2).sum(), [x_ours], create_graph=True)
    (g_theirs,) = torch.autograd.grad((out_theirs**2).sum(), x_theirs, create_graph=True)
    _close(g_ours, g_theirs, "first derivative")
    (g_ours**2).sum().backward()
    (g_theirs**2).sum().backward()
    theirs_params = dict(theirs.named_parameters())
    for key, param in ours.named_parameters():
        _close(param.grad, theirs_params[key].grad, f"second-order gradient of {key}")
