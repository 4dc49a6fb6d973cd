"""Graph networks: graph convolution on a dense adjacency matrix."""

from __future__ import annotations

__all__: list[str] = []
