"""Layers: Linear, the activation modules, Maxout, DyT, Dropout, BatchNorm1d, LayerNorm, MLP.

Layers that draw random numbers (initialization, dropout) take `generator=`: a
`np.random.Generator` or an int seed; without one they use nn's default generator, which
`nn.manual_seed(seed)` resets. Either way makes a model reproducible.
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
        if in_features < 0 or out_features < 0:
            raise ValueError(
                f"Linear: feature counts must be non-negative, got {in_features}, {out_features}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator = None) -> None:
        rng = init.as_generator(generator)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
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
        self.num_parameters = num_parameters
        self.weight = Parameter(np.full(num_parameters, init, dtype=_dtype(dtype)))

    def forward(self, x: Any) -> Tensor:
        return F.prelu(x, self.weight)

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
        if k < 1:
            raise ValueError(f"Maxout: k must be at least 1, got {k}")
        self.in_features, self.out_features, self.k = in_features, out_features, k
        rng = init.as_generator(generator)
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        dtype = _dtype(dtype)
        self.weight = Parameter(
            rng.uniform(-bound, bound, (k, out_features, in_features)).astype(dtype)
        )
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (k, out_features)).astype(dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
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
        self.num_features = num_features
        self.alpha = Parameter(np.full(1, alpha_init, dtype=dtype))
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        return F.dyt(x, self.alpha, self.weight, self.bias)

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


class BatchNorm1d(Module):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C.

    Training: normalize with the batch mean and biased variance and update the running
    statistics r <- (1 - momentum) r + momentum * stat (variance unbiased, as PyTorch); with
    momentum=None a cumulative average. Eval: normalize with the running statistics.
    """

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
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}): expected input (N, {self.num_features}) "
                f"or (N, {self.num_features}, L), got {x.shape}"
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
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(n) for n in shape)
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


def make_activation(activation: str | Callable[[], Module]) -> Module:
    """A fresh activation module from a name in ACTIVATIONS or a zero-argument factory
    (a Module class such as `nn.Tanh`, or `lambda: nn.LeakyReLU(0.2)`)."""
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation.lower()]()
        except KeyError:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)} "
                "or pass a Module class"
            ) from None
    if isinstance(activation, Module):
        raise TypeError(
            "pass an activation name or a factory (e.g. nn.ReLU), not a Module instance: "
            "every layer needs its own module"
        )
    module = activation()
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
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or any(n < 1 for n in sizes):
            raise ValueError(
                f"MLP: sizes must list at least an input and an output width, all positive, "
                f"got {sizes}"
            )
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
