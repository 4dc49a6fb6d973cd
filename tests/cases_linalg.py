"""Test data for linear algebra (ops/linalg.py): one line per primitive in `CASES` (the
registry test requires one for every primitive), composites of public functions in
`COMPOSITES`. Both get reverse, forward and second-order checks in test_op_gradients.py."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import testing as agt
from tests.case_builders import Case, Draw

EINSUM_SUBSCRIPTS = [
    "ij,jk->ik",  # matrix product
    "ij,jk",  # implicit output
    "bij,bjk->bik",  # batched
    "...ij,...jk->...ik",  # '...' batches that broadcast
    "...ij->ij",  # '...' summed when the output leaves it out
    "i...->...i",
    "ii->i",  # diagonal
    "ii",  # trace
    "iij,j",  # a repeated label and a shared one
    "ii,i->i",
    "ij->ji",  # transpose
    "ij->",
    "i,j->ij",  # outer
    "ij,k->ik",  # j summed out of one operand only
    ",ij->ij",  # a 0-d operand
    "ijk,ik->j",
    "ij,jk,kl->il",  # three operands
]


def einsum_case(draw: Draw) -> Case:
    """Drawn subscripts, label sizes, broadcasting '...' parts, and some axes squeezed to
    size 1 (they broadcast against the label's size in the other operands)."""
    subscripts = draw(st.sampled_from(EINSUM_SUBSCRIPTS))
    terms = subscripts.split("->")[0].split(",")
    sizes = {c: draw(st.integers(1, 3)) for c in sorted(set(subscripts) - set(",->."))}
    with_dots = [k for k, term in enumerate(terms) if "..." in term]
    dots = draw(agt.broadcastable_shapes(max(len(with_dots), 1), max_dims=2, max_side=3))
    shapes = []
    for k, term in enumerate(terms):
        squeezed = {c for c in term if c != "." and draw(st.integers(0, 4)) == 0}
        dims = {c: 1 if c in squeezed else sizes[c] for c in term if c != "."}
        before, _, after = term.partition("...")
        middle = dots[with_dots.index(k)] if k in with_dots else ()
        shapes.append((*[dims[c] for c in before], *middle, *[dims[c] for c in after]))
    arrays = [draw(agt.arrays(shape)) for shape in shapes]
    return (lambda *ts: ag.einsum(subscripts, *ts)), arrays


def tensordot_case(draw: Draw) -> Case:
    """Integer dims (the last n axes of a with the first n of b) or a pair of axis lists."""
    shape_a = draw(agt.shapes(max_dims=3))
    n = draw(st.integers(0, len(shape_a)))
    free_b = draw(agt.shapes(max_dims=2))
    if draw(st.booleans()):
        dims: object = n
        a_axes, b_axes = list(range(len(shape_a) - n, len(shape_a))), list(range(n))
    else:
        a_axes = draw(st.permutations(range(len(shape_a))))[:n]
        b_axes = draw(st.permutations(range(n + len(free_b))))[:n]
        dims = (a_axes, b_axes)
    rest = iter(free_b)
    paired = dict(zip(b_axes, (shape_a[i] for i in a_axes), strict=True))
    shape_b = tuple(paired[j] if j in paired else next(rest) for j in range(n + len(free_b)))
    arrays = [draw(agt.arrays(shape_a)), draw(agt.arrays(shape_b))]
    return (lambda a, b: ag.tensordot(a, b, dims)), arrays


def diag_case(draw: Draw) -> Case:
    """A vector onto a matrix's diagonal, or a (non-empty) diagonal out of a matrix."""
    x = draw(agt.arrays(agt.shapes(min_dims=1, max_dims=2)))
    low, high = (-3, 3) if x.ndim == 1 else (1 - x.shape[0], x.shape[1] - 1)
    diagonal = draw(st.integers(low, high))
    return (lambda t: ag.diag(t, diagonal)), [x]


def triangle_case(fn: Callable[..., ag.Tensor]) -> Callable[[Draw], Case]:
    def case(draw: Draw) -> Case:
        x = draw(agt.arrays(agt.shapes(min_dims=2)))
        diagonal = draw(st.integers(-3, 3))
        return (lambda t: fn(t, diagonal)), [x]

    return case


CASES: dict[str, Callable[[Draw], Case]] = {
    "einsum": einsum_case,
}

COMPOSITES: dict[str, Callable[[Draw], Case]] = {
    "tensordot": tensordot_case,
    "outer": lambda draw: (
        ag.outer,
        [draw(agt.arrays(agt.shapes(1, 1))), draw(agt.arrays(agt.shapes(1, 1)))],
    ),
    "diag": diag_case,
    "trace": lambda draw: (ag.trace, [draw(agt.arrays(agt.shapes(2, 2)))]),
    "tril": triangle_case(ag.tril),
    "triu": triangle_case(ag.triu),
}
