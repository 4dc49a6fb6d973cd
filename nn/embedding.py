"""Embeddings: a lookup table of learnable vectors, one per token id."""

from __future__ import annotations

__all__: list[str] = []
