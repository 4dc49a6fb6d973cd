"""Fused recurrent-cell ops: one primitive per cell update, so a time step records a few nodes
instead of a dozen slices and gate products."""

from __future__ import annotations
