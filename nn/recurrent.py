"""Recurrent networks: the RNN, LSTM and GRU cells (one time step) and their multi-layer,
bidirectional sequence layers, with PyTorch's arguments, parameter names, gate order,
initialization and results, so state dicts load both ways.

A recurrent layer reads a sequence one step at a time, carrying a hidden state h:

- RNN (Elman): h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu);
- LSTM, gates i, f, g, o (input, forget, cell candidate, output):
  i, f, o = sigmoid(.), g = tanh(.) of the four blocks of x W_ih^T + b_ih + h W_hh^T + b_hh,
  c' = f c + i g, h' = o tanh(c'); the cell state c carries information across many steps;
- GRU, gates r, z, n (reset, update, new): r, z = sigmoid(.) of their blocks,
  n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h.

Parameters are `weight_ih_l{k}` (G*H, input), `weight_hh_l{k}` (G*H, H), `bias_ih_l{k}`,
`bias_hh_l{k}` (G*H,) for layer k, with `_reverse` for the backward direction (G = 1, 4, 3
gate blocks), all drawn from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does.

A sequence layer computes the input projection of all steps in one `linear` and runs the
time loop inside one op, `autograd_core.recurrence`, whose backward is backpropagation
through time. A cell is that op over one step; a loop of cells draws the unrolled graph.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.layers import Generator, _dtype, _input, _label, _size
from nn.module import Module, Parameter
from nn.utils.rnn import PackedSequence, _packed_index, pad_packed_sequence

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}


def _flag(layer: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be a bool, got {value!r}")
    return value


def _nonlinearity(layer: str, nonlinearity: Any) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: unknown nonlinearity {nonlinearity!r}; select 'tanh' or 'relu'")
    return str(nonlinearity)


def _run(
    x: Tensor,
    weights: tuple[Parameter, Parameter, Parameter | None, Parameter | None],
    cell: str,
    initial: Tensor | None,
    reverse: bool,
    lengths: np.ndarray | None = None,
) -> Tensor:
    """One layer in one direction over x (L, N, input): the input projection of every step
    in one `linear`, then the time loop in one op; the state after every step (L, S, N, H).
    RNN and LSTM add b_hh to the projection (the same sum, once); the GRU keeps b_hn inside
    the loop, where r multiplies W_hn h + b_hn. With `lengths` (packed input), the state of
    sequence n stops changing after its own last step."""
    w_ih, w_hh, b_ih, b_hh = weights
    if cell == "gru" or b_ih is None or b_hh is None:
        xp, b_hh_in_loop = ag.linear(x, w_ih, b_ih), b_hh
    else:
        xp, b_hh_in_loop = ag.linear(x, w_ih, b_ih + b_hh), None
    return ag.recurrence(xp, w_hh, initial, cell, b_hh_in_loop, reverse, lengths)


def _reset(module: Module, hidden_size: int, generator: Generator) -> None:
    """Every parameter from U(-1/sqrt(H), 1/sqrt(H)), in registration order, as PyTorch."""
    rng = init.as_generator(generator)
    bound = 1.0 / math.sqrt(hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound, generator=rng)


# --------------------------------------------------------------------------------------------
# Cells: one time step.
# --------------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """What the three cells share: `weight_ih` (G*H, input_size), `weight_hh` (G*H, H),
    `bias_ih`, `bias_hh` (G*H,), input (N, input_size) or one unbatched sample (input_size,),
    and the state (N, H) (zeros when not given)."""

    _cell = "tanh"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _size(name, "input_size", input_size)
        self.hidden_size = _size(name, "hidden_size", hidden_size)
        self.bias = _flag(name, "bias", bias)
        dtype = _dtype(dtype)
        width = _GATES[self._cell] * self.hidden_size
        self.weight_ih = Parameter(np.empty((width, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((width, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(width, dtype=dtype))
            self.bias_hh = Parameter(np.empty(width, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator = None) -> None:
        _reset(self, self.hidden_size, generator)

    def _state(self, hx: Any, what: str, batch: int, batched: bool) -> Tensor:
        """A given state (h or c) as (N, H), checked against the input's batch."""
        h = _input(self, hx, self.weight_hh)
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if h.shape != expected:
            raise ValueError(
                f"{_label(self)}: {what} of shape {h.shape} does not fit input of batch "
                f"{batch if batched else 'none (unbatched)'}: expected {expected}"
            )
        return h if batched else h.reshape(1, self.hidden_size)

    def _inputs(self, x: Any, hx: Any) -> tuple[Tensor, tuple[Tensor, ...] | None, bool]:
        """The input as (N, input_size), the given state's parts ((h,) or (h, c)) as
        (N, H) or None, and whether the input was batched; all checked."""
        x = _input(self, x, self.weight_ih)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{_label(self)}: expected input of shape (batch, {self.input_size}) or "
                f"({self.input_size},) unbatched, got {x.shape}"
            )
        batched = x.ndim == 2
        batch = x.shape[0] if batched else 1
        if hx is None:
            return x.reshape(batch, self.input_size), None, batched
        if self._cell != "lstm":
            return (
                x.reshape(batch, self.input_size),
                (self._state(hx, "hx", batch, batched),),
                batched,
            )
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{_label(self)}: hx must be a tuple (h, c), got {type(hx).__name__}")
        given = zip(hx, ("h", "c"), strict=True)
        states = tuple(self._state(s, what, batch, batched) for s, what in given)
        return x.reshape(batch, self.input_size), states, batched

    def _step(self, x: Any, hx: Any) -> tuple[Tensor, ...]:
        """One step through `recurrence` over a sequence of one: the new state's parts
        (h, or h and c), unbatched again if the input was."""
        x, states, batched = self._inputs(x, hx)
        initial = None if states is None else ag.stack(states)
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        state = _run(x.reshape(1, *x.shape), weights, self._cell, initial, False)[0]
        return tuple(state[j] if batched else state[j, 0] for j in range(state.shape[0]))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text


class RNNCell(RNNCellBase):
    """An Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), or relu with
    `nonlinearity="relu"`. `forward(input, hx=None) -> h'`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        self.nonlinearity = _nonlinearity("RNNCell", nonlinearity)
        self._cell = self.nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype=dtype, generator=generator)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        """The formula as written, four ops: unrolled over steps, it draws BPTT's graph."""
        x, states, batched = self._inputs(input, hx)
        h = np.zeros((len(x), self.hidden_size), x.dtype) if states is None else states[0]
        pre = ag.linear(x, self.weight_ih, self.bias_ih) + ag.linear(
            h, self.weight_hh, self.bias_hh
        )
        h = ag.tanh(pre) if self.nonlinearity == "tanh" else ag.relu(pre)
        return h if batched else h[0]

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity={self.nonlinearity}"


class LSTMCell(RNNCellBase):
    """An LSTM step, gates i, f, g, o: c' = f c + i g, h' = o tanh(c').
    `forward(input, hx=None) -> (h', c')`, hx = (h, c)."""

    _cell = "lstm"

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        h, c = self._step(input, hx)
        return h, c


class GRUCell(RNNCellBase):
    """A GRU step, gates r, z, n: n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h' = (1 - z) n + z h. `forward(input, hx=None) -> h'`."""

    _cell = "gru"

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]


# --------------------------------------------------------------------------------------------
# Sequence layers: multi-layer, bidirectional.
# --------------------------------------------------------------------------------------------


class RNNBase(Module):
    """What RNN, LSTM and GRU share: `num_layers` stacked layers (each reads the previous
    one's outputs; `dropout` between them in training, not after the last), `bidirectional`
    (a second pass from the last step to the first with `_reverse` parameters; outputs side
    by side), inputs (L, N, input_size), (N, L, input_size) with `batch_first`, or one
    unbatched sequence (L, input_size). `forward` returns the top layer's output at every
    step, (L, N, D*H), and the final states (num_layers * D, N, H), layer by layer with the
    directions of each together (D = 2 if bidirectional else 1). A PackedSequence input
    (nn.utils.rnn) gives a PackedSequence output, and each sequence's final states at its
    own last step (the reverse direction starts there), in the original batch order."""

    _cell = "tanh"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _size(name, "input_size", input_size)
        self.hidden_size = _size(name, "hidden_size", hidden_size)
        self.num_layers = _size(name, "num_layers", num_layers)
        self.bias = _flag(name, "bias", bias)
        self.batch_first = _flag(name, "batch_first", batch_first)
        self.bidirectional = _flag(name, "bidirectional", bidirectional)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        self.dropout = float(dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} acts between stacked layers, not after the last, "
                f"so with num_layers=1 it does nothing",
                stacklevel=2,
            )
        dtype = _dtype(dtype)
        width = _GATES[self._cell] * self.hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(self.num_layers):
            inputs = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (width, inputs),
                    "weight_hh": (width, self.hidden_size),
                }
                if bias:
                    shapes |= {"bias_ih": (width,), "bias_hh": (width,)}
                for kind, shape in shapes.items():
                    param = Parameter(np.empty(shape, dtype=dtype))
                    self.register_parameter(f"{kind}_l{layer}{suffix}", param)
        self._generator = None if generator is None else init.as_generator(generator)
        self.reset_parameters(self._generator)

    def reset_parameters(self, generator: Generator = None) -> None:
        _reset(self, self.hidden_size, generator)

    def _weights(
        self, layer: int, reverse: bool
    ) -> tuple[Parameter, Parameter, Parameter | None, Parameter | None]:
        suffix = f"_l{layer}{'_reverse' if reverse else ''}"
        return (
            getattr(self, "weight_ih" + suffix),
            getattr(self, "weight_hh" + suffix),
            getattr(self, "bias_ih" + suffix, None),
            getattr(self, "bias_hh" + suffix, None),
        )

    def _hidden(self, hx: Any, what: str, batch: int, batched: bool) -> Tensor:
        """A given initial state (h_0 or c_0) as (num_layers * D, N, H), checked."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        h = _input(self, hx, self.weight_hh_l0)
        expected = (count, batch, self.hidden_size) if batched else (count, self.hidden_size)
        if h.shape != expected:
            layout = "batch, " if batched else ""
            given = f"an input of batch {batch}" if batched else "an unbatched input"
            raise ValueError(
                f"{_label(self)}: {what} of shape {h.shape} does not fit {given}: expected "
                f"(num_layers * num_directions, {layout}hidden_size) = {expected}"
            )
        return h if batched else h.reshape(count, 1, self.hidden_size)

    def _initial_states(self, hx: Any, batch: int, batched: bool) -> list[Tensor | None]:
        """Each layer and direction's initial state (S, N, H), or None for zeros."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return [None] * count
        if self._cell == "lstm":
            pair = isinstance(hx, (tuple, list))
            if not pair or len(hx) != 2:
                got = f"a {type(hx).__name__} of {len(hx)}" if pair else type(hx).__name__
                raise TypeError(f"{_label(self)}: hx must be a tuple (h_0, c_0), got {got}")
            parts = zip(hx, ("h_0", "c_0"), strict=True)
            both = ag.stack([self._hidden(s, what, batch, batched) for s, what in parts])
            return [both[:, k] for k in range(count)]
        h = self._hidden(hx, "h_0", batch, batched)
        return [h[k : k + 1] for k in range(count)]

    def _sequence(self, input: Any, hx: Any) -> tuple[Tensor | PackedSequence, Tensor]:
        """The output (as the input's layout) and every layer's final state (S, K, N, H).
        A PackedSequence runs padded, time-major, in its original batch order, each sequence
        to its own length; the output is repacked as the input was."""
        if isinstance(input, PackedSequence):
            return self._packed(input, hx)
        x = _input(self, input, self.weight_ih_l0)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, L, {0})" if self.batch_first else "(L, N, {0})"
            raise ValueError(
                f"{_label(self)}: expected input of shape {layout.format(self.input_size)} or "
                f"(L, {self.input_size}) unbatched, got {x.shape}"
            )
        batched = x.ndim == 3
        if not batched:
            x = x.reshape(x.shape[0], 1, self.input_size)
        elif self.batch_first:
            x = ag.swapaxes(x, 0, 1)
        if x.shape[0] == 0:
            raise ValueError(f"{_label(self)}: expected a sequence of length >= 1, got {x.shape}")
        x, state = self._layers(x, self._initial_states(hx, x.shape[1], batched), None)
        if not batched:
            return x[:, 0], state[:, :, 0]
        return (ag.swapaxes(x, 0, 1) if self.batch_first else x), state

    def _packed(self, input: PackedSequence, hx: Any) -> tuple[PackedSequence, Tensor]:
        """The layers over a PackedSequence: its padded batch in the original order, run to
        each sequence's length (states and results in that order too, as PyTorch's)."""
        data = _input(self, input.data, self.weight_ih_l0)
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ValueError(
                f"{_label(self)}: expected packed data of shape (sum of lengths, "
                f"{self.input_size}), got {data.shape}"
            )
        x, lengths = pad_packed_sequence(input._replace(data=data))
        x, state = self._layers(x, self._initial_states(hx, x.shape[1], True), lengths)
        return input._replace(data=x[_packed_index(input, False)]), state

    def _layers(
        self, x: Tensor, initial: list[Tensor | None], lengths: np.ndarray | None
    ) -> tuple[Tensor, Tensor]:
        """Every layer and direction over x (L, N, input): the top layer's output (L, N, D*H)
        and the final states (S, K, N, H)."""
        length = x.shape[0]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                states = _run(
                    x,
                    self._weights(layer, direction == 1),
                    self._cell,
                    initial[layer * directions + direction],
                    direction == 1,
                    lengths,
                )
                outputs.append(states[:, 0])
                finals.append(states[length - 1 if direction == 0 else 0])
            x = outputs[0] if directions == 1 else ag.concat(outputs, axis=2)
            if self.training and self.dropout and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True, self._generator)
        return x, ag.stack(finals, axis=1)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman RNN layers: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).
    `forward(input, hx=None) -> (output, h_n)`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        self.nonlinearity = _nonlinearity("RNN", nonlinearity)
        self._cell = self.nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
            generator=generator,
        )

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor | PackedSequence, Tensor]:
        output, state = self._sequence(input, hx)
        return output, state[0]

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity={self.nonlinearity}"


class LSTM(RNNBase):
    """LSTM layers, gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
    `forward(input, hx=None) -> (output, (h_n, c_n))`, hx = (h_0, c_0)."""

    _cell = "lstm"

    def forward(
        self, input: Any, hx: Any = None
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        output, state = self._sequence(input, hx)
        return output, (state[0], state[1])


class GRU(RNNBase):
    """GRU layers, gates r, z, n: n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}. `forward(input, hx=None) -> (output, h_n)`."""

    _cell = "gru"

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor | PackedSequence, Tensor]:
        output, state = self._sequence(input, hx)
        return output, state[0]
