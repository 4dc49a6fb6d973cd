"""JAX-style function transforms built on the engine.

- `jvp` is true forward mode: tangents ride along the primal computation through each
  primitive's own forward-mode rule, in the same pass; reverse mode is never run.
- `grad`, `value_and_grad`, `vjp` and `jacrev` run `f` once, recording a graph, then run the
  engine's reverse sweep (`engine.grad`, which never touches `.grad`) once per output element.
- `jacfwd` runs one `jvp` per input element; `hessian` is `jacfwd(jacrev(f))`.

Inputs and outputs are pytrees, as in JAX: nested tuples, lists and dicts (None an empty
node) whose leaves are Tensors, numpy arrays or Python numbers. `grad(f)(params)` of a dict
of parameters is a dict of gradients; a list is a list of separate inputs, never one array.
Results are Tensors in the same structure.

Transforms nest and compose with code that is itself being differentiated:

- an input that already requires grad (an outer reverse level is recording) enters `f`
  through an identity link, so what the transform returns stays connected to the outer graph,
  and the inner backward pass is itself recorded (`create_graph=True`) only when something
  outside the transform (a linked input, a tensor `f` closes over) can be differentiated;
- tangents of enclosing `jvp` calls flow through everything, including the backward passes,
  so `jvp(grad(f))` is a forward-over-reverse Hessian-vector product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_core import engine
from autograd_core.engine import Node, enable_grad, modes
from autograd_core.ops.shape import RESHAPE, stack
from autograd_core.tensor import Tensor

Argnums = int | np.integer[Any] | Sequence[int | np.integer[Any]]

# --------------------------------------------------------------------------------------------
# Pytrees: nested tuples, lists and dicts, flattened to their leaves and rebuilt.
# --------------------------------------------------------------------------------------------


class _Leaf:
    """Marks where a leaf sits in a tree structure; printed `*`, as JAX prints a PyTreeDef."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "*"


LEAF = _Leaf()


def _is_node(x: Any) -> bool:
    """Tuples (named ones too), lists and dicts hold subtrees; None is an empty node."""
    return x is None or isinstance(x, (tuple, list, dict))


def _keys(d: dict[Any, Any]) -> list[Any]:
    try:
        return sorted(d)  # as JAX: a dict's leaves come in the order of its sorted keys
    except TypeError:
        raise TypeError(f"a dict in a pytree needs sortable keys, got {list(d)!r}") from None


def _children(node: Any) -> list[Any]:
    if node is None:
        return []
    return [node[k] for k in _keys(node)] if isinstance(node, dict) else list(node)


def _rebuild(node: Any, children: list[Any]) -> Any:
    """A node like `node` (same kind and keys) holding `children`."""
    if node is None:
        return None
    if isinstance(node, dict):
        return dict(zip(_keys(node), children, strict=True))
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return type(node)(*children)  # a namedtuple
    return tuple(children) if isinstance(node, tuple) else list(children)


def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """The leaves of a pytree, left to right, and its structure: the same tree with every
    leaf replaced by `LEAF` (printed `*`, e.g. `{'b': *, 'w': [*, *]}`)."""
    leaves: list[Any] = []

    def structure(x: Any) -> Any:
        if not _is_node(x):
            leaves.append(x)
            return LEAF
        return _rebuild(x, [structure(c) for c in _children(x)])

    return leaves, structure(tree)


def tree_unflatten(treedef: Any, leaves: Sequence[Any]) -> Any:
    """The tree of structure `treedef` (from `tree_flatten`) holding `leaves` in order."""
    remaining = iter(leaves)

    def build(d: Any) -> Any:
        return next(remaining) if d is LEAF else _rebuild(d, [build(c) for c in _children(d)])

    return build(treedef)


def _paths(treedef: Any, prefix: str = "") -> list[str]:
    """Where each leaf sits, for error messages: `['w'][0]`."""
    if treedef is LEAF:
        return [prefix]
    keys = _keys(treedef) if isinstance(treedef, dict) else range(len(_children(treedef)))
    children = _children(treedef)
    return [p for k, c in zip(keys, children, strict=True) for p in _paths(c, f"{prefix}[{k!r}]")]


def _leaves_like(tree: Any, treedef: Any) -> list[Any] | None:
    """`tree`'s leaves at the places of `treedef`'s leaves, or None if the structures differ.

    Where `treedef` has a leaf, `tree` may hold any array-like (a list of numbers is then
    one array, as a tangent or cotangent of an array must be)."""
    leaves: list[Any] = []

    def walk(x: Any, d: Any) -> bool:
        if d is LEAF:
            leaves.append(x)
            return True
        if d is None or x is None:
            same = x is d
        elif isinstance(d, dict):
            same = isinstance(x, dict) and set(x) == set(d)
        else:
            same = type(x) is type(d) and len(x) == len(d)
        return same and all(walk(c, e) for c, e in zip(_children(x), _children(d), strict=True))

    return leaves if walk(tree, treedef) else None


def _structure_of(tree: Any) -> Any:
    return tree_flatten(tree)[1]


def _to_tensor(x: Any, who: str, where: str) -> Tensor:
    """A leaf as a Tensor; anything but an array, Tensor or number is a clear error."""
    if isinstance(x, Tensor):
        return x
    try:
        kind = np.asarray(x).dtype.kind
    except ValueError:  # a ragged nested list
        kind = "O"
    if kind not in "biuf":
        raise TypeError(
            f"{who}: {where} is a {type(x).__name__}; pytree leaves here must be Tensors, "
            f"arrays or numbers"
        )
    return Tensor(x)


def _flatten_args(
    args: Sequence[Any], nums: tuple[int, ...], single: bool, who: str, what: str = "argument"
) -> tuple[list[Tensor], Any, list[str]]:
    """The leaves of the chosen arguments as tensors, their structure (`args[i]`'s for an
    int argnums, else the tuple of the chosen arguments' structures) and the leaves' names."""
    leaves: list[Tensor] = []
    names: list[str] = []
    structures = []
    for i in nums:
        arg_leaves, treedef = tree_flatten(args[i])
        arg_names = [f"{what} {i}{p}" for p in _paths(treedef)]
        leaves += [_to_tensor(x, who, n) for x, n in zip(arg_leaves, arg_names, strict=True)]
        names += arg_names
        structures.append(treedef)
    return leaves, structures[0] if single else tuple(structures), names


def _with_leaves(
    args: Sequence[Any], nums: tuple[int, ...], single: bool, treedef: Any, leaves: list[Any]
) -> list[Any]:
    """`args` with the chosen arguments rebuilt around `leaves` (the inverse of the above)."""
    call_args = list(args)
    tree = tree_unflatten(treedef, leaves)
    for i, arg in zip(nums, [tree] if single else tree, strict=True):
        call_args[i] = arg
    return call_args


def _flatten_outputs(result: Any, who: str) -> tuple[list[Tensor], Any]:
    leaves, treedef = tree_flatten(result)
    paths = _paths(treedef)
    outs = [_to_tensor(x, who, f"f's output{p}") for x, p in zip(leaves, paths, strict=True)]
    return outs, treedef


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
    the value. `primals` and `tangents` are tuples (or lists) with one pytree per argument
    of `f`, of the same structure and shapes. Returns `(out, tangent_out)`, both with the
    structure of `f`'s output. Cost: one pass per direction.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            f"jvp: primals and tangents must be tuples or lists, one entry per argument of f, "
            f"e.g. jvp(f, (x,), (v,)); got {type(primals).__name__} and "
            f"{type(tangents).__name__}"
        )
    nums = tuple(range(len(primals)))
    primal_leaves, treedef, names = _flatten_args(primals, nums, False, "jvp", "primal")
    tangent_leaves = _leaves_like(tuple(tangents), treedef)
    if tangent_leaves is None:
        raise TypeError(
            f"jvp: primals and tangents must have the same tree structure, but the primals "
            f"have {treedef} and the tangents {_structure_of(tuple(tangents))}"
        )
    inputs = []
    level = engine.new_level()
    for p, t, name in zip(primal_leaves, tangent_leaves, names, strict=True):
        t = _to_tensor(t, "jvp", f"the tangent of {name}")
        if p.shape != t.shape:
            raise ValueError(
                f"jvp: {name} has shape {p.shape} but its tangent has shape {t.shape}; "
                f"they must match"
            )
        inputs.append(_attach_tangent(p, t if t.dtype == p.dtype else t.astype(p.dtype), level))
    state = modes()
    saved = state.max_level, state.levels
    state.max_level, state.levels = level, state.levels | {level}
    try:
        out = f(*tree_unflatten(treedef, inputs))
    finally:
        state.max_level, state.levels = saved
    outs, out_def = _flatten_outputs(out, "jvp")
    pairs = [_strip_level(o, level) for o in outs]
    return tree_unflatten(out_def, [p for p, _ in pairs]), tree_unflatten(
        out_def, [t for _, t in pairs]
    )


# --------------------------------------------------------------------------------------------
# Shared machinery of the reverse-mode transforms.
# --------------------------------------------------------------------------------------------


def _argnums(argnums: Any, who: str) -> tuple[tuple[int, ...], bool]:
    """`argnums` as a tuple of ints, and whether it was a single int (numpy ints count)."""
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    nums = (argnums,) if single else argnums
    if (
        not isinstance(nums, (tuple, list))
        or not nums
        or any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in nums)
    ):
        raise TypeError(
            f"{who}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}"
        )
    return tuple(int(i) for i in nums), single


def _check_argnums(
    nums: tuple[int, ...], argnums: Any, nargs: int, f: Callable[..., Any], who: str
) -> tuple[int, ...]:
    """`nums` within the call's positional arguments (negative ones count from the end)."""
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"{who}: argnums={argnums!r} refers to argument {i}, but "
                f"{getattr(f, '__name__', 'f')} was called with {nargs} positional "
                f"argument(s), so argnums must lie in [{-nargs}, {nargs - 1}]"
            )
    normalized = tuple(i % nargs for i in nums)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{who}: argnums={argnums!r} repeats an argument")
    return normalized


class _Trace:
    """One run of `f` with fresh differentiable inputs, ready for reverse sweeps.

    Each leaf of the differentiated arguments becomes either a fresh leaf tensor (same data
    and tangents) or, when it already requires grad and grad mode is on, an identity link
    into its graph. `in_def` is the structure of the differentiated arguments.
    """

    def __init__(
        self,
        f: Callable[..., Any],
        args: Sequence[Any],
        nums: tuple[int, ...],
        single: bool,
        who: str,
        what: str = "argument",
    ) -> None:
        self.outer_recording = modes().grad_enabled
        self.linked = False
        leaves, self.in_def, _ = _flatten_args(args, nums, single, who, what)
        self.inputs = [self._fresh(x) for x in leaves]
        with enable_grad():
            self.result = f(*_with_leaves(args, nums, single, self.in_def, self.inputs))

    def _fresh(self, x: Tensor) -> Tensor:
        if x.requires_grad and self.outer_recording:
            self.linked = True
            return RESHAPE(x, shape=x.shape)  # identity link: stays connected
        inner = Tensor._wrap(x.data)
        inner._tangents = dict(x._tangents) if x._tangents else None
        inner.requires_grad = True
        return inner

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
        self,
        outs: Sequence[Tensor],
        cotangents: Sequence[Tensor],
        create_graph: bool,
        retain_graph: bool,
    ) -> list[Tensor]:
        """d(sum of cotangent * out over the outputs)/d(input) for every input, in one
        reverse sweep; each in its input's dtype and shape."""
        used = [(o, c) for o, c in zip(outs, cotangents, strict=True) if o.requires_grad]
        grads: Sequence[Tensor | None] = [None] * len(self.inputs)
        if used and self.inputs:
            grads = engine.grad(
                [o for o, _ in used],
                self.inputs,
                grad_outputs=[c for _, c in used],
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


def _detached(x: Any) -> Any:
    """A tensor cut from the graph the transform recorded (keeping any forward-mode
    tangents); anything else as it is."""
    if not isinstance(x, Tensor):
        return x
    t = Tensor._wrap(x.data)
    t._tangents = x._tangents
    return t


def _same(x: Any) -> Any:
    return x


def _tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [fn(x) for x in leaves])


def _split_aux(result: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        if _is_node(result):
            hint = "; if it returns (value, auxiliary data), pass has_aux=True"
            raise TypeError(
                f"{who}: f returned a {type(result).__name__}, not a scalar tensor"
                f"{hint if isinstance(result, (tuple, list)) else ''}"
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


def _name(f: Callable[..., Any]) -> str:
    return str(getattr(f, "__name__", "f"))


# --------------------------------------------------------------------------------------------
# Reverse-mode transforms.
# --------------------------------------------------------------------------------------------


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning `(f(*args), gradient)` of a scalar (one-element) `f`.

    As `jax.value_and_grad`: the gradient has the structure, shapes and dtypes of
    `args[argnums]` (a dict of parameters gives a dict of gradients); a tuple `argnums` gives
    a tuple of them; with `has_aux=True`, `f` returns `(value, aux)` and the result is
    `((value, aux), gradient)`. `.grad` fields are never touched.
    """
    return _value_and_grad(f, argnums, has_aux, "value_and_grad")


def _value_and_grad(
    f: Callable[..., Any], argnums: Argnums, has_aux: bool, who: str
) -> Callable[..., Any]:
    """`value_and_grad`, with errors naming the transform the user called (`who`)."""
    nums, single = _argnums(argnums, who)

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        chosen = _check_argnums(nums, argnums, len(args), f, who)
        trace = _Trace(f, args, chosen, single, who)
        value, aux = _split_aux(trace.result, has_aux, who)
        out = _to_tensor(value, who, "f's output")
        if out.numel() != 1:
            raise ValueError(
                f"{who}: f must return a one-element (scalar) tensor, but its output has shape "
                f"{out.shape}; use vjp, jacrev or jacfwd for non-scalar outputs"
            )
        outside = trace.reaches_outside([out])
        create = trace.outer_recording and outside
        seed = Tensor._wrap(np.ones(out.shape, dtype=out.dtype))
        grads = trace.pullback([out], [seed], create_graph=create, retain_graph=create or outside)
        keep = _same if create else _detached
        value_out = keep(out)
        if has_aux:
            value_out = (value_out, _tree_map(keep, aux))
        return value_out, tree_unflatten(trace.in_def, grads)

    value_and_grad_f.__name__ = f"value_and_grad({_name(f)})"
    value_and_grad_f.__doc__ = f"Value and gradient of {_name(f)}."
    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of a scalar (one-element) `f` (as `jax.grad`).

    `argnums` picks the argument(s) to differentiate (a tuple gives a tuple of gradients);
    each gradient has its argument's structure (a dict of parameters gives a dict). With
    `has_aux=True`, `f` returns `(value, aux)` and the result is `(gradient, aux)`.
    Nests: `grad(grad(f))` is the second derivative.
    """
    value_and_grad_f = _value_and_grad(f, argnums, has_aux, "grad")

    def grad_f(*args: Any) -> Any:
        value, gradient = value_and_grad_f(*args)
        return (gradient, value[1]) if has_aux else gradient

    grad_f.__name__ = f"grad({_name(f)})"
    grad_f.__doc__ = f"Gradient of {_name(f)}."
    return grad_f


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., tuple[Any, ...]]]:
    """Evaluate `f(*primals)` and return `(out, vjp_fn)` (as `jax.vjp`).

    `vjp_fn(cotangent)`, with a cotangent of the structure and shapes of `out`, returns a
    tuple with one vector-Jacobian product `cotangent @ J` per primal, each of its primal's
    structure. It may be called many times. (For a tuple output, `vjp_fn(c1, c2)` is
    accepted too.)
    """
    nums = tuple(range(len(primals)))
    trace = _Trace(f, primals, nums, False, "vjp", "primal")
    outs, out_def = _flatten_outputs(trace.result, "vjp")
    outside = trace.reaches_outside(outs)
    names = [f"f's output{p}" for p in _paths(out_def)]

    def vjp_fn(*cotangent: Any) -> tuple[Any, ...]:
        tree = cotangent[0] if len(cotangent) == 1 else tuple(cotangent)
        leaves = _leaves_like(tree, out_def)
        if leaves is None:
            raise ValueError(
                f"vjp_fn: the cotangent must have the tree structure of f's output, "
                f"{out_def}, but it has {_structure_of(tree)}"
            )
        cotangents = []
        for out, c, name in zip(outs, leaves, names, strict=True):
            ct = _to_tensor(c, "vjp_fn", f"the cotangent of {name}")
            if ct.shape != out.shape:
                raise ValueError(
                    f"vjp_fn: the cotangent of {name} has shape {ct.shape}, but {name} has "
                    f"shape {out.shape}; they must match"
                )
            cotangents.append(ct if ct.dtype == out.dtype else ct.astype(out.dtype))
        create = modes().grad_enabled and (outside or any(c.requires_grad for c in cotangents))
        grads = trace.pullback(outs, cotangents, create_graph=create, retain_graph=True)
        return tree_unflatten(trace.in_def, grads)  # type: ignore[no-any-return]

    keep = _same if outside and trace.outer_recording else _detached
    return tree_unflatten(out_def, [keep(o) for o in outs]), vjp_fn


def jacrev(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Jacobian of `f` by reverse mode: one backward pass per output element.

    As `jax.jacrev`: the output's structure outside, the differentiated arguments'
    structure inside (a tuple `argnums` gives a tuple), each leaf of shape
    `out.shape + in.shape`. Cheap when outputs are few.
    """
    nums, single = _argnums(argnums, "jacrev")

    def jacrev_f(*args: Any) -> Any:
        chosen = _check_argnums(nums, argnums, len(args), f, "jacrev")
        trace = _Trace(f, args, chosen, single, "jacrev")
        outs, out_def = _flatten_outputs(trace.result, "jacrev")
        create = trace.outer_recording and trace.reaches_outside(outs)
        rows = []
        for out in outs:
            columns: list[list[Tensor]] = [[] for _ in trace.inputs]
            for k in range(out.numel()):
                seed = _one_hot(out.shape, k, out.dtype)
                grads = trace.pullback([out], [seed], create, retain_graph=True)
                for column, g in zip(columns, grads, strict=True):
                    column.append(g)
            blocks = [
                _jacobian_block(column, out.shape, x.shape, x.dtype, 0)
                for column, x in zip(columns, trace.inputs, strict=True)
            ]
            rows.append(tree_unflatten(trace.in_def, blocks))
        return tree_unflatten(out_def, rows)

    jacrev_f.__name__ = f"jacrev({_name(f)})"
    return jacrev_f


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Jacobian of `f` by forward mode: one `jvp` pass per input element.

    Structured as `jacrev`'s. Cheap when inputs are few (as `jax.jacfwd`); it never runs
    reverse mode unless `f` itself does.
    """
    nums, single = _argnums(argnums, "jacfwd")

    def jacfwd_f(*args: Any) -> Any:
        chosen = _check_argnums(nums, argnums, len(args), f, "jacfwd")
        primals, in_def, _ = _flatten_args(args, chosen, single, "jacfwd")
        columns: list[list[list[Tensor]]] = []  # [input leaf][output leaf] -> tangents
        outs: list[Tensor] | None = None
        out_def: Any = None
        for j, p in enumerate(primals):

            def along(x: Tensor, j: int = j) -> Any:
                leaves = list(primals)
                leaves[j] = x
                return f(*_with_leaves(args, chosen, single, in_def, leaves))

            per_output: list[list[Tensor]] = []
            for k in range(p.numel()):
                out_value, tangent = jvp(along, (p,), (_one_hot(p.shape, k, p.dtype),))
                outs, out_def = tree_flatten(out_value)
                tangents = tree_flatten(tangent)[0]
                per_output = per_output or [[] for _ in tangents]
                for column, t in zip(per_output, tangents, strict=True):
                    column.append(t)
            columns.append(per_output)
        if outs is None:  # no input has an element: only the output's shapes are needed
            result = f(*_with_leaves(args, chosen, single, in_def, primals))
            outs, out_def = _flatten_outputs(result, "jacfwd")
        rows = [
            tree_unflatten(
                in_def,
                [
                    _jacobian_block(
                        columns[j][o] if columns[j] else [], out.shape, p.shape, out.dtype, out.ndim
                    )
                    for j, p in enumerate(primals)
                ],
            )
            for o, out in enumerate(outs)
        ]
        return tree_unflatten(out_def, rows)

    jacfwd_f.__name__ = f"jacfwd({_name(f)})"
    return jacfwd_f


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Hessian of a scalar `f`: `jacfwd(jacrev(f))`, forward-over-reverse (as JAX).

    Each block has shape `in.shape + in.shape`; pytree arguments give JAX's nesting (for a
    dict of parameters, `h[a][b]` is the block of parameters a and b).
    """
    hessian_f = jacfwd(jacrev(f, argnums), argnums)
    hessian_f.__name__ = f"hessian({_name(f)})"
    return hessian_f
