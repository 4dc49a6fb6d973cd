"""Recurrent layers (nn.RNN, LSTM, GRU and their cells) and the `recurrence` op: errors at the
edge, dropout between layers only in training, causality, weights shared across steps,
gradients against central differences, initialization, dtypes and reproducibility."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core.engine import topological_order

LAYERS = [nn.RNN, nn.LSTM, nn.GRU]
CELLS = [nn.RNNCell, nn.LSTMCell, nn.GRUCell]


def _inputs(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# -- errors at the edge ------------------------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("shape", [(3,), (2, 3, 4, 5)])
def test_an_input_of_the_wrong_rank_names_the_layer_and_the_shape(layer: Any, shape: Any) -> None:
    with pytest.raises(ValueError, match=rf"{layer.__name__}\(5, 4\).*got \({shape[0]},"):
        layer(5, 4)(np.zeros(shape))


@pytest.mark.parametrize("layer", LAYERS + CELLS)
def test_an_input_with_the_wrong_feature_size_is_refused(layer: Any) -> None:
    shape = (2, 3) if layer in CELLS else (4, 2, 3)
    with pytest.raises(ValueError, match=r"expected input of shape .*5.* got \("):
        layer(5, 4)(np.zeros(shape))


@pytest.mark.parametrize("layer", [nn.RNN, nn.GRU])
def test_an_initial_state_of_the_wrong_shape_names_both_shapes(layer: Any) -> None:
    model = layer(5, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"h_0 of shape \(1, 3, 4\).*expected.*\(2, 3, 4\)"):
        model(np.zeros((6, 3, 5)), np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match=r"unbatched input: expected .* \(2, 4\)"):
        model(np.zeros((6, 5)), np.zeros((2, 1, 4)))  # PyTorch also wants 2-D hx here


def test_an_lstm_wants_a_pair_of_states_of_the_right_shapes() -> None:
    model = nn.LSTM(5, 4, bidirectional=True)
    x = np.zeros((6, 3, 5))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        model(x, np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"c_0 of shape \(2, 2, 4\).*\(2, 3, 4\)"):
        model(x, (np.zeros((2, 3, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h, c\)"):
        nn.LSTMCell(5, 4)(np.zeros((3, 5)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"LSTMCell\(5, 4\): c of shape \(2, 4\)"):
        nn.LSTMCell(5, 4)(np.zeros((3, 5)), (np.zeros((3, 4)), np.zeros((2, 4))))


@pytest.mark.parametrize("layer", LAYERS + CELLS)
def test_a_float64_input_to_a_float32_layer_is_a_type_error(layer: Any) -> None:
    model = layer(5, 4, dtype=np.float32)
    shape = (2, 5) if layer in CELLS else (3, 2, 5)
    with pytest.raises(TypeError, match=r"input dtype float64 does not match .* float32"):
        model(np.zeros(shape))
    out = model(np.zeros(shape, dtype=np.float32))
    assert (out[0] if isinstance(out, tuple) else out).dtype == np.float32


def test_arguments_are_checked_where_the_layer_is_built() -> None:
    with pytest.raises(ValueError, match=r"RNN: unknown nonlinearity 'sigmoid'"):
        nn.RNN(5, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"RNNCell: unknown nonlinearity 'gelu'"):
        nn.RNNCell(5, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"LSTM: dropout must be in \[0, 1\], got 1.5"):
        nn.LSTM(5, 4, 2, dropout=1.5)
    with pytest.raises(TypeError, match=r"GRU: bidirectional must be a bool"):
        nn.GRU(5, 4, bidirectional=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"LSTM: num_layers must be a positive int, got 0"):
        nn.LSTM(5, 4, num_layers=0)
    with pytest.warns(UserWarning, match=r"with num_layers=1 it does nothing"):
        nn.GRU(5, 4, dropout=0.5)


@pytest.mark.parametrize("layer", LAYERS)
def test_an_empty_sequence_is_refused_and_an_empty_batch_gives_empty_results(layer: Any) -> None:
    model = layer(5, 4, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"sequence of length >= 1, got \(0, 2, 5\)"):
        model(np.zeros((0, 2, 5)))
    output, state = model(np.zeros((3, 0, 5)))
    h = state[0] if isinstance(state, tuple) else state
    assert output.shape == (3, 0, 8) and h.shape == (4, 0, 4)


def test_the_recurrence_op_names_what_does_not_fit() -> None:
    xp, w = np.zeros((3, 2, 8)), np.zeros((8, 2))
    with pytest.raises(ValueError, match=r"unknown cell 'lstmm'"):
        ag.recurrence(xp, w, cell="lstmm")
    with pytest.raises(ValueError, match=r"weight_hh of shape \(8, 2\) does not fit a gru cell"):
        ag.recurrence(xp, w, cell="gru")
    with pytest.raises(ValueError, match=r"inputs of shape \(3, 2, 8\) do not fit .* \(2, 2\)"):
        ag.recurrence(xp, np.zeros((2, 2)), cell="tanh")
    with pytest.raises(ValueError, match=r"initial state of shape \(1, 2, 2\) .* \(2, 2, 2\)"):
        ag.recurrence(xp, w, np.zeros((1, 2, 2)), cell="lstm")
    with pytest.raises(ValueError, match=r"bias_hh of shape \(4,\) .* expected \(8,\)"):
        ag.recurrence(xp, w, cell="lstm", bias_hh=np.zeros(4))
    with pytest.raises(TypeError, match=r"share one dtype, got \['float32', 'float64'\]"):
        ag.recurrence(xp.astype(np.float32), w, cell="lstm")
    with pytest.raises(ValueError, match=r"lengths must be 2 integers .* float64 of shape \(2,\)"):
        ag.recurrence(xp, w, cell="lstm", lengths=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"lengths must be in \[0, 3\] .* got \[4, 1\]"):
        ag.recurrence(xp, w, cell="lstm", lengths=[4, 1])


# -- what must hold ----------------------------------------------------------------------------


def test_the_recurrence_starts_from_zeros_and_runs_either_way() -> None:
    """No initial state is a zero state, and reverse=True is the forward pass over the
    sequence read backwards, its states read backwards."""
    for cell, gates, states in (("gru", 3, 1), ("lstm", 4, 2)):
        xp, w = _inputs(4, 2, 3 * gates), _inputs(3 * gates, 3, seed=1) * 0.5
        zero = ag.recurrence(xp, w, np.zeros((states, 2, 3)), cell=cell)
        np.testing.assert_array_equal(ag.recurrence(xp, w, cell=cell).data, zero.data)
        backwards = ag.recurrence(xp[::-1].copy(), w, cell=cell).data[::-1]
        np.testing.assert_allclose(ag.recurrence(xp, w, cell=cell, reverse=True).data, backwards)


@pytest.mark.parametrize("layer", LAYERS)
def test_an_output_depends_on_no_later_input_and_the_reverse_half_on_no_earlier(
    layer: Any,
) -> None:
    """Causality, exactly: d output[t] / d x[s] is 0 for s > t in the forward direction (also
    through stacked layers), and for s < t in the reverse one (the second half of a
    bidirectional layer's features); the inputs it may depend on all count."""
    stacked = layer(3, 2, num_layers=2, generator=0)
    both_ways = layer(3, 2, bidirectional=True, generator=1)
    x = ag.Tensor(_inputs(5, 1, 3), requires_grad=True)
    cases = ((stacked, slice(0, 2), True), (both_ways, slice(0, 2), True))
    for model, half, forward in (*cases, (both_ways, slice(2, 4), False)):
        for t in range(5):
            x.grad = None
            model(x)[0][t, :, half].sum().backward()
            reach = np.abs(x.grad.data).sum(axis=(1, 2)) > 0
            expected = np.arange(5) <= t if forward else np.arange(5) >= t
            np.testing.assert_array_equal(reach, expected)


@pytest.mark.parametrize("layer", LAYERS)
def test_dropout_acts_between_layers_only_and_only_in_training(layer: Any) -> None:
    """With p = 1 the second layer sees zeros in training, so the output is the second
    layer run alone on zeros; in evaluation (and without dropout) nothing is dropped."""
    model = layer(3, 4, num_layers=2, dropout=1.0, generator=0)
    plain = layer(3, 4, num_layers=2, generator=0)
    second = layer(4, 4, generator=1)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(second, f"{name}_l0").data[...] = getattr(model, f"{name}_l1").data
    x = _inputs(5, 2, 3)
    trained = model(x)[0]
    np.testing.assert_allclose(trained.data, second(np.zeros((5, 2, 4)))[0].data)
    assert np.abs(trained.data).sum() > 0  # the last layer's output is not dropped
    model.eval()
    np.testing.assert_array_equal(model(x)[0].data, plain(x)[0].data)


def test_dropout_between_layers_follows_the_layers_generator() -> None:
    x = _inputs(5, 2, 3)
    first = nn.LSTM(3, 4, num_layers=3, dropout=0.5, generator=7)(x)[0]
    again = nn.LSTM(3, 4, num_layers=3, dropout=0.5, generator=7)(x)[0]
    np.testing.assert_array_equal(first.data, again.data)


@pytest.mark.parametrize(("layer", "cell"), list(zip(LAYERS, CELLS, strict=True)))
def test_a_layer_is_its_cell_unrolled_with_the_same_parameters_at_every_step(
    layer: Any, cell: Any
) -> None:
    """The layer equals a loop of its cell holding the layer's own Parameter objects: one
    set of weights, used at every step, whose gradients add up the steps'."""
    model = layer(3, 4, generator=0)
    step = cell(3, 4)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(step, name, getattr(model, f"{name}_l0"))
    x = _inputs(6, 2, 3)
    output, _ = model(x)
    output.sum().backward()
    expected = {name: p.grad.data for name, p in model.named_parameters()}
    model.zero_grad()
    state, outputs = None, []
    for t in range(6):
        state = step(x[t], state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    unrolled = ag.stack(outputs)
    np.testing.assert_allclose(unrolled.data, output.data, rtol=1e-12, atol=1e-12)
    unrolled.sum().backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, expected[name], rtol=1e-12, atol=1e-12)
    leaves = {
        id(x)
        for node in topological_order(unrolled.grad_fn)
        for x in node.inputs
        if isinstance(x, nn.Parameter)
    }
    assert leaves == {id(p) for p in model.parameters()}  # 4 parameters, not 4 per step


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU])
def test_gradients_of_a_small_layer_match_central_differences(layer: Any) -> None:
    """Reverse and forward mode, first and second order, of the output and final state with
    respect to the input and the initial state, in float64; both directions."""
    model = layer(2, 2, bidirectional=True, generator=3)
    x, h0 = _inputs(3, 1, 2, seed=1), _inputs(2, 1, 2, seed=2) * 0.5

    def run(x: Any, h0: Any) -> Any:
        output, state = model(x, (h0, h0 * 0.5) if layer is nn.LSTM else h0)
        return output.sum() + ((state[1] if isinstance(state, tuple) else state) ** 2).sum()

    assert ag.gradcheck(run, [x, h0], order=2)


def test_parameters_are_named_shaped_and_initialized_as_pytorch() -> None:
    model = nn.LSTM(3, 5, num_layers=2, bidirectional=True, generator=0)
    names = [
        f"{k}_l{layer}{d}"
        for layer in (0, 1)
        for d in ("", "_reverse")
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    assert list(model.state_dict()) == names
    assert model.weight_ih_l0.shape == (20, 3) and model.weight_ih_l1_reverse.shape == (20, 10)
    assert model.weight_hh_l1.shape == (20, 5) and model.bias_hh_l0_reverse.shape == (20,)
    bound = 1 / math.sqrt(5)
    values = np.concatenate([p.data.ravel() for p in model.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert list(nn.GRU(3, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(nn.GRUCell(3, 5).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def test_the_default_generator_makes_a_model_reproducible() -> None:
    nn.manual_seed(11)
    first = nn.GRU(3, 4).state_dict()
    nn.manual_seed(11)
    second = nn.GRU(3, 4).state_dict()
    for key, value in first.items():
        np.testing.assert_array_equal(value, second[key])
    assert not np.array_equal(first["weight_ih_l0"], first["weight_hh_l0"][:, :3])


def test_reprs_read_as_pytorch() -> None:
    assert (
        repr(nn.LSTM(10, 20, 2, batch_first=True)) == "LSTM(10, 20, num_layers=2, batch_first=True)"
    )
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)).startswith("RNN(3, 4, bias=False")
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"


def test_a_float32_layer_computes_and_differentiates_in_float32() -> None:
    model = nn.LSTM(3, 4, num_layers=2, dtype=np.float32, generator=0)
    x = ag.Tensor(_inputs(5, 2, 3).astype(np.float32), requires_grad=True)
    output, (h, c) = model(x)
    (output.sum() + c.sum()).backward()
    assert output.dtype == h.dtype == c.dtype == x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_layers_run_under_no_grad_without_recording() -> None:
    model = nn.GRU(3, 4, generator=0)
    with ag.no_grad():
        output, h = model(_inputs(5, 2, 3))
    assert output.grad_fn is None and h.grad_fn is None and not output.requires_grad
