"""The op library: every primitive, defined once, with its public function right below it.

One module per family: `elementwise`, `reductions`, `shape` (and indexing), `linalg`,
`neural` (fused layers and losses), `conv` (convolution), `pooling`, `recurrent` (fused
cell updates), `creation` (constructors). The engine's own primitives (`broadcast_to`,
`sum_to`, `cast`) live in `autograd_core.engine`; their public functions are in `shape`.

The public functions are collected in `EXPORTS` as each module defines them (`@export`);
`autograd_core` exports exactly those, and `@export(method=True)` makes one a tensor method
too, so adding an op is one block in one family module.
"""

from typing import TYPE_CHECKING

from autograd_core.ops import (  # noqa: F401 - importing a family registers its ops
    conv,
    creation,
    elementwise,
    linalg,
    neural,
    pooling,
    recurrent,
    reductions,
    shape,
)
from autograd_core.ops.common import EXPORTS as EXPORTS
from autograd_core.ops.common import METHODS as METHODS

globals().update(EXPORTS)
__all__ = sorted(EXPORTS)

if TYPE_CHECKING:  # the exports are made at import time: give type checkers their names
    from autograd_core.ops.conv import *  # noqa: F403
    from autograd_core.ops.creation import *  # noqa: F403
    from autograd_core.ops.elementwise import *  # noqa: F403
    from autograd_core.ops.linalg import *  # noqa: F403
    from autograd_core.ops.neural import *  # noqa: F403
    from autograd_core.ops.pooling import *  # noqa: F403
    from autograd_core.ops.recurrent import *  # noqa: F403
    from autograd_core.ops.reductions import *  # noqa: F403
    from autograd_core.ops.shape import *  # noqa: F403
