"""Test data for ops/recurrent.py: one line per primitive in `CASES` (the registry test requires
one for every primitive), composites of public functions in `COMPOSITES`. Both get reverse,
forward and second-order checks in test_op_gradients.py."""

from __future__ import annotations

from collections.abc import Callable

from tests.case_builders import Case, Draw

CASES: dict[str, Callable[[Draw], Case]] = {}
COMPOSITES: dict[str, Callable[[Draw], Case]] = {}
