"""Scaled dot-product attention and MultiheadAttention without PyTorch: the formulas by hand
(softmax(QK^T / sqrt(d_k)) V, MHA = Concat(head_1..head_h) W^O), gradients against central
differences, what masks hide (a masked key, a padded position or a future token changes
nothing, and gets no gradient), rows with nothing to attend (zeros, never nan, silently),
dropout with a generator, PyTorch's parameters and initialization, and errors that name the
layer and the shapes."""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import functional as F
from tests.numeric import check_forward, check_reverse, check_second_order


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# --------------------------------------------------------------------------------------------


def test_attention_is_softmax_of_scaled_scores_times_values() -> None:
    rng = _rng(1)
    q, k, v = (
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((2, 5, 4)),
        rng.standard_normal((2, 5, 6)),
    )
    expected = _softmax(q @ k.transpose(0, 2, 1) / math.sqrt(4)) @ v
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).data, expected, atol=1e-14)
    scaled = _softmax(q @ k.transpose(0, 2, 1) * 0.1) @ v
    np.testing.assert_allclose(
        F.scaled_dot_product_attention(q, k, v, scale=0.1).data, scaled, atol=1e-14
    )


def test_dividing_by_sqrt_dk_keeps_the_softmax_out_of_saturation() -> None:
    """With d_k = 256 unit-variance features, raw scores have standard deviation ~16: the
    softmax is nearly one-hot and its gradient with respect to the scores nearly 0; divided
    by sqrt(d_k) = 16, the weights spread and the gradient is several times larger."""
    rng = _rng(2)
    q, k = rng.standard_normal((64, 256)), rng.standard_normal((64, 256))
    w = rng.standard_normal((64, 64))
    peaks, gradients = [], []
    for scale in (1.0, 1.0 / 16.0):
        scores = ag.Tensor(q @ k.T * scale, requires_grad=True)
        weights = F.softmax(scores)
        (weights * w).sum().backward()
        peaks.append(weights.data.max(axis=-1).mean())
        gradients.append(np.abs(scores.grad.data).mean())
    assert peaks[0] > 0.9 and peaks[1] < 0.5
    assert gradients[1] > 4 * gradients[0]  # measured: 5.6 times


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"is_causal": True}, {"scale": 0.7}, {"mask": "bool"}, {"mask": "float"},
     {"mask": "bool_dead"}],
    ids=["plain", "causal", "scale", "bool_mask", "float_mask", "row_with_nothing_to_attend"],
)  # fmt: skip
def test_attention_derivatives_match_central_differences_in_every_mode(
    kwargs: dict[str, Any],
) -> None:
    """Reverse mode, forward mode and second order (a Hessian-vector product): attention is
    composed of primitives, so all three come from their rules."""
    rng = _rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 4), (2, 4, 4), (2, 4, 2))]
    kwargs = dict(kwargs)
    mask = kwargs.pop("mask", None)
    allowed = rng.random((3, 4)) < 0.6
    allowed[:, 0] = True
    if mask == "bool_dead":
        allowed[1] = False
    if mask in ("bool", "bool_dead"):
        kwargs["attn_mask"] = allowed
    elif mask == "float":
        kwargs["attn_mask"] = np.where(allowed, rng.standard_normal((3, 4)), -np.inf)

    def attend(q: Any, k: Any, v: Any) -> ag.Tensor:
        return F.scaled_dot_product_attention(q, k, v, **kwargs)

    check_reverse(attend, arrays, rng)
    check_forward(attend, arrays, rng)
    check_second_order(attend, arrays, rng)


def test_a_learned_float_mask_gets_its_gradient() -> None:
    rng = _rng(4)
    arrays = [rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 5))]
    k, v = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    check_reverse(
        lambda q, bias: F.scaled_dot_product_attention(q, k, v, attn_mask=bias), arrays, rng
    )


def _attend(q: Any, k: Any, v: Any, **kwargs: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """Output and the gradients of q, k, v of sum(w * attention) for a fixed w."""
    tensors = [ag.Tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*tensors, **kwargs)
    out.backward(np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape))
    return out.data, [t.grad.data for t in tensors]


def test_a_masked_key_changes_nothing_and_gets_no_gradient() -> None:
    rng = _rng(5)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    allowed = np.ones((3, 5), dtype=bool)
    allowed[:, 2] = False  # no query sees key 2
    out, grads = _attend(q, k, v, attn_mask=allowed)
    k2, v2 = k.copy(), v.copy()
    k2[2], v2[2] = 100.0, -100.0
    out2, _ = _attend(q, k2, v2, attn_mask=allowed)
    np.testing.assert_array_equal(out, out2)
    assert not np.any(grads[1][2]) and not np.any(grads[2][2])
    # the float mask with -inf hides exactly as False does
    out3, grads3 = _attend(q, k, v, attn_mask=np.where(allowed, 0.0, -np.inf))
    np.testing.assert_allclose(out3, out, atol=1e-15)
    for g, g3 in zip(grads, grads3, strict=True):
        np.testing.assert_allclose(g3, g, atol=1e-15)


def test_is_causal_hides_future_tokens() -> None:
    rng = _rng(6)
    x = rng.standard_normal((6, 4))
    out, grads = _attend(x[:, :4], x, x, is_causal=True)
    future = x.copy()
    future[4:] = rng.standard_normal((2, 4)) * 50
    changed, _ = _attend(future, future, future, is_causal=True)
    np.testing.assert_allclose(changed[:4], out[:4], atol=1e-14)  # positions 0..3 see 0..3
    # the first output depends on the first key only
    tensors = [ag.Tensor(x, requires_grad=True) for _ in range(3)]
    F.scaled_dot_product_attention(*tensors, is_causal=True)[0].sum().backward()
    for t in tensors[1:]:
        assert not np.any(t.grad.data[1:])
    del grads


def test_a_tensor_of_bools_from_a_comparison_is_a_boolean_mask_not_an_added_one() -> None:
    x = ag.Tensor(_rng(12).standard_normal((5, 4)))
    allowed = ag.tril(ag.ones(5, 5)) > 0  # a bool Tensor, as `positions <= i` gives
    padding = ag.Tensor([[0.0, 0.0, 0.0, 1.0, 1.0]]) > 0
    causal = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    np.testing.assert_array_equal(
        F.scaled_dot_product_attention(x, x, x, attn_mask=allowed).data, causal.data
    )
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    batch = x.reshape(1, 5, 4)
    as_tensor, _ = mha(batch, batch, batch, key_padding_mask=padding)
    as_array, _ = mha(batch, batch, batch, key_padding_mask=padding.data)
    np.testing.assert_array_equal(as_tensor.data, as_array.data)


def test_is_causal_is_aligned_at_the_top_left_when_lengths_differ() -> None:
    rng = _rng(7)
    q, k, v = rng.standard_normal((2, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=np.tril(np.ones((2, 5), bool)))
    np.testing.assert_array_equal(
        F.scaled_dot_product_attention(q, k, v, is_causal=True).data, expected.data
    )
    np.testing.assert_allclose(expected.data[0], v[0], atol=1e-15)  # query 0 sees key 0 only


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_query_with_nothing_to_attend_gets_zeros_and_zero_gradients_silently(kind: str) -> None:
    rng = _rng(8)
    allowed = np.ones((3, 5), dtype=bool)
    allowed[1] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
    q, k, v = (
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((2, 5, 4)),
        rng.standard_normal((2, 5, 2)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning either
        out, (gq, gk, _) = _attend(q, k, v, attn_mask=mask)
    assert np.isfinite(out).all() and np.isfinite(gq).all() and np.isfinite(gk).all()
    assert not np.any(out[:, 1]) and not np.any(gq[:, 1])
    expected, _ = _attend(q[:, [0, 2]], k, v)  # the other rows are as without the mask
    np.testing.assert_allclose(out[:, [0, 2]], expected, atol=1e-14)


def test_length_one_and_empty_sequences() -> None:
    rng = _rng(9)
    v = rng.standard_normal((1, 3))
    out = F.scaled_dot_product_attention(
        rng.standard_normal((1, 2)), rng.standard_normal((1, 2)), v
    )
    np.testing.assert_allclose(out.data, v, atol=1e-15)  # one key: weight 1
    empty = F.scaled_dot_product_attention(np.zeros((0, 2)), np.zeros((4, 2)), np.zeros((4, 3)))
    assert empty.shape == (0, 3)
    no_keys = F.scaled_dot_product_attention(np.ones((2, 2)), np.zeros((0, 2)), np.zeros((0, 3)))
    np.testing.assert_array_equal(no_keys.data, np.zeros((2, 3)))


def test_grouped_query_attention_shares_each_key_head_with_a_group_of_query_heads() -> None:
    rng = _rng(10)
    q, k, v = (
        rng.standard_normal((4, 3, 2)),
        rng.standard_normal((2, 5, 2)),
        rng.standard_normal((2, 5, 3)),
    )
    grouped = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    repeated = F.scaled_dot_product_attention(q, np.repeat(k, 2, axis=0), np.repeat(v, 2, axis=0))
    np.testing.assert_allclose(grouped.data, repeated.data, atol=1e-15)


def test_dropout_on_the_weights_is_reproducible_and_inverted() -> None:
    rng = _rng(11)
    q, k, v = rng.standard_normal((8, 4)), rng.standard_normal((8, 4)), np.ones((8, 1))
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=np.random.default_rng(3))
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a.data, b.data)
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(a.data, plain.data)
    gone = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    np.testing.assert_array_equal(gone.data, np.zeros((8, 1)))


def test_float32_stays_float32() -> None:
    x = np.ones((2, 3, 4), dtype=np.float32)
    out = F.scaled_dot_product_attention(x, x, x, attn_mask=np.zeros((3, 3)))
    assert out.dtype == np.float32


FIT = ((2, 3, 4), (2, 5, 4), (2, 5, 6))  # query, key, value that fit


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "words"),
    [
        (FIT, {"attn_mask": np.ones((3, 5), bool), "is_causal": True}, ValueError, "not both"),
        (FIT, {"attn_mask": np.ones((3, 5), np.int64)}, TypeError, "int64"),
        (FIT, {"attn_mask": np.ones((3, 4), bool)}, ValueError, "(3, 4)"),
        (((2, 3, 4), (2, 5, 3), (2, 5, 6)), {}, ValueError, "(2, 5, 3)"),
        (((2, 3, 4), (2, 5, 4), (2, 4, 6)), {}, ValueError, "(2, 4, 6)"),
        (((3, 3, 4), (2, 5, 4), (2, 5, 6)), {}, ValueError, "broadcast"),
        (((4,), (5, 4), (5, 6)), {}, ValueError, "at least 2"),
        (FIT, {"dropout_p": 1.5}, ValueError, "dropout_p"),
        (((2, 3, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6)), {"enable_gqa": True}, ValueError, "multiple"),
    ],
    ids=["mask_and_causal", "int_mask", "mask_shape", "key_width", "value_length", "batch",
         "rank", "dropout", "gqa_heads"],
)  # fmt: skip
def test_attention_errors_name_the_problem(
    args: tuple[tuple[int, ...], ...], kwargs: dict[str, Any], error: type, words: str
) -> None:
    arrays = [np.zeros(shape) for shape in args]
    with pytest.raises(error, match="scaled_dot_product_attention") as info:
        F.scaled_dot_product_attention(*arrays, **kwargs)
    assert words in str(info.value)


def test_query_key_and_value_must_share_a_dtype() -> None:
    with pytest.raises(TypeError, match="float32"):
        F.scaled_dot_product_attention(
            np.zeros((2, 3), np.float32), np.zeros((2, 3)), np.zeros((2, 3))
        )


# --------------------------------------------------------------------------------------------
# MultiheadAttention
# --------------------------------------------------------------------------------------------


def test_parameters_shapes_and_initialization_are_pytorchs() -> None:
    mha = nn.MultiheadAttention(64, 4, generator=0)
    shapes = {name: p.shape for name, p in mha.named_parameters()}
    assert shapes == {
        "in_proj_weight": (192, 64),
        "in_proj_bias": (192,),
        "out_proj.weight": (64, 64),
        "out_proj.bias": (64,),
    }
    bound = math.sqrt(6.0 / (64 + 192))  # xavier_uniform_ on the packed (3E, E) weight
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    assert np.abs(mha.in_proj_weight.data).max() > 0.9 * bound
    assert not np.any(mha.in_proj_bias.data) and not np.any(mha.out_proj.bias.data)
    assert isinstance(mha.out_proj, nn.Linear)
    assert mha.head_dim == 16 and mha.batch_first is False


def test_kdim_and_vdim_give_separate_projections_as_pytorch() -> None:
    mha = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True, bias=False)
    assert list(mha.state_dict()) == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v", "out_proj.weight"
    ]  # fmt: skip
    assert mha.k_proj_weight.shape == (8, 5) and mha.v_proj_weight.shape == (8, 3)
    assert mha.in_proj_weight is None and mha.bias_k.shape == (1, 1, 8)


def test_multihead_attention_is_the_heads_concatenated_then_w_o() -> None:
    """MHA(X) = Concat(head_1, ..., head_h) W^O with head_i = Attention(X W_i^q, X W_i^k,
    X W_i^v), computed head by head in numpy."""
    rng = _rng(12)
    mha = nn.MultiheadAttention(6, 3, generator=1)
    for p in mha.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((5, 6))  # unbatched (L, E)
    w, b = mha.in_proj_weight.data, mha.in_proj_bias.data
    q, k, v = (x @ w[i * 6 : (i + 1) * 6].T + b[i * 6 : (i + 1) * 6] for i in range(3))
    heads, weights = [], []
    for h in range(3):
        cols = slice(2 * h, 2 * h + 2)
        a = _softmax(q[:, cols] @ k[:, cols].T / math.sqrt(2))
        heads.append(a @ v[:, cols])
        weights.append(a)
    expected = np.concatenate(heads, axis=1) @ mha.out_proj.weight.data.T + mha.out_proj.bias.data
    out, averaged = mha(x, x, x)
    np.testing.assert_allclose(out.data, expected, atol=1e-12)
    np.testing.assert_allclose(averaged.data, np.mean(weights, axis=0), atol=1e-14)
    _, per_head = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(per_head.data, np.stack(weights), atol=1e-14)


def test_layouts_batch_first_and_unbatched_agree() -> None:
    rng = _rng(13)
    seq_first = nn.MultiheadAttention(8, 2, generator=2)
    batch_first = nn.MultiheadAttention(8, 2, batch_first=True)
    batch_first.load_state_dict(seq_first.state_dict())
    q, kv = rng.standard_normal((4, 3, 8)), rng.standard_normal((6, 3, 8))
    out, weights = seq_first(q, kv, kv)
    assert out.shape == (4, 3, 8) and weights.shape == (3, 4, 6)
    out_bf, weights_bf = batch_first(
        q.transpose(1, 0, 2), kv.transpose(1, 0, 2), kv.transpose(1, 0, 2)
    )
    np.testing.assert_allclose(out_bf.data.transpose(1, 0, 2), out.data, atol=1e-14)
    np.testing.assert_allclose(weights_bf.data, weights.data, atol=1e-14)
    one, one_weights = seq_first(q[:, 1], kv[:, 1], kv[:, 1])
    np.testing.assert_allclose(one.data, out.data[:, 1], atol=1e-14)
    np.testing.assert_allclose(one_weights.data, weights.data[1], atol=1e-14)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0, atol=1e-14)
    assert seq_first(q, kv, kv, need_weights=False)[1] is None


def test_a_padded_key_changes_nothing_and_gets_no_gradient() -> None:
    rng = _rng(14)
    mha = nn.MultiheadAttention(8, 2, generator=3)
    x = rng.standard_normal((5, 2, 8))
    padding = np.zeros((2, 5), dtype=bool)
    padding[0, 3:] = True  # sequence 0 has 3 tokens, sequence 1 has 5

    def run(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = ag.Tensor(values, requires_grad=True)
        out, weights = mha(t, t, t, key_padding_mask=padding)
        out[:3, 0].sum().backward()  # the real tokens of sequence 0
        return out.data, weights.data, t.grad.data

    out, weights, grad = run(x)
    assert not np.any(weights[0, :, 3:])
    assert not np.any(grad[3:, 0])  # the padding never influenced the real tokens
    changed = x.copy()
    changed[3:, 0] = 1e3
    out2, _, _ = run(changed)
    np.testing.assert_allclose(out2[:3, 0], out[:3, 0], atol=1e-13)
    np.testing.assert_array_equal(out2[:, 1], out[:, 1])
    float_padding = np.where(padding, -np.inf, 0.0)
    out3, _ = mha(x, x, x, key_padding_mask=float_padding)
    np.testing.assert_allclose(out3.data, out, atol=1e-14)


def test_attn_mask_is_true_where_attention_is_not_allowed_as_pytorch() -> None:
    rng = _rng(15)
    mha = nn.MultiheadAttention(4, 2, generator=4)
    x = rng.standard_normal((4, 1, 4))
    future = np.triu(np.ones((4, 4), dtype=bool), 1)
    out, weights = mha(x, x, x, attn_mask=future)
    assert not np.any(weights.data[0][future])
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    out2, _ = mha(x, x, x, attn_mask=causal, is_causal=True)
    np.testing.assert_allclose(out2.data, out.data, atol=1e-14)
    per_head = np.broadcast_to(future, (2, 4, 4))  # (N * num_heads, L, S)
    out3, _ = mha(x, x, x, attn_mask=per_head)
    np.testing.assert_allclose(out3.data, out.data, atol=1e-14)
    changed = x.copy()
    changed[3] = 50.0
    np.testing.assert_allclose(
        mha(changed, changed, changed, attn_mask=future)[0].data[:3], out.data[:3], atol=1e-13
    )


def test_a_fully_padded_sequence_gives_zero_weights_and_no_nan() -> None:
    mha = nn.MultiheadAttention(4, 2, generator=5)
    x = ag.Tensor(_rng(16).standard_normal((3, 2, 4)), requires_grad=True)
    padding = np.array([[False, False, True], [True, True, True]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, weights = mha(x, x, x, key_padding_mask=padding)
        out.sum().backward()
    assert np.all(weights.data[1] == 0)
    np.testing.assert_allclose(out.data[:, 1], np.broadcast_to(mha.out_proj.bias.data, (3, 4)))
    assert np.isfinite(x.grad.data).all() and np.isfinite(mha.in_proj_weight.grad.data).all()


def test_cross_attention_between_sequences_of_different_lengths() -> None:
    rng = _rng(17)
    mha = nn.MultiheadAttention(8, 4, kdim=3, vdim=5, batch_first=True, generator=6)
    out, weights = mha(
        rng.standard_normal((2, 7, 8)),
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 4, 5)),
    )
    assert out.shape == (2, 7, 8) and weights.shape == (2, 7, 4)


def test_bias_kv_and_zero_attention_add_one_key_each() -> None:
    rng = _rng(18)
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, generator=7)
    x = rng.standard_normal((3, 2, 4))
    _, weights = mha(x, x, x, key_padding_mask=np.zeros((2, 3), bool))
    assert weights.shape == (2, 3, 5)  # 3 keys, bias_k, the zero key


def test_dropout_acts_in_training_only_and_is_reproducible() -> None:
    x = _rng(19).standard_normal((5, 2, 8))
    a = nn.MultiheadAttention(8, 2, dropout=0.5, generator=8)
    b = nn.MultiheadAttention(8, 2, dropout=0.5, generator=8)
    np.testing.assert_array_equal(a(x, x, x)[0].data, b(x, x, x)[0].data)
    a.eval()
    assert np.allclose(a(x, x, x)[1].data.sum(axis=-1), 1.0)  # no dropout: rows sum to 1
    a.train()
    assert not np.allclose(a(x, x, x)[1].data.sum(axis=-1), 1.0)


def test_deep_copies_are_independent_and_equal() -> None:
    mha = nn.MultiheadAttention(4, 2, generator=9)
    twin = copy.deepcopy(mha)
    x = _rng(20).standard_normal((3, 4))
    np.testing.assert_array_equal(twin(x, x, x)[0].data, mha(x, x, x)[0].data)
    twin.in_proj_weight.data[...] = 0.0
    assert np.any(mha.in_proj_weight.data)


def test_a_float32_model_computes_in_float32_and_refuses_float64_inputs() -> None:
    mha = nn.MultiheadAttention(4, 2, dtype=np.float32)
    x = np.ones((3, 2, 4), dtype=np.float32)
    out, weights = mha(x, x, x, attn_mask=nn.Transformer.generate_square_subsequent_mask(3))
    assert out.dtype == np.float32 and weights.dtype == np.float32
    with pytest.raises(TypeError, match="MultiheadAttention"):
        mha(np.ones((3, 2, 4)), x, x)


@pytest.mark.parametrize(
    ("shapes", "kwargs", "words"),
    [
        (((3, 2, 8), (5, 2, 8), (5, 2, 8, 1)), {}, "all 3-D"),
        (((3, 2, 8), (5, 2, 8), (4, 2, 8)), {}, "(4, 2, 8)"),
        (((3, 2, 8), (5, 3, 8), (5, 3, 8)), {}, "(L, N, 8)"),
        (((3, 2, 6), (5, 2, 8), (5, 2, 8)), {}, "(L, N, 8)"),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"key_padding_mask": np.zeros((2, 3), bool)}, "(2, 5)"),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"attn_mask": np.zeros((3, 4), bool)}, "(3, 5)"),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"attn_mask": np.zeros((2, 3, 5), bool)}, "(4, 3, 5)"),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"is_causal": True}, "generate_square_subsequent_mask"),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"attn_mask": np.zeros((3, 5), np.int32)}, "int32"),
    ],
    ids=["rank", "value_length", "batch", "width", "padding_shape", "mask_2d", "mask_3d",
         "causal_without_mask", "mask_dtype"],
)  # fmt: skip
def test_multihead_attention_errors_name_the_layer_and_shapes(
    shapes: tuple[tuple[int, ...], ...], kwargs: dict[str, Any], words: str
) -> None:
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises((ValueError, TypeError), match=r"MultiheadAttention\(embed_dim=8") as info:
        mha(*[np.zeros(s) for s in shapes], **kwargs)
    assert words in str(info.value)


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="dropout"):
        nn.MultiheadAttention(8, 2, dropout=2.0)
    with pytest.raises(TypeError, match="num_heads"):
        nn.MultiheadAttention(8, 2.0)  # type: ignore[arg-type]


def test_an_empty_batch_and_a_single_token() -> None:
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    out, weights = mha(np.zeros((0, 3, 4)), np.zeros((0, 3, 4)), np.zeros((0, 3, 4)))
    assert out.shape == (0, 3, 4) and weights.shape == (0, 3, 3)
    x = _rng(21).standard_normal((1, 1, 4))
    out, weights = mha(x, x, x)
    np.testing.assert_array_equal(weights.data, np.ones((1, 1, 1)))
