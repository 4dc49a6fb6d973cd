"""Checking derivatives against central differences.

`numerical_grad` and `numerical_jacobian` estimate derivatives as (f(x + h) - f(x - h)) / 2h,
one input element at a time (error O(h^2); cost two evaluations of f per element). `gradcheck`
compares the full Jacobians that reverse mode (`jacrev`) and forward mode (`jacfwd`) compute
with that estimate, as `torch.autograd.gradcheck` does, and with `order=2` also the Jacobians
of the first derivatives.

Finite differences need float64: in float32 the round-off of f(x + h) - f(x - h) swamps the
difference for any useful h, so `gradcheck` warns and compares float64 copies.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_core.engine import no_grad
from autograd_core.tensor import Tensor
from autograd_core.transforms import jacfwd, jacrev, jvp, tree_flatten, tree_unflatten, vjp

Fn = Callable[..., Any]
_MODE_NAMES = {"rev": "reverse mode (jacrev)", "fwd": "forward mode (jacfwd)"}


class GradcheckError(RuntimeError):
    """A derivative disagrees with central differences (or has the wrong shape or dtype).

    Attributes say where: `mode` ("rev" or "fwd"), `order`, `input_index`, `output_index`,
    `element` (index into the Jacobian `out.shape + in.shape`), `analytical`, `numerical`.
    """

    def __init__(
        self,
        message: str,
        mode: str | None = None,
        order: int = 1,
        input_index: int | None = None,
        output_index: int | None = None,
        element: tuple[int, ...] | None = None,
        analytical: float | None = None,
        numerical: float | None = None,
    ) -> None:
        super().__init__(message)
        self.mode = mode
        self.order = order
        self.input_index = input_index
        self.output_index = output_index
        self.element = element
        self.analytical = analytical
        self.numerical = numerical


class GradcheckWarning(UserWarning):
    """gradcheck was given inputs too imprecise for finite differences (float32)."""


def _input_list(inputs: Any) -> tuple[list[np.ndarray], bool]:
    """Inputs as float arrays (copies), and whether a single input (not a sequence) was given."""
    single = not isinstance(inputs, (list, tuple))
    items = [inputs] if single else list(inputs)
    return [np.array(Tensor(x).data, copy=True) for x in items], single


def _default_eps(dtype: np.dtype[Any]) -> float:
    """h balancing truncation O(h^2) against round-off O(machine eps / h): about eps^(1/3)."""
    return 1e-6 if dtype == np.float64 else float(np.finfo(dtype).eps) ** (1 / 3)


def _evaluate(f: Fn, arrays: Sequence[np.ndarray]) -> tuple[list[np.ndarray], bool]:
    with no_grad():
        result = f(*[Tensor(a) for a in arrays])
    single = not isinstance(result, (tuple, list))
    outs = [result] if single else list(result)
    return [np.asarray(Tensor(o).data) for o in outs], single


def numerical_jacobian(f: Fn, inputs: Any, eps: float | None = None) -> Any:
    """Jacobians of `f` by central differences, shape `out.shape + in.shape` (numpy arrays).

    `inputs` is one array/tensor or a sequence of them (then `f(*inputs)`); the result is
    structured as `jacrev`'s with all arguments differentiated: a single array for a single
    input and output, else tuples (outputs outside, inputs inside).
    """
    arrays, single_in = _input_list(inputs)
    base, single_out = _evaluate(f, arrays)
    blocks = [
        [np.zeros(o.shape + a.shape, dtype=np.result_type(o, a)) for a in arrays] for o in base
    ]
    for i, a in enumerate(arrays):
        h = eps if eps is not None else _default_eps(a.dtype)
        for j in np.ndindex(a.shape):
            shifted = [b.copy() for b in arrays]
            shifted[i][j] = a[j] + h
            up, _ = _evaluate(f, shifted)
            shifted[i][j] = a[j] - h
            down, _ = _evaluate(f, shifted)
            for o, (u, d) in enumerate(zip(up, down, strict=True)):
                blocks[o][i][(..., *j)] = (u - d) / (2 * h)
    per_out = [b[0] if single_in else tuple(b) for b in blocks]
    return per_out[0] if single_out else tuple(per_out)


def numerical_grad(f: Fn, inputs: Any, eps: float | None = None) -> Any:
    """Gradient of a scalar `f` by central differences: one array per input, its shape.

    `inputs` is one array/tensor (the gradient is returned as one array) or a sequence of
    them (`f(*inputs)`; a tuple of arrays is returned). `eps` defaults to 1e-6 in float64
    (about machine-eps^(1/3) for other dtypes).
    """
    arrays, single = _input_list(inputs)
    base, single_out = _evaluate(f, arrays)
    if not single_out or base[0].size != 1:
        shape = base[0].shape if single_out else f"a tuple of {len(base)}"
        raise ValueError(
            f"numerical_grad: f must return a one-element (scalar) tensor, got {shape}; "
            f"use numerical_jacobian for other outputs"
        )
    jacobian = numerical_jacobian(f, arrays, eps)
    grads = tuple(j.reshape(a.shape) for j, a in zip(jacobian, arrays, strict=True))
    return grads[0] if single else grads


def _all_argnums(n: int) -> int | tuple[int, ...]:
    return tuple(range(n))


def _compare(
    analytical: np.ndarray,
    numerical: np.ndarray,
    atol: float,
    rtol: float,
    mode: str,
    order: int,
    input_index: int,
    output_index: int,
    n_out: int,
    out_ndim: int,
) -> None:
    """Raise GradcheckError at the worst element if |a - n| > atol + rtol |n| anywhere."""
    if analytical.shape != numerical.shape:
        raise GradcheckError(
            f"gradcheck: {_MODE_NAMES[mode]} gives a Jacobian of shape {analytical.shape} for "
            f"input {input_index}, expected out.shape + in.shape = {numerical.shape}",
            mode,
            order,
            input_index,
            output_index,
        )
    a = analytical.astype(np.float64)
    n = numerical.astype(np.float64)
    with np.errstate(invalid="ignore"):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    both_nan = np.isnan(a) & np.isnan(n)
    excess = np.where(np.isnan(excess) & ~both_nan, np.inf, np.where(both_nan, -1.0, excess))
    if excess.size == 0 or not (excess > 0).any():
        return
    element = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess)), excess.shape))
    out_el, in_el = element[:out_ndim], element[out_ndim:]
    what = "derivative" if order == 1 else "second derivative (Jacobian of the first derivative)"
    output = f"output {output_index}" if n_out > 1 else "the output"
    raise GradcheckError(
        f"gradcheck failed in {_MODE_NAMES[mode]}: {what} of {output} with respect to input "
        f"{input_index} is wrong; worst element: output element {out_el}, "
        f"input element {in_el} (Jacobian index {element}): analytical {float(a[element])!r} vs "
        f"numerical {float(n[element])!r} (difference {abs(a[element] - n[element]):.3g}, allowed "
        f"atol + rtol * |numerical| = {atol + rtol * abs(n[element]):.3g})",
        mode,
        order,
        input_index,
        output_index,
        element,
        float(a[element]),
        float(n[element]),
    )


def _check_gradient_types(f: Fn, arrays: list[np.ndarray], modes: Sequence[str]) -> None:
    """The gradient of each input must have its shape and dtype; a tangent its output's."""
    rng = np.random.default_rng(0)
    out, vjp_fn = vjp(f, *arrays)
    outs, structure = tree_flatten(out)
    if "rev" in modes:
        cotangents = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
        grads = vjp_fn(tree_unflatten(structure, cotangents))
        for i, (g, a) in enumerate(zip(grads, arrays, strict=True)):
            if g.shape != a.shape or g.dtype != a.dtype:
                raise GradcheckError(
                    f"gradcheck: the gradient of input {i} has shape {g.shape} and dtype "
                    f"{g.dtype}, but the input has shape {a.shape} and dtype {a.dtype}",
                    "rev",
                    input_index=i,
                )
    if "fwd" in modes:
        tangents = [rng.standard_normal(a.shape).astype(a.dtype) for a in arrays]
        primal, tangent = jvp(f, arrays, tangents)
        pairs = zip(tree_flatten(primal)[0], tree_flatten(tangent)[0], strict=True)
        for o, (p, t) in enumerate(pairs):
            if t.shape != p.shape or t.dtype != p.dtype:
                raise GradcheckError(
                    f"gradcheck: the forward-mode tangent of output {o} has shape {t.shape} "
                    f"and dtype {t.dtype}, but the output has shape {p.shape} and dtype "
                    f"{p.dtype}",
                    "fwd",
                    output_index=o,
                )


def _first_derivative(f: Fn, arrays: list[np.ndarray], mode: str) -> Fn:
    """A function of the inputs returning first derivatives of f in a fixed random direction:
    all input gradients of sum(w * f) (reverse) or the tangent of f along v (forward)."""
    rng = np.random.default_rng(1)
    outs, _ = _evaluate(f, arrays)
    weights = [rng.standard_normal(o.shape) for o in outs]
    directions = [rng.standard_normal(a.shape) for a in arrays]

    def reverse(*xs: Any) -> tuple[Tensor, ...]:
        out, vjp_fn = vjp(f, *xs)
        return vjp_fn(tree_unflatten(tree_flatten(out)[1], weights))

    def forward(*xs: Any) -> Any:
        return jvp(f, xs, directions)[1]

    return reverse if mode == "rev" else forward


def gradcheck(
    f: Fn,
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    modes: Sequence[str] = ("rev", "fwd"),
    order: int = 1,
) -> bool:
    """Check the derivatives of `f` at `inputs` against central differences.

    `inputs` is one array/tensor or a sequence of them (`f(*inputs)`); `f` returns a tensor
    (any shape) or a tuple of tensors. For each mode in `modes` ("rev": `jacrev`, "fwd":
    `jacfwd`) the full Jacobian of every output with respect to every input must satisfy
    |analytical - numerical| <= atol + rtol * |numerical|; gradients must also have their
    input's shape and dtype. `order=2` checks, in each mode, the Jacobian of a first
    derivative too (reverse-over-reverse, forward-over-forward). Returns True, or raises
    `GradcheckError` naming the mode, the input, the worst element and both values.

    Use float64 inputs: float32 ones trigger a `GradcheckWarning` and are checked as float64
    copies (after checking the gradient dtype in float32).
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order}")
    unknown = [m for m in modes if m not in _MODE_NAMES]
    if unknown or not modes:
        raise ValueError(
            f"gradcheck: modes must be a non-empty subset of ('rev', 'fwd'), got {modes}"
        )
    arrays, _ = _input_list(inputs)
    _check_gradient_types(f, arrays, modes)
    low = [i for i, a in enumerate(arrays) if a.dtype != np.float64]
    if low:
        warnings.warn(
            f"gradcheck: input(s) {low} are {arrays[low[0]].dtype}, too imprecise for finite "
            f"differences; comparing derivatives on float64 copies. Pass float64 inputs.",
            GradcheckWarning,
            stacklevel=2,
        )
        arrays = [a.astype(np.float64) for a in arrays]
    _check_jacobians(f, arrays, eps, atol, rtol, modes, order=1)
    if order == 2:
        for mode in modes:
            first = _first_derivative(f, arrays, mode)
            _check_jacobians(first, arrays, eps, atol, rtol, (mode,), order=2)
    return True


def _check_jacobians(
    f: Fn,
    arrays: list[np.ndarray],
    eps: float,
    atol: float,
    rtol: float,
    modes: Sequence[str],
    order: int,
) -> None:
    base, single_out = _evaluate(f, arrays)
    n_out, n_in = len(base), len(arrays)
    numerical = numerical_jacobian(f, arrays, eps)
    numerical_blocks = [list(numerical)] if single_out else [list(row) for row in numerical]
    argnums = _all_argnums(n_in)
    for mode in modes:
        transform = jacrev if mode == "rev" else jacfwd
        jacobian = transform(f, argnums)(*arrays)
        blocks = (
            [[np.asarray(b.data) for b in jacobian]]
            if single_out
            else [[np.asarray(b.data) for b in row] for row in jacobian]
        )
        for o in range(n_out):
            for i in range(n_in):
                _compare(
                    blocks[o][i],
                    numerical_blocks[o][i],
                    atol,
                    rtol,
                    mode,
                    order,
                    i,
                    o,
                    n_out,
                    base[o].ndim,
                )
