"""Pooling: max pooling (which keeps its argmax), average and adaptive average pooling."""

from __future__ import annotations
