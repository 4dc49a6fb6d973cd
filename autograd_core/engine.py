"""The engine: primitives, the recorded graph, reverse mode (backward) and forward mode.

A `Primitive` is one differentiable operation, defined once: its forward on numpy arrays,
one reverse-mode rule (vector-Jacobian product) and one forward-mode rule (Jacobian-vector
product) per input. Calling a primitive applies it; when an input requires grad it records
a `Node` (PyTorch's `grad_fn`) pointing back at the inputs. Nodes never point at their
outputs, so a graph has no reference cycles and dies with its last output.

Rules are written once, with functions that work on plain arrays and on tensors alike: a
primitive called on arrays only computes with numpy, called on a tensor it records. So the
same rule runs on arrays in an ordinary backward pass (fast: no tensor per step) and on
tensors when the backward pass is itself differentiated (`create_graph=True`, or a forward-
mode level around it): higher order comes for free. Broadcasting is undone here, once
(`sum_to`), never inside a rule.

The engine knows tensors only through `Traced`, the base class `Tensor` derives from: it
reads `.data`, `.requires_grad`, `._node`, and makes new tensors with an input's `_wrap`.
"""

from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import math
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------------
# Modes, per thread: recording, forward-mode levels, module scope, anomaly detection.
# --------------------------------------------------------------------------------------------


class _Modes:
    """The switches every op reads, for one thread (PyTorch's grad mode is per thread too)."""

    __slots__ = ("grad_enabled", "max_level", "levels", "scope", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.max_level = 0  # 0: no forward mode; else active levels up to this one propagate
        self.levels: frozenset[int] = frozenset()  # levels of the jvp calls now running
        self.scope: tuple[Any, ...] | None = None  # enclosing nn modules, for drawings
        self.anomaly = False  # detect_anomaly() is active


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.modes = _Modes()


_THREAD = _PerThread()


def modes() -> _Modes:
    """This thread's modes. An op reads the thread-local once and then plain slots: reading
    a threading.local attribute costs ~5 times a slot (measured ~95 ns vs ~18 ns)."""
    return _THREAD.modes


_LEVELS = itertools.count(1)  # forward-mode levels are unique across threads


def new_level() -> int:
    """A fresh forward-mode level for one `jvp` call."""
    return next(_LEVELS)


class _Switch:
    """Sets one mode for a block: a context manager, and a decorator (also of generators)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        self.value = value
        self.previous: list[Any] = []

    def __enter__(self) -> None:
        state = _THREAD.modes
        self.previous.append(getattr(state, self.field))
        setattr(state, self.field, self.value)

    def __exit__(self, *exc: object) -> None:
        setattr(_THREAD.modes, self.field, self.previous.pop())

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        field, value = self.field, self.value
        if inspect.isgeneratorfunction(fn):
            return _switched_generator(fn, field, value)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Switch(field, value):
                return fn(*args, **kwargs)

        return wrapper


def _switched_generator(fn: Callable[..., Any], field: str, value: Any) -> Callable[..., Any]:
    """A generator function whose body runs under the mode at every resume, never between."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _Switch(field, value):
            generator = fn(*args, **kwargs)
            request: tuple[str, Any] = ("send", None)
        while True:
            with _Switch(field, value):
                try:
                    method, argument = request
                    item = getattr(generator, method)(argument)
                except StopIteration as stop:
                    return stop.value
            try:
                request = ("send", (yield item))
            except GeneratorExit:
                with _Switch(field, value):  # its cleanup runs under the mode too
                    generator.close()
                raise
            except BaseException as error:
                request = ("throw", error)

    return wrapper


def no_grad() -> _Switch:
    """Stop recording ops (inference, optimizer updates). Also usable as a decorator."""
    return _Switch("grad_enabled", False)


def enable_grad() -> _Switch:
    """Record ops again inside a `no_grad` block. Also usable as a decorator."""
    return _Switch("grad_enabled", True)


def set_grad_enabled(enabled: bool) -> _Switch:
    """Record ops or not, as a context manager or decorator."""
    return _Switch("grad_enabled", bool(enabled))


def is_grad_enabled() -> bool:
    """Whether ops are currently recorded for backward (in this thread)."""
    return _THREAD.modes.grad_enabled


def detect_anomaly() -> _Switch:
    """Make the first NaN or inf produced in forward or backward raise, naming the op and
    the line of user code that created it. Slower: use it to debug, not to train."""
    return _Switch("anomaly", True)


class module_scope:  # noqa: N801 - used like a function, as contextlib's managers are
    """Tag every node created inside with the stack of enclosing modules (outermost first).

    nn's `Module.__call__` enters this, so a drawing can cluster each module call's ops;
    `Node.scope` is then a tuple of module objects, or None outside any module.
    """

    __slots__ = ("module", "previous")

    def __init__(self, module: Any) -> None:
        self.module = module

    def __enter__(self) -> None:
        state = _THREAD.modes
        self.previous = previous = state.scope
        state.scope = (self.module,) if previous is None else (*previous, self.module)

    def __exit__(self, *exc: object) -> None:
        _THREAD.modes.scope = self.previous


# --------------------------------------------------------------------------------------------
# Primitives and their registry.
# --------------------------------------------------------------------------------------------

Rule = Callable[..., Any]

PRIMITIVES: dict[str, Primitive] = {}
"""Every registered primitive by name: what tests, docs, checking and drawing iterate over."""


class Traced:
    """What the engine knows of a tensor: `Tensor` derives from this (and defines `_wrap`)."""

    __slots__ = ("__dict__", "__weakref__")  # rare attributes (grad, name, ...) live in a dict
    data: np.ndarray
    requires_grad: bool
    _node: Node | None
    _tangents: dict[int, Any] | None
    _counter: VersionCounter | None
    _view_of: Traced | None

    @staticmethod
    def _wrap(data: Any) -> Any:
        raise NotImplementedError


class _EachInput:
    """The rule table of a variadic primitive: one rule, told which input it is for."""

    __slots__ = ("rule",)

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __getitem__(self, argnum: int) -> Rule:
        return functools.partial(self.rule, argnum)

    def __len__(self) -> int:  # any arity
        return sys.maxsize


def each_input(rule: Rule) -> _EachInput:
    """Rule table for a variadic primitive: `rule(argnum, g, out, *inputs, **params)`."""
    return _EachInput(rule)


class Primitive:
    """One differentiable operation: forward on arrays plus a VJP and a JVP rule per input.

    Rules are called as `rule(g, out, *inputs, **params)`: `g` is the output's cotangent
    (reverse mode) or the input's tangent (forward mode), `out` the output (None unless
    `save_output`), `inputs` the op's positional inputs. Positional inputs are the operands
    (tensors, or numbers as constants); what is not differentiable (axes, masks, labels)
    goes in `params`. A rule may be None: asking for it raises an error naming the op.

    `linear=True` declares the op linear in its operands jointly (add, reshape, getitem):
    its JVP is the op itself applied to the tangents (JAX's `deflinear`), and its rules
    read no input values, so in-place changes to its inputs cannot invalidate them.
    `multilinear=True` declares it linear in each operand separately (matmul, einsum,
    convolution): the JVP for one operand is the op with that operand's tangent in its place.
    `fused_vjp(g, residual, *arrays, **params)` is an optional array-only VJP for input 0
    that uses what the forward kept: such a forward returns `(output, residual)`.
    `view=True` marks ops whose output may share memory with input 0 (in-place changes to
    either then count for both).
    """

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: Sequence[Rule | None] | _EachInput | None,
        jvps: Sequence[Rule | None] | _EachInput | None = None,
        *,
        linear: bool = False,
        multilinear: bool = False,
        save_output: bool = False,
        view: bool = False,
        fused_vjp: Rule | None = None,
        doc: str = "",
    ) -> None:
        _check_rules(name, "reverse-mode (vjp)", vjps)
        _check_rules(name, "forward-mode (jvp)", jvps)
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.jvps = jvps
        self.linear = linear
        self.multilinear = multilinear
        self.save_output = save_output
        self.view = view
        self.fused_vjp = fused_vjp
        self.doc = doc

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        """Apply the op. On arrays only: its numpy forward (what rules do in an ordinary
        backward pass). On tensors: a tensor, with a node recorded when an input requires
        grad, and tangents pushed when a forward-mode level is active."""
        template, record, arrays, kept = None, False, [], []
        for x in inputs:
            if isinstance(x, Traced):
                if template is None:
                    template = x
                record = record or x.requires_grad
                arrays.append(x.data)
                kept.append(x._node or x)  # a graph keeps results as their nodes
            else:
                arrays.append(x)
                kept.append(x)
        if template is None:
            result = self.forward(*inputs, **params)
            return result[0] if self.fused_vjp is not None else result
        try:
            result = self.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError) as error:
            raise _failure(self, arrays, error) from None
        except RuntimeWarning:  # `-W error` made numpy's inf/nan notice an error: as PyTorch,
            with np.errstate(all="ignore"):  # return the IEEE result (a try costs nothing)
                result = self.forward(*arrays, **params)
        residual = None
        if self.fused_vjp is not None:
            result, residual = result
        out = template._wrap(result)
        state = _THREAD.modes
        if record and state.grad_enabled:
            out._node = Node(self, tuple(kept), params, out.data, residual, state.scope)
            out.requires_grad = True
        if self.view and out.data.base is not None and np.may_share_memory(out.data, arrays[0]):
            share_counter(out, inputs[0])
        if state.max_level:
            _push_tangents(self, inputs, params, out)
        if state.anomaly:
            _check_forward(self, arrays, out)
        return out

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def vjp_rule(self, argnum: int) -> Rule:
        rules = self.vjps
        if type(rules) is tuple and rules[argnum] is not None:
            return rules[argnum]  # the usual case, first
        return _rule(self, rules, argnum, "reverse-mode (vjp)")

    def jvp_rule(self, argnum: int) -> Rule:
        return _rule(self, self.jvps, argnum, "forward-mode (jvp)")


def _check_rules(name: str, mode: str, table: Any) -> None:
    """Refuse, once when the op is defined, a rule that cannot take `(g, out, *inputs)`.

    Rule k is for input k, so a table of n rules belongs to an op of at least n inputs and
    each rule must accept 2 + n positional arguments (an error at the first backward would
    name neither the op nor the expected signature)."""
    if not isinstance(table, (tuple, list)):
        return  # no rules, or each_input's one rule for any number of inputs
    for argnum, rule in enumerate(table):
        if rule is None:
            continue
        try:
            signature = inspect.signature(rule)
        except (TypeError, ValueError):
            continue  # nothing to inspect (some builtins)
        try:
            signature.bind_partial(*range(2 + len(table)))
        except TypeError:
            raise TypeError(
                f"primitive '{name}': its {mode} rule for input {argnum} has the parameters "
                f"{signature}, but rules are called rule(g, out, *inputs, **params), here with "
                f"at least {2 + len(table)} positional arguments: g (the output's cotangent, or "
                f"the input's tangent), out (the output, or None unless save_output) and the "
                f"op's inputs"
            ) from None


def _rule(prim: Primitive, table: Any, argnum: int, mode: str) -> Rule:
    rule = None if table is None or argnum >= len(table) else table[argnum]
    if rule is None:
        raise NotImplementedError(
            f"op '{prim.name}' has no {mode} rule for input {argnum}: "
            f"it cannot be differentiated in that mode with respect to that input"
        )
    return rule


def register(prim: Primitive) -> Primitive:
    """Add a primitive to the registry; its name must be new."""
    if prim.name in PRIMITIVES:
        raise ValueError(f"a primitive named {prim.name!r} is already registered")
    PRIMITIVES[prim.name] = prim
    return prim


# --------------------------------------------------------------------------------------------
# Graph nodes and version counters.
# --------------------------------------------------------------------------------------------


class VersionCounter:
    """In-place changes made so far to one piece of memory: shared by a tensor, its views
    and the node that holds it, so a change through any of them is seen by all."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_ABSENT: Any = object()  # an unused input slot of a Node
_MUTATED = [False]  # whether any in-place change happened yet: until then nothing is checked
_SEQUENCE = itertools.count()


class Node:
    """The record of one op application (PyTorch's `grad_fn`): what backward needs.

    `inputs` holds the nodes of inputs that are results, the tensors of leaves, and
    constants as given: a graph never holds its intermediate Tensor objects, which die with
    the user's last reference (as in PyTorch). `value` is the output array (None once
    backward freed it; `out_meta` then keeps its shape and dtype for drawings). `versions`
    are the inputs' versions when the node was made (None: all 0) and `own_version` its
    output's, checked at backward against later in-place changes.
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
        "counter",
        "versions",
        "own_version",
        "retained",
        "scope",
        "tensor_name",
        "sequence",
        "__weakref__",
    )

    def __init__(
        self,
        prim: Primitive,
        inputs: tuple[Any, ...],
        params: dict[str, Any],
        value: np.ndarray,
        residual: Any = None,
        scope: tuple[Any, ...] | None = None,
    ) -> None:
        self.prim = prim
        # One or two inputs (nearly every op) sit in slots, not in a tuple: a tuple holding a
        # node is one more object for the cyclic garbage collector to traverse in its full
        # passes over a live graph (measured: a small op's forward + backward about 10% faster).
        self._more = inputs if len(inputs) > 2 else None
        self._first = inputs[0] if inputs else None
        self._second = inputs[1] if len(inputs) == 2 else _ABSENT
        self.params = params
        self.value: np.ndarray | None = value
        self.residual = residual
        self.out_tangents: dict[int, Any] | None = None
        self.out_meta: tuple[tuple[int, ...], np.dtype[Any]] | None = None
        self.counter: VersionCounter | None = None
        self.versions = tuple(map(version_of, inputs)) if _MUTATED[0] else None
        self.own_version = 0
        self.retained: weakref.ref[Any] | None = None
        self.scope = scope
        self.tensor_name: str | None = None  # the name the user gave the result tensor
        # Creation order: every node is made after the nodes of its inputs, so visiting
        # nodes from the highest sequence down is a topological order (as PyTorch does).
        self.sequence = next(_SEQUENCE)

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The op's inputs: nodes for results, tensors for leaves, and constants as given."""
        if self._more is not None:
            return self._more
        return (self._first,) if self._second is _ABSENT else (self._first, self._second)

    def __repr__(self) -> str:
        return f"<{self.prim.name} node>"

    def name(self) -> str:
        """The op's name (PyTorch's `grad_fn.name()`)."""
        return self.prim.name

    def parents(self) -> list[Node]:
        """Nodes of the inputs that are themselves results of recorded ops."""
        return [x for x in self.inputs if type(x) is Node]

    def out_shape(self) -> tuple[int, ...] | None:
        """The output's shape, while its value is kept or after backward freed it."""
        if self.value is not None:
            return self.value.shape
        return None if self.out_meta is None else self.out_meta[0]

    def lift(self, template: Traced) -> Any:
        """A tensor around this node's output, linked to the node and carrying its tangents:
        what a result is to a rule that records (the graph keeps no Tensor)."""
        if self.value is None:
            raise _freed_error(self)
        t = template._wrap(self.value)
        t._node, t.requires_grad, t._tangents = self, True, self.out_tangents
        return t


def counter_of(t: Traced) -> VersionCounter:
    """The version counter of a tensor's memory, made on first use (and given its node)."""
    counter = t._counter
    if counter is None:
        node = t._node
        counter = node.counter if node is not None and node.counter is not None else None
        t._counter = counter = counter or VersionCounter()
        if node is not None:
            node.counter = counter
    return counter


def share_counter(view: Traced, base: Traced) -> None:
    """`view` shares memory with `base`: an in-place change to either counts for both."""
    view._counter = counter = counter_of(base)
    view._view_of = base
    if view._node is not None:
        view._node.counter, view._node.own_version = counter, counter.count


def note_in_place(t: Traced) -> int:
    """Count an in-place change of a tensor's memory; returns the new version."""
    _MUTATED[0] = True
    counter = counter_of(t)
    counter.count += 1
    return counter.count


def version_of(x: Any) -> int:
    """The version of a node's output or a tensor's memory (0 if never changed)."""
    counter = x.counter if type(x) is Node else getattr(x, "_counter", None)
    return 0 if counter is None else counter.count


def _check_versions(node: Node) -> None:
    """Raise if a value this node's rules read was changed in place after it was saved."""
    if node.prim.save_output and version_of(node) != node.own_version:
        _raise_modified(node, "its output", node.out_shape(), version_of(node), node.own_version)
    if node.prim.linear:
        return  # the rules of a linear op read no input values
    for argnum, x in enumerate(node.inputs):
        if type(x) is Node or isinstance(x, Traced):
            then = 0 if node.versions is None else node.versions[argnum]
            now = version_of(x)
            if now != then:
                shape = x.out_shape() if isinstance(x, Node) else x.data.shape
                _raise_modified(node, f"its input {argnum}", shape, now, then)


def _raise_modified(node: Node, what: str, shape: Any, now: int, then: int) -> None:
    raise RuntimeError(
        f"one of the tensors needed to differentiate op '{node.prim.name}' ({what}, shape "
        f"{shape}) was modified in place after the op used it (version {now}, expected "
        f"{then}): the gradient would be wrong. Modify a copy instead (x.clone()), or make "
        f"the change before the forward pass."
    )


# --------------------------------------------------------------------------------------------
# Running a primitive.
# --------------------------------------------------------------------------------------------


def plain_error(error: Exception, message: str) -> Exception:
    """`error` re-made as the builtin ValueError, TypeError or IndexError it derives from,
    with `message`: numpy's own exception classes need not take a message alone."""
    kind = next(k for k in (ValueError, TypeError, IndexError) if isinstance(error, k))
    return kind(message)


def _failure(prim: Primitive, arrays: list[Any], error: Exception) -> Exception:
    """A forward's failure as the same kind of error, naming the op and what it was given."""
    described = ", ".join(
        f"shape {a.shape} {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
        for a in arrays
    )
    return plain_error(error, f"{prim.name}: cannot apply to inputs ({described}): {error}")


def _push_tangents(
    prim: Primitive, inputs: Sequence[Any], params: dict[str, Any], out: Any
) -> None:
    """Forward mode: give `out` a tangent for every active level an input carries one for.

    Levels are computed in increasing order, each with only the lower levels active, so a
    nested `jvp` differentiates the tangents of the outer one and never its own (JAX's rule).
    """
    state = _THREAD.modes
    max_level, active = state.max_level, state.levels
    carried = {lvl for x in inputs if isinstance(x, Traced) and x._tangents for lvl in x._tangents}
    levels = sorted(lvl for lvl in carried if lvl <= max_level and lvl in active)
    if not levels:
        return
    out._tangents = {}
    if out._node is not None:
        out._node.out_tangents = out._tangents
    try:
        for level in levels:
            state.max_level = level - 1
            tangent = _output_tangent(prim, inputs, params, out, level)
            if tangent.shape != out.shape:
                tangent = BROADCAST_TO(tangent, shape=out.shape)
            out._tangents[level] = tangent
    finally:
        state.max_level = max_level


def _output_tangent(
    prim: Primitive, inputs: Sequence[Any], params: dict[str, Any], out: Any, level: int
) -> Any:
    """The output's tangent at one level: a linear op applied to the tangents, or the sum
    over the inputs with a tangent of their JVP rule (for a multilinear op, the op with the
    tangent in that input's place)."""

    def tangent_of(x: Any) -> Any:
        return x._tangents.get(level) if isinstance(x, Traced) and x._tangents else None

    if prim.linear:  # operands without a tangent contribute zeros
        tangents = [tangent_of(x) for x in inputs]
        zeros = [np.zeros_like(x.data if isinstance(x, Traced) else x) for x in inputs]
        return prim(
            *[z if t is None else t for t, z in zip(tangents, zeros, strict=True)], **params
        )
    total = None
    saved_out = out if prim.save_output else None
    for argnum, x in enumerate(inputs):
        t = tangent_of(x)
        if t is None:
            continue
        if prim.multilinear:
            term = prim(*inputs[:argnum], t, *inputs[argnum + 1 :], **params)
        else:
            term = prim.jvp_rule(argnum)(t, saved_out, *inputs, **params)
        total = term if total is None else total + term
    return total


# --------------------------------------------------------------------------------------------
# Broadcasting and its adjoint (the engine sums every gradient back to its input's shape),
# and dtype casts (a gradient takes its input's dtype).
# --------------------------------------------------------------------------------------------


def _broadcast_to_forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only broadcast view for large results (no copy); small ones are filled in,
    which is faster than building a view (np.broadcast_to costs microseconds)."""
    if math.prod(shape) >= 4096:
        return np.broadcast_to(x, shape)
    out = np.empty(shape, dtype=np.result_type(x))
    out[...] = x
    return out


def _sum_to_forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast result back to `shape` (the adjoint of broadcasting)."""
    lead = x.ndim - len(shape)
    if lead:  # new leading axes go away entirely
        x = x.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    return x.sum(axis=stretched, keepdims=True) if stretched else x


BROADCAST_TO: Primitive = register(
    Primitive(
        "broadcast_to",
        _broadcast_to_forward,
        (lambda g, out, x, shape: g,),  # the engine sums g back to x's shape
        linear=True,
        doc="repeat along new or size-1 axes; the cotangent is summed back",
    )
)

CAST: Primitive = register(
    Primitive(
        "cast",
        lambda x, dtype: x.astype(dtype),
        (lambda g, out, x, dtype: CAST(g, dtype=x.dtype),),
        linear=True,
        doc="change the float dtype; the gradient is cast back",
    )
)

SUM_TO: Primitive = register(
    Primitive(
        "sum_to",
        _sum_to_forward,
        (lambda g, out, x, shape: BROADCAST_TO(g, shape=x.shape),),
        linear=True,
        doc="sum over broadcast axes down to shape; undoes broadcasting",
    )
)


# --------------------------------------------------------------------------------------------
# Reverse mode.
# --------------------------------------------------------------------------------------------


def topological_order(roots: Node | Sequence[Node]) -> list[Node]:
    """Nodes reachable from `roots`, each before every node it depends on (no recursion)."""
    stack = [roots] if isinstance(roots, Node) else list(roots)
    seen = set(stack)
    while stack:
        for parent in stack.pop().parents():
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=lambda node: node.sequence, reverse=True)


def backward(
    root: Traced, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(root)/d(leaf), weighted by `gradient`, into `.grad` of every leaf."""
    if retain_graph is None:
        retain_graph = create_graph
    seed = seed_gradient(root, gradient, create_graph)
    Sweep(retain_graph, create_graph).run([(root, seed)])


def grad(
    outputs: Traced | Sequence[Traced],
    inputs: Traced | Sequence[Traced],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Gradients of `outputs` with respect to `inputs`, returned instead of accumulated.

    As `torch.autograd.grad`: `.grad` fields are left alone, `inputs` may be intermediate
    tensors, and an input the outputs do not depend on is an error unless `allow_unused`.
    """
    outs = [outputs] if isinstance(outputs, Traced) else list(outputs)
    ins = [inputs] if isinstance(inputs, Traced) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Traced, np.ndarray)):
        weights = [grad_outputs] * len(outs)
    else:
        weights = list(grad_outputs)
    if len(weights) != len(outs):
        raise ValueError(f"grad(): {len(outs)} outputs but {len(weights)} grad_outputs")
    if any(not x.requires_grad for x in ins):
        raise RuntimeError("grad(): one of the inputs does not require grad")
    sweep = Sweep(create_graph if retain_graph is None else retain_graph, create_graph)
    sweep.capture = {(x._node or x): None for x in ins}
    sweep.run([(o, seed_gradient(o, w, create_graph)) for o, w in zip(outs, weights, strict=True)])
    results = tuple(sweep.capture[x._node or x] for x in ins)
    if not allow_unused and any(r is None for r in results):
        raise RuntimeError(
            "grad(): one of the inputs was not used to compute the outputs; "
            "pass allow_unused=True to get None for it"
        )
    return tuple(r if r is None or isinstance(r, Traced) else ins[0]._wrap(r) for r in results)


Observer = Callable[[Node, Any, list[tuple[int, Any, Any]]], None]
_NOT_OBSERVED: list[tuple[int, Any, Any]] = []  # never appended to


class Sweep:
    """One reverse pass: visit nodes from the newest down, apply each input's VJP rule.

    Pending nodes wait in a heap keyed by creation sequence; the newest pending node has
    received every contribution (all its consumers are newer), so it is ready: no separate
    topological sort, no recursion. When nothing differentiates the sweep (no
    `create_graph`, no forward-mode level) gradients travel as plain arrays; otherwise as
    tensors, and every rule records. Leaf gradients accumulate into `.grad`, or, with
    `capture` (`grad()`), are collected for its keys (nodes or leaves) instead.
    """

    __slots__ = (
        "retain_graph",
        "create_graph",
        "plain",
        "capture",
        "observe",
        "grads",
        "pending",
        "lone",
        "stored",
        "template",
        "needed",
        "anomaly",
    )

    def __init__(self, retain_graph: bool, create_graph: bool) -> None:
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.plain = not create_graph and not _THREAD.modes.max_level
        self.capture: dict[Any, Any] | None = None
        self.observe: Observer | None = None
        self.grads: dict[Node, Any] = {}
        self.pending: list[tuple[int, Node]] = []  # a heap, newest node first
        self.lone: Node | None = None  # a single pending node waits here, not in the heap
        self.stored: set[int] = set()  # ids of gradient arrays a leaf's .grad now owns

    def run(self, seeds: list[tuple[Traced, Any]]) -> None:
        self.template = seeds[0][0]
        roots = [root._node for root, _ in seeds if root._node is not None]
        self.needed = None if self.capture is None else self._leading_to_capture(roots)
        state = _THREAD.modes
        previous = state.grad_enabled, state.anomaly
        state.grad_enabled, self.anomaly = self.create_graph, previous[1]
        state.anomaly = False  # anomalies are checked per rule below, not per op inside
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                for root, seed in seeds:
                    self.send(root._node or root, seed.data if self.plain else seed)
                for node in self.ready_nodes():
                    self.step(node)
        finally:
            state.grad_enabled, state.anomaly = previous

    def ready_nodes(self) -> Iterator[Node]:
        """Pending nodes, newest first; a node is ready once every consumer has run."""
        while self.lone is not None or self.pending:
            if self.lone is not None:
                node, self.lone = self.lone, None
                yield node
            else:
                yield heapq.heappop(self.pending)[1]

    def step(self, node: Node) -> None:
        """Run one node: its upstream gradient through each input's VJP rule."""
        g = self.grads.pop(node)
        if self.needed is not None and node not in self.needed:
            return  # grad(): no requested input below it; leave it unrun and unfreed
        if node.value is None:
            raise _freed_error(node)
        if _MUTATED[0]:
            _check_versions(node)
        if self.capture is not None or node.retained is not None:
            self.deliver_to_result(node, g)
        inputs, values = node.inputs, None
        sent: list[tuple[int, Any, Any]] = [] if self.observe is not None else _NOT_OBSERVED
        for argnum, x in enumerate(inputs):
            if not (type(x) is Node or (isinstance(x, Traced) and x.requires_grad)):
                continue  # a constant: no gradient
            if self.capture is not None and not self.wants(x):
                continue
            if values is None:
                out, values = self.input_values(node, inputs)
            rule, seen = self.rule(node, argnum, out)
            gx = rule(g, seen, *values, **node.params)
            if gx.shape != values[argnum].shape:  # (a gradient-taking input has a shape)
                gx = SUM_TO(gx, shape=values[argnum].shape)
            if self.anomaly:
                _check_backward(node, argnum, gx)
            if sent is not _NOT_OBSERVED:
                sent.append((argnum, x, gx))
            self.send(x, gx)
        if self.observe is not None:
            self.observe(node, g, sent)
        if not self.retain_graph:
            self.free(node)

    def wants(self, x: Any) -> bool:
        """For `grad()`: whether input `x` leads to a requested input (or is one)."""
        if type(x) is Node:
            return self.needed is None or x in self.needed
        return self.capture is None or x in self.capture

    def input_values(self, node: Node, inputs: tuple[Any, ...]) -> tuple[Any, list[Any]]:
        """`out` and the inputs as the rules see them: arrays in a plain sweep; otherwise
        tensors linked into the graph, so the rules' own ops are recorded."""
        plain, values = self.plain, []
        for x in inputs:
            if type(x) is Node:
                if x.value is None:  # freed by an earlier backward
                    raise _freed_error(x)
                values.append(x.value if plain else x.lift(self.template))
            else:
                values.append(x.data if plain and isinstance(x, Traced) else x)
        if plain:
            return node.value, values
        return (node.lift(self.template) if node.prim.save_output else None), values

    def rule(self, node: Node, argnum: int, out: Any) -> tuple[Rule, Any]:
        """The VJP rule for one input and the `out` it reads: the op's own rule and the
        output, or in a plain sweep its fused rule for input 0 and the forward's residual."""
        prim = node.prim
        if self.plain and argnum == 0 and prim.fused_vjp is not None:
            return prim.fused_vjp, node.residual
        return prim.vjp_rule(argnum), out

    def send(self, x: Any, g: Any) -> None:
        """Hand gradient `g` to an input: add it to a node's pending gradient, or to a leaf."""
        if type(x) is not Node:
            self.deliver_to_leaf(x, g)
        elif x in self.grads:
            self.grads[x] = self.grads[x] + g
        else:
            self.grads[x] = g
            if self.lone is None and not self.pending:
                self.lone = x  # the only pending node is the newest: a chain needs no heap
            else:
                if self.lone is not None:
                    heapq.heappush(self.pending, (-self.lone.sequence, self.lone))
                    self.lone = None
                heapq.heappush(self.pending, (-x.sequence, x))

    def deliver_to_result(self, node: Node, g: Any) -> None:
        """A result's own gradient: captured for `grad()`, or kept by `retain_grad()`."""
        if self.capture is not None:
            if node in self.capture:
                self.capture[node] = g
        elif node.retained is not None and (kept := node.retained()) is not None:
            self.deliver_to_leaf(kept, g)

    def deliver_to_leaf(self, leaf: Traced, g: Any) -> None:
        if self.capture is not None:
            if leaf in self.capture:
                previous = self.capture[leaf]
                self.capture[leaf] = g if previous is None else previous + g
        elif self.plain:
            _accumulate_array(leaf, g, self.stored)
        else:
            _accumulate_tensor(leaf, g)

    def free(self, node: Node) -> None:
        """Drop what the node kept for backward (its consumers all ran); keep its shape."""
        node.out_meta = (node.value.shape, node.value.dtype)  # type: ignore[union-attr]
        node.value = node.residual = node.out_tangents = None

    def _leading_to_capture(self, roots: list[Node]) -> set[Node]:
        """Nodes from which a captured input (node or leaf) can be reached: `grad()` runs
        only these, as `torch.autograd.grad` does (an outer graph below is left alone)."""
        capture = self.capture or {}
        needed: set[Node] = set()
        for node in reversed(topological_order(roots)):  # inputs' nodes before their users
            if node in capture or any(
                (x in needed) if type(x) is Node else (isinstance(x, Traced) and x in capture)
                for x in node.inputs
            ):
                needed.add(node)
        return needed


def _freed_error(node: Node) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (op '{node.prim.name}'): its "
        f"saved values were freed after the first backward. Pass retain_graph=True to the "
        f"first backward() if you need to call it again."
    )


def seed_gradient(root: Traced, gradient: Any, create_graph: bool) -> Any:
    """The output's starting cotangent as a tensor of its shape and dtype, never the
    caller's own memory (gradients are stored, and later changed in place)."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad and has no grad_fn: "
            "create its inputs with requires_grad=True (and outside no_grad())"
        )
    shape, dtype = root.data.shape, root.data.dtype
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for one-element outputs, but this "
                f"tensor has shape {shape}: pass backward(gradient=...) of that shape"
            )
        return root._wrap(np.ones(shape, dtype=dtype))
    if isinstance(gradient, Traced) and create_graph:
        seed = gradient
    else:
        values = gradient.data if isinstance(gradient, Traced) else gradient
        seed = root._wrap(np.array(values, dtype=dtype, copy=True))
    if seed.data.shape != shape:
        raise ValueError(
            f"backward(): gradient has shape {seed.data.shape} but the tensor it weights has "
            f"shape {shape}; they must match"
        )
    return seed if seed.data.dtype == dtype else CAST(seed, dtype)


def _accumulate_array(leaf: Traced, g: np.ndarray, stored: set[int]) -> None:
    """Add the array `g` into `leaf.grad`, in the leaf's dtype. The stored array is always
    one this sweep owns (never a view, a rule's shared result or another leaf's)."""
    dtype = leaf.data.dtype
    current = leaf.grad  # type: ignore[attr-defined]
    if current is not None:
        g = current.data + g
    if g.dtype != dtype:
        g = g.astype(dtype)
    elif current is None and (g.base is not None or not g.flags.writeable or id(g) in stored):
        g = g.copy()
    grad = leaf._wrap(g)  # (makes an array of a numpy scalar)
    stored.add(id(grad.data))
    leaf.grad = grad  # type: ignore[attr-defined]


def _accumulate_tensor(leaf: Traced, g: Any) -> None:
    """create_graph: `.grad` becomes a recorded tensor (differentiable again)."""
    if g.data.dtype != leaf.data.dtype:
        g = CAST(g, leaf.data.dtype)
    current = leaf.grad  # type: ignore[attr-defined]
    with enable_grad():
        leaf.grad = g if current is None else current + g  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Anomaly detection: the first NaN or inf, named with its op and where it was created.
# --------------------------------------------------------------------------------------------

_ORIGINS: weakref.WeakKeyDictionary[Node, str] = weakref.WeakKeyDictionary()


def _user_frame() -> str:
    """The innermost calling line outside this library (autograd_core and nn)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module.startswith("autograd_core") or module == "nn" or module.startswith("nn.")):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


def _nonfinite_kind(values: Any) -> str | None:
    values = np.asarray(values)
    if values.dtype.kind != "f" or np.all(np.isfinite(values)):
        return None
    return "nan" if np.any(np.isnan(values)) else "inf"


def _check_forward(prim: Primitive, arrays: Sequence[Any], out: Any) -> None:
    """Forward half of detect_anomaly: an op whose finite inputs give a NaN/inf output."""
    origin = _user_frame()
    if out._node is not None:
        _ORIGINS[out._node] = origin
    kind = _nonfinite_kind(out.data)
    if kind is None or any(
        _nonfinite_kind(a) for a in arrays if isinstance(a, (np.ndarray, float))
    ):
        return  # finite, or not produced here: an input already held it
    raise FloatingPointError(
        f"detect_anomaly: op '{prim.name}' produced {kind} in its output of shape "
        f"{out.data.shape}, created at {origin}"
    )


def _check_backward(node: Node, argnum: int, gradient: Any) -> None:
    """Backward half of detect_anomaly: a VJP rule that returns NaN/inf (array or tensor)."""
    kind = _nonfinite_kind(gradient.data if isinstance(gradient, Traced) else gradient)
    if kind is not None:
        origin = _ORIGINS.get(node, "<created outside detect_anomaly()>")
        raise FloatingPointError(
            f"detect_anomaly: the backward of op '{node.prim.name}' produced {kind} in the "
            f"gradient of its input {argnum} (shape {np.shape(gradient)}); the op was "
            f"created at {origin}"
        )
