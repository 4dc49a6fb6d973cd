"""JAX-style function transforms built on the engine.

- `jvp` is true forward mode: tangents ride along the primal computation through each
  primitive's own forward-mode rule, in the same pass; reverse mode is never run.
- `grad`, `value_and_grad`, `vjp` and `jacrev` run `f` once, recording a graph, then run the
  engine's reverse sweep (`engine.grad`, which never touches `.grad`) once per output element.
- `jacfwd` runs one `jvp` per input element; `hessian` is `jacfwd(jacrev(f))`.

Transforms nest and compose with code that is itself being differentiated:

- an input that already requires grad (an outer reverse level is recording) enters `f`
  through an identity link, so what the transform returns stays connected to the outer graph,
  and the inner backward pass is itself recorded (`create_graph=True`) only when something
  outside the transform (a linked input, a tensor `f` closes over) can be differentiated;
- tangents of enclosing `jvp` calls flow through everything, including the backward passes,
  so `jvp(grad(f))` is a forward-over-reverse Hessian-vector product.

Inputs are Tensors, numpy arrays or Python numbers; results are Tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_core import engine
from autograd_core.engine import Node, enable_grad, modes
from autograd_core.ops.shape import RESHAPE, stack
from autograd_core.tensor import Tensor

Argnums = int | tuple[int, ...]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# --------------------------------------------------------------------------------------------
# Forward mode.
# --------------------------------------------------------------------------------------------


def _attach_tangent(primal: Tensor, tangent: Tensor, level: int) -> Tensor:
    """A tensor equal to `primal`, still connected to its graph, carrying `tangent`."""
    if primal.requires_grad:
        x = RESHAPE(primal, shape=primal.shape)  # keeps reverse-mode links
    else:
        x = Tensor._wrap(primal.data)
        x._tangents = dict(primal._tangents) if primal._tangents else None
    tangents = dict(x._tangents) if x._tangents else {}
    tangents[level] = tangent
    x._tangents = tangents
    return x


def _strip_level(out: Tensor, level: int) -> tuple[Tensor, Tensor]:
    """Split an output into (primal without this level's tangent, this level's tangent)."""
    tangents = out._tangents or {}
    tangent = tangents.get(level)
    if tangent is None:
        tangent = Tensor._wrap(np.zeros_like(out.data))
    primal = Tensor._wrap(out.data)
    primal._node, primal.requires_grad = out._node, out.requires_grad
    rest = {k: v for k, v in tangents.items() if k != level}
    primal._tangents = rest or None
    return primal, tangent


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Evaluate `f(*primals)` and its directional derivative along `tangents` in one pass.

    True forward mode (`jax.jvp`): each op's forward-mode rule pushes the tangent along with
    the value. Returns `(out, tangent_out)` with the structure of `f`'s output (a tensor or
    a tuple of tensors). Cost: one pass per direction.
    """
    if isinstance(primals, (Tensor, np.ndarray)) or isinstance(tangents, (Tensor, np.ndarray)):
        raise TypeError("jvp: primals and tangents must be sequences, e.g. jvp(f, (x,), (v,))")
    primals_t = [_as_tensor(p) for p in primals]
    tangents_t = [_as_tensor(t) for t in tangents]
    if len(primals_t) != len(tangents_t):
        raise ValueError(f"jvp: {len(primals_t)} primals but {len(tangents_t)} tangents")
    for i, (p, t) in enumerate(zip(primals_t, tangents_t, strict=True)):
        if p.shape != t.shape:
            raise ValueError(
                f"jvp: primal {i} has shape {p.shape} but its tangent has shape {t.shape}"
            )
        if t.dtype != p.dtype:
            tangents_t[i] = t.astype(p.dtype)
    level = engine.new_level()
    inputs = [_attach_tangent(p, t, level) for p, t in zip(primals_t, tangents_t, strict=True)]
    state = modes()
    saved = state.max_level, state.levels
    state.max_level, state.levels = level, state.levels | {level}
    try:
        out = f(*inputs)
    finally:
        state.max_level, state.levels = saved
    if isinstance(out, (tuple, list)):
        pairs = [_strip_level(_as_tensor(o), level) for o in out]
        return tuple(p for p, _ in pairs), tuple(t for _, t in pairs)
    if isinstance(out, (Tensor, np.ndarray, int, float)):
        return _strip_level(_as_tensor(out), level)
    raise TypeError(f"jvp: f must return a Tensor or a tuple of Tensors, got {type(out).__name__}")


# --------------------------------------------------------------------------------------------
# Shared machinery of the reverse-mode transforms.
# --------------------------------------------------------------------------------------------


def _normalize_argnums(argnums: Argnums, nargs: int, who: str) -> tuple[int, ...]:
    """Validate `argnums` against the call's positional arguments; negative counts from the end."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or any(not isinstance(i, int) or isinstance(i, bool) for i in nums):
        raise TypeError(
            f"{who}: argnums must be an int or a non-empty tuple of ints, got {argnums}"
        )
    normalized = []
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"{who}: argnums {argnums} refers to argument {i}, but f was called with "
                f"{nargs} positional argument(s)"
            )
        normalized.append(i % nargs)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{who}: argnums {argnums} repeats an argument")
    return tuple(normalized)


class _Trace:
    """One run of `f` with fresh differentiable inputs, ready for reverse sweeps.

    Each differentiated argument becomes either a fresh leaf (same data and tangents) or,
    when it already requires grad and grad mode is on, an identity link into its graph.
    """

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], nums: tuple[int, ...]) -> None:
        self.outer_recording = modes().grad_enabled
        call_args = list(args)
        self.inputs: list[Tensor] = []
        self.linked = False
        for i in nums:
            x = _as_tensor(args[i])
            if x.requires_grad and self.outer_recording:
                inner = RESHAPE(x, shape=x.shape)  # identity link: stays connected
                self.linked = True
            else:
                inner = Tensor._wrap(x.data)
                inner._tangents = dict(x._tangents) if x._tangents else None
                inner.requires_grad = True
            call_args[i] = inner
            self.inputs.append(inner)
        with enable_grad():
            self.result = f(*call_args)

    def reaches_outside(self, outs: Sequence[Tensor]) -> bool:
        """Whether the outputs depend on anything differentiable besides our fresh inputs
        (a linked input, or a tensor requiring grad that `f` closes over)."""
        if self.linked:
            return True
        inner = {id(x) for x in self.inputs}
        stack_: list[Node] = []
        seen: set[Node] = set()
        for o in outs:
            if o._node is not None:
                stack_.append(o._node)
            elif o.requires_grad and id(o) not in inner:
                return True
        while stack_:
            node = stack_.pop()
            for x in node.inputs:
                parent = x if type(x) is Node else getattr(x, "_node", None)
                if parent is None:
                    if isinstance(x, Tensor) and x.requires_grad and id(x) not in inner:
                        return True
                elif parent not in seen:
                    seen.add(parent)
                    stack_.append(parent)
        return False

    def pullback(
        self, out: Tensor, cotangent: Tensor, create_graph: bool, retain_graph: bool
    ) -> list[Tensor]:
        """d(sum(cotangent * out))/d(input) for every input, in each input's dtype and shape."""
        if not out.requires_grad:
            return [Tensor._wrap(np.zeros_like(x.data)) for x in self.inputs]
        grads = engine.grad(
            out,
            self.inputs,
            grad_outputs=cotangent,
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
        )
        results = []
        for x, g in zip(self.inputs, grads, strict=True):
            if g is None:
                g = Tensor._wrap(np.zeros_like(x.data))
            elif g.dtype != x.dtype:
                g = g.astype(x.dtype)
            results.append(g)
        return results


def _detached(x: Tensor) -> Tensor:
    """`x` cut from the graph the transform recorded, keeping any forward-mode tangents."""
    t = Tensor._wrap(x.data)
    t._tangents = x._tangents
    return t


def _map_tensors(fn: Callable[[Tensor], Tensor], tree: Any) -> Any:
    """Apply `fn` to every tensor in nested tuples, lists and dicts (auxiliary outputs)."""
    if isinstance(tree, Tensor):
        return fn(tree)
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_tensors(fn, t) for t in tree)
    if isinstance(tree, dict):
        return {k: _map_tensors(fn, v) for k, v in tree.items()}
    return tree


def _outputs(result: Any, who: str) -> tuple[tuple[Tensor, ...], bool]:
    """f's output as a tuple of tensors, and whether it was a single tensor."""
    if isinstance(result, (tuple, list)):
        outs = tuple(_as_tensor(o) for o in result)
        return outs, False
    if isinstance(result, (Tensor, np.ndarray, int, float)):
        return (_as_tensor(result),), True
    raise TypeError(f"{who}: f must return a Tensor or a tuple of Tensors, got {type(result)}")


def _split_aux(result: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        if isinstance(result, (tuple, list)):
            raise TypeError(
                f"{who}: f returned a {type(result).__name__}, not a scalar tensor; "
                f"if it returns (value, auxiliary data), pass has_aux=True"
            )
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{who}: with has_aux=True, f must return a pair (value, aux)")
    return result[0], result[1]


def _one_hot(shape: tuple[int, ...], index: int, dtype: Any) -> Tensor:
    e = np.zeros(shape, dtype=dtype)
    e.reshape(-1)[index] = 1
    return Tensor._wrap(e)


def _jacobian_block(
    pieces: list[Tensor],
    out_shape: tuple[int, ...],
    in_shape: tuple[int, ...],
    dtype: Any,
    pieces_axis: int,
) -> Tensor:
    """Stack per-element derivatives into a Jacobian of shape `out_shape + in_shape`.

    Built with tensor ops so that tangents and outer graphs carry through (nesting).
    """
    if not pieces:
        return Tensor._wrap(np.zeros(out_shape + in_shape, dtype=dtype))
    return stack(pieces, axis=pieces_axis).reshape(out_shape + in_shape)


# --------------------------------------------------------------------------------------------
# Reverse-mode transforms.
# --------------------------------------------------------------------------------------------


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning `(f(*args), gradient)` of a scalar (one-element) `f`.

    As `jax.value_and_grad`: the gradient has the shape and dtype of `args[argnums]`; a tuple
    `argnums` gives a tuple of gradients; with `has_aux=True`, `f` returns `(value, aux)` and
    the result is `((value, aux), gradient)`. `.grad` fields are never touched.
    """

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        nums = _normalize_argnums(argnums, len(args), "value_and_grad")
        trace = _Trace(f, args, nums)
        value, aux = _split_aux(trace.result, has_aux, "value_and_grad")
        if not isinstance(value, (Tensor, np.ndarray, int, float)):
            raise TypeError(f"grad: f must return a scalar tensor, got {type(value).__name__}")
        out = _as_tensor(value)
        if out.numel() != 1:
            raise ValueError(
                f"grad: f must return a one-element (scalar) tensor, but its output has shape "
                f"{out.shape}; use vjp, jacrev or jacfwd for non-scalar outputs"
            )
        outside = trace.reaches_outside([out])
        create = trace.outer_recording and outside
        seed = Tensor._wrap(np.ones(out.shape, dtype=out.dtype))
        grads = trace.pullback(out, seed, create_graph=create, retain_graph=create or outside)
        keep = (lambda t: t) if create else _detached
        value_out = keep(out)
        if has_aux:
            value_out = (value_out, _map_tensors(keep, aux))
        return value_out, grads[0] if isinstance(argnums, int) else tuple(grads)

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    value_and_grad_f.__doc__ = f"Value and gradient of {getattr(f, '__name__', 'f')}."
    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of a scalar (one-element) `f` (as `jax.grad`).

    `argnums` picks the argument(s) to differentiate (a tuple gives a tuple of gradients);
    with `has_aux=True`, `f` returns `(value, aux)` and the result is `(gradient, aux)`.
    Nests: `grad(grad(f))` is the second derivative.
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    def grad_f(*args: Any) -> Any:
        value, gradient = value_and_grad_f(*args)
        return (gradient, value[1]) if has_aux else gradient

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    grad_f.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')}."
    return grad_f


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., tuple[Tensor, ...]]]:
    """Evaluate `f(*primals)` and return `(out, vjp_fn)` (as `jax.vjp`).

    `vjp_fn(cotangent)` (one cotangent per output, same shapes) returns a tuple with one
    vector-Jacobian product per primal: `cotangent @ J`. It may be called many times.
    """
    nums = tuple(range(len(primals)))
    trace = _Trace(f, primals, nums)
    outs, single = _outputs(trace.result, "vjp")
    outside = trace.reaches_outside(list(outs))

    def vjp_fn(*cotangents: Any) -> tuple[Tensor, ...]:
        if len(cotangents) == 1 and not single and isinstance(cotangents[0], (tuple, list)):
            cotangents = tuple(cotangents[0])
        if len(cotangents) != len(outs):
            raise ValueError(
                f"vjp_fn: f has {len(outs)} output(s), got {len(cotangents)} cotangents"
            )
        total: list[Tensor] | None = None
        for i, (out, c) in enumerate(zip(outs, cotangents, strict=True)):
            ct = _as_tensor(c)
            if ct.shape != out.shape:
                raise ValueError(
                    f"vjp_fn: cotangent {i} has shape {ct.shape} but output {i} has shape "
                    f"{out.shape}; they must match"
                )
            if ct.dtype != out.dtype:
                ct = ct.astype(out.dtype)
            create = modes().grad_enabled and (outside or ct.requires_grad)
            grads = trace.pullback(out, ct, create_graph=create, retain_graph=True)
            total = grads if total is None else [a + b for a, b in zip(total, grads, strict=True)]
        return tuple(total or ())

    keep = (lambda t: t) if outside and trace.outer_recording else _detached
    out_value = keep(outs[0]) if single else tuple(keep(o) for o in outs)
    return out_value, vjp_fn


def _structure(
    outs: tuple[Tensor, ...], single_out: bool, blocks: list[list[Tensor]], single_in: bool
) -> Any:
    """Arrange Jacobian blocks[out][in] as JAX does: output structure outside, inputs inside."""
    per_out = [b[0] if single_in else tuple(b) for b in blocks]
    return per_out[0] if single_out else tuple(per_out)


def jacrev(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Jacobian of `f` by reverse mode: one backward pass per output element.

    Shape `out.shape + in.shape`; a tuple `argnums` gives a tuple (one per argument), a tuple
    of outputs a tuple (one per output). Cheap when outputs are few (as `jax.jacrev`).
    """

    def jacrev_f(*args: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), "jacrev")
        trace = _Trace(f, args, nums)
        outs, single = _outputs(trace.result, "jacrev")
        create = trace.outer_recording and trace.reaches_outside(list(outs))
        blocks = []
        for out in outs:
            rows: list[list[Tensor]] = [[] for _ in trace.inputs]
            for k in range(out.numel()):
                seed = _one_hot(out.shape, k, out.dtype)
                for row, g in zip(
                    rows, trace.pullback(out, seed, create, retain_graph=True), strict=True
                ):
                    row.append(g)
            blocks.append(
                [
                    _jacobian_block(row, out.shape, x.shape, x.dtype, 0)
                    for row, x in zip(rows, trace.inputs, strict=True)
                ]
            )
        return _structure(outs, single, blocks, isinstance(argnums, int))

    jacrev_f.__name__ = f"jacrev({getattr(f, '__name__', 'f')})"
    return jacrev_f


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Jacobian of `f` by forward mode: one `jvp` pass per input element.

    Shape `out.shape + in.shape`, structured as `jacrev`. Cheap when inputs are few (as
    `jax.jacfwd`); it never runs reverse mode unless `f` itself does.
    """

    def jacfwd_f(*args: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), "jacfwd")
        primals = [_as_tensor(args[i]) for i in nums]
        columns: list[list[list[Tensor]] | None] = []  # [input][output] -> tangents
        outs: tuple[Tensor, ...] | None = None
        single = True
        for i, p in zip(nums, primals, strict=True):

            def along(x: Tensor, i: int = i) -> Any:
                call_args = list(args)
                call_args[i] = x
                return f(*call_args)

            per_output: list[list[Tensor]] | None = None
            for k in range(p.numel()):
                out_value, tangent = jvp(along, (p,), (_one_hot(p.shape, k, p.dtype),))
                if outs is None:
                    outs, single = _outputs(out_value, "jacfwd")
                tangents = (tangent,) if single else tuple(tangent)
                if per_output is None:
                    per_output = [[] for _ in tangents]
                for column, t in zip(per_output, tangents, strict=True):
                    column.append(t)
            columns.append(per_output)
        if outs is None:  # every differentiated input is empty: only the shapes are needed
            outs, single = _outputs(f(*args), "jacfwd")
        blocks = [
            [
                _jacobian_block(
                    [] if columns[j] is None else columns[j][o],  # type: ignore[index]
                    out.shape,
                    p.shape,
                    out.dtype,
                    out.ndim,
                )
                for j, p in enumerate(primals)
            ]
            for o, out in enumerate(outs)
        ]
        return _structure(outs, single, blocks, isinstance(argnums, int))

    jacfwd_f.__name__ = f"jacfwd({getattr(f, '__name__', 'f')})"
    return jacfwd_f


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Hessian of a scalar `f`: `jacfwd(jacrev(f))`, forward-over-reverse (as JAX).

    Shape `in.shape + in.shape`; a tuple `argnums` gives a tuple of tuples of blocks.
    """
    hessian_f = jacfwd(jacrev(f, argnums), argnums)
    hessian_f.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hessian_f
