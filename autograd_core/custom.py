"""Custom primitives: your own op, with its forward, reverse rule and forward-mode rule.

A custom primitive is an engine `Primitive` like every built-in one, so it works with
`backward`, the transforms (`grad`, `jvp`, `jacrev`, `jacfwd`, `hessian`), `gradcheck` and
`draw_graph` (under its own name). Define it in one place::

    import numpy as np
    import autograd_core as ag

    @ag.primitive(
        vjp=lambda g, out, x: g * 3.0 * x**2,   # reverse mode: cotangent -> input cotangent
        jvp=lambda t, out, x: t * 3.0 * x**2,   # forward mode: input tangent -> output tangent
    )
    def cube(x: np.ndarray) -> np.ndarray:
        '''x ** 3, computed on numpy arrays.'''
        return x**3

    cube(ag.Tensor([1.0, 2.0], requires_grad=True))

Or give the rules afterwards with `cube.defvjp(rule, ...)` / `cube.defjvp(rule, ...)`, one
rule per input (None for an input that is not differentiable).

- `forward` gets numpy arrays (Python numbers stay numbers) and returns an array; arguments
  with defaults or keyword-only ones are parameters, passed to the rules as keywords.
- Rules are called `rule(g, out, *inputs, **params)`: `g` is the output's cotangent (vjp) or
  this input's tangent (jvp), `out` the output tensor, `inputs` the op's inputs as tensors.
  Write rules with Tensor ops (`ag.exp`, `*`, ...) and higher derivatives come for free. A
  rule that computes with numpy (on `x.data`, or returning an array) gives right first
  derivatives but silently zero second ones: numpy is not recorded under `create_graph`.
  `gradcheck(op, inputs, order=2)` catches that.
- A rule whose parameters cannot take that call is refused when it is given (or, when only
  the call can tell, at that call), naming the op, the rule and the expected signature.
- A rule may return a result that broadcasts (a VJP is summed back to its input's shape, a
  JVP broadcast to the output's), or None for zero.
- With only one kind of rule, the primitive works in that mode and any use of the other mode
  raises `NotImplementedError` naming the op and the missing rule.

Custom primitives live in `CUSTOM_PRIMITIVES`, not in the built-in registry `PRIMITIVES`
that the project's own op tests enumerate.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np

from autograd_core.engine import PRIMITIVES, Primitive
from autograd_core.tensor import Tensor

Rule = Callable[..., Any]
Rules = Rule | Sequence[Rule | None] | None

CUSTOM_PRIMITIVES: dict[str, CustomPrimitive] = {}
"""Every user-defined primitive by name (the latest definition of each name)."""

_MODES = {
    "vjp": (
        "reverse-mode rule (vjp)",
        "backward, grad, vjp and jacrev",
        "defvjp",
        "forward mode (jvp, jacfwd)",
    ),
    "jvp": (
        "forward-mode rule (jvp)",
        "jvp and jacfwd (and hessian)",
        "defjvp",
        "reverse mode (backward, grad, vjp, jacrev)",
    ),
}


def _forward_signature(forward: Callable[..., Any]) -> tuple[list[str] | None, set[str] | None]:
    """The op's inputs (positional parameters without defaults) and its parameters (the
    others, passed to the rules by keyword); None where the signature cannot tell."""
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        return None, None
    inputs: list[str] | None = []
    params: set[str] | None = set()
    for p in signature.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            inputs = None
        elif p.kind == p.VAR_KEYWORD:
            params = None
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            if inputs is not None:
                inputs.append(p.name)
        elif params is not None:
            params.add(p.name)
    return inputs, params


def _binds(rule: Rule, args: Sequence[Any], params: dict[str, Any]) -> bool:
    """Whether `rule(*args, **params)` matches the rule's signature (True if unknowable)."""
    try:
        inspect.signature(rule).bind(*args, **params)
    except TypeError:
        return False
    except ValueError:
        return True
    return True


class CustomPrimitive:
    """A user-defined primitive: call it on tensors like any built-in op.

    Made by `primitive(...)`; `.prim` is the underlying engine `Primitive`.
    """

    def __init__(
        self,
        forward: Callable[..., Any],
        name: str,
        save_output: bool = True,
        doc: str = "",
    ) -> None:
        if name in PRIMITIVES:
            raise ValueError(
                f"primitive: {name!r} is the name of a built-in op; choose another name"
            )
        self.name = name
        self.forward = forward
        self.input_names, self.param_names = _forward_signature(forward)
        self.num_inputs = None if self.input_names is None else len(self.input_names)
        self.prim = Primitive(name, self._run_forward, None, None, save_output=save_output, doc=doc)
        self.prim.vjps = self._table("vjp", None)
        self.prim.jvps = self._table("jvp", None)
        functools.update_wrapper(self, forward)  # type: ignore[arg-type]
        CUSTOM_PRIMITIVES[name] = self

    def __repr__(self) -> str:
        return f"<custom primitive {self.name}>"

    def _run_forward(self, *arrays: Any, **params: Any) -> np.ndarray:
        result = np.asarray(self.forward(*arrays, **params))
        if result.dtype.kind not in "f":
            raise TypeError(
                f"custom primitive '{self.name}': forward must return a floating array, "
                f"got dtype {result.dtype}"
            )
        return result

    def __call__(self, *inputs: Any, **params: Any) -> Tensor:
        """Apply the op: tensors and arrays become Tensors, Python numbers stay constants."""
        if self.num_inputs is not None and len(inputs) != self.num_inputs:
            raise TypeError(
                f"custom primitive '{self.name}' takes {self.num_inputs} input(s) "
                f"(pass parameters by keyword), got {len(inputs)}"
            )
        operands = [
            x if isinstance(x, Tensor) or type(x) in (int, float) else Tensor(x) for x in inputs
        ]
        return self.prim(*operands, **params)

    def defvjp(self, *rules: Rule | None) -> CustomPrimitive:
        """Set the reverse-mode rules, one per input: `rule(g, out, *inputs, **params)`."""
        self.prim.vjps = self._table("vjp", rules)
        return self

    def defjvp(self, *rules: Rule | None) -> CustomPrimitive:
        """Set the forward-mode rules, one per input: `rule(t, out, *inputs, **params)`."""
        self.prim.jvps = self._table("jvp", rules)
        return self

    def _table(self, mode: str, rules: Sequence[Rule | None] | None) -> list[Rule]:
        """Each rule wrapped with checks; a placeholder raising a clear error where none."""
        given = list(rules) if rules is not None else []
        if self.num_inputs is not None and given and len(given) != self.num_inputs:
            raise ValueError(
                f"custom primitive '{self.name}': {len(given)} {mode} rule(s) for "
                f"{self.num_inputs} input(s); give one per input (None where not differentiable)"
            )
        size = max(len(given), self.num_inputs or 0, 1)
        table = []
        for i in range(size):
            rule = given[i] if i < len(given) else None
            # an explicit None (not differentiable) and a missing rule get the same message
            if rule is None:
                table.append(self._missing(mode, i))
            else:
                self._check_signature(mode, i, rule)
                table.append(self._checked(mode, i, rule))
        return table

    def _expected(self, mode: str) -> str:
        """How a rule is called, in words: `rule(g, out, x, **params)`."""
        inputs = ", ".join(self.input_names) if self.input_names is not None else "*inputs"
        first = "g" if mode == "vjp" else "t"
        what = "the output's cotangent" if mode == "vjp" else "this input's tangent"
        return (
            f"rules are called rule({first}, out, {inputs}, **params): {first} is {what}, out "
            f"the output, then the op's inputs as tensors and, by keyword, the parameters "
            f"given at the call"
        )

    def _check_signature(self, mode: str, argnum: int, rule: Rule) -> None:
        """Refuse, once at definition, a rule that can never be called as the engine calls
        it: too few positional parameters, or a required one nothing passes."""
        if self.input_names is None:
            return
        try:
            signature = inspect.signature(rule)
        except (TypeError, ValueError):
            return
        try:
            bound = signature.bind_partial(*range(2 + len(self.input_names)))
        except TypeError:
            problem = "takes too few positional arguments"
        else:
            unfilled = [
                p.name
                for p in signature.parameters.values()
                if p.name not in bound.arguments
                and p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                and (self.param_names is not None and p.name not in self.param_names)
            ]
            if not unfilled:
                return
            problem = f"requires {', '.join(unfilled)}, which is neither an input nor a parameter"
        raise TypeError(
            f"custom primitive '{self.name}': its {mode} rule for input {argnum} has the "
            f"parameters {signature} and {problem}; {self._expected(mode)}"
        )

    def _missing(self, mode: str, argnum: int) -> Rule:
        what, users, setter, other = _MODES[mode]

        def missing(*args: Any, **params: Any) -> Tensor:
            raise NotImplementedError(
                f"custom primitive '{self.name}' has no {what} for input {argnum}, so "
                f"{users} cannot differentiate it with respect to that input; define one with "
                f"{self.name}.{setter}(...), or use {other}"
            )

        return missing

    def _checked(self, mode: str, argnum: int, rule: Rule) -> Rule:
        """Run a user rule; turn its result into a tensor of the right dtype, check its shape."""

        def checked(g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
            if not isinstance(g, Tensor):  # an ordinary backward pass runs rules on arrays;
                return checked(  # user rules are written with tensor ops: run them on tensors
                    Tensor._wrap(g),
                    None if out is None else Tensor._wrap(out),
                    *[Tensor._wrap(x) if isinstance(x, np.ndarray) else x for x in inputs],
                    **params,
                ).data
            try:
                result = rule(g, out, *inputs, **params)
            except TypeError as error:
                if _binds(rule, (g, out, *inputs), params):
                    raise  # the rule's own body failed: its own error
                raise TypeError(
                    f"custom primitive '{self.name}': its {mode} rule for input {argnum} cannot "
                    f"be called with {2 + len(inputs)} positional arguments"
                    f"{' and the keywords ' + ', '.join(params) if params else ''} ({error}); "
                    f"{self._expected(mode)}"
                ) from error
            x = inputs[argnum]
            if mode == "vjp":
                shape: tuple[int, ...] | None = np.shape(x.data if isinstance(x, Tensor) else x)
                dtype = x.dtype if isinstance(x, Tensor) else g.dtype
            else:
                shape = out.shape if out is not None else None
                dtype = out.dtype if out is not None else g.dtype
            if result is None:
                return Tensor._wrap(np.zeros(shape if shape is not None else g.shape, dtype))
            if not isinstance(result, Tensor):
                result = Tensor._wrap(np.asarray(result, dtype=dtype))
            if shape is not None and not _fits(result.shape, shape, mode):
                side = f"input {argnum}" if mode == "vjp" else "the output"
                raise ValueError(
                    f"custom primitive '{self.name}': its {mode} rule for input {argnum} "
                    f"returned shape {result.shape}, which does not match {side}'s shape "
                    f"{shape}"
                )
            return result if result.dtype == dtype else result.astype(dtype)

        checked.__name__ = f"{self.name}_{mode}_{argnum}"
        checked.__doc__ = rule.__doc__
        return checked


def _fits(result: tuple[int, ...], target: tuple[int, ...], mode: str) -> bool:
    """A VJP may be larger (broadcast) than its input, a JVP smaller than the output."""
    try:
        big, small = (result, target) if mode == "vjp" else (target, result)
        return np.broadcast_shapes(big, small) == big
    except ValueError:
        return False


def _as_rules(rules: Rules) -> Sequence[Rule | None] | None:
    if rules is None:
        return None
    return [rules] if callable(rules) else list(rules)


@overload
def primitive(
    forward: Callable[..., Any],
    *,
    name: str | None = None,
    vjp: Rules = None,
    jvp: Rules = None,
    save_output: bool = True,
) -> CustomPrimitive: ...


@overload
def primitive(
    forward: None = None,
    *,
    name: str | None = None,
    vjp: Rules = None,
    jvp: Rules = None,
    save_output: bool = True,
) -> Callable[[Callable[..., Any]], CustomPrimitive]: ...


def primitive(
    forward: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    vjp: Rules = None,
    jvp: Rules = None,
    save_output: bool = True,
) -> CustomPrimitive | Callable[[Callable[..., Any]], CustomPrimitive]:
    """Define a new primitive op from a numpy `forward` and its rules; usable as a decorator.

    `vjp` and `jvp` are one rule (an op of one input) or a sequence with one rule per input
    (None where not differentiable); either may be omitted and given later with
    `.defvjp(...)` / `.defjvp(...)`. `name` (default: the function's name) labels the op in
    errors and drawings. `save_output=True` hands the output tensor to the rules as `out`.
    """

    def make(fn: Callable[..., Any]) -> CustomPrimitive:
        op = CustomPrimitive(
            fn,
            name or str(getattr(fn, "__name__", "custom")),
            save_output=save_output,
            doc=inspect.getdoc(fn) or "",
        )
        if vjp is not None:
            op.defvjp(*_as_rules(vjp))  # type: ignore[misc]
        if jvp is not None:
            op.defjvp(*_as_rules(jvp))  # type: ignore[misc]
        return op

    return make if forward is None else make(forward)
