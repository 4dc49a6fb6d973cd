"""Multi-head attention on top of scaled dot-product attention (`nn.functional`).

Each head attends in its own learned subspace: head_i = Attention(Q W_i^q, K W_i^k, V W_i^v),
and MHA(Q, K, V) = Concat(head_1, ..., head_h) W^O, where W^O fuses the heads and returns
to the model width so a residual connection can add the input back. The heads are computed
together: one input projection makes every head's queries, keys and values, and the heads
are a batch axis of the attention's matrix products (no loop over heads).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.layers import Generator, Linear, _dtype, _input, _size
from nn.module import Module, Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """PyTorch's `nn.MultiheadAttention`: the same arguments, parameters (`in_proj_weight`
    (3E, E) packing W^q, W^k, W^v; `in_proj_bias`; `out_proj`, the Linear W^O; with `kdim`
    or `vdim` differing from `embed_dim`, `q_proj_weight`, `k_proj_weight`, `v_proj_weight`
    instead; `bias_k`, `bias_v` with `add_bias_kv`), initialization (xavier_uniform_ on the
    projection weights, zero biases) and results, so state dicts load both ways.

    Inputs are (L, N, E) (query) and (S, N, kdim), (S, N, vdim) (key, value), or (N, L, E)
    with `batch_first=True`, or unbatched (L, E). `forward` returns (output, weights): the
    output is shaped as the query; the weights (after dropout, as PyTorch's) are averaged
    over the heads, (N, L, S), or per head, (N, num_heads, L, S), or None when
    `need_weights=False`.

    Masks: `key_padding_mask` (N, S) is True at padded keys (or a float added to their
    scores); `attn_mask` (L, S) or (N * num_heads, L, S) is True where a query may NOT attend
    (PyTorch's convention for this layer, the opposite of scaled_dot_product_attention's) or
    a float added to the scores. `is_causal=True` is, as in PyTorch, a hint that `attn_mask`
    is the causal mask, which must be given (`Transformer.generate_square_subsequent_mask`).
    A query with nothing left to attend gets zero weights and a zero attention output (its
    output is then `out_proj.bias`), where PyTorch's `need_weights=True` path returns nan
    (its `need_weights=False` path returns the same as ours).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        self.embed_dim = _size("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = _size("MultiheadAttention", "num_heads", num_heads)
        self.kdim = self.embed_dim if kdim is None else _size("MultiheadAttention", "kdim", kdim)
        self.vdim = self.embed_dim if vdim is None else _size("MultiheadAttention", "vdim", vdim)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim={embed_dim} must be divisible by "
                f"num_heads={num_heads}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        dtype, width = _dtype(dtype), self.embed_dim
        rng = init.as_generator(generator)
        self._generator = None if generator is None else rng  # for dropout
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * width, width), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((width, width), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((width, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((width, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * width, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(width, width, bias=bias, dtype=dtype, generator=rng)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, width), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, width), dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters(rng)

    def _reset_parameters(self, generator: Generator = None) -> None:
        """PyTorch's: xavier_uniform_ on the input projections, zero biases (out_proj's too),
        xavier_normal_ on bias_k and bias_v."""
        rng = init.as_generator(generator)
        if self.in_proj_weight is not None:
            init.xavier_uniform_(self.in_proj_weight, generator=rng)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight, generator=rng)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra, generator=rng)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}"
        )

    def _label(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    # -- forward ----------------------------------------------------------------------------

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(output, weights) of attending from `query` to `key`, `value` (see the class)."""
        kv_shared, qkv_shared = key is value, query is key and key is value
        param = self.out_proj.weight
        query = _input(self, query, param)
        key = query if qkv_shared else _input(self, key, param)
        value = key if kv_shared else _input(self, value, param)
        batched = self._check_inputs(query, key, value)
        if not batched:  # one sequence: a batch of one, batch first
            query, key, value = (x.unsqueeze(0) for x in (query, key, value))
        seq_axis = 1 if self.batch_first or not batched else 0
        batch, length, source = (
            query.shape[1 - seq_axis],
            query.shape[seq_axis],
            key.shape[seq_axis],
        )
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{self._label()}: is_causal=True is a hint that attn_mask is the causal mask "
                "(as in PyTorch), so attn_mask must be given: "
                "Transformer.generate_square_subsequent_mask(L)"
            )
        allowed, bias = self._masks(
            attn_mask, key_padding_mask, query, batched, (batch, length, source)
        )
        q, k, v = self._project(query, key, value, kv_shared, qkv_shared, seq_axis)
        k, v, allowed, bias = self._extend_keys(k, v, allowed, bias)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = F._attention(q, k, v, allowed, bias, dropout_p, None, self._generator)
        # (N, H, L, d) -> (N, L, H, d) or (L, N, H, d) -> (..., E): Concat(heads), then W^O
        out = out.permute(0, 2, 1, 3) if seq_axis == 1 else out.permute(2, 0, 1, 3)
        out = self.out_proj(out.reshape(*out.shape[:2], self.embed_dim))
        result: Tensor | None = None
        if need_weights:
            result = weights.mean(axis=1) if average_attn_weights else weights
        if not batched:
            out = out.squeeze(0)
            result = None if result is None else result.squeeze(0)
        return out, result

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the inputs are batched, after checking their ranks and sizes."""
        shapes = f"query {query.shape}, key {key.shape} and value {value.shape}"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{self._label()}: expected query, key and value all 3-D (batched) or all 2-D "
                f"(unbatched), got {shapes}"
            )
        batched = query.ndim == 3
        seq = 1 if self.batch_first and batched else 0
        fits = (query.shape[-1], key.shape[-1], value.shape[-1]) == (
            self.embed_dim,
            self.kdim,
            self.vdim,
        )
        fits = fits and key.shape[seq] == value.shape[seq]
        if batched:
            fits = fits and query.shape[1 - seq] == key.shape[1 - seq] == value.shape[1 - seq]
        if not fits:
            layout = "(N, {}, {})" if seq == 1 else "({}, N, {})" if batched else "({}, {})"
            raise ValueError(
                f"{self._label()}: {shapes} do not fit: expected query "
                f"{layout.format('L', self.embed_dim)}, key {layout.format('S', self.kdim)} "
                f"and value {layout.format('S', self.vdim)}"
            )
        return batched

    def _masks(
        self,
        attn_mask: Any,
        key_padding_mask: Any,
        like: Tensor,
        batched: bool,
        sizes: tuple[int, int, int],
    ) -> tuple[np.ndarray | None, Any]:
        """attn_mask and key_padding_mask, checked, as one (allowed, bias) pair broadcasting
        to the scores (N, H, L, S): `allowed` True where a query may attend a key, `bias`
        added to the scores."""
        label, (batch, length, source) = self._label(), sizes
        allowed, bias = None, None
        if key_padding_mask is not None:
            allowed, bias = F._attention_mask(
                f"{label}: key_padding_mask", key_padding_mask, like, "blocked"
            )
            shape = F._mask_shape(allowed, bias)
            expected = (batch, source) if batched else (source,)
            if shape != expected:
                raise ValueError(
                    f"{label}: key_padding_mask must have shape {expected} ((N, S) for batched "
                    f"inputs, (S,) unbatched), got {shape}"
                )
            allowed, bias = _reshaped(allowed, bias, (batch, 1, 1, source))
        if attn_mask is not None:
            more_allowed, more_bias = F._attention_mask(
                f"{label}: attn_mask", attn_mask, like, "blocked"
            )
            shape = F._mask_shape(more_allowed, more_bias)
            per_head = (batch * self.num_heads, length, source)
            if shape == per_head:
                split = (batch, self.num_heads, length, source)
                more_allowed, more_bias = _reshaped(more_allowed, more_bias, split)
            elif shape != (length, source):
                raise ValueError(
                    f"{label}: attn_mask must have shape (L, S) = {(length, source)} or "
                    f"(N * num_heads, L, S) = {per_head}, got {shape}"
                )
            allowed = _combined(allowed, more_allowed, np.logical_and)
            bias = _combined(bias, more_bias, lambda a, b: a + b)
        return allowed, bias

    def _project(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        kv_shared: bool,
        qkv_shared: bool,
        seq_axis: int,
    ) -> tuple[Tensor, ...]:
        """Q W^q + b^q, K W^k + b^k, V W^v + b^v, each split into heads (N, H, length, d).

        Self-attention projects once with the packed (3E, E) weight, and attention with
        key is value projects key once for both, as PyTorch does."""
        width, w, b = self.embed_dim, self.in_proj_weight, self.in_proj_bias

        def heads(x: Tensor, parts: int) -> list[Tensor]:
            x = x.reshape(*x.shape[:2], parts, self.num_heads, self.head_dim)
            x = x.permute(2, 0, 3, 1, 4) if seq_axis == 1 else x.permute(2, 1, 3, 0, 4)
            return [x[i] for i in range(parts)]

        if w is not None and qkv_shared:
            q, k, v = heads(ag.linear(query, w, b), 3)
            return q, k, v
        if w is None:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        else:
            weights = [w[:width], w[width : 2 * width], w[2 * width :]]
        biases = [None] * 3 if b is None else [b[:width], b[width : 2 * width], b[2 * width :]]
        (q,) = heads(ag.linear(query, weights[0], biases[0]), 1)
        if w is not None and kv_shared:
            k, v = heads(ag.linear(key, w[width:], None if b is None else b[width:]), 2)
            return q, k, v
        (k,) = heads(ag.linear(key, weights[1], biases[1]), 1)
        (v,) = heads(ag.linear(value, weights[2], biases[2]), 1)
        return q, k, v

    def _extend_keys(
        self, k: Tensor, v: Tensor, allowed: np.ndarray | None, bias: Any
    ) -> tuple[Tensor, Tensor, np.ndarray | None, Any]:
        """add_bias_kv appends the learned key bias_k and value bias_v to every sequence,
        add_zero_attn a zero key and value; every query may attend them."""
        batch = k.shape[0]
        extras: list[tuple[Any, Any]] = []
        if self.bias_k is not None and self.bias_v is not None:
            extras.append((self._one_key(self.bias_k, batch), self._one_key(self.bias_v, batch)))
        if self.add_zero_attn:
            zeros = np.zeros((batch, self.num_heads, 1, self.head_dim), dtype=k.dtype)
            extras.append((zeros, zeros))
        for extra_k, extra_v in extras:
            k, v = ag.concat([k, extra_k], axis=2), ag.concat([v, extra_v], axis=2)
            if allowed is not None:
                column = np.ones((*allowed.shape[:-1], 1), dtype=bool)
                allowed = np.concatenate([allowed, column], axis=-1)
            if bias is not None:
                column = np.zeros((*bias.shape[:-1], 1), dtype=bias.dtype)
                bias = (
                    ag.concat([bias, column], axis=-1)
                    if isinstance(bias, Tensor)
                    else np.concatenate([bias, column], axis=-1)
                )
        return k, v, allowed, bias

    def _one_key(self, extra: Parameter, batch: int) -> Tensor:
        """A (1, 1, E) learned key or value as one more position of every head (N, H, 1, d)."""
        per_head = extra.reshape(1, self.num_heads, 1, self.head_dim)
        return ag.broadcast_to(per_head, (batch, self.num_heads, 1, self.head_dim))


def _reshaped(allowed: np.ndarray | None, bias: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    return (
        None if allowed is None else allowed.reshape(shape),
        None if bias is None else bias.reshape(shape),
    )


def _combined(a: Any, b: Any, both: Any) -> Any:
    """a and b combined by `both`, or whichever is given (None if neither)."""
    if a is None or b is None:
        return b if a is None else a
    return both(a, b)
