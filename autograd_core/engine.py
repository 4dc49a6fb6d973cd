"""The engine: primitives, graph recording, reverse mode (backward) and forward mode (tangents).

A `Primitive` is one differentiable operation, defined once: its forward on numpy arrays, one
reverse-mode rule (vector-Jacobian product) and one forward-mode rule (Jacobian-vector product)
per input. `apply` runs a primitive on tensors; when an input requires grad it records a `Node`
(the PyTorch `grad_fn`) pointing back at the inputs. Nodes never point at their outputs, so a
graph has no reference cycles and dies with its last output.

Rules are written with Tensor operations, so running them with recording switched on
(`create_graph=True`) differentiates the backward pass itself: higher order comes for free.
A backward pass that nothing differentiates (the usual training step) passes plain arrays
instead and runs a primitive's `numpy_vjps` where it has them: the same rules without a
Tensor per step. Broadcasting is undone here, once (`sum_to`), never inside a rule.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from autograd_core.tensor import Tensor

# --------------------------------------------------------------------------------------------
# Global modes: recording for reverse mode, active levels for forward mode.
# --------------------------------------------------------------------------------------------


class _State:
    """Process-wide switches read on every op; one object so lookups stay cheap."""

    __slots__ = (
        "grad_enabled",
        "max_level",
        "levels",
        "next_level",
        "scope",
        "mutations",
        "anomaly",
    )

    def __init__(self) -> None:
        self.grad_enabled = True
        self.max_level = 0  # 0: no forward mode; else active levels up to this one propagate
        self.levels: frozenset[int] = frozenset()  # levels of the jvp calls now running
        self.next_level = 1
        self.scope: tuple[Any, ...] | None = None  # enclosing nn modules, for drawings
        self.mutations = 0  # in-place modifications so far; while 0, no version is tracked
        self.anomaly = False  # detect_anomaly() is active


STATE = _State()


class _Switch:
    """Sets one field of `STATE` for a block; a context manager and a decorator."""

    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        self.value = value
        self.previous: list[Any] = []

    def __enter__(self) -> None:
        self.previous.append(getattr(STATE, self.field))
        setattr(STATE, self.field, self.value)

    def __exit__(self, *exc: object) -> None:
        setattr(STATE, self.field, self.previous.pop())

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Switch(self.field, self.value):
                return fn(*args, **kwargs)

        return wrapper


def _grad_mode(enabled: bool) -> _Switch:
    return _Switch("grad_enabled", enabled)


def no_grad() -> _Switch:
    """Stop recording ops (inference, optimizer updates). Also usable as a decorator."""
    return _grad_mode(False)


def enable_grad() -> _Switch:
    """Record ops again inside a `no_grad` block. Also usable as a decorator."""
    return _grad_mode(True)


def set_grad_enabled(enabled: bool) -> _Switch:
    """Record ops or not, as a context manager or decorator."""
    return _grad_mode(bool(enabled))


def is_grad_enabled() -> bool:
    """Whether ops are currently recorded for backward."""
    return STATE.grad_enabled


class module_scope:  # noqa: N801 - used like a function, as contextlib's managers are
    """Tag every node created inside with the stack of enclosing modules (outermost first).

    nn's `Module.__call__` enters this, so a drawing can cluster each module call's ops;
    `Node.scope` is then a tuple of module objects, or None outside any module. A small class
    rather than a generator: it runs on every module call.
    """

    __slots__ = ("module", "previous")

    def __init__(self, module: Any) -> None:
        self.module = module

    def __enter__(self) -> None:
        self.previous = previous = STATE.scope
        STATE.scope = (self.module,) if previous is None else (*previous, self.module)

    def __exit__(self, *exc: object) -> None:
        STATE.scope = self.previous


def call_in_scope(module: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` inside `module_scope(module)`, in one call instead of a context
    manager's three: what every nn module call does."""
    previous = STATE.scope
    STATE.scope = (module,) if previous is None else (*previous, module)
    try:
        return fn(*args, **kwargs)
    finally:
        STATE.scope = previous


# --------------------------------------------------------------------------------------------
# Primitives and their registry.
# --------------------------------------------------------------------------------------------

Rule = Callable[..., "Tensor"]
NumpyRule = Callable[..., np.ndarray]

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

    `numpy_vjps` optionally restates the VJP rules on plain arrays, `rule(g, saved, *arrays,
    **params)`. A backward pass that is not itself differentiated (no `create_graph`, no
    forward-mode level) uses them: no Tensor is built per rule, which is most of the cost of
    a small op. The Tensor rules stay the definition (higher order uses them); tests check
    that both agree for every primitive. `saved` is the output array (`save_output=True`),
    or, with `residual=True`, what the forward chose to keep for them: such a forward
    returns `(output, residual)` (JAX's residuals), e.g. intermediate arrays the backward
    would otherwise recompute. Tensor rules never see residuals (they are constants).
    """

    __slots__ = (
        "name",
        "forward",
        "vjps",
        "jvps",
        "save_output",
        "doc",
        "numpy_vjps",
        "residual",
    )

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],  # an array, or (array, residual) with residual=True
        vjps: Sequence[Rule | None] | _EachInput | None,
        jvps: Sequence[Rule | None] | _EachInput | None,
        save_output: bool = False,
        doc: str = "",
        numpy_vjps: Sequence[NumpyRule | None] | None = None,
        residual: bool = False,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.jvps = jvps
        self.save_output = save_output
        self.doc = doc
        self.numpy_vjps = numpy_vjps
        self.residual = residual

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

    Holds the primitive, its inputs and params, and what backward needs from the forward
    (`value`, its output array, and `residual`, a `residual` primitive's residual). Its
    inputs are the nodes of the input tensors that are results, the tensors themselves for
    leaves, and constants as given: a graph never holds its intermediate Tensor objects,
    which die with the user's last reference (as in PyTorch). It holds no reference to its
    output tensor either (weakly, only for `retain_grad`). Backward frees `value` once every
    consumer has used it; `out_meta` then keeps the output's (shape, dtype) for drawings.

    A live graph is then one object per op that the cyclic garbage collector tracks (the
    node; one or two inputs sit in slots, not in a tuple), and the collector's cost, paid in
    full collections while a graph is alive, grows with that count.
    """

    __slots__ = (
        "prim",
        "_first",
        "_second",
        "_more",
        "params",
        "value",
        "residual",
        "out_tangents",
        "out_meta",
        "retained",
        "scope",
        "freed",
        "sequence",
        "versions",
        "__weakref__",
    )

    def __init__(
        self,
        prim: Primitive,
        inputs: tuple[Any, ...],
        params: dict[str, Any],
        value: np.ndarray,
        residual: Any = None,
    ) -> None:
        self.prim = prim
        count = len(inputs)  # `inputs` are as the graph keeps them (nodes for results)
        if count == 2:
            self._first, self._second = inputs
            self._more: tuple[Any, ...] | None = None
        elif count == 1:
            self._first, self._second, self._more = inputs[0], _ABSENT, None
        else:
            self._first = self._second = _ABSENT
            self._more = inputs
        self.params = params
        self.value: np.ndarray | None = value
        self.residual = residual
        self.out_tangents: dict[int, Tensor] | None = None
        self.out_meta: tuple[tuple[int, ...], np.dtype[Any]] | None = None
        self.retained: weakref.ref[Tensor] | None = None
        self.scope = STATE.scope
        self.freed = False
        # Creation order: every node is made after the nodes of its inputs, so visiting
        # nodes from the highest sequence down is a topological order (as PyTorch does).
        self.sequence = next(_SEQUENCE)
        # Versions of the inputs when they were used; None means all were 0 (no in-place
        # change had happened yet). Checked at backward to catch later changes.
        self.versions: tuple[int, ...] | None = None
        if STATE.mutations:
            self.versions = tuple(_version_of(x) for x in self.inputs)

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The op's inputs: nodes for results, tensors for leaves, and constants."""
        more = self._more
        if more is not None:
            return more
        second = self._second
        if second is _ABSENT:
            return (self._first,)
        return (self._first, second)

    def name(self) -> str:
        return self.prim.name

    def __repr__(self) -> str:
        return f"<{self.prim.name} node>"

    def parents(self) -> list[Node]:
        """Nodes of the inputs that are themselves results of recorded ops."""
        return [x for x in self.inputs if type(x) is Node]

    def out_shape(self) -> tuple[int, ...] | None:
        """The output's shape, while its value is kept or after backward freed it."""
        if self.value is not None:
            return self.value.shape
        return None if self.out_meta is None else self.out_meta[0]

    def output_tensor(self) -> Tensor:
        """A tensor around this node's output value, linked to the node and carrying its
        tangents: what the graph's results are to rules (the graph keeps no Tensor)."""
        if self.value is None:
            raise _freed_error(self)
        t = _wrap(self.value)
        t._node, t.requires_grad, t._tangents = self, True, self.out_tangents
        return t  # type: ignore[no-any-return]

    def input_tensors(self) -> list[Any]:
        """The inputs as the op's Tensor rules see them: tensors, and constants as given."""
        return [x.output_tensor() if type(x) is Node else x for x in self.inputs]


_SEQUENCE = itertools.count()
_ABSENT: Any = object()  # marks an unused input slot of a Node
_TENSOR: Any = None  # the Tensor class and its fast constructor, set by tensor.py
_wrap: Any = None


def bind_tensor_type(tensor_type: type) -> None:
    """Called once by tensor.py: the engine makes tensors without importing that module."""
    global _TENSOR, _wrap
    _TENSOR = tensor_type
    _wrap = tensor_type._wrap  # type: ignore[attr-defined]


_sum_to: Any = None  # un-broadcasting of a Tensor and of an array, set by ops.py
_sum_to_array: Any = None


def bind_sum_to(tensor_fn: Callable[..., Any], array_fn: Callable[..., Any]) -> None:
    """Called once by ops.py: the engine undoes broadcasting without importing that module."""
    global _sum_to, _sum_to_array
    _sum_to, _sum_to_array = tensor_fn, array_fn


def _data(x: Any, tensor_type: Any) -> Any:
    """The array of a tensor, or a constant as it is."""
    return x.data if isinstance(x, tensor_type) else x


def _is_tensor(x: Any) -> bool:
    return isinstance(x, _TENSOR)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Running a primitive.
# --------------------------------------------------------------------------------------------


def apply(prim: Primitive, *inputs: Any, **params: Any) -> Tensor:
    """Run `prim` on tensors (or constants); record a node when any input requires grad."""
    # This is the hot path of every op: the common arities are unrolled and the output
    # tensor is built inline (each avoided call is ~0.1 us of a ~1 us op).
    # A node keeps a result input as its node, not its tensor (`kept`): see Node.
    tensor_type: Any = _TENSOR
    record = False
    count = len(inputs)
    kept: Any
    if count == 2:
        a, b = inputs
        a_kept, b_kept = a, b
        if isinstance(a, tensor_type):
            record = a.requires_grad
            a_kept = a._node or a
            a = a.data
        if isinstance(b, tensor_type):
            record = record or b.requires_grad
            b_kept = b._node or b
            b = b.data
        arrays: Any = (a, b)
        kept = (a_kept, b_kept)
    elif count == 1:
        a = a_kept = inputs[0]
        if isinstance(a, tensor_type):
            record = a.requires_grad
            a_kept = a._node or a
            a = a.data
        arrays = (a,)
        kept = (a_kept,)
    else:
        arrays, kept = [], []
        for x in inputs:
            if isinstance(x, tensor_type):
                record = record or x.requires_grad
                kept.append(x._node or x)
                x = x.data
            else:
                kept.append(x)
            arrays.append(x)
        kept = tuple(kept)
    try:
        result = prim.forward(*arrays, **params)
    except (ValueError, TypeError, IndexError) as error:
        raise type(error)(_describe_failure(prim, arrays, error)) from None
    residual = None
    if prim.residual:
        result, residual = result
    out = _new(tensor_type)  # Tensor._wrap, inlined
    out.data = result if type(result) is np.ndarray else np.asarray(result)
    if record and STATE.grad_enabled:
        out._node = Node(prim, kept, params, out.data, residual)
        out.requires_grad = True
    else:
        out._node = None
        out.requires_grad = False
    if STATE.max_level:
        _push_tangents(prim, inputs, params, out)
    if STATE.anomaly:
        _check_forward(prim, arrays, out)
    return out


_new = object.__new__


def _describe_failure(prim: Primitive, arrays: Sequence[Any], error: Exception) -> str:
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
    """Nodes reachable from `roots`, each before every node it depends on (no recursion).

    Reverse creation order is topological, so this is a reachability walk and one sort.
    """
    stack = [roots] if isinstance(roots, Node) else list(roots)
    seen = set(stack)
    while stack:
        for parent in stack.pop().parents():
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=_by_sequence, reverse=True)


def _by_sequence(node: Node) -> int:
    return node.sequence


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
    capture: dict[Any, Any] = {_capture_key(x): None for x in ins}
    pairs = [
        (out, _seed_gradient(out, w, create_graph)) for out, w in zip(outs, weights, strict=True)
    ]
    _backpropagate(pairs, retain_graph, create_graph, capture)
    results = tuple(
        _wrap(g) if isinstance(g, np.ndarray) else g  # a plain sweep captures arrays
        for g in (capture[_capture_key(x)] for x in ins)
    )
    if not allow_unused and any(r is None for r in results):
        raise RuntimeError(
            "grad(): one of the inputs was not used to compute the outputs; "
            "pass allow_unused=True to get None for it"
        )
    return results


def _capture_key(x: Tensor) -> Any:
    """Gradients are per node for results (tensors sharing a node share one) and per leaf."""
    return x._node if x._node is not None else x


Observer = Callable[["Node", Any, list[tuple[int, Any, Any]]], None]
_NOTHING_SENT: list[tuple[int, Any, Any]] = []  # never appended to: only an observer reads it


def _backpropagate(
    pairs: list[tuple[Tensor, Tensor]],
    retain_graph: bool,
    create_graph: bool,
    capture: dict[Any, Any] | None,
    observe: Observer | None = None,
) -> None:
    """The reverse sweep: visit nodes from the newest down, apply each input's VJP rule.

    Pending nodes wait in a heap keyed by creation sequence; the newest pending node has
    received every contribution (all its consumers are newer), so it is ready. No separate
    topological sort, no recursion; a chain skips the heap (a lone pending node is the
    newest). With `capture` None, leaf gradients accumulate into `.grad`; otherwise the
    gradients of the keys of `capture` (nodes or leaves) are stored there and `.grad` is left
    alone. Unless `retain_graph`, each node is freed once used.

    When nothing differentiates the sweep itself (no `create_graph`, no forward-mode level),
    gradients travel as plain arrays and primitives' `numpy_vjps` run where they exist;
    `capture` then receives arrays. Otherwise gradients are Tensors and every rule records.

    `observe(node, g, sent)`, when given, sees every step: the node, its upstream gradient
    and the (argnum, input, gradient) it sent to each input (what `backward_steps` shows).
    """
    tensor_type = _TENSOR
    plain = not create_graph and not STATE.max_level  # gradients as arrays
    unbroadcast: Any = _sum_to_array if plain else _sum_to
    grads: dict[Node, Any] = {}
    pending: list[tuple[int, Node]] = []
    stored: set[int] = set()
    push, pop = heapq.heappush, heapq.heappop
    anomaly = STATE.anomaly  # checked per rule below, not per op inside the rules
    check_versions = STATE.mutations > 0  # (no rule modifies a tensor in place)

    def deliver_to_leaf(x: Tensor, g: Any) -> None:
        if capture is None:
            _accumulate_leaf(x, g, create_graph, stored)
        elif x in capture:
            previous = capture[x]
            capture[x] = g if previous is None else previous + g

    if plain and capture is None:  # the usual backward(): skip a closure call per leaf
        deliver_to_leaf = functools.partial(_accumulate_leaf_array, stored)  # type: ignore[assignment]

    # grad() runs only the nodes that lead to a requested input (as torch.autograd.grad):
    # the graph below them, e.g. an outer graph a transform links into, is left alone.
    roots = [root._node for root, _ in pairs if root._node is not None]
    needed = None if capture is None else _leading_to(topological_order(roots), capture)
    # Rules at singular points give IEEE inf/nan (as PyTorch), silently: the user did not
    # write these computations; detect_anomaly() is how to find such values.
    quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
    # Rules record only for create_graph; anomalies are checked per rule here, not per op.
    previous_modes = STATE.grad_enabled, STATE.anomaly
    STATE.grad_enabled, STATE.anomaly = create_graph, False
    try:
        with quiet:
            for root, seed_tensor in pairs:  # (delivery to a node is inlined here and below)
                seed: Any = seed_tensor.data if plain else seed_tensor
                node = root._node
                if node is None:
                    deliver_to_leaf(root, seed)
                elif node in grads:
                    grads[node] = grads[node] + seed
                else:
                    grads[node] = seed
                    push(pending, (-node.sequence, node))
            # `single` is a fast lane for the common chain: while exactly one node is pending it
            # waits here instead of in the heap (it is then trivially the newest).
            single: Node | None = pop(pending)[1] if len(pending) == 1 else None
            while single is not None or pending:
                if single is not None:
                    node, single = single, None
                else:
                    node = pop(pending)[1]
                if needed is not None and node not in needed:
                    del grads[node]  # no requested input below: skip it, do not free it
                    continue
                g = grads.pop(node)
                if node.freed:
                    raise _freed_error(node)
                if capture is not None:
                    if node in capture:
                        capture[node] = g
                elif node.retained is not None:
                    kept = node.retained()
                    if kept is not None:
                        deliver_to_leaf(kept, g)
                prim, params = node.prim, node.params
                more = node._more  # node.inputs, read from the slots directly: hot path
                if more is None:
                    first, second = node._first, node._second
                    inputs = (first,) if second is _ABSENT else (first, second)
                else:
                    inputs = more
                if check_versions:
                    _check_versions(node)
                fast = prim.numpy_vjps if plain else None
                arrays: Sequence[Any]
                if fast is None:
                    arrays = inputs
                elif more is None:  # unrolled for one or two inputs (a comprehension is a call)
                    # (a result freed by an earlier backward has no value: say so, before
                    # a rule meets None)
                    if type(first) is Node:
                        a = first.value
                        if a is None:
                            raise _freed_error(first)
                    else:
                        a = first.data if isinstance(first, tensor_type) else first
                    if second is _ABSENT:
                        arrays = (a,)
                    elif type(second) is Node:
                        if second.value is None:
                            raise _freed_error(second)
                        arrays = (a, second.value)
                    else:
                        arrays = (a, second.data if isinstance(second, tensor_type) else second)
                else:
                    arrays = [x.value if type(x) is Node else _data(x, tensor_type) for x in inputs]
                    for x in inputs:
                        if type(x) is Node and x.value is None:
                            raise _freed_error(x)
                saved = node.residual if prim.residual else node.value
                sent: list[tuple[int, Any, Any]] = [] if observe is not None else _NOTHING_SENT
                for argnum, x in enumerate(inputs):
                    if type(x) is Node:  # a result: its gradient goes to its node
                        if needed is not None and x not in needed:
                            continue  # grad(): nothing requested lies below
                        if x.freed:
                            raise _freed_error(x)
                        parent, shape = x, x.value.shape  # type: ignore[union-attr]
                    elif isinstance(x, tensor_type) and x.requires_grad:  # a leaf
                        if capture is not None and x not in capture:
                            continue  # grad(): not a requested input
                        parent, shape = None, x.data.shape
                    else:  # a constant
                        continue
                    rule = fast[argnum] if fast is not None else None
                    if rule is None:
                        gx = _run_tensor_rule(node, argnum, g, plain)
                    elif params:
                        gx = rule(g, saved, *arrays, **params)
                    else:
                        gx = rule(g, saved, *arrays)
                    if gx.shape != shape:
                        gx = unbroadcast(gx, shape)
                    if anomaly:
                        _check_backward(node, argnum, gx)
                    if observe is not None:
                        sent.append((argnum, x, gx))
                    if parent is None:
                        deliver_to_leaf(x, gx)
                    elif parent in grads:
                        grads[parent] = grads[parent] + gx
                    else:
                        grads[parent] = gx
                        if single is None and not pending:
                            single = parent
                        else:
                            if single is not None:
                                push(pending, (-single.sequence, single))
                                single = None
                            push(pending, (-parent.sequence, parent))
                if observe is not None:
                    observe(node, g, sent)
                if not retain_graph:  # every consumer ran before: drop the arrays, keep shapes
                    node.freed = True
                    value = node.value
                    if value is not None:
                        node.out_meta = (value.shape, value.dtype)
                    node.value = node.residual = node.out_tangents = None
    finally:
        STATE.grad_enabled, STATE.anomaly = previous_modes


def _freed_error(node: Node) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (op '{node.prim.name}'): its "
        f"saved values were freed after the first backward. Pass retain_graph=True to the "
        f"first backward() if you need to call it again."
    )


def _run_tensor_rule(node: Node, argnum: int, g: Any, plain: bool) -> Any:
    """Apply a primitive's Tensor VJP rule; with `plain`, `g` and the result are arrays."""
    prim = node.prim
    vjps = prim.vjps
    rule = vjps[argnum] if vjps is not None and argnum < len(vjps) else None
    if rule is None:
        rule = prim.vjp_rule(argnum)  # raises, naming the op and the input
    out = None
    if prim.save_output:
        out = _wrap(node.value)
        out._tangents = node.out_tangents
        if STATE.grad_enabled:  # create_graph: the rule's ops link to this node
            out._node, out.requires_grad = node, True
    inputs = node.input_tensors()
    if plain:
        return rule(_wrap(g), out, *inputs, **node.params).data
    return rule(g, out, *inputs, **node.params)


def _leading_to(order: list[Node], capture: dict[Any, Tensor | None]) -> set[Node]:
    """Nodes of `order` from which a captured input (node or leaf) can be reached.

    `grad()` runs only these, as `torch.autograd.grad` does: the part of the graph below the
    requested inputs (e.g. an outer graph a transform links into) is neither run nor freed.
    """
    needed: set[Node] = set()
    for node in reversed(order):  # every input's node before the nodes that use it
        if node in capture or any(
            (parent in needed)
            if (parent := (x if type(x) is Node else getattr(x, "_node", None))) is not None
            else (_is_tensor(x) and x in capture)
            for x in node.inputs
        ):
            needed.add(node)
    return needed


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
    """Add the Tensor `g` into `leaf.grad`; a stored gradient never shares memory with
    another one."""
    if g.dtype != leaf.dtype:
        g = g.astype(leaf.dtype)
    if not create_graph:
        _accumulate_leaf_array(stored, leaf, g.data)
    elif leaf.grad is None:
        leaf.grad = g
    else:
        with _grad_mode(True):
            leaf.grad = leaf.grad + g


def _accumulate_leaf_array(stored: set[int], leaf: Tensor, g: np.ndarray) -> None:
    """Add the array `g` into `leaf.grad`, in the leaf's dtype. The stored array is always
    one this sweep owns (never a view, a rule's shared result or another leaf's)."""
    dtype = leaf.data.dtype
    if leaf.grad is not None:
        total = leaf.grad.data + g
        g = total if total.dtype == dtype else total.astype(dtype)
    elif g.dtype != dtype:
        g = g.astype(dtype)
    elif g.base is not None or not g.flags.writeable or id(g) in stored:
        g = g.copy()
    stored.add(id(g))
    leaf.grad = _wrap(g)


# --------------------------------------------------------------------------------------------
# Safety nets: in-place changes to saved tensors, and NaN/inf detection.
# --------------------------------------------------------------------------------------------


_OUT_VERSIONS: weakref.WeakKeyDictionary[Node, int] = weakref.WeakKeyDictionary()
"""In-place changes to the output of a node (made through a tensor holding it), by node."""


def note_in_place(tensor: Tensor) -> None:
    """Count an in-place change of `tensor`: its own version, and its node's output's (which
    is what the graph holds of a result tensor)."""
    tensor._version += 1
    if tensor._node is not None:
        _OUT_VERSIONS[tensor._node] = _OUT_VERSIONS.get(tensor._node, 0) + 1
    STATE.mutations += 1


def _version_of(x: Any) -> int:
    if type(x) is Node:
        return _OUT_VERSIONS.get(x, 0)
    return getattr(x, "_version", 0)


def _check_versions(node: Node) -> None:
    """Raise if an input this node used was modified in place after the node was made."""
    for argnum, x in enumerate(node.inputs):
        if not (type(x) is Node or isinstance(x, _TENSOR)):
            continue
        then = 0 if node.versions is None else node.versions[argnum]
        now = _version_of(x)
        if now != then:
            shape = x.out_shape() if isinstance(x, Node) else x.shape
            raise RuntimeError(
                f"one of the tensors needed to differentiate op '{node.prim.name}' (its "
                f"input {argnum}, shape {shape}) was modified in place after the op used "
                f"it (version {now}, expected {then}): the gradient would be wrong. Modify a "
                f"copy instead, or make the change before the forward pass."
            )


_ORIGINS: weakref.WeakKeyDictionary[Node, str] = weakref.WeakKeyDictionary()


def detect_anomaly() -> _Switch:
    """Make the first NaN or inf produced in forward or backward raise, naming the op and
    the line of user code that created it. Slower: use it to debug, not to train."""
    return _Switch("anomaly", True)


def _user_frame() -> str:
    """The innermost calling line outside this library (autograd_core and nn)."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module.startswith("autograd_core") or module == "nn" or module.startswith("nn.")):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


def _nonfinite_kind(values: np.ndarray) -> str | None:
    if values.dtype.kind != "f" or np.all(np.isfinite(values)):
        return None
    return "nan" if np.any(np.isnan(values)) else "inf"


def _check_forward(prim: Primitive, arrays: Sequence[Any], out: Tensor) -> None:
    """Forward half of detect_anomaly: an op whose finite inputs give a NaN/inf output."""
    origin = _user_frame()
    if out._node is not None:
        _ORIGINS[out._node] = origin
    kind = _nonfinite_kind(out.data)
    if kind is None:
        return
    if any(_nonfinite_kind(np.asarray(a)) for a in arrays if not isinstance(a, (dict, tuple))):
        return  # not produced here: an input already held it
    raise FloatingPointError(
        f"detect_anomaly: op '{prim.name}' produced {kind} in its output of shape "
        f"{out.shape}, created at {origin}"
    )


def _check_backward(node: Node, argnum: int, gradient: Any) -> None:
    """Backward half of detect_anomaly: a VJP rule that returns NaN/inf (array or Tensor)."""
    kind = _nonfinite_kind(gradient.data if _is_tensor(gradient) else gradient)
    if kind is not None:
        origin = _ORIGINS.get(node, "<created outside detect_anomaly()>")
        raise FloatingPointError(
            f"detect_anomaly: the backward of op '{node.prim.name}' produced {kind} in the "
            f"gradient of its input {argnum} (shape {gradient.shape}); the op was created at "
            f"{origin}"
        )
