"""Layers: Linear, the activation modules, Maxout, DyT, Flatten, Dropout, Dropout2d,
BatchNorm1d, BatchNorm2d, LayerNorm, MLP.

Layers that draw random numbers (initialization, dropout) take `generator=`: a
`np.random.Generator` or an int seed; without one they use nn's default generator, which
`nn.manual_seed(seed)` resets. Either way makes a model reproducible.

Dtypes, as in PyTorch: a layer with parameters computes in its parameters' dtype (float64
unless built with `dtype=` or converted with `model.to(...)`). A floating input of another
dtype (a Tensor or a numpy float array) raises a TypeError naming the layer and both dtypes,
instead of silently computing in float64; inputs without a floating dtype of their own
(integer or bool arrays, Python numbers and lists) are converted to the parameters' dtype.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.module import Module, Parameter, Sequential

Generator = np.random.Generator | int | None


def _dtype(dtype: Any) -> np.dtype[Any]:
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"parameters must have a floating dtype, got {dtype}")
    return dtype


def _size(layer: str, name: str, value: Any) -> int:
    """A size argument (features, channels, pieces) checked to be a positive int, so a
    wrong one is reported by the layer that got it, not by numpy deep inside."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{layer}: {name} must be a positive int, got {value!r} ({type(value).__name__})"
        )
    if value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value}")
    return int(value)


def _label(layer: Module) -> str:
    return f"{type(layer).__name__}({layer.extra_repr()})"


def _input(layer: Module, x: Any, param: Any) -> Tensor:
    """`x` as a tensor in the dtype of the layer's parameter `param` (None: as it is).

    A floating input of another dtype is a TypeError, as in PyTorch (a float32 model would
    otherwise compute in float64 without a word); inputs without a floating dtype of their
    own (integer or bool arrays, Python numbers and lists) are converted."""
    dtype = None if param is None else param.dtype
    if isinstance(x, Tensor):
        if dtype is None or x.dtype == dtype:  # the common case: one comparison
            return x
        given = x.dtype
    elif isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f" and dtype is not None:
        if x.dtype == dtype:
            return Tensor(x)
        given = x.dtype
    else:
        return Tensor(x, dtype=dtype)
    raise TypeError(
        f"{_label(layer)}: input dtype {given} does not match the parameters' dtype {dtype}; "
        f"convert the input (x.astype(np.{dtype})) or the model (model.to(np.{given}))"
    )


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features), as PyTorch.

    Initialized as PyTorch: W ~ kaiming_uniform(a=sqrt 5) = U(-1/sqrt(in), 1/sqrt(in)), and
    b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        self.in_features = _size("Linear", "in_features", in_features)
        self.out_features = _size("Linear", "out_features", out_features)
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator = None) -> None:
        rng = init.as_generator(generator)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def forward(self, x: Any) -> Tensor:
        x = _input(self, x, self.weight)
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self._label()}: expected input of shape (..., {self.in_features}), got {shape}"
            )
        return ag.linear(x, self.weight, self.bias)  # x @ W.T + b, fused in one op

    def _label(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


# --------------------------------------------------------------------------------------------
# Activations (each a thin module over nn.functional)
# --------------------------------------------------------------------------------------------


class Sigmoid(Module):
    """sigma(x) = 1 / (1 + e^-x)."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class ReLU(Module):
    """max(0, x)."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default, the
    step from a CNN's feature maps to its fully connected classifier."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        return ag.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class LeakyReLU(Module):
    """max(0, x) + negative_slope min(0, x)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Leaky ReLU with learnable slopes: one shared, or one per channel (axis 1)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *, dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = _size("PReLU", "num_parameters", num_parameters)
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=_dtype(dtype)))

    def forward(self, x: Any) -> Tensor:
        return F.prelu(_input(self, x, self.weight), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta; linear above `threshold` (as PyTorch)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """log sigma(x) = -softplus(-x), stable for any x."""

    def forward(self, x: Any) -> Tensor:
        return F.logsigmoid(x)


class SiLU(Module):
    """x sigma(x)."""

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class Swish(Module):
    """x sigma(beta x); beta = 1 is SiLU."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: Any) -> Tensor:
        return F.swish(x, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class GELU(Module):
    """x Phi(x); approximate = "none" (erf, exact), "tanh" or "sigmoid" (x sigma(1.702 x))."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh", "sigmoid"):
            raise ValueError(
                f"GELU: approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}"
            )
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class HardSigmoid(Module):
    """PyTorch's hard sigmoid: clip(x / 6 + 1/2, 0, 1)."""

    def forward(self, x: Any) -> Tensor:
        return F.hardsigmoid(x)


Hardsigmoid = HardSigmoid


class HardLogistic(Module):
    """The course's hard logistic: clip(0.25 x + 0.5, 0, 1)."""

    def forward(self, x: Any) -> Tensor:
        return F.hard_logistic(x)


class HardTanh(Module):
    """clip(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        if min_val >= max_val:
            raise ValueError(f"HardTanh: min_val={min_val} must be below max_val={max_val}")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Any) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


Hardtanh = HardTanh


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along `dim`."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Maxout(Module):
    """max over k affine maps, out_j = max_k (W_k x + b_k)_j: a convex piecewise-linear unit.

    weight (k, out_features, in_features), bias (k, out_features), each piece initialized
    as a PyTorch Linear.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        k: int = 2,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        in_features = self.in_features = _size("Maxout", "in_features", in_features)
        out_features = self.out_features = _size("Maxout", "out_features", out_features)
        k = self.k = _size("Maxout", "k", k)
        rng = init.as_generator(generator)
        bound = 1.0 / math.sqrt(in_features)
        dtype = _dtype(dtype)
        self.weight = Parameter(
            rng.uniform(-bound, bound, (k, out_features, in_features)).astype(dtype)
        )
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (k, out_features)).astype(dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        x = _input(self, x, self.weight)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Maxout(in_features={self.in_features}, out_features={self.out_features}, "
                f"k={self.k}): expected input of shape (..., {self.in_features}), got {x.shape}"
            )
        return F.maxout(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, k={self.k}"


class DyT(Module):
    """Dynamic tanh (Zhu et al., CVPR 2025): weight * tanh(alpha x) + bias, a
    normalization-free replacement for LayerNorm; alpha is a learnable scalar (shape (1,))."""

    def __init__(self, num_features: int, alpha_init: float = 0.5, *, dtype: Any = None) -> None:
        super().__init__()
        dtype = _dtype(dtype)
        self.num_features = num_features = _size("DyT", "num_features", num_features)
        self.alpha = Parameter(np.full(1, alpha_init, dtype=dtype))
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        return F.dyt(_input(self, x, self.alpha), self.alpha, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, alpha_init={float(self.alpha.data[0])}"


# --------------------------------------------------------------------------------------------
# Regularization and normalization
# --------------------------------------------------------------------------------------------


class Dropout(Module):
    """Inverted dropout: in training zero each element with probability p and scale the rest
    by 1/(1-p); the identity in eval mode."""

    def __init__(self, p: float = 0.5, *, generator: Generator = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p
        self._generator = None if generator is None else init.as_generator(generator)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, self._generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Module):
    """Channel dropout for CNNs: in training zero each whole channel (axis 1 of an (N, C, H, W)
    or (N, C, L) input) with probability p and scale the rest by 1/(1-p); the identity in eval
    mode. Neighbouring pixels are correlated, so dropping single pixels regularizes little."""

    def __init__(self, p: float = 0.5, *, generator: Generator = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: probability p must be in [0, 1], got {p}")
        self.p = p
        self._generator = None if generator is None else init.as_generator(generator)

    def forward(self, x: Any) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self._generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share: per-channel (axis 1) normalization with
    PyTorch's parameters (`weight`, `bias`) and buffers (`running_mean`, `running_var`,
    `num_batches_tracked`), so state dicts load both ways.

    Training: normalize with the batch mean and biased variance over every axis but the
    channels, and update the running statistics r <- (1 - momentum) r + momentum * stat
    (variance unbiased, as PyTorch); with momentum=None a cumulative average. Eval: normalize
    with the running statistics (or the batch's, with track_running_stats=False).
    """

    _ndims: tuple[int, ...] = ()
    _layouts = ""  # the accepted input shapes, with {c} for the channel count

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dtype = _dtype(dtype)
        num_features = _size(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Any) -> Tensor:
        x = _input(self, x, self.weight if self.weight is not None else self.running_mean)
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            got = f"{x.shape}"
            if x.ndim in self._ndims:  # the right layout with the wrong channel count
                got += f" ({x.shape[1]} channels, not {self.num_features})"
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input "
                f"{self._layouts.format(c=self.num_features)}, got {got}"
            )
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=0.0 if momentum is None else momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C (statistics over
    N, or over N and L)."""

    _ndims = (2, 3)
    _layouts = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization for CNNs: (N, C, H, W) inputs, one mean and variance per channel C
    taken over N, H and W (every pixel of a channel shares the statistics, as the filter that
    made it is shared too)."""

    _ndims = (4,)
    _layouts = "(N, {c}, H, W)"


class LayerNorm(Module):
    """Normalize each sample over its last dimensions (`normalized_shape`), then scale and
    shift elementwise: per sample, unlike BatchNorm, so it behaves the same in train and eval."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape = (
            normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        )
        self.normalized_shape = tuple(_size("LayerNorm", "normalized_shape", n) for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        x = _input(self, x, self.weight)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


# --------------------------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[], Module]] = {
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "elu": ELU,
    "softplus": Softplus,
    "log_sigmoid": LogSigmoid,
    "silu": SiLU,
    "swish": Swish,
    "gelu": GELU,
    "gelu_tanh": lambda: GELU("tanh"),
    "hardsigmoid": HardSigmoid,
    "hard_sigmoid": HardSigmoid,
    "hard_logistic": HardLogistic,
    "hardtanh": HardTanh,
    "hard_tanh": HardTanh,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "identity": Identity,
}
"""Activation names MLP understands, each mapped to a factory of a fresh module."""


def activation_factory(
    activation: str | Callable[[], Module], where: str = "make_activation"
) -> Callable[[], Module]:
    """The factory of fresh modules for an activation name in ACTIVATIONS or a zero-argument
    factory (a Module class such as `nn.Tanh`, or `lambda: nn.LeakyReLU(0.2)`), checked
    now; `where` names the caller in the errors."""
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation.lower()]
        except KeyError:
            raise ValueError(
                f"{where}: unknown activation {activation!r}; choose one of "
                f"{sorted(ACTIVATIONS)} or pass a Module class"
            ) from None
    if isinstance(activation, Module):
        raise TypeError(
            f"{where}: pass an activation name or a factory (e.g. nn.ReLU), not a Module "
            "instance: every layer needs its own module"
        )
    if not callable(activation):
        raise TypeError(
            f"{where}: activation must be a name from {sorted(ACTIVATIONS)} or a Module class, "
            f"got {activation!r}"
        )
    return activation


def make_activation(activation: str | Callable[[], Module]) -> Module:
    """A fresh activation module from a name in ACTIVATIONS or a zero-argument factory
    (a Module class such as `nn.Tanh`, or `lambda: nn.LeakyReLU(0.2)`)."""
    module = activation_factory(activation)()
    if not isinstance(module, Module):
        raise TypeError(f"activation factory returned {type(module).__name__}, not a Module")
    return module


class MLP(Sequential):
    """A feed-forward network: for each pair of widths in `sizes`, Linear, then (except after
    the last) [norm], activation, [Dropout]; then `output_activation` if given.

    It is a `Sequential` of those layers, so parameter names are `0.weight`, `0.bias`,
    `2.weight`, ... exactly as in the `torch.nn.Sequential` with the same modules in the same
    positions: the state dict loads into it, and back. `norm` is None, "batch" or "layer".
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Callable[[], Module] = "relu",
        output_activation: str | Callable[[], Module] | None = None,
        dropout: float = 0.0,
        norm: str | None = None,
        *,
        bias: bool = True,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        sizes = [_size("MLP", f"sizes[{i}]", n) for i, n in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(
                f"MLP: sizes must list at least an input and an output width, got {sizes}"
            )
        activation_factory(activation, "MLP")  # a wrong name fails here, even with no hidden layer
        if output_activation is not None:
            activation_factory(output_activation, "MLP")
        if norm not in (None, "batch", "layer"):
            raise ValueError(f"MLP: norm must be None, 'batch' or 'layer', got {norm!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        rng = init.as_generator(generator)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(Linear(n_in, n_out, bias=bias, dtype=dtype, generator=rng))
            if i == len(sizes) - 2:
                break
            if norm == "batch":
                layers.append(BatchNorm1d(n_out, dtype=dtype))
            elif norm == "layer":
                layers.append(LayerNorm(n_out, dtype=dtype))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(Dropout(dropout, generator=rng))
        if output_activation is not None:
            layers.append(make_activation(output_activation))
        super().__init__(*layers)
        self.sizes = sizes

    @property
    def layers(self) -> MLP:
        """The network itself, as a sequence of layers (`model.layers[0]` is the first)."""
        return self
