"""The Transformer (Vaswani et al., 2017) with PyTorch's classes, arguments, submodule names
and results: encoder and decoder layers, their stacks, the encoder-decoder model, and the
sinusoidal positional encoding (which PyTorch does not have).

Each layer is the standard block: a sublayer (self-attention, cross-attention, or the
position-wise feed-forward network linear2(dropout(activation(linear1(x))))) wrapped in a
residual connection and layer norm, x = norm(x + dropout(sublayer(x))) (post-norm, the
paper's), or x = x + dropout(sublayer(norm(x))) with `norm_first=True` (pre-norm, which
trains deep stacks without warm-up). Layer norm, not batch norm: it normalizes each token
over its features, so padding and batch size do not skew its statistics.

Layers take `dtype=` and `generator=` (keyword-only, as nn's other layers): the generator
initializes the weights and drives every dropout, so a model is reproducible from one seed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.attention import MultiheadAttention
from nn.layers import Dropout, Generator, LayerNorm, Linear, _dtype, _input, _size
from nn.module import Module, ModuleList

__all__ = [
    "PositionalEncoding",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

Activation = str | Callable[[Tensor], Tensor]


def _activation(layer: str, activation: Activation) -> Callable[[Tensor], Tensor]:
    """ "relu" or "gelu" as the function (PyTorch's two names), or any callable as given."""
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ValueError(f"{layer}: activation should be 'relu' or 'gelu', not {activation!r}")
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be 'relu', 'gelu' or a callable")
    return activation


def _probability(layer: str, dropout: float) -> float:
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"{layer}: dropout must be in [0, 1], got {dropout}")
    return dropout


def _clones(module: Module, count: int) -> ModuleList:
    """`count` deep copies of `module` (PyTorch's _get_clones). A generator the module draws
    dropout masks from stays shared rather than copied: copies of its state would drop the
    same units in every layer."""
    shared = {
        id(g): g
        for m in module.modules()
        if isinstance(g := getattr(m, "_generator", None), np.random.Generator)
    }
    return ModuleList(copy.deepcopy(module, dict(shared)) for _ in range(count))


class TransformerEncoderLayer(Module):
    """Self-attention then the feed-forward network, each in a residual + LayerNorm block:
    post-norm x = norm1(x + sa(x)); x = norm2(x + ff(x)), or with `norm_first`
    x = x + sa(norm1(x)); x = x + ff(norm2(x)).

    Submodules as PyTorch: self_attn (MultiheadAttention), linear1, dropout, linear2, norm1,
    norm2, dropout1, dropout2; `activation` is "relu", "gelu" or a callable. Inputs (S, N, E),
    (N, S, E) with batch_first, or unbatched (S, E); masks as MultiheadAttention's.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        name = "TransformerEncoderLayer"
        d_model = _size(name, "d_model", d_model)
        dim_feedforward = _size(name, "dim_feedforward", dim_feedforward)
        dropout = _probability(name, dropout)
        rng = init.as_generator(generator)
        drops = None if generator is None else rng
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, dtype=dtype, generator=rng
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias, dtype=dtype, generator=rng)
        self.dropout = Dropout(dropout, generator=drops)
        self.linear2 = Linear(dim_feedforward, d_model, bias, dtype=dtype, generator=rng)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=drops)
        self.dropout2 = Dropout(dropout, generator=drops)
        self.activation = _activation(name, activation)

    def forward(
        self,
        src: Any,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> Tensor:
        x = _input(self, src, self.linear1.weight)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Masked self-attention, cross-attention to the encoder's output `memory` (queries from
    the decoder, keys and values from the memory, whose length may differ), then the
    feed-forward network, each in a residual + LayerNorm block (post- or pre-norm).

    Submodules as PyTorch: self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2,
    norm3, dropout1, dropout2, dropout3.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        name = "TransformerDecoderLayer"
        d_model = _size(name, "d_model", d_model)
        dim_feedforward = _size(name, "dim_feedforward", dim_feedforward)
        dropout = _probability(name, dropout)
        rng = init.as_generator(generator)
        drops = None if generator is None else rng
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, dtype=dtype, generator=rng
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, dtype=dtype, generator=rng
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias, dtype=dtype, generator=rng)
        self.dropout = Dropout(dropout, generator=drops)
        self.linear2 = Linear(dim_feedforward, d_model, bias, dtype=dtype, generator=rng)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=drops)
        self.dropout2 = Dropout(dropout, generator=drops)
        self.dropout3 = Dropout(dropout, generator=drops)
        self.activation = _activation(name, activation)

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = _input(self, tgt, self.linear1.weight)
        memory = _input(self, memory, self.linear1.weight)
        masks = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        memory_masks = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *masks)
            x = x + self._mha_block(self.norm2(x), memory, *memory_masks)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, *masks))
        x = self.norm2(x + self._mha_block(x, memory, *memory_masks))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(out)

    def _mha_block(
        self, x: Tensor, memory: Tensor, mask: Any, padding: Any, is_causal: bool
    ) -> Tensor:
        out = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout2(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """`num_layers` copies of `encoder_layer` (deep copies in `layers`, a ModuleList, so keys
    read `layers.0.self_attn.in_proj_weight` as in PyTorch), applied in turn, then `norm` if
    given. `forward(src, mask=None, src_key_padding_mask=None, is_causal=None)`.

    `enable_nested_tensor` and `mask_check` are PyTorch's switches for its inference fast
    path on nested tensors, which this library does not have: they are accepted so PyTorch
    code runs unchanged, and change nothing. (That path, in eval mode without gradients,
    returns 0 at padded positions; here, as in PyTorch's training path, those positions
    hold computed values, which the padding masks keep from reaching real tokens.)
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.num_layers = _size("TransformerEncoder", "num_layers", num_layers)
        self.layers = _clones(encoder_layer, self.num_layers)
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(
        self,
        src: Any,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        out = src
        for layer in self.layers:
            out = layer(
                out,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """`num_layers` copies of `decoder_layer` in `layers`, applied in turn to the target with
    the same `memory`, then `norm` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.num_layers = _size("TransformerDecoder", "num_layers", num_layers)
        self.layers = _clones(decoder_layer, self.num_layers)
        self.norm = norm

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        out = tgt
        for layer in self.layers:
            out = layer(
                out,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return out if self.norm is None else self.norm(out)


def _subsequent_mask(size: int, dtype: Any) -> np.ndarray:
    return np.triu(np.full((size, size), -np.inf, dtype=dtype), k=1)


class Transformer(Module):
    """The encoder-decoder Transformer: `encoder` (a TransformerEncoder of
    `num_encoder_layers` layers with a final LayerNorm, or `custom_encoder`) reads the source;
    `decoder` (likewise) reads the target, attending to the encoder's output.

    `forward(src, tgt, ...)` -> the decoder's output, shaped as tgt: (T, N, E), (N, T, E)
    with batch_first, or (T, E). In training, pass `tgt_mask=generate_square_subsequent_mask(T)`
    so position t sees only targets up to t (teacher forcing then trains exactly what
    autoregressive decoding does at inference). Every weight matrix is initialized with
    xavier_uniform_, as PyTorch's.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        d_model = _size("Transformer", "d_model", d_model)
        rng = init.as_generator(generator)
        options: dict[str, Any] = {
            "dim_feedforward": dim_feedforward,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_eps": layer_norm_eps,
            "batch_first": batch_first,
            "norm_first": norm_first,
            "bias": bias,
            "dtype": dtype,
            "generator": None if generator is None else rng,
        }
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **options),
                num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **options),
                num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        for param in self.parameters():  # PyTorch's _reset_parameters
            if param.ndim > 1:
                init.xavier_uniform_(param, generator=rng)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(
        self,
        src: Any,
        tgt: Any,
        src_mask: Any = None,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        src_key_padding_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        src_shape, tgt_shape = np.shape(_data(src)), np.shape(_data(tgt))
        batch_axis = 0 if self.batch_first else 1
        if len(src_shape) == 3 and (
            len(tgt_shape) != 3 or src_shape[batch_axis] != tgt_shape[batch_axis]
        ):
            raise ValueError(
                f"Transformer: the batch sizes of src {src_shape} and tgt {tgt_shape} differ "
                f"(batch axis {batch_axis}{' with batch_first' if self.batch_first else ''})"
            )
        if src_shape[-1:] != (self.d_model,) or tgt_shape[-1:] != (self.d_model,):
            raise ValueError(
                f"Transformer: src {src_shape} and tgt {tgt_shape} must both end in "
                f"d_model={self.d_model} features"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The causal mask for MultiheadAttention and the Transformer layers: (sz, sz), -inf
        above the diagonal (query i may not see key j > i), 0 on and below it, as PyTorch's
        (a float mask: added to the scores)."""
        if device not in (None, "cpu"):
            raise ValueError(
                f"generate_square_subsequent_mask: the only device is 'cpu', got {device!r}"
            )
        size = int(sz)
        if size < 0:
            raise ValueError(f"generate_square_subsequent_mask: size must be >= 0, got {sz}")
        return Tensor(_subsequent_mask(size, _dtype(dtype)))


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


class PositionalEncoding(Module):
    """The sinusoidal positional encoding of Vaswani et al. (2017), added to its input:
    PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)),
    then dropout (PyTorch has no such layer; this follows the paper and PyTorch's tutorial).

    Attention by itself ignores order (permuting the tokens permutes its output); adding a
    distinct pattern per position lets it tell positions apart, and since PE(pos + k) is a
    linear function of PE(pos) for each k, relative offsets are easy to read. Any d_model
    works, odd too (the last column is then a sine).

    Inputs (L, N, d_model) as the Transformer layers, (N, L, d_model) with batch_first, or
    unbatched (L, d_model); L <= max_len. The table `pe` (max_len, d_model) is a
    non-persistent buffer: computed, never trained or saved in the state dict.
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        batch_first: bool = False,
        *,
        dtype: Any = None,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        self.d_model = _size("PositionalEncoding", "d_model", d_model)
        self.max_len = _size("PositionalEncoding", "max_len", max_len)
        self.batch_first = batch_first
        self.dropout = Dropout(_probability("PositionalEncoding", dropout), generator=generator)
        position = np.arange(self.max_len, dtype=np.float64)[:, None]
        frequency = 1.0 / 10000.0 ** (np.arange(0, self.d_model, 2) / self.d_model)  # 2i = 0, 2, ..
        table = np.zeros((self.max_len, self.d_model))
        table[:, 0::2] = np.sin(position * frequency)
        table[:, 1::2] = np.cos(position * frequency[: self.d_model // 2])
        self.register_buffer("pe", table.astype(_dtype(dtype)), persistent=False)

    def forward(self, x: Any) -> Tensor:
        x = _input(self, x, self.pe)  # in the table's dtype
        axis = 1 if self.batch_first and x.ndim == 3 else 0
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model or x.shape[axis] > self.max_len:
            layout = "(N, L, {d}) with batch_first" if self.batch_first else "(L, N, {d})"
            raise ValueError(
                f"PositionalEncoding(d_model={self.d_model}, max_len={self.max_len}): "
                f"expected input {layout.format(d=self.d_model)} or (L, {self.d_model}) with "
                f"L <= {self.max_len}, got {x.shape}"
            )
        table = self.pe[: x.shape[axis]]
        if x.ndim == 3:
            table = table[:, None, :] if axis == 0 else table[None, :, :]
        return self.dropout(x + table)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
