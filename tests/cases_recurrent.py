"""Test data for ops/recurrent.py: one line per primitive in `CASES` (the registry test requires
one for every primitive), composites of public functions in `COMPOSITES`. Both get reverse,
forward and second-order checks in test_op_gradients.py."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt
from autograd_core.ops.recurrent import CELLS
from tests.case_builders import Case, Draw


def recurrence_case(draw: Draw, cell: str | None = None, lengths: bool = False) -> Case:
    """A short sequence (1 to 3 steps, batch 1 or 2, 1 or 2 hidden units) through a drawn cell,
    either direction, with or without b_hh; with `lengths`, each sequence of the batch has its
    own length in [0, L]. For relu, |x| >= 0.5 and small weights keep every pre-activation at
    least 0.2 from relu's kink: h <= 1.8, so |h W_hh^T + b_hh| <= 0.28."""
    cell = cell or draw(st.sampled_from(sorted(CELLS)))
    spec = CELLS[cell]
    length, batch, size = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    reverse, with_bias = draw(st.booleans()), draw(st.booleans())
    steps = (
        draw(st.lists(st.integers(0, length), min_size=batch, max_size=batch)) if lengths else None
    )
    options = {"reverse": reverse, "lengths": steps}
    width = spec.gates * size
    if cell == "relu":
        xp = draw(agt.arrays((length, batch, width), low=-1.5, high=1.5, avoid=(0.0,), margin=0.5))
        small = {"low": -0.05, "high": 0.05}
        initial = draw(agt.arrays((1, batch, size), low=-1.0, high=1.0))
    else:
        xp = draw(agt.arrays((length, batch, width), low=-2.0, high=2.0))
        small = {"low": -1.0, "high": 1.0}
        initial = draw(agt.arrays((spec.states, batch, size), low=-1.0, high=1.0))
    w = draw(agt.arrays((width, size), **small))
    if with_bias:
        bias = draw(agt.arrays((width,), **small))
        return (lambda x, w, h, b: ag.recurrence(x, w, h, cell, bias_hh=b, **options)), [
            xp,
            w,
            initial,
            bias,
        ]
    return (lambda x, w, h: ag.recurrence(x, w, h, cell, **options)), [xp, w, initial]


CASES: dict[str, Callable[[Draw], Case]] = {
    "recurrence": recurrence_case,
}
COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    # the LSTM, whose cell has the most to get wrong, in every example (the case above
    # draws among all four cells)
    "recurrence_lstm": lambda draw: recurrence_case(draw, "lstm"),
    # sequences of different lengths in one batch (padding past each one's end), every cell
    "recurrence_lengths": lambda draw: recurrence_case(draw, lengths=True),
}
