"""autograd_core: reverse- and forward-mode automatic differentiation on numpy.

The layout is the architecture:

- `engine`   primitives, graph nodes, backward (reverse mode) and tangents (forward mode)
- `ops`      the op library, one module per family: each primitive and its public function
- `tensor`   the `Tensor` class users hold
- `transforms` JAX-style grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian
- `checking` central differences and gradcheck
- `custom`   user-defined primitives (`primitive`, with `.defvjp` / `.defjvp`)
- `testing`  hypothesis strategies (imported only on demand: `from autograd_core import testing`)
- `drawing`  computation graphs as images (`draw_graph`) and the backward pass as a table

Heavy optional libraries (graphviz, hypothesis, matplotlib) are imported only where used.
"""

from typing import TYPE_CHECKING

from autograd_core import ops
from autograd_core.checking import (
    GradcheckError,
    GradcheckWarning,
    gradcheck,
    numerical_grad,
    numerical_jacobian,
)
from autograd_core.custom import CUSTOM_PRIMITIVES, CustomPrimitive, primitive
from autograd_core.drawing import backward_steps, draw_graph
from autograd_core.engine import (
    PRIMITIVES,
    Node,
    Primitive,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    module_scope,
    no_grad,
    set_grad_enabled,
)
from autograd_core.tensor import Tensor
from autograd_core.transforms import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp

tensor = Tensor

globals().update(ops.EXPORTS)  # every public op function (see autograd_core.ops)

__all__ = [
    "CUSTOM_PRIMITIVES",
    "PRIMITIVES",
    "CustomPrimitive",
    "GradcheckError",
    "GradcheckWarning",
    "Node",
    "Primitive",
    "Tensor",
    "backward_steps",
    "detect_anomaly",
    "draw_graph",
    "enable_grad",
    "grad",
    "gradcheck",
    "hessian",
    "is_grad_enabled",
    "jacfwd",
    "jacrev",
    "jvp",
    "module_scope",
    "no_grad",
    "numerical_grad",
    "numerical_jacobian",
    "primitive",
    "set_grad_enabled",
    "tensor",
    "value_and_grad",
    "vjp",
    *ops.EXPORTS,
]

if TYPE_CHECKING:  # the op functions are exported at import time: give type checkers names
    from autograd_core.ops.conv import *  # noqa: F403
    from autograd_core.ops.creation import *  # noqa: F403
    from autograd_core.ops.elementwise import *  # noqa: F403
    from autograd_core.ops.linalg import *  # noqa: F403
    from autograd_core.ops.neural import *  # noqa: F403
    from autograd_core.ops.pooling import *  # noqa: F403
    from autograd_core.ops.recurrent import *  # noqa: F403
    from autograd_core.ops.reductions import *  # noqa: F403
    from autograd_core.ops.shape import *  # noqa: F403
