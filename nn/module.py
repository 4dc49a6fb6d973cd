"""`Module`, `Parameter` and the containers `Sequential`, `ModuleList` and `ModuleDict`.

A `Module` registers what is assigned to it: a `Parameter` becomes a parameter, a `Module` a
submodule, and `register_buffer` adds state that is saved but not trained (BatchNorm's running
statistics). `state_dict()` walks that tree in PyTorch's order (own parameters, own buffers,
then children) with dotted names such as `0.weight` or `encoder.0.weight`, so a state dict
of equal names and shapes loads into the PyTorch model of the same layout.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd_core import Tensor, module_scope

Buffer = Tensor | np.ndarray


class Parameter(Tensor):
    """A tensor that a `Module` trains: assigning one to a module attribute registers it.

    It requires grad by default. Results of ops on a parameter are plain tensors.
    """

    __slots__ = ()

    def __init__(
        self, data: Any, requires_grad: bool = True, dtype: Any = None, name: str | None = None
    ) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _located(error: ValueError, name: str) -> ValueError:
    """`error` raised inside the submodule `name`, with the submodule's dotted path in front
    of its message ("0: Linear(...): expected input ..."), so a shape error in a deep model
    says which layer it came from."""
    inner = getattr(error, "module_path", None)
    path = f"{name}.{inner}" if inner else name
    reason = getattr(error, "reason", str(error))
    result = ValueError(f"{path}: {reason}")
    result.module_path = path  # type: ignore[attr-defined]
    result.reason = reason  # type: ignore[attr-defined]
    return result


def _loadable(value: Any, target: np.ndarray) -> tuple[np.ndarray, str]:
    """`value` as an array to copy into `target`, or why it cannot be (naming shapes and
    dtypes): not numeric, a different shape, or a cast that changes its meaning."""
    empty = np.empty(0)
    try:
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
    except Exception as error:
        return empty, f"cannot convert {type(value).__name__} to an array ({error})"
    if array.dtype.kind not in "biuf":
        return empty, (
            f"dtype {array.dtype} (shape {array.shape}) in the state dict is not numeric; the "
            f"model has {target.dtype} {target.shape}"
        )
    if array.shape != target.shape:
        return empty, f"shape {array.shape} in the state dict, {target.shape} in the model"
    where = f"{array.dtype} value(s) cannot go into the model's {target.dtype} {target.shape}"
    kind = target.dtype.kind
    with np.errstate(all="ignore"):  # what a cast would warn about is checked below
        cast = array.astype(target.dtype)
        if kind == "f" and array.dtype.kind == "f":
            if np.any(np.isfinite(array) & ~np.isfinite(cast)):
                return empty, f"{where}: out of range (they would become inf)"
        elif kind in "iu" and array.dtype.kind == "f":
            if not np.all(np.isfinite(array)):
                return empty, f"{where}: NaN or inf in an integer buffer"
            if np.any(array != np.floor(array)):
                return empty, f"{where}: fractions in an integer buffer"
        elif kind == "b" and np.any((array != 0) & (array != 1)):
            return empty, f"{where}: a boolean buffer takes only 0 and 1"
        if kind in "iu" and array.dtype.kind in "iuf" and array.size:
            info = np.iinfo(target.dtype)
            low, high = array.min(), array.max()
            if array.dtype.kind == "f":  # compare as floats: float(info.max) + 1 is exact
                fits = low >= float(info.min) and high < float(info.max) + 1
            else:
                fits = int(low) >= info.min and int(high) <= info.max
            if not fits:
                return empty, f"{where}: out of the range [{info.min}, {info.max}]"
    return cast, ""


class Module:
    """Base class of every layer and model: subclass it, assign parameters and submodules in
    `__init__`, and compute the output in `forward`. Call the module, not `forward`: the call
    records the module's scope on every op so a graph drawing can group them."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Buffer | None]
    _non_persistent: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # -- registration -----------------------------------------------------------------------

    def _registries(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        try:
            return (
                self.__dict__["_parameters"],
                self.__dict__["_buffers"],
                self.__dict__["_modules"],
            )
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) or name in self.__dict__.get("_parameters", {}):
            params, buffers, modules = self._registries()
            if isinstance(value, Parameter):
                if name not in params:
                    self._forget(name)
                params[name] = self.__dict__[name] = value
            elif isinstance(value, Module):
                if name not in modules:
                    self._forget(name)
                modules[name] = self.__dict__[name] = value
            elif value is None:
                params[name] = self.__dict__[name] = None
            else:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a parameter: assign an nn.Parameter "
                    f"or None, not {type(value).__name__}"
                )
            return
        buffers = self.__dict__.get("_buffers", {})
        modules = self.__dict__.get("_modules", {})
        if name in buffers:
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(
                    f"{type(self).__name__}.{name} is a buffer: assign a Tensor, an array or "
                    f"None, not {type(value).__name__}"
                )
            buffers[name] = self.__dict__[name] = value
        elif name in modules and value is None:
            modules[name] = self.__dict__[name] = None
        else:
            if name in modules:
                del modules[name]
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for registry in self._registries():
            registry.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails (registered names also sit in __dict__, so
        # `self.weight` is a plain attribute read): look in the registries
        for key in ("_parameters", "_buffers", "_modules"):
            registry = self.__dict__.get(key)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            registry = self.__dict__.get(key)
            if registry is not None and name in registry:
                del registry[name]
                self.__dict__.pop(name, None)
                self.__dict__["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter under `name` (None reserves the name, like a bias=False layer)."""
        self._check_name(name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}.register_parameter({name!r}): expected an nn.Parameter "
                f"or None, got {type(param).__name__}"
            )
        self._forget(name)
        self._registries()[0][name] = self.__dict__[name] = param

    def register_buffer(self, name: str, value: Buffer | None, persistent: bool = True) -> None:
        """Add state that is saved in `state_dict` (when persistent) but not trained."""
        self._check_name(name)
        if value is not None and not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(
                f"{type(self).__name__}.register_buffer({name!r}): expected a Tensor, an array "
                f"or None, got {type(value).__name__}"
            )
        self._forget(name)
        self._registries()[1][name] = self.__dict__[name] = value
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule under `name` (what attribute assignment does)."""
        self._check_name(name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.add_module({name!r}): expected a Module, "
                f"got {type(module).__name__}"
            )
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"{type(self).__name__}.add_module: attribute {name!r} already exists")
        if name not in self._modules:  # a replaced submodule keeps its place
            self._forget(name)
        self._registries()[2][name] = self.__dict__[name] = module

    register_module = add_module

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}: invalid name {name!r} (non-empty, no dots)")

    # -- calling ----------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with module_scope(self):  # the module's ops are drawn in one labelled cluster
            return self.forward(*args, **kwargs)

    # -- walking the tree -------------------------------------------------------------------

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, each once, with dotted names."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{key}" if name else key, child)
                for key, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a parameter shared by two modules comes once."""
        seen: set[int] = set()
        walk = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in walk:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Buffer]]:
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self) -> Iterator[Buffer]:
        for _, buffer in self.named_buffers():
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call `fn` on every submodule and then on this one (e.g. custom initialization)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # -- modes and gradients ----------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradient of every parameter (to None, or to zeros)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = Tensor(np.zeros_like(param.data))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # -- state ------------------------------------------------------------------------------

    def _state_items(self) -> Iterator[tuple[str, Module, str, Buffer]]:
        """(dotted key, owner, local name, value) of every parameter and persistent buffer."""
        for module_name, module in self.named_modules():
            dot = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield dot + name, module, name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield dot + name, module, name, buffer

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and persistent buffer as numpy arrays, by dotted name.

        numpy arrays rather than tensors, so `torch.from_numpy(v)` turns each into PyTorch's.
        """
        return OrderedDict(
            (key, np.array(value.data if isinstance(value, Tensor) else value, copy=True))
            for key, _, _, value in self._state_items()
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters and buffers of the same names (in place, cast to
        their dtypes). Values may be arrays, Tensors or anything `np.asarray` takes (PyTorch
        tensors too).

        Everything is checked before anything is written, and all problems are reported at
        once: missing and unexpected keys (with `strict`), shapes, values that are not
        numbers (such as strings), and casts that would change a value's meaning (NaN, inf or
        fractions into an integer buffer, numbers out of the target dtype's range).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a mapping of names to arrays, "
                f"got {type(state_dict).__name__}"
            )
        targets = {
            key: value.data if isinstance(value, Tensor) else value
            for key, _, _, value in self._state_items()
        }
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        problems, converted = [], {}
        for key, target in targets.items():
            if key in state_dict:
                array, problem = _loadable(state_dict[key], target)
                if problem:
                    problems.append(f"  {key}: {problem}")
                else:
                    converted[key] = array
        if strict:
            problems += [f"  missing key: {key}" for key in missing]
            problems += [f"  unexpected key: {key}" for key in unexpected]
        if problems:
            raise RuntimeError(
                f"{type(self).__name__}.load_state_dict: {len(problems)} problem(s), "
                "nothing was loaded:\n" + "\n".join(problems)
            )
        for key, array in converted.items():
            targets[key][...] = array
        return IncompatibleKeys(missing, unexpected)

    # -- dtype ------------------------------------------------------------------------------

    def to(self, dtype: Any) -> Module:
        """Convert every parameter (with its gradient) and every floating buffer to the
        floating `dtype`, in place, and return self. Parameters stay the same objects, so an
        optimizer built on them stays attached. `to("cpu")` changes nothing (the only device)."""
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        try:
            target = np.dtype(dtype) if dtype is not None else None
        except TypeError:
            target = None
        if target is None or target.kind != "f":
            raise TypeError(
                f"{type(self).__name__}.to: expected a floating dtype such as np.float32, "
                f"got {dtype!r}"
            )
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.dtype != target:
                    param.data = param.data.astype(target)
                if param is not None and param.grad is not None and param.grad.dtype != target:
                    param.grad = Tensor(param.grad.data, dtype=target)
            for name, buffer in module._buffers.items():
                if buffer is None or buffer.dtype.kind != "f" or buffer.dtype == target:
                    continue
                if isinstance(buffer, Tensor):
                    buffer.data = buffer.data.astype(target)
                else:
                    module._buffers[name] = module.__dict__[name] = buffer.astype(target)
        return self

    def float(self) -> Module:
        """Parameters and floating buffers to float32 (in place); returns self."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Parameters and floating buffers to float64 (in place); returns self."""
        return self.to(np.float64)

    # -- printing ---------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The one-line settings shown in the repr, e.g. `in_features=64, out_features=10`."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        children = [(name, child) for name, child in self._modules.items() if child is not None]
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [extra] if extra else []
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._parameters, *self._buffers, *self._modules})


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: numbered children, appended, counted, iterated
    and indexed in order."""

    def append(self, module: Module) -> Any:
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(m for m in self._modules.values() if m is not None)

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return self._from_slice(items[index])
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(
                f"{type(self).__name__} index {index} is out of range for {len(items)} modules"
            ) from None

    def _from_slice(self, items: list[tuple[str, Module | None]]) -> Any:
        raise NotImplementedError


class Sequential(_ModuleSequence):
    """Modules applied one after the other; they are named `0`, `1`, ... (as PyTorch)."""

    def __init__(self, *modules: Module | Mapping[str, Module | None]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, item in enumerate(modules):
                if not isinstance(item, Module):
                    raise TypeError(
                        f"Sequential: argument {index} is a {type(item).__name__}, not a Module"
                    )
                self.add_module(str(index), item)

    def forward(self, x: Any) -> Any:
        name = ""
        try:
            for name, module in self._modules.items():  # noqa: B007 - `name` is read on error
                if module is not None:
                    x = module(x)
        except ValueError as error:
            raise _located(error, name) from None
        return x

    def _from_slice(self, items: list[tuple[str, Module | None]]) -> Sequential:
        return Sequential(OrderedDict(items))  # keeps the names, as PyTorch


class ModuleList(_ModuleSequence):
    """A list of modules that registers each one (named `0`, `1`, ...); no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for module in modules or ():
            self.append(module)

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def _from_slice(self, items: list[tuple[str, Module | None]]) -> ModuleList:
        return ModuleList(m for _, m in items if m is not None)  # renumbered, as PyTorch

    def __setitem__(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: expected a Module, got {type(module).__name__}")
        keys = list(self._modules)
        self._modules[keys[index]] = self.__dict__[keys[index]] = module


class ModuleDict(Module):
    """Modules by name, as a dict that registers each one (insertion order kept); state dict
    keys are `name.param`, as PyTorch's `nn.ModuleDict`. No forward of its own."""

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}; it has {list(self._modules)}")
        return self._modules[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}")
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module | None]]:
        return self._modules.items()

    def values(self) -> Iterable[Module | None]:
        return self._modules.values()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping or an iterable of (name, module) pairs."""
        items = modules.items() if isinstance(modules, Mapping) else modules
        for index, item in enumerate(items):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(
                    f"ModuleDict.update: element {index} should be a (name, module) pair, "
                    f"got {item!r}"
                )
            self[item[0]] = item[1]
