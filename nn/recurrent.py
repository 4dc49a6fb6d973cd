"""Recurrent networks: RNN, LSTM and GRU cells and their multi-layer, bidirectional sequence
layers, with PyTorch's parameter names and gate order."""

from __future__ import annotations

__all__: list[str] = []
