"""The Transformer without PyTorch: the course's d = 3 positional-encoding table, the
residual + LayerNorm blocks (post- and pre-norm) computed from their submodules, PyTorch's
submodule and state-dict names, stacks of independent deep copies, masks that hide future
tokens and padding in the whole encoder-decoder (and teacher forcing agreeing with
step-by-step decoding because of them), reproducibility from one generator, and errors."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import functional as F

D = 8


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------------------------
# Positional encoding
# --------------------------------------------------------------------------------------------

COURSE_TABLE = [
    [0.0, 1.0, 0.0],
    [0.841471, 0.540302, 0.002154],
    [0.909297, -0.416147, 0.004309],
    [0.141120, -0.989992, 0.006463],
]


def test_the_positional_encoding_reproduces_the_course_table_for_d_3() -> None:
    pe = nn.PositionalEncoding(3, max_len=4)
    np.testing.assert_array_equal(np.round(pe.pe, 6), COURSE_TABLE)
    out = pe(np.zeros((4, 3)))  # added to its input: zeros show the table itself
    np.testing.assert_array_equal(np.round(out.data, 6), COURSE_TABLE)


def test_the_positional_encoding_is_the_sinusoid_formula() -> None:
    d = 6
    table = nn.PositionalEncoding(d, max_len=50).pe
    for pos in (0, 7, 49):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-15)
            assert table[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-15)


def test_the_encoding_follows_the_layers_layouts() -> None:
    pe = nn.PositionalEncoding(4, max_len=10)
    x = _rng(1).standard_normal((5, 2, 4))  # (L, N, E)
    out = pe(x).data
    np.testing.assert_allclose(out - x, np.broadcast_to(pe.pe[:5, None], (5, 2, 4)), atol=1e-15)
    batch_first = nn.PositionalEncoding(4, max_len=10, batch_first=True)
    np.testing.assert_allclose(
        batch_first(x.transpose(1, 0, 2)).data, out.transpose(1, 0, 2), atol=1e-15
    )
    np.testing.assert_allclose(pe(x[:, 0]).data, out[:, 0], atol=1e-15)  # unbatched (L, E)


def test_the_table_is_a_buffer_outside_the_state_dict_and_gradients_pass_through() -> None:
    pe = nn.PositionalEncoding(4, max_len=10, dtype=np.float32)
    assert pe.state_dict() == {} and list(pe.parameters()) == []
    x = ag.Tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    out = pe(x)
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))


def test_positional_encoding_dropout_and_errors() -> None:
    pe = nn.PositionalEncoding(4, max_len=6, dropout=0.5, generator=0)
    assert np.any(pe(np.zeros((6, 4))).data == 0.0)
    pe.eval()
    np.testing.assert_allclose(pe(np.zeros((6, 4))).data, pe.pe)
    with pytest.raises(ValueError, match=r"max_len=6.*got \(7, 4\)"):
        pe(np.zeros((7, 4)))
    with pytest.raises(ValueError, match=r"PositionalEncoding\(d_model=4"):
        pe(np.zeros((3, 2, 5)))
    with pytest.raises(TypeError, match="d_model"):
        nn.PositionalEncoding(4.0)  # type: ignore[arg-type]


def test_generate_square_subsequent_mask() -> None:
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    inf = -np.inf
    np.testing.assert_array_equal(mask.data, [[0, inf, inf], [0, 0, inf], [0, 0, 0]])
    assert mask.dtype == np.float64
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=np.float32).dtype == np.float32
    assert not hasattr(nn, "generate_square_subsequent_mask")  # a static method, as PyTorch


# --------------------------------------------------------------------------------------------
# The layers
# --------------------------------------------------------------------------------------------


def test_the_encoder_layer_has_pytorchs_submodules_and_keys() -> None:
    layer = nn.TransformerEncoderLayer(D, 2, 16)
    assert list(layer._modules) == [
        "self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"
    ]  # fmt: skip
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
    ]  # fmt: skip
    assert layer.activation is F.relu and layer.norm_first is False


def test_the_decoder_layer_has_pytorchs_submodules() -> None:
    layer = nn.TransformerDecoderLayer(D, 2, 16, activation="gelu", bias=False)
    assert list(layer._modules) == [
        "self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2",
        "norm3", "dropout1", "dropout2", "dropout3",
    ]  # fmt: skip
    assert layer.activation is F.gelu
    assert all("bias" not in key for key in layer.state_dict())


def _encoder_by_hand(layer: Any, x: Any) -> Any:
    def sa(h: Any) -> Any:
        return layer.self_attn(h, h, h, need_weights=False)[0]

    def ff(h: Any) -> Any:
        return layer.linear2(F.relu(layer.linear1(h)))

    if layer.norm_first:
        x = x + sa(layer.norm1(x))
        return x + ff(layer.norm2(x))
    x = layer.norm1(x + sa(x))
    return layer.norm2(x + ff(x))


@pytest.mark.parametrize("norm_first", [False, True])
def test_the_encoder_layer_is_residual_plus_layer_norm_around_each_sublayer(
    norm_first: bool,
) -> None:
    layer = nn.TransformerEncoderLayer(D, 2, 16, dropout=0.0, norm_first=norm_first, generator=1)
    x = ag.Tensor(_rng(2).standard_normal((5, 3, D)))
    np.testing.assert_allclose(layer(x).data, _encoder_by_hand(layer, x).data, atol=1e-14)


def test_a_callable_activation_is_used_as_given() -> None:
    layer = nn.TransformerEncoderLayer(D, 2, 16, dropout=0.0, activation=ag.tanh, generator=3)
    assert layer.activation is ag.tanh
    x = _rng(3).standard_normal((4, D))
    relu_layer = copy.deepcopy(layer)
    relu_layer.activation = F.relu
    assert not np.allclose(layer(x).data, relu_layer(x).data)


@pytest.mark.parametrize("norm_first", [False, True])
def test_the_decoder_layer_blocks(norm_first: bool) -> None:
    layer = nn.TransformerDecoderLayer(D, 2, 16, dropout=0.0, norm_first=norm_first, generator=4)
    rng = _rng(4)
    tgt, memory = (
        ag.Tensor(rng.standard_normal((3, 2, D))),
        ag.Tensor(rng.standard_normal((6, 2, D))),
    )

    def sa(h: Any) -> Any:
        return layer.self_attn(h, h, h, need_weights=False)[0]

    def ca(h: Any) -> Any:
        return layer.multihead_attn(h, memory, memory, need_weights=False)[0]

    def ff(h: Any) -> Any:
        return layer.linear2(F.relu(layer.linear1(h)))

    x = tgt
    if norm_first:
        x = x + sa(layer.norm1(x))
        x = x + ca(layer.norm2(x))
        expected = x + ff(layer.norm3(x))
    else:
        x = layer.norm1(x + sa(x))
        x = layer.norm2(x + ca(x))
        expected = layer.norm3(x + ff(x))
    np.testing.assert_allclose(layer(tgt, memory).data, expected.data, atol=1e-14)


# --------------------------------------------------------------------------------------------
# Stacks and the model
# --------------------------------------------------------------------------------------------


def test_a_stack_holds_independent_deep_copies_under_pytorchs_keys() -> None:
    layer = nn.TransformerEncoderLayer(D, 2, 16, generator=5)
    encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(D))
    keys = list(encoder.state_dict())
    assert keys[0] == "layers.0.self_attn.in_proj_weight"
    assert keys[-2:] == ["norm.weight", "norm.bias"]
    assert len(encoder.layers) == 3 and encoder.num_layers == 3
    assert nn.TransformerEncoder(layer, 1, enable_nested_tensor=False, mask_check=False)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.data, layer.linear1.weight.data)
    first.linear1.weight.data[...] = 0.0
    assert np.any(second.linear1.weight.data) and np.any(layer.linear1.weight.data)
    x = _rng(6).standard_normal((4, 2, D))
    encoder.eval()
    expected = x
    for block in encoder.layers:
        expected = block(expected)
    np.testing.assert_allclose(encoder(x).data, encoder.norm(expected).data, atol=1e-14)


def test_copied_layers_share_the_generator_so_their_dropout_masks_differ() -> None:
    layer = nn.TransformerEncoderLayer(D, 2, 16, dropout=0.5, generator=7)
    encoder = nn.TransformerEncoder(layer, 2)
    generators = {id(m._generator) for m in encoder.modules() if isinstance(m, nn.Dropout)}
    assert len(generators) == 1
    x = np.ones((4, 1, 16))
    a, b = (encoder.layers[i].dropout(x).data for i in range(2))
    assert not np.array_equal(a, b)


def test_the_transformer_is_built_as_pytorchs() -> None:
    model = nn.Transformer(D, 2, 2, 1, 16, dropout=0.0, generator=8)
    assert isinstance(model.encoder, nn.TransformerEncoder) and len(model.encoder.layers) == 2
    assert isinstance(model.decoder.norm, nn.LayerNorm) and len(model.decoder.layers) == 1
    keys = list(model.state_dict())
    assert keys[0] == "encoder.layers.0.self_attn.in_proj_weight"
    assert "decoder.layers.0.multihead_attn.out_proj.weight" in keys
    for name, param in model.named_parameters():  # xavier_uniform_ on every matrix
        if param.ndim > 1:
            fan_out, fan_in = param.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            assert 0.8 * bound < np.abs(param.data).max() <= bound, name


def test_one_seed_makes_the_model_and_its_dropout_reproducible() -> None:
    x, y = _rng(9).standard_normal((5, 2, D)), _rng(10).standard_normal((4, 2, D))
    a, b = (nn.Transformer(D, 2, 1, 1, 16, generator=11) for _ in range(2))
    np.testing.assert_array_equal(a(x, y).data, b(x, y).data)  # training mode: dropout on
    a.eval()
    np.testing.assert_array_equal(a(x, y).data, a(x, y).data)
    assert not np.array_equal(a(x, y).data, b(x, y).data)


def _model() -> nn.Transformer:
    model = nn.Transformer(D, 2, 2, 2, 16, dropout=0.0, batch_first=True, generator=12)
    for p in model.parameters():  # non-trivial biases and norms
        p.data[...] += _rng(13).standard_normal(p.shape) * 0.1
    return model


def test_a_future_target_token_changes_no_earlier_output_and_gets_no_gradient() -> None:
    model = _model()
    rng = _rng(14)
    src, tgt = rng.standard_normal((2, 6, D)), rng.standard_normal((2, 5, D))
    causal = nn.Transformer.generate_square_subsequent_mask(5)
    t = ag.Tensor(tgt, requires_grad=True)
    out = model(src, t, tgt_mask=causal)
    out[:, :3].sum().backward()
    assert not np.any(t.grad.data[:, 3:])  # outputs 0..2 never saw targets 3, 4
    assert np.any(t.grad.data[:, :3])
    changed = tgt.copy()
    changed[:, 3:] = 100.0
    np.testing.assert_allclose(
        model(src, changed, tgt_mask=causal).data[:, :3], out.data[:, :3], atol=1e-12
    )


def test_padding_in_the_source_changes_nothing_downstream() -> None:
    model = _model()
    rng = _rng(15)
    src, tgt = rng.standard_normal((2, 6, D)), rng.standard_normal((2, 5, D))
    padded = np.zeros((2, 6), dtype=bool)
    padded[0, 4:] = True
    masks = {"src_key_padding_mask": padded, "memory_key_padding_mask": padded}
    s = ag.Tensor(src, requires_grad=True)
    out = model(s, tgt, **masks)
    out.sum().backward()
    assert not np.any(s.grad.data[0, 4:])  # padding never reaches the decoder's output
    changed = src.copy()
    changed[0, 4:] = -50.0
    np.testing.assert_allclose(model(changed, tgt, **masks).data, out.data, atol=1e-12)


def test_teacher_forcing_agrees_with_step_by_step_decoding() -> None:
    """With the causal mask, the decoder's output at step t depends on targets 0..t only, so
    feeding the whole target at once (training) gives what decoding one token at a time
    (inference) gives, for every prefix."""
    model = _model()
    rng = _rng(16)
    src, tgt = rng.standard_normal((1, 6, D)), rng.standard_normal((1, 5, D))
    full = model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5)).data
    memory = model.encoder(src)
    for t in range(1, 6):
        prefix = model.decoder(
            tgt[:, :t], memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(t)
        )
        np.testing.assert_allclose(prefix.data[:, -1], full[:, t - 1], atol=1e-12)


def test_transformer_errors() -> None:
    model = nn.Transformer(D, 2, 1, 1, 16)
    with pytest.raises(ValueError, match="batch sizes"):
        model(np.zeros((4, 2, D)), np.zeros((3, 3, D)))
    with pytest.raises(ValueError, match="d_model=8"):
        model(np.zeros((4, 2, D)), np.zeros((3, 2, 6)))
    with pytest.raises(ValueError, match="activation should be 'relu' or 'gelu'"):
        nn.TransformerEncoderLayer(D, 2, activation="swish")
    with pytest.raises(ValueError, match="divisible"):
        nn.TransformerDecoderLayer(D, 3)
    with pytest.raises(TypeError, match="num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 2), 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"self_attn|MultiheadAttention"):
        nn.TransformerEncoderLayer(D, 2)(np.zeros((3, 2, D)), is_causal=True)  # mask missing


def test_a_layer_refuses_inputs_of_another_dtype() -> None:
    layer = nn.TransformerEncoderLayer(D, 2, 16, dtype=np.float32)
    assert layer(np.zeros((3, D), dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="TransformerEncoderLayer"):
        layer(np.zeros((3, D)))


def test_sequence_length_one() -> None:
    model = nn.Transformer(D, 2, 1, 1, 16, dropout=0.0, generator=17)
    out = model(np.ones((1, 1, D)), np.ones((1, 1, D)), tgt_mask=np.zeros((1, 1)))
    assert out.shape == (1, 1, D) and np.isfinite(out.data).all()
