"""Embeddings: a lookup table of learnable vectors, one per token id.

A token id as a one-hot vector is as long as the vocabulary, and every two of them are
equally far apart, so it says nothing about which tokens are alike. An embedding maps the
one-hot vector e_i linearly to a short dense vector, e_i W = W[i], the i-th row of a learned
matrix W: a row lookup, which training moves so that tokens used alike get similar rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.layers import _dtype, _size
from nn.module import Module, Parameter

__all__ = ["Embedding"]

Generator = np.random.Generator | int | None


class Embedding(Module):
    """A table of `num_embeddings` learnable vectors of size `embedding_dim`; `forward(ids)`
    with integer ids of any shape returns their rows, of shape (*ids.shape, embedding_dim)
    (torch.nn.Embedding).

    - `weight` (num_embeddings, embedding_dim) is initialized N(0, 1), as PyTorch.
    - `padding_idx` (negative counts from the end) marks the padding token: its row starts at
      zero and receives no gradient, so padding stays a zero vector while training.
    - `max_norm`: rows looked up with a `norm_type`-norm above it are rescaled to it, in place.
    - Ids are numpy integer arrays, lists, ints or integer Tensors; floating ids and ids
      outside [0, num_embeddings) raise errors naming the layer.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        *,
        _weight: Any = None,
        _freeze: bool = False,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = _size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _size("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = F._padding_index("Embedding", padding_idx, self.num_embeddings)
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"Embedding: max_norm must be positive or None, got {max_norm}")
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, dtype=_dtype(dtype)), requires_grad=not _freeze)
            self.reset_parameters(generator)
        else:  # used as given (from_pretrained): the padding row is not zeroed, as PyTorch
            weight = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if weight.shape != shape:
                raise ValueError(
                    f"Embedding: _weight must have shape (num_embeddings, embedding_dim) = "
                    f"{shape}, got {weight.shape}"
                )
            self.weight = Parameter(weight, requires_grad=not _freeze, dtype=dtype)

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
    ) -> Embedding:
        """An Embedding whose weight is a copy of `embeddings` (num_embeddings, dim), kept
        fixed (requires_grad False) unless `freeze=False`, as PyTorch's."""
        shape = np.shape(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, "
                f"embedding_dim), got shape {shape}"
            )
        num_embeddings, embedding_dim = shape
        return cls(
            num_embeddings,
            embedding_dim,
            padding_idx,
            max_norm,
            norm_type,
            _weight=embeddings,
            _freeze=freeze,
        )

    def reset_parameters(self, generator: Generator = None) -> None:
        """N(0, 1) for every row, then zeros in the padding row."""
        init.normal_(self.weight, generator=init.as_generator(generator))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, input: Any) -> Tensor:
        return F._embedding(
            self._label(), input, self.weight, self.padding_idx, self.max_norm, self.norm_type
        )

    def _label(self) -> str:
        return f"Embedding({self.extra_repr()})"

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2.0:
            text += f", norm_type={self.norm_type}"
        return text
