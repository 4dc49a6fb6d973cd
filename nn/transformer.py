"""The Transformer: encoder and decoder layers and stacks, the full encoder-decoder model, and the
sinusoidal positional encoding."""

from __future__ import annotations

__all__: list[str] = []
