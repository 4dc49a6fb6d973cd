"""The engine: primitives, graph recording, reverse mode (backward) and forward mode (tangents).

A `Primitive` is one differentiable operation, defined once: its forward on numpy arrays, one
reverse-mode rule (vector-Jacobian product) and one forward-mode rule (Jacobian-vector product)
per input. `apply` runs a primitive on tensors; when an input requires grad it records a `Node`
(the PyTorch `grad_fn`) pointing back at the inputs. Nodes never point at their outputs, so a
graph has no reference cycles and dies with its last output.

Rules are written with Tensor operations, so running them with recording switched on
(`create_graph=True`) differentiates the backward pass itself: higher order comes for free.
Broadcasting is undone here, once (`sum_to`), never inside a rule.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from autograd_core.tensor import Tensor

# --------------------------------------------------------------------------------------------
# Global modes: recording for reverse mode, active levels for forward mode.
# --------------------------------------------------------------------------------------------


class _State:
    """Process-wide switches read on every op; one object so lookups stay cheap."""

    __slots__ = ("grad_enabled", "max_level", "levels", "next_level", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.max_level = 0  # 0: no forward mode; else active levels up to this one propagate
        self.levels: frozenset[int] = frozenset()  # levels of the jvp calls now running
        self.next_level = 1
        self.scope: tuple[Any, ...] | None = None  # enclosing nn modules, for drawings


STATE = _State()


class _GradMode:
    """Context manager and decorator that sets whether ops are recorded for backward."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.previous: list[bool] = []

    def __enter__(self) -> None:
        self.previous.append(STATE.grad_enabled)
        STATE.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self.previous.pop()

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def no_grad() -> _GradMode:
    """Stop recording ops (inference, optimizer updates). Also usable as a decorator."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record ops again inside a `no_grad` block. Also usable as a decorator."""
    return _GradMode(True)


def set_grad_enabled(enabled: bool) -> _GradMode:
    """Record ops or not, as a context manager or decorator."""
    return _GradMode(bool(enabled))


def is_grad_enabled() -> bool:
    """Whether ops are currently recorded for backward."""
    return STATE.grad_enabled


@contextmanager
def module_scope(module: Any) -> Iterator[None]:
    """Tag every node created inside with the stack of enclosing modules (outermost first).

    nn's `Module.__call__` enters this, so a drawing can cluster each module call's ops;
    `Node.scope` is then a tuple of module objects, or None outside any module.
    """
    previous = STATE.scope
    STATE.scope = (module,) if previous is None else (*previous, module)
    try:
        yield
    finally:
        STATE.scope = previous


# --------------------------------------------------------------------------------------------
# Primitives and their registry.
# --------------------------------------------------------------------------------------------

Rule = Callable[..., "Tensor"]

PRIMITIVES: dict[str, Primitive] = {}
"""Every registered primitive by name: what tests, docs, checking and drawing iterate over."""


class _EachInput:
    """The rule table of a variadic primitive: one rule, told which input it is for."""

    __slots__ = ("rule",)

    def __init__(self, rule: Callable[..., Tensor]) -> None:
        self.rule = rule

    def __getitem__(self, argnum: int) -> Rule:
        return functools.partial(self.rule, argnum)

    def __len__(self) -> int:  # any arity
        return 1 << 30


class Primitive:
    """One differentiable operation: forward on arrays plus a VJP and a JVP rule per input.

    Rules are called as `rule(g, out, *inputs, **params)` where `g` is the cotangent of the
    output (reverse mode) or the tangent of that input (forward mode), `out` the output
    tensor (only when `save_output=True`, else None) and `inputs` the op's inputs as given
    (tensors, or Python scalars for constants). A rule may be None: the op is then not
    differentiable in that input for that mode, and asking for it raises a clear error.
    """

    __slots__ = ("name", "forward", "vjps", "jvps", "save_output", "doc")

    def __init__(
        self,
        name: str,
        forward: Callable[..., np.ndarray],
        vjps: Sequence[Rule | None] | _EachInput | None,
        jvps: Sequence[Rule | None] | _EachInput | None,
        save_output: bool = False,
        doc: str = "",
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.jvps = jvps
        self.save_output = save_output
        self.doc = doc

    def __call__(self, *inputs: Any, **params: Any) -> Tensor:
        return apply(self, *inputs, **params)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def vjp_rule(self, argnum: int) -> Rule:
        return _rule(self, self.vjps, argnum, "reverse-mode (vjp)")

    def jvp_rule(self, argnum: int) -> Rule:
        return _rule(self, self.jvps, argnum, "forward-mode (jvp)")


def _rule(prim: Primitive, table: Any, argnum: int, mode: str) -> Rule:
    rule = None if table is None or argnum >= len(table) else table[argnum]
    if rule is None:
        raise NotImplementedError(
            f"op '{prim.name}' has no {mode} rule for input {argnum}: "
            f"it cannot be differentiated in that mode with respect to that input"
        )
    return rule  # type: ignore[no-any-return]


def register(prim: Primitive) -> Primitive:
    """Add a primitive to the registry; its name must be new."""
    if prim.name in PRIMITIVES:
        raise ValueError(f"a primitive named {prim.name!r} is already registered")
    PRIMITIVES[prim.name] = prim
    return prim


def each_input(rule: Callable[..., Tensor]) -> _EachInput:
    """Rule table for a variadic primitive: `rule(argnum, g, out, *inputs, **params)`."""
    return _EachInput(rule)


# --------------------------------------------------------------------------------------------
# Graph nodes.
# --------------------------------------------------------------------------------------------


class Node:
    """The record of one op application (PyTorch's `grad_fn`): what backward needs.

    Holds the primitive, its inputs and params, and the output's array when the rules need
    it. It holds no reference to its output tensor (weakly, only for `retain_grad`).
    `out_meta` keeps the output's (shape, dtype) once backward has freed its tensors, so a
    freed graph still draws with shapes.
    """

    __slots__ = (
        "prim",
        "inputs",
        "params",
        "out_data",
        "out_tangents",
        "out_meta",
        "retained",
        "scope",
        "freed",
        "__weakref__",
    )

    def __init__(
        self,
        prim: Primitive,
        inputs: tuple[Any, ...],
        params: dict[str, Any],
        out_data: np.ndarray | None,
    ) -> None:
        self.prim = prim
        self.inputs = inputs
        self.params = params
        self.out_data = out_data
        self.out_tangents: dict[int, Tensor] | None = None
        self.out_meta: tuple[tuple[int, ...], np.dtype[Any]] | None = None
        self.retained: weakref.ref[Tensor] | None = None
        self.scope = STATE.scope
        self.freed = False

    def name(self) -> str:
        return self.prim.name

    def __repr__(self) -> str:
        return f"<{self.prim.name} node>"

    def parents(self) -> list[Node]:
        """Nodes of the inputs that are themselves results of recorded ops."""
        return [x if type(x) is Node else x._node for x in self.inputs if _has_node(x)]


def _has_node(x: Any) -> bool:
    return type(x) is Node or (_is_tensor(x) and x._node is not None)


_TENSOR: type | None = None  # set by tensor.py, avoids an import cycle


def _is_tensor(x: Any) -> bool:
    return isinstance(x, _TENSOR)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Running a primitive.
# --------------------------------------------------------------------------------------------


def apply(prim: Primitive, *inputs: Any, **params: Any) -> Tensor:
    """Run `prim` on tensors (or constants); record a node when any input requires grad."""
    tensor_type: Any = _TENSOR
    arrays = [x.data if isinstance(x, tensor_type) else x for x in inputs]
    try:
        out = tensor_type._wrap(prim.forward(*arrays, **params))
    except (ValueError, TypeError, IndexError) as error:
        raise type(error)(_describe_failure(prim, arrays, error)) from None
    if STATE.grad_enabled:
        for x in inputs:
            if isinstance(x, tensor_type) and x.requires_grad:
                node = Node(prim, inputs, params, out.data if prim.save_output else None)
                out._node = node
                out.requires_grad = True
                break
    if STATE.max_level:
        _push_tangents(prim, inputs, params, out)
    return out


def _describe_failure(prim: Primitive, arrays: list[Any], error: Exception) -> str:
    """Name the op and what it was given, instead of numpy's internal wording alone."""
    described = ", ".join(
        f"shape {a.shape} {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
        for a in arrays
    )
    return f"{prim.name}: cannot apply to inputs ({described}): {error}"


def _push_tangents(
    prim: Primitive, inputs: tuple[Any, ...], params: dict[str, Any], out: Tensor
) -> None:
    """Forward mode: give `out` a tangent for every active level an input carries one for.

    Levels are computed in increasing order, each with only the lower levels active, so a
    nested `jvp` differentiates the tangents of the outer one and never its own (JAX's rule).
    """
    max_level, active = STATE.max_level, STATE.levels
    levels = sorted(
        {
            level
            for x in inputs
            if _is_tensor(x) and x._tangents
            for level in x._tangents
            if level <= max_level and level in active
        }
    )
    if not levels:
        return
    out._tangents = {}
    if out._node is not None:
        out._node.out_tangents = out._tangents
    try:
        for level in levels:
            STATE.max_level = level - 1
            total = None
            for argnum, x in enumerate(inputs):
                tangent = x._tangents.get(level) if _is_tensor(x) and x._tangents else None
                if tangent is None:
                    continue
                term = prim.jvp_rule(argnum)(tangent, out, *inputs, **params)
                if term.shape != out.shape:
                    term = term.broadcast_to(out.shape)
                total = term if total is None else total + term
            out._tangents[level] = total  # type: ignore[assignment]
    finally:
        STATE.max_level = max_level


# --------------------------------------------------------------------------------------------
# Reverse mode.
# --------------------------------------------------------------------------------------------


def topological_order(roots: Node | Sequence[Node]) -> list[Node]:
    """Nodes reachable from `roots`, each before every node it depends on (no recursion)."""
    order: list[Node] = []
    visited: set[Node] = set()
    for root in [roots] if isinstance(roots, Node) else roots:
        if root in visited:
            continue
        visited.add(root)
        stack: list[tuple[Node, Iterator[Node]]] = [(root, iter(root.parents()))]
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if parent not in visited:
                    visited.add(parent)
                    stack.append((parent, iter(parent.parents())))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def backward(
    root: Tensor, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(root)/d(leaf), weighted by `gradient`, into `.grad` of every leaf."""
    if retain_graph is None:
        retain_graph = create_graph
    seed = _seed_gradient(root, gradient, create_graph)
    _backpropagate([(root, seed)], retain_graph, create_graph, capture=None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, returned instead of accumulated.

    As `torch.autograd.grad`: `.grad` fields are left alone, `inputs` may be intermediate
    tensors, and an input the outputs do not depend on is an error unless `allow_unused`.
    """
    outs: list[Any] = [outputs] if _is_tensor(outputs) else list(outputs)  # type: ignore[arg-type]
    ins: list[Any] = [inputs] if _is_tensor(inputs) else list(inputs)  # type: ignore[arg-type]
    if grad_outputs is None or _is_tensor(grad_outputs) or isinstance(grad_outputs, np.ndarray):
        weights = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    else:
        weights = list(grad_outputs)
    if len(weights) != len(outs):
        raise ValueError(f"grad(): {len(outs)} outputs but {len(weights)} grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    for x in ins:
        if not x.requires_grad:
            raise RuntimeError("grad(): one of the inputs does not require grad")
    capture: dict[Any, Tensor | None] = {_capture_key(x): None for x in ins}
    pairs = [
        (out, _seed_gradient(out, w, create_graph)) for out, w in zip(outs, weights, strict=True)
    ]
    _backpropagate(pairs, retain_graph, create_graph, capture)
    results = tuple(capture[_capture_key(x)] for x in ins)
    if not allow_unused and any(r is None for r in results):
        raise RuntimeError(
            "grad(): one of the inputs was not used to compute the outputs; "
            "pass allow_unused=True to get None for it"
        )
    return results


def _capture_key(x: Tensor) -> Any:
    """Gradients are per node for results (tensors sharing a node share one) and per leaf."""
    return x._node if x._node is not None else x


def _backpropagate(
    pairs: list[tuple[Tensor, Tensor]],
    retain_graph: bool,
    create_graph: bool,
    capture: dict[Any, Tensor | None] | None,
) -> None:
    """The reverse sweep: visit nodes in topological order, apply each input's VJP rule.

    With `capture` None, leaf gradients accumulate into `.grad`; otherwise the gradients of
    the keys of `capture` (nodes or leaves) are stored there and `.grad` is left alone.
    """
    from autograd_core.ops import sum_to

    tensor_type: Any = _TENSOR
    grads: dict[Any, Tensor] = {}
    stored: set[int] = set()

    def deliver(x: Tensor, g: Tensor) -> None:
        node = x._node
        if node is not None:
            grads[node] = grads[node] + g if node in grads else g
        elif capture is None:
            _accumulate_leaf(x, g, create_graph, stored)
        elif x in capture:
            previous = capture[x]
            capture[x] = g if previous is None else previous + g

    roots = []
    for root, seed in pairs:
        with _GradMode(create_graph):
            deliver(root, seed)
        if root._node is not None:
            roots.append(root._node)
    with _GradMode(create_graph):
        for node in topological_order(roots):
            g = grads.pop(node)
            if node.freed:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time (op "
                    f"'{node.prim.name}'): its saved values were freed after the first "
                    f"backward. Pass retain_graph=True to the first backward() if you need "
                    f"to call it again."
                )
            if capture is not None:
                if node in capture:
                    capture[node] = g
            elif node.retained is not None:
                kept = node.retained()
                if kept is not None:
                    _accumulate_leaf(kept, g, create_graph, stored)
            prim, inputs, params = node.prim, node.inputs, node.params
            out = None
            if prim.save_output:
                out = tensor_type._wrap(node.out_data)
                out._tangents = node.out_tangents
                if create_graph:
                    out._node, out.requires_grad = node, True
            for argnum, x in enumerate(inputs):
                if not (isinstance(x, tensor_type) and x.requires_grad):
                    continue
                gx = prim.vjp_rule(argnum)(g, out, *inputs, **params)
                if gx.shape != x.shape:
                    gx = sum_to(gx, x.shape)
                deliver(x, gx)
            if not retain_graph:
                _free(node)


def _seed_gradient(root: Tensor, gradient: Any, create_graph: bool) -> Tensor:
    tensor_type: Any = _TENSOR
    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad and has no grad_fn: "
            "create its inputs with requires_grad=True (and outside no_grad())"
        )
    if gradient is None:
        if root.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for one-element outputs, but this "
                f"tensor has shape {root.shape}: pass backward(gradient=...) of that shape"
            )
        return tensor_type._wrap(np.ones(root.shape, dtype=root.dtype))
    if isinstance(gradient, tensor_type):
        seed = gradient if create_graph else gradient.detach()
    else:
        seed = tensor_type(gradient)
    if seed.shape != root.shape:
        raise ValueError(
            f"backward(): gradient has shape {seed.shape} but the tensor it weights has shape "
            f"{root.shape}; they must match"
        )
    if seed.dtype != root.dtype:
        seed = seed.astype(root.dtype)
    return seed  # type: ignore[no-any-return]


def _accumulate_leaf(leaf: Tensor, g: Tensor, create_graph: bool, stored: set[int]) -> None:
    """Add `g` into `leaf.grad`; a stored gradient never shares memory with another one."""
    if g.dtype != leaf.dtype:
        g = g.astype(leaf.dtype)
    if not create_graph:
        data = g.data
        if data.base is not None or not data.flags.writeable or id(data) in stored:
            data = data.copy()
        stored.add(id(data))
        g = _TENSOR._wrap(data)  # type: ignore[union-attr]
    if leaf.grad is None:
        leaf.grad = g
    else:
        with _GradMode(create_graph):
            leaf.grad = leaf.grad + g
        stored.add(id(leaf.grad.data))


def _free(node: Node) -> None:
    """Release what backward saved: the output array and intermediate input tensors.

    The structure stays walkable (inputs that were results are replaced by their nodes,
    leaves are kept), so a graph can still be drawn after backward.
    """
    node.freed = True
    node.out_data = None
    node.out_tangents = None
    inputs = []
    for x in node.inputs:
        if _is_tensor(x) and x._node is not None:
            x._node.out_meta = (x.shape, x.dtype)
            x = x._node
        inputs.append(x)
    node.inputs = tuple(inputs)
