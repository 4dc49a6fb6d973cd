"""Recurrent ops: `recurrence` runs an RNN, LSTM or GRU cell over a whole sequence as one
op, so a layer records a handful of nodes, not a dozen per time step, and its backward is
backpropagation through time (BPTT) written out: the steps again, from the last to the first.

The input projection of every step, xp_t = x_t W_ih^T + b_ih, is computed beforehand in one
`linear` (one large matrix product instead of L small ones); inside the loop each step
adds hp_t = h_{t-1} W_hh^T + b_hh and applies its cell (PyTorch's formulas and gate order):

- tanh or relu (Elman): h_t = tanh(xp_t + hp_t)
- LSTM, gates i, f, g, o: i, f, o = sigmoid, g = tanh of the four blocks of xp_t + hp_t;
  c_t = f c_{t-1} + i g, h_t = o tanh(c_t). The cell state c carries information across
  many steps through a sum (gated by f) instead of a product of Jacobians, so its gradient
  does not vanish as fast as a tanh RNN's.
- GRU, gates r, z, n: r, z = sigmoid(xp + hp) of their blocks, n = tanh(xp_n + r hp_n),
  h_t = (1 - z) n + z h_{t-1}.

Each cell is written once, with operators and primitives that compute on arrays (the forward,
and an ordinary backward that reuses the activations the forward kept) and record on tensors
(a differentiated backward, `create_graph`, and forward mode), as every rule in the library.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from autograd_core.engine import Primitive, register
from autograd_core.ops.common import export, quiet, tensor, value
from autograd_core.ops.elementwise import RELU, SIGMOID, TANH, WHERE
from autograd_core.ops.reductions import SUM
from autograd_core.ops.shape import CONCAT, RESHAPE, STACK
from autograd_core.tensor import Tensor

# --------------------------------------------------------------------------------------------
# The cells. Each is a step (the update, and the activations its derivatives need) and the
# step's reverse-mode and forward-mode rules; arrays are (N, features), states (h,) or (h, c).
# --------------------------------------------------------------------------------------------

State = tuple[Any, ...]


def _block(x: Any, k: int, size: int) -> Any:
    """Gate block k (columns k*size to (k+1)*size) of x of shape (N, gates*size): a view."""
    return x[:, k * size : (k + 1) * size]


def _side_by_side(*parts: Any) -> Any:
    """Join (N, size) blocks along the features, the inverse of `_block`."""
    offsets = (0, *itertools.accumulate(p.shape[1] for p in parts))
    return CONCAT(*parts, axis=1, offsets=offsets)


def _elman_derivative(nonlinearity: Callable[..., Any]) -> Callable[[Any], Any]:
    """d/dpre of h = nonlinearity(pre), from h itself: 1 - h^2 for tanh, [h > 0] for relu."""
    if nonlinearity is TANH:
        return lambda h: 1.0 - h * h
    return lambda h: value(h) > 0  # a constant mask (relu'' = 0)


def _elman(nonlinearity: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
    """h_t = nonlinearity(xp_t + hp_t): the activations kept are h_t itself."""
    slope = _elman_derivative(nonlinearity)

    def step(xp: Any, hp: Any, state: State) -> tuple[State, Any]:
        h = nonlinearity(xp + hp)
        return (h,), h

    def vjp(d_state: State, h: Any, state: State) -> tuple[Any, Any, State]:
        d_pre = d_state[0] * slope(h)
        return d_pre, d_pre, (None,)  # h_{t-1} enters only through hp

    def jvp(t_xp: Any, t_hp: Any, t_state: State, h: Any, state: State) -> State:
        return ((t_xp + t_hp) * slope(h),)

    return step, vjp, jvp


@functools.lru_cache(maxsize=64)
def _lstm_scale(size: int, dtype: np.dtype[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """s = 1/2 on the i, f, o blocks and 1 on g, with 1 - s and s^2 (see `_lstm_step`);
    read only, as they are shared."""
    scale = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], dtype=dtype), size)
    arrays = (scale, 1.0 - scale, scale * scale)
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _lstm_step(xp: Any, hp: Any, state: State) -> tuple[State, Any]:
    """c_t = f c_{t-1} + i g, h_t = o tanh(c_t). sigmoid(x) = (1 + tanh(x/2)) / 2, so one
    tanh serves all four gates: gate = s tanh(s x) + 1 - s, s = 1/2 for i, f, o and 1 for g
    (measured at batch 16, H = 64: 20 us, against 31 us for sigmoid and tanh apart).
    Keeps (gates, tanh(s x), tanh(c_t)) for the rules below."""
    c = state[1]
    size = c.shape[-1]
    s, one_minus_s, _ = _lstm_scale(size, c.dtype)
    t = TANH((xp + hp) * s)
    gates = t * s + one_minus_s
    i, f, g, o = (_block(gates, k, size) for k in range(4))
    c_new = f * c + i * g
    tanh_c = TANH(c_new)
    return (o * tanh_c, c_new), (gates, t, tanh_c)


def _lstm_vjp(d_state: State, kept: Any, state: State) -> tuple[Any, Any, State]:
    """dc = dc_t + dh_t o (1 - tanh^2 c_t); the gates get (dc g, dc c_{t-1}, dc i, dh tanh c_t),
    times their slopes s^2 (1 - tanh^2(s x)); c_{t-1} gets dc f."""
    dh, dc = d_state
    gates, t, tanh_c = kept
    size = tanh_c.shape[-1]
    s_squared = _lstm_scale(size, tanh_c.dtype)[2]
    i, f, g, o = (_block(gates, k, size) for k in range(4))
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    d_gates = _side_by_side(dc * g, dc * state[1], dc * i, dh * tanh_c)
    d_pre = d_gates * (s_squared * (1.0 - t * t))
    return d_pre, d_pre, (None, dc * f)


def _lstm_jvp(t_xp: Any, t_hp: Any, t_state: State, kept: Any, state: State) -> State:
    """The tangent of (h_t, c_t): the product rule through c_t = f c + i g and h_t = o tanh c_t."""
    t_c = t_state[1]
    gates, t, tanh_c = kept
    size = tanh_c.shape[-1]
    s_squared = _lstm_scale(size, tanh_c.dtype)[2]
    i, f, g, o = (_block(gates, k, size) for k in range(4))
    t_gates = (t_xp + t_hp) * (s_squared * (1.0 - t * t))
    t_i, t_f, t_g, t_o = (_block(t_gates, k, size) for k in range(4))
    t_c_new = t_f * state[1] + f * t_c + t_i * g + i * t_g
    return (t_o * tanh_c + o * (1.0 - tanh_c * tanh_c) * t_c_new, t_c_new)


def _gru_step(xp: Any, hp: Any, state: State) -> tuple[State, Any]:
    """r, z = sigmoid(xp + hp) on their blocks, n = tanh(xp_n + r hp_n), h_t = n + z (h - n)
    (= (1 - z) n + z h). Keeps (r and z side by side, n, hp_n)."""
    (h,) = state
    size = h.shape[-1]
    rz = SIGMOID(_block(xp, 0, 2 * size) + _block(hp, 0, 2 * size))
    r, z = _block(rz, 0, size), _block(rz, 1, size)
    hp_n = _block(hp, 2, size)
    n = TANH(_block(xp, 2, size) + r * hp_n)
    return (n + z * (h - n),), (rz, n, hp_n)


def _gru_vjp(d_state: State, kept: Any, state: State) -> tuple[Any, Any, State]:
    """dn = dh (1 - z), dz = dh (h - n), dh_{t-1} = dh z directly; through n = tanh(xp_n +
    r hp_n): d(xp_n) = dn (1 - n^2), dr = d(xp_n) hp_n, d(hp_n) = d(xp_n) r; r and z then
    through their sigmoids' slopes rz (1 - rz)."""
    (dh,) = d_state
    rz, n, hp_n = kept
    (h,) = state
    size = h.shape[-1]
    r, z = _block(rz, 0, size), _block(rz, 1, size)
    d_xp_n = dh * (1.0 - z) * (1.0 - n * n)
    d_rz = _side_by_side(d_xp_n * hp_n, dh * (h - n)) * (rz * (1.0 - rz))
    return _side_by_side(d_rz, d_xp_n), _side_by_side(d_rz, d_xp_n * r), (dh * z,)


def _gru_jvp(t_xp: Any, t_hp: Any, t_state: State, kept: Any, state: State) -> State:
    """The tangent of h_t = n + z (h - n), through r, z and n = tanh(xp_n + r hp_n)."""
    (t_h,) = t_state
    rz, n, hp_n = kept
    (h,) = state
    size = h.shape[-1]
    r, z = _block(rz, 0, size), _block(rz, 1, size)
    t_rz = (_block(t_xp, 0, 2 * size) + _block(t_hp, 0, 2 * size)) * (rz * (1.0 - rz))
    t_r, t_z = _block(t_rz, 0, size), _block(t_rz, 1, size)
    t_n = (1.0 - n * n) * (_block(t_xp, 2, size) + t_r * hp_n + r * _block(t_hp, 2, size))
    return (t_n + t_z * (h - n) + z * (t_h - t_n),)


class Cell(NamedTuple):
    """A recurrent cell: its gate blocks per hidden unit, its state arrays ((h,) or (h, c)),
    its step `(xp_t, hp_t, state) -> (new state, kept activations)`, and the step's rules
    `vjp(d_new_state, kept, state) -> (d_xp_t, d_hp_t, d_state)` (d_state without the path
    through hp_t, None where there is none) and `jvp(t_xp, t_hp, t_state, kept, state)`."""

    gates: int
    states: int
    step: Callable[..., tuple[State, Any]]
    vjp: Callable[..., tuple[Any, Any, State]]
    jvp: Callable[..., State]


CELLS: dict[str, Cell] = {
    "tanh": Cell(1, 1, *_elman(TANH)),
    "relu": Cell(1, 1, *_elman(RELU)),
    "lstm": Cell(4, 2, _lstm_step, _lstm_vjp, _lstm_jvp),
    "gru": Cell(3, 1, _gru_step, _gru_vjp, _gru_jvp),
}
"""The cells `recurrence` runs, by name."""


# --------------------------------------------------------------------------------------------
# The sequence: one op over all steps, forward, BPTT, and forward mode.
# --------------------------------------------------------------------------------------------

Shapes = tuple[tuple[int, ...], ...]


def _pack(pieces: list[Any], shapes: Shapes) -> Any:
    """The pieces flattened and joined into one vector, as `_unpack` reads them (the op's
    input, and its gradient)."""
    offsets = (0, *itertools.accumulate(math.prod(shape) for shape in shapes))
    return CONCAT(*[_flat(p) for p in pieces], axis=0, offsets=offsets)


def _flat(x: Any) -> Any:
    return RESHAPE(x, shape=(-1,)) if isinstance(x, Tensor) else np.ravel(x)


def _unpack(packed: Any, shapes: Shapes) -> tuple[Any, Any, Any, Any]:
    """The pieces `recurrence` packed: input projection (L, N, G), W_hh (G, H), b_hh (G,) or
    None, initial state (S, N, H); views of `packed`."""
    pieces, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        pieces.append(packed[start : start + size].reshape(shape))
        start += size
    if len(pieces) == 3:
        pieces.insert(2, None)
    xp, w, bias, initial = pieces
    return xp, w, bias, initial


def _hidden(h: Any, w_t: Any, bias: Any) -> Any:
    """hp = h W_hh^T + b_hh, the recurrent term of one step (w_t = W_hh^T)."""
    hp = h @ w_t
    return hp if bias is None else hp + bias


def _steps(length: int, reverse: bool) -> list[int]:
    """Time steps in the order they run: forward, or from the last (a reverse direction)."""
    return list(range(length - 1, -1, -1) if reverse else range(length))


Lengths = tuple[int, ...] | None


def _running(lengths: Lengths, length: int) -> list[Any]:
    """For each time t, which samples are still running, (N, 1) bool: t < lengths[n]. A step
    past a sequence's end leaves its state as it was (in a reverse direction the state stays
    the initial one until t < length), so out[L - 1] (forward) and out[0] (reverse) are each
    sequence's state at its own last step. All True (None) without lengths."""
    if lengths is None:
        return [None] * length
    ends = np.asarray(lengths)[:, None]
    return [t < ends for t in range(length)]


def _keep(running: Any, new: State, old: State) -> State:
    """Each of `new` for the samples still running, of `old` (carried over) for those ended."""
    if running is None:
        return new
    return tuple(WHERE(a, b, cond=running) for a, b in zip(new, old, strict=True))


def _state_before(k: int, steps: list[int], out: Any, initial: Any, count: int) -> State:
    """The state the k-th step to run starts from: the initial one, or the one before's."""
    before = initial if k == 0 else out[steps[k - 1]]
    return tuple(before[j] for j in range(count))


def _hidden_before(out: Any, initial: Any, reverse: bool) -> Any:
    """The h each step starts from, in time order (L, N, H): the initial h, then the outputs'
    h shifted by one step; for a reverse direction step t starts from step t + 1's state
    and the last from the initial one."""
    length = out.shape[0]
    shifted = out[1:, 0] if reverse else out[: length - 1, 0]
    parts = (shifted, initial[0:1]) if reverse else (initial[0:1], shifted)
    return CONCAT(*parts, axis=0, offsets=(0, len(parts[0]), length))


def _recurrence_forward(
    packed: np.ndarray, cell: str, shapes: Shapes, reverse: bool, lengths: Lengths = None
) -> tuple[np.ndarray, tuple[np.ndarray, list[Any]]]:
    """The state after every step, (L, S, N, H) (h, and c for an LSTM); keeps each step's
    activations for the fused backward."""
    xp, w, bias, initial = _unpack(packed, shapes)
    spec = CELLS[cell]
    out = np.empty((xp.shape[0], *initial.shape), dtype=packed.dtype)
    kept: list[Any] = [None] * len(xp)
    running = _running(lengths, len(xp))
    state, w_t = tuple(initial), w.mT
    for t in _steps(len(xp), reverse):
        new, kept[t] = spec.step(xp[t], _hidden(state[0], w_t, bias), state)
        state = _keep(running[t], new, state)
        for j, part in enumerate(state):
            out[t, j] = part
    return out, (out, kept)


def _backward_through_time(
    g: Any,
    out: Any,
    packed: Any,
    kept: list[Any] | None,
    cell: str,
    shapes: Shapes,
    reverse: bool,
    lengths: Lengths,
) -> Any:
    """BPTT: from the last step to the first, each step's state cotangent (its output's plus
    what the next step sends back) goes through the cell's vjp to its gates, and back to the
    state before it, directly and through hp = h W_hh^T (+ dhp W_hh). Then W_hh's gradient in
    one product, sum_t dhp_t^T h_{t-1}. `kept` holds the forward's activations (an ordinary
    backward); without it they are recomputed with ops, so the pass can be differentiated.
    A step past a sequence's end passes its state's cotangent through unchanged; its cell
    gets none (the rules are linear in it, so zero in gives zero to its gates)."""
    xp, w, bias, initial = _unpack(packed, shapes)
    spec = CELLS[cell]
    steps = _steps(len(xp), reverse)
    running = _running(lengths, len(xp))
    nothing = (0.0,) * spec.states
    d_xp: list[Any] = [None] * len(steps)
    d_hp: list[Any] = [None] * len(steps)
    d_state: State = ()
    for k in reversed(range(len(steps))):
        t = steps[k]
        state = _state_before(k, steps, out, initial, spec.states)
        incoming = g[t]
        parts = tuple(incoming[j] for j in range(spec.states))
        d_state = (
            parts if not d_state else tuple(a + b for a, b in zip(parts, d_state, strict=True))
        )
        if kept is None:
            activations = spec.step(xp[t], _hidden(state[0], w.mT, bias), state)[1]
        else:
            activations = kept[t]
        live = _keep(running[t], d_state, nothing)
        d_xp[t], d_hp[t], direct = spec.vjp(live, activations, state)
        d_h = d_hp[t] @ w
        d_before = (d_h if direct[0] is None else direct[0] + d_h, *direct[1:])
        d_state = _keep(running[t], d_before, d_state)
    d_xp_all = STACK(*d_xp, axis=0)
    d_hp_all = d_xp_all if d_hp[0] is d_xp[0] else STACK(*d_hp, axis=0)
    gates, size = w.shape
    h_before = _hidden_before(out, initial, reverse)
    d_w = d_hp_all.reshape(-1, gates).mT @ h_before.reshape(-1, size)
    pieces = [d_xp_all, d_w]
    if bias is not None:
        pieces.append(SUM(d_hp_all, axis=(0, 1), keepdims=False))
    pieces.append(STACK(*d_state, axis=0))
    return _pack(pieces, shapes)


def _recurrence_vjp(
    g: Any, out: Any, packed: Any, cell: str, shapes: Shapes, reverse: bool, lengths: Lengths = None
) -> Any:
    return _backward_through_time(g, out, packed, None, cell, shapes, reverse, lengths)


def _recurrence_fused(
    g: np.ndarray,
    residual: tuple[np.ndarray, list[Any]],
    packed: np.ndarray,
    cell: str,
    shapes: Shapes,
    reverse: bool,
    lengths: Lengths = None,
) -> np.ndarray:
    """BPTT on arrays with the activations the forward kept, instead of computing them
    again (measured: an LSTM layer's forward + backward, seq 32, batch 16, 64 -> 64, takes
    22-27% less time)."""
    out, kept = residual
    return _backward_through_time(g, out, packed, kept, cell, shapes, reverse, lengths)  # type: ignore[no-any-return]


def _recurrence_jvp(
    tangent: Any,
    out: Any,
    packed: Any,
    cell: str,
    shapes: Shapes,
    reverse: bool,
    lengths: Lengths = None,
) -> Any:
    """Forward mode: the states' tangents, step by step in the forward's order, each from the
    step's input tangents and the previous state's tangent through the cell's jvp (carried
    over unchanged past a sequence's end)."""
    xp, w, bias, initial = _unpack(packed, shapes)
    t_xp, t_w, t_bias, t_initial = _unpack(tangent, shapes)
    spec = CELLS[cell]
    steps = _steps(len(xp), reverse)
    running = _running(lengths, len(xp))
    tangents: list[Any] = [None] * len(steps)
    t_state = tuple(t_initial[j] for j in range(spec.states))
    for k, t in enumerate(steps):
        state = _state_before(k, steps, out, initial, spec.states)
        t_hp = _hidden(t_state[0], w.mT, t_bias) + state[0] @ t_w.mT
        kept = spec.step(xp[t], _hidden(state[0], w.mT, bias), state)[1]
        t_state = _keep(running[t], spec.jvp(t_xp[t], t_hp, t_state, kept, state), t_state)
        tangents[t] = STACK(*t_state, axis=0)
    return STACK(*tangents, axis=0)


RECURRENCE: Primitive = register(
    Primitive(
        "recurrence",
        quiet(_recurrence_forward),
        (_recurrence_vjp,),
        (_recurrence_jvp,),
        save_output=True,
        fused_vjp=_recurrence_fused,
        doc="an RNN, LSTM or GRU cell over a sequence, from one packed input (projection, "
        "W_hh, b_hh, initial state); backward: backpropagation through time",
    )
)


def _lengths(lengths: Any, shape_x: tuple[int, ...]) -> tuple[int, ...]:
    """`lengths` checked against inputs of shape (L, N, G*H): N integers in [0, L]."""
    steps = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    length, batch = shape_x[0], shape_x[1]
    if steps.dtype.kind not in "iu" or steps.shape != (batch,):
        raise ValueError(
            f"recurrence: lengths must be {batch} integers (one per sequence of inputs of shape "
            f"{shape_x}), got {steps.dtype} of shape {steps.shape}"
        )
    if batch and (steps.min() < 0 or steps.max() > length):
        raise ValueError(
            f"recurrence: lengths must be in [0, {length}] for inputs of shape {shape_x}, got "
            f"{steps.tolist()}"
        )
    return tuple(int(n) for n in steps)


def _checked_pieces(
    cell: str, inputs: Any, weight_hh: Any, initial: Any, bias_hh: Any
) -> list[Any]:
    """`recurrence`'s operands, checked against each other: the projection, W_hh, b_hh (when
    given) and the initial state (zeros when None), in the order they are packed."""
    if cell not in CELLS:
        raise ValueError(f"recurrence: unknown cell {cell!r}; expected one of {sorted(CELLS)}")
    spec = CELLS[cell]
    xp, w = tensor(inputs), tensor(weight_hh)
    shape_x, shape_w = xp.shape, w.shape
    if len(shape_w) != 2 or shape_w[0] != spec.gates * shape_w[1]:
        raise ValueError(
            f"recurrence: weight_hh of shape {shape_w} does not fit a {cell} cell: expected "
            f"({spec.gates} * hidden_size, hidden_size)"
        )
    size = shape_w[1]
    if len(shape_x) != 3 or shape_x[2] != spec.gates * size or shape_x[0] == 0:
        raise ValueError(
            f"recurrence: inputs of shape {shape_x} do not fit weight_hh of shape {shape_w}: "
            f"expected (length >= 1, batch, {spec.gates * size})"
        )
    state_shape = (spec.states, shape_x[1], size)
    pieces: list[Any] = [xp, w]
    if bias_hh is not None:
        bias = tensor(bias_hh)
        if bias.shape != (spec.gates * size,):
            raise ValueError(
                f"recurrence: bias_hh of shape {bias.shape} does not fit weight_hh of shape "
                f"{shape_w}; expected ({spec.gates * size},)"
            )
        pieces.append(bias)
    if initial is None:
        pieces.append(np.zeros(state_shape, dtype=xp.dtype))
    else:
        start = tensor(initial)
        if start.shape != state_shape:
            raise ValueError(
                f"recurrence: initial state of shape {start.shape} does not fit inputs of shape "
                f"{shape_x}: expected {state_shape} ({'h and c' if spec.states == 2 else 'h'} "
                f"of shape (batch, hidden_size))"
            )
        pieces.append(start)
    dtypes = {np.dtype(p.dtype) for p in pieces}
    if len(dtypes) > 1:
        raise TypeError(
            f"recurrence: inputs, weights and initial state must share one dtype, got "
            f"{sorted(str(d) for d in dtypes)}"
        )
    return pieces


@export
def recurrence(
    inputs: Any,
    weight_hh: Any,
    initial: Any = None,
    cell: str = "tanh",
    bias_hh: Any = None,
    reverse: bool = False,
    lengths: Any = None,
) -> Tensor:
    """Run a recurrent cell over a sequence, in one op: the state after every step.

    `inputs` is the input projection of every step, x_t W_ih^T + b_ih, shape (L, N, G*H)
    (G gate blocks: 1 for "tanh" and "relu", 4 for "lstm", 3 for "gru"); `weight_hh` is
    W_hh, (G*H, H); `initial` the state before the first step, (S, N, H) with S = 2 (h, c)
    for an LSTM and 1 otherwise (zeros when None); `bias_hh` the optional b_hh, (G*H,).
    Each step computes hp_t = h_{t-1} W_hh^T + b_hh and applies the cell (formulas in this
    module's docstring). `reverse=True` runs from the last step to the first (the reverse
    direction of a bidirectional layer). Returns (L, S, N, H): out[t] is the state after
    the step at time t; out[:, 0] are the hidden states.

    `lengths` (N,) (integers in [0, L], a constant, not differentiated) runs sequences of
    different lengths in one batch: the steps at t >= lengths[n] leave sample n's state as it
    was, in either direction, so out[L - 1] (forward) or out[0] (reverse) is each sequence's
    state after its own last step; its outputs there (repeated states) are padding.

    The op's fused backward serves one input, so the pieces are packed into one vector here
    (a copy of the projection); `concat`'s backward hands each piece its part of the gradient.
    """
    pieces = _checked_pieces(cell, inputs, weight_hh, initial, bias_hh)
    shapes = tuple(tuple(p.shape) for p in pieces)
    packed = _pack(pieces, shapes)
    if lengths is None:
        return RECURRENCE(packed, cell=cell, shapes=shapes, reverse=bool(reverse))
    steps = _lengths(lengths, shapes[0])
    return RECURRENCE(packed, cell=cell, shapes=shapes, reverse=bool(reverse), lengths=steps)
