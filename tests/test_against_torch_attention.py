"""Attention and the Transformer against PyTorch in float64 to 1e-9: outputs, attention
weights and every gradient (inputs, float masks and all parameters), for boolean, float,
key-padding and causal masks and their combinations, both norm_first settings, batch_first,
unbatched inputs, cross-attention with L != S, kdim/vdim, add_bias_kv/add_zero_attn and the
gelu activation; state dicts copied both ways with identical keys in the same order. Rows
with nothing to attend are compared where PyTorch is finite (scaled_dot_product_attention,
and MultiheadAttention with need_weights=False). Dropout is 0 so results are exact. Skipped
when torch is absent."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import functional

torch = pytest.importorskip("torch")

TOL = 1e-9


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Any:
    """PyTorch on one thread while these tests run: on small tensors its thread pool costs
    far more than it saves, ten times over on a busy two-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _close(actual: Any, expected: Any, what: str) -> None:
    actual = actual.data if isinstance(actual, ag.Tensor) else np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL, err_msg=what)


# --------------------------------------------------------------------------------------------
# The harness: the same call on both frameworks, then every output and gradient compared
# --------------------------------------------------------------------------------------------


class Inputs:
    """Arrays as one framework's inputs: differentiable tensors by name (one tensor per
    name, so a name used twice is the same object, as self-attention's query is key), float
    masks too (their gradients are compared), except causal masks, which stay constants (as
    PyTorch, given is_causal, may not read them), and boolean masks."""

    def __init__(self, ours: bool, arrays: dict[str, np.ndarray]) -> None:
        self.tensors: dict[str, Any] = {}
        self.differentiable: list[str] = []
        for name, array in arrays.items():
            if array.dtype == bool or name.endswith("causal"):  # constants
                self.tensors[name] = array if ours else torch.from_numpy(array)
                continue
            self.differentiable.append(name)
            if ours:
                self.tensors[name] = ag.Tensor(array, requires_grad=True)
            else:
                self.tensors[name] = torch.tensor(array, requires_grad=True)

    def __getitem__(self, name: str) -> Any:
        return self.tensors.get(name)

    def gradients(self) -> dict[str, Any]:
        return {name: self.tensors[name].grad for name in self.differentiable}


def compare(
    ours: Any,
    theirs: Any,
    arrays: dict[str, np.ndarray],
    call: Callable[[Any, Inputs], Any],
    seed: int = 0,
) -> None:
    """call(module, inputs) on both sides (modules or functional namespaces); every result
    (an output, or a tuple of output and weights) and every gradient must agree to 1e-9."""
    mine, yours = Inputs(True, arrays), Inputs(False, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's notes on mismatched mask types
        expected = call(theirs, yours)
    actual = call(ours, mine)
    expected = expected if isinstance(expected, tuple) else (expected,)
    actual = actual if isinstance(actual, tuple) else (actual,)
    rng = _rng(seed)
    total_theirs, total_ours = 0.0, 0.0
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if e is None:
            assert a is None, f"result {i}: PyTorch returns None"
            continue
        _close(a, e, f"result {i}")
        assert np.isfinite(a.data).all(), f"result {i} is not finite"
        w = rng.standard_normal(tuple(e.shape))
        total_theirs = total_theirs + (e * torch.from_numpy(w)).sum()
        total_ours = total_ours + (a * w).sum()
    total_theirs.backward()
    total_ours.backward()
    for name, expected_grad in yours.gradients().items():
        got = mine.gradients()[name]
        if expected_grad is None:
            assert got is None or not np.any(got.data), f"gradient of {name}: PyTorch's is None"
            continue
        _close(got, expected_grad, f"gradient of input {name}")
    if isinstance(theirs, torch.nn.Module):
        their_params = dict(theirs.named_parameters())
        our_params = dict(ours.named_parameters())
        assert list(our_params) == list(their_params)
        for name, p in their_params.items():
            _close(our_params[name].grad, p.grad, f"gradient of parameter {name}")


def load_from_torch(ours: nn.Module, theirs: Any, seed: int = 0) -> None:
    """Random non-trivial values for every parameter of PyTorch's module (biases are zero
    and norms' weights one at initialization), copied into ours through the state dicts."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.5)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state), "state dict keys differ (or their order)"
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})


# --------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# --------------------------------------------------------------------------------------------


def _bool_mask(rng: np.random.Generator, shape: tuple[int, ...], dead_rows: bool) -> np.ndarray:
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True  # every row sees a key ...
    if dead_rows:
        mask[..., 1, :] = False  # ... except row 1, which sees nothing
    return mask


def sdpa_case(
    q_shape: tuple[int, ...],
    k_shape: tuple[int, ...],
    v_shape: tuple[int, ...],
    mask: str | None = None,
    mask_shape: tuple[int, ...] | None = None,
    **kwargs: Any,
) -> tuple[dict[str, np.ndarray], Callable[[Any, Inputs], Any]]:
    rng = _rng(sum(q_shape) + sum(k_shape))
    arrays = {
        "q": rng.standard_normal(q_shape),
        "k": rng.standard_normal(k_shape),
        "v": rng.standard_normal(v_shape),
    }
    if mask is not None:
        shape = mask_shape or (q_shape[-2], k_shape[-2])
        allowed = _bool_mask(rng, shape, dead_rows=mask.endswith("dead"))
        if mask.startswith("bool"):
            arrays["mask"] = allowed
        else:  # additive: -inf where hidden, a learned-looking bias elsewhere
            arrays["mask"] = np.where(allowed, rng.standard_normal(shape), -np.inf)

    def call(lib: Any, x: Inputs) -> Any:
        sdpa = lib.scaled_dot_product_attention
        return sdpa(x["q"], x["k"], x["v"], attn_mask=x["mask"], **kwargs)

    return arrays, call


SDPA_CASES = {
    "plain": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6)),
    "unbatched": sdpa_case((3, 4), (5, 4), (5, 2)),
    "heads": sdpa_case((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
    "batch_broadcast": sdpa_case((3, 1, 4, 4), (2, 5, 4), (2, 5, 3)),
    "causal_square": sdpa_case((2, 5, 4), (2, 5, 4), (2, 5, 4), is_causal=True),
    "causal_more_queries": sdpa_case((2, 6, 4), (2, 3, 4), (2, 3, 4), is_causal=True),
    "causal_more_keys": sdpa_case((2, 3, 4), (2, 6, 4), (2, 6, 4), is_causal=True),
    "bool_mask": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6), mask="bool"),
    "bool_mask_per_batch": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6), "bool", (2, 3, 5)),
    "bool_mask_dead_row": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6), mask="bool_dead"),
    "float_mask": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6), mask="float"),
    "float_mask_dead_row": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6), mask="float_dead"),
    "float_mask_broadcast": sdpa_case((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6), "float", (5,)),
    "scale": sdpa_case((2, 3, 4), (2, 5, 4), (2, 5, 6), scale=0.37),
    "length_one": sdpa_case((1, 1, 4), (1, 1, 4), (1, 1, 2), is_causal=True),
    "grouped_query": sdpa_case((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6), enable_gqa=True),
}


@pytest.mark.parametrize("name", sorted(SDPA_CASES))
def test_scaled_dot_product_attention_matches_pytorch(name: str) -> None:
    arrays, call = SDPA_CASES[name]
    compare(functional, torch.nn.functional, arrays, call)


def test_a_query_with_no_key_gives_zeros_with_zero_gradients_as_pytorch() -> None:
    arrays, call = SDPA_CASES["bool_mask_dead_row"]
    x = Inputs(True, arrays)
    out = call(functional, x)
    assert not np.any(out.data[:, 1])
    out.sum().backward()
    assert not np.any(x["q"].grad.data[:, 1])  # the dead query gets no gradient


def test_the_empty_key_sequence_gives_zeros_as_pytorch() -> None:
    rng = _rng(3)
    q, k, v = rng.standard_normal((2, 3, 4)), np.zeros((2, 0, 4)), np.zeros((2, 0, 5))
    expected = torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)))
    _close(functional.scaled_dot_product_attention(q, k, v), expected, "empty keys")


# --------------------------------------------------------------------------------------------
# MultiheadAttention
# --------------------------------------------------------------------------------------------

E, HEADS, N, L, S = 8, 2, 3, 4, 6


def mha_case(
    layout: str = "seq_first",
    attention: str = "self",
    padding: str | None = None,
    mask: str | None = None,
    weights: str = "average",
    **options: Any,
) -> tuple[dict[str, Any], dict[str, np.ndarray], Callable[[Any, Inputs], Any]]:
    """One MultiheadAttention configuration: constructor options, input arrays, the call."""
    rng = _rng(len(layout) + 3 * len(attention) + len(str(padding)) + len(str(mask)))
    batch_first = layout == "batch_first"
    kdim, vdim = options.get("kdim") or E, options.get("vdim") or E
    source = L if attention == "self" else S

    def sequence(length: int, width: int) -> np.ndarray:
        if layout == "unbatched":
            return rng.standard_normal((length, width))
        return rng.standard_normal((N, length, width) if batch_first else (length, N, width))

    arrays = {"query": sequence(L, E)}
    if attention == "cross":
        arrays |= {"key": sequence(S, kdim), "value": sequence(S, vdim)}
    elif attention == "kv_shared":
        arrays["key"] = sequence(S, kdim)
    pad_shape = (source,) if layout == "unbatched" else (N, source)
    if padding is not None:
        padded = np.zeros(pad_shape, dtype=bool)
        padded[..., -2:] = True  # the last two keys of every sequence are padding
        if layout != "unbatched":
            padded[0, -3] = True
        arrays["padding"] = (
            padded if padding == "bool" else np.where(padded, -np.inf, rng.random(pad_shape))
        )
    if mask is not None:
        if mask == "causal":
            arrays["causal"] = np.triu(np.full((L, source), -np.inf), 1)
        else:
            heads = HEADS * (1 if layout == "unbatched" else N)
            shape = (L, source) if mask.endswith("2d") else (heads, L, source)
            hidden = rng.random(shape) < 0.4
            hidden[..., 0] = False
            arrays["mask"] = (
                hidden
                if mask.startswith("bool")
                else np.where(hidden, -np.inf, rng.standard_normal(shape))
            )

    def call(module: Any, x: Inputs) -> Any:
        query = x["query"]
        key = query if attention == "self" else x["key"]
        value = key if attention != "cross" else x["value"]
        return module(
            query,
            key,
            value,
            key_padding_mask=x["padding"],
            attn_mask=x["causal"] if mask == "causal" else x["mask"],
            need_weights=weights != "none",
            average_attn_weights=weights == "average",
            is_causal=mask == "causal",
        )

    return {"batch_first": batch_first, **options}, arrays, call


MHA_CASES = {
    "self": mha_case(),
    "self_batch_first": mha_case("batch_first"),
    "self_unbatched": mha_case("unbatched"),
    "cross": mha_case(attention="cross"),
    "cross_batch_first_per_head_weights": mha_case("batch_first", "cross", weights="per_head"),
    "cross_key_is_value": mha_case(attention="kv_shared"),
    "cross_kdim_vdim": mha_case(attention="cross", kdim=5, vdim=7),
    "cross_kdim_vdim_unbatched": mha_case("unbatched", "cross", kdim=5, vdim=3),
    "no_bias": mha_case(attention="cross", bias=False),
    "add_bias_kv": mha_case(attention="cross", padding="bool", add_bias_kv=True),
    "add_zero_attn": mha_case(attention="cross", mask="bool_2d", add_zero_attn=True),
    "bias_kv_and_zero_attn": mha_case(
        "batch_first", "cross", "float", "float_3d", add_bias_kv=True, add_zero_attn=True
    ),
    "padding_bool": mha_case(attention="cross", padding="bool"),
    "padding_float": mha_case("batch_first", "cross", padding="float"),
    "padding_unbatched": mha_case("unbatched", "cross", padding="bool"),
    "mask_bool_2d": mha_case(attention="cross", mask="bool_2d"),
    "mask_bool_3d": mha_case("batch_first", "cross", mask="bool_3d", weights="per_head"),
    "mask_float_2d": mha_case(attention="cross", mask="float_2d"),
    "mask_float_3d_unbatched": mha_case("unbatched", "cross", mask="float_3d"),
    "causal": mha_case("batch_first", mask="causal"),
    "causal_no_weights": mha_case(mask="causal", weights="none"),
    "causal_and_padding": mha_case("batch_first", padding="bool", mask="causal"),
    "both_bool": mha_case(attention="cross", padding="bool", mask="bool_3d"),
    "both_float": mha_case("batch_first", "cross", "float", "float_2d", weights="per_head"),
    "both_mixed": mha_case(attention="cross", padding="float", mask="bool_2d"),
}


@pytest.mark.parametrize("name", sorted(MHA_CASES))
def test_multihead_attention_matches_pytorch(name: str) -> None:
    options, arrays, call = MHA_CASES[name]
    theirs = torch.nn.MultiheadAttention(E, HEADS, dtype=torch.float64, **options)
    ours = nn.MultiheadAttention(E, HEADS, **options)
    load_from_torch(ours, theirs)
    compare(ours, theirs, arrays, call)


def test_fully_padded_sequences_match_pytorch_where_it_is_finite() -> None:
    """With need_weights=False PyTorch gives a fully padded sequence zero attention (its
    output is out_proj.bias) and zero gradients; so do we (and zero weights, not nan)."""
    theirs = torch.nn.MultiheadAttention(E, HEADS, dtype=torch.float64)
    ours = nn.MultiheadAttention(E, HEADS)
    load_from_torch(ours, theirs, seed=4)
    padded = np.zeros((N, L), dtype=bool)
    padded[1] = True
    arrays = {"x": _rng(5).standard_normal((L, N, E)), "padding": padded}

    def call(module: Any, x: Inputs) -> Any:
        kwargs = {"key_padding_mask": x["padding"], "need_weights": False}
        return module(x["x"], x["x"], x["x"], **kwargs)

    compare(ours, theirs, arrays, call)
    _, weights = ours(arrays["x"], arrays["x"], arrays["x"], key_padding_mask=padded)
    assert np.all(weights.data[1] == 0) and np.isfinite(weights.data).all()


# --------------------------------------------------------------------------------------------
# The Transformer layers, stacks and model
# --------------------------------------------------------------------------------------------

D, FF = 8, 12


LAYER_OPTIONS = {
    "post_norm": {},
    "pre_norm": {"norm_first": True},
    "batch_first": {"batch_first": True},
    "pre_norm_batch_first_gelu": {"norm_first": True, "batch_first": True, "activation": "gelu"},
    "no_bias": {"bias": False, "layer_norm_eps": 1e-3},
    "callable_activation": {"activation": "tanh"},  # a callable on each side (see below)
}


def _options(options: dict[str, Any], ours: bool) -> dict[str, Any]:
    options = dict(options, dropout=0.0)
    if options.get("activation") == "tanh":
        options["activation"] = ag.tanh if ours else torch.tanh
    return options


def _sequence(
    rng: np.random.Generator, length: int, batch_first: bool, batched: bool = True
) -> Any:
    if not batched:
        return rng.standard_normal((length, D))
    return rng.standard_normal((N, length, D) if batch_first else (length, N, D))


def _masks(rng: np.random.Generator, length: int, source: int, kind: str) -> dict[str, Any]:
    """A causal float mask for the queries and key padding for the source."""
    if kind == "none":
        return {}
    padded = np.zeros((N, source), dtype=bool)
    padded[0, -2:] = True
    padded[2, -1] = True
    masks: dict[str, Any] = {"padding": padded}
    if length == source:
        masks["causal"] = np.triu(np.full((length, length), -np.inf), 1)
    else:
        hidden = rng.random((length, source)) < 0.3
        hidden[:, 0] = False
        masks["cross"] = hidden
    return masks


@pytest.mark.parametrize("masks", ["none", "masked"])
@pytest.mark.parametrize("variant", sorted(LAYER_OPTIONS))
def test_transformer_encoder_layer_matches_pytorch(variant: str, masks: str) -> None:
    options = LAYER_OPTIONS[variant]
    theirs = torch.nn.TransformerEncoderLayer(
        D, 2, FF, dtype=torch.float64, **_options(options, False)
    )
    ours = nn.TransformerEncoderLayer(D, 2, FF, **_options(options, True))
    load_from_torch(ours, theirs)
    rng = _rng(7)
    arrays = {"src": _sequence(rng, L, options.get("batch_first", False))}
    arrays |= _masks(rng, L, L, masks)

    def call(layer: Any, x: Inputs) -> Any:
        is_causal = x["causal"] is not None
        return layer(x["src"], x["causal"], x["padding"], is_causal=is_causal)

    compare(ours, theirs, arrays, call)


@pytest.mark.parametrize("masks", ["none", "masked"])
@pytest.mark.parametrize("variant", sorted(LAYER_OPTIONS))
def test_transformer_decoder_layer_matches_pytorch(variant: str, masks: str) -> None:
    options = LAYER_OPTIONS[variant]
    theirs = torch.nn.TransformerDecoderLayer(
        D, 2, FF, dtype=torch.float64, **_options(options, False)
    )
    ours = nn.TransformerDecoderLayer(D, 2, FF, **_options(options, True))
    load_from_torch(ours, theirs)
    rng = _rng(8)
    batch_first = options.get("batch_first", False)
    arrays = {"tgt": _sequence(rng, L, batch_first), "memory": _sequence(rng, S, batch_first)}
    tgt_masks, memory_masks = _masks(rng, L, L, masks), _masks(rng, L, S, masks)
    arrays |= {f"tgt_{k}": v for k, v in tgt_masks.items()}
    arrays |= {f"memory_{k}": v for k, v in memory_masks.items()}

    def call(layer: Any, x: Inputs) -> Any:
        return layer(
            x["tgt"],
            x["memory"],
            tgt_mask=x["tgt_causal"],
            memory_mask=x["memory_cross"],
            tgt_key_padding_mask=x["tgt_padding"],
            memory_key_padding_mask=x["memory_padding"],
            tgt_is_causal=x["tgt_causal"] is not None,
        )

    compare(ours, theirs, arrays, call)


@pytest.mark.parametrize("norm_first", [False, True])
def test_the_encoder_and_decoder_stacks_match_pytorch(norm_first: bool) -> None:
    kwargs = {"dim_feedforward": FF, "dropout": 0.0, "norm_first": norm_first}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's note that its nested-tensor path is off
        their_encoder = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(D, 2, dtype=torch.float64, **kwargs),
            3,
            torch.nn.LayerNorm(D, dtype=torch.float64),
        )
    their_decoder = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(D, 2, dtype=torch.float64, **kwargs), 2
    )
    our_encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, 2, **kwargs), 3, nn.LayerNorm(D)
    )
    our_decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, 2, **kwargs), 2)
    load_from_torch(our_encoder, their_encoder)
    load_from_torch(our_decoder, their_decoder, seed=1)
    rng = _rng(9)
    arrays = {"src": _sequence(rng, S, False), "tgt": _sequence(rng, L, False)}
    arrays |= {f"src_{k}": v for k, v in _masks(rng, S, S, "masked").items()}
    arrays |= {f"tgt_{k}": v for k, v in _masks(rng, L, L, "masked").items()}

    def call(stacks: Any, x: Inputs) -> Any:
        encoder, decoder = stacks
        memory = encoder(x["src"], src_key_padding_mask=x["src_padding"])
        out = decoder(
            x["tgt"],
            memory,
            tgt_mask=x["tgt_causal"],
            tgt_key_padding_mask=x["tgt_padding"],
            memory_key_padding_mask=x["src_padding"],
        )
        return out, memory

    compare((our_encoder, our_decoder), (their_encoder, their_decoder), arrays, call)
    for ours, theirs in ((our_encoder, their_encoder), (our_decoder, their_decoder)):
        for name, p in theirs.named_parameters():
            _close(dict(ours.named_parameters())[name].grad, p.grad, f"gradient of {name}")


@pytest.mark.parametrize(
    "options",
    [{}, {"batch_first": True, "norm_first": True, "activation": "gelu"}],
    ids=["defaults", "batch_first_pre_norm_gelu"],
)
def test_the_transformer_matches_pytorch(options: dict[str, Any]) -> None:
    sizes = {"num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": FF}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(D, 2, dropout=0.0, dtype=torch.float64, **sizes, **options)
    ours = nn.Transformer(D, 2, dropout=0.0, **sizes, **options)
    load_from_torch(ours, theirs)
    rng = _rng(10)
    batch_first = options.get("batch_first", False)
    arrays = {"src": _sequence(rng, S, batch_first), "tgt": _sequence(rng, L, batch_first)}
    arrays |= {f"src_{k}": v for k, v in _masks(rng, S, S, "masked").items()}
    arrays |= {f"tgt_{k}": v for k, v in _masks(rng, L, L, "masked").items()}
    arrays["memory_mask"] = _masks(rng, L, S, "masked")["cross"]

    def call(model: Any, x: Inputs) -> Any:
        return model(
            x["src"],
            x["tgt"],
            src_mask=None,
            tgt_mask=x["tgt_causal"],
            memory_mask=x["memory_mask"],
            src_key_padding_mask=x["src_padding"],
            tgt_key_padding_mask=x["tgt_padding"],
            memory_key_padding_mask=x["src_padding"],
            tgt_is_causal=True,
        )

    compare(ours, theirs, arrays, call)


def test_the_transformer_on_unbatched_sequences_matches_pytorch() -> None:
    sizes = {"num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": FF}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(D, 2, dropout=0.0, dtype=torch.float64, **sizes)
    ours = nn.Transformer(D, 2, dropout=0.0, **sizes)
    load_from_torch(ours, theirs)
    rng = _rng(11)
    arrays = {"src": _sequence(rng, S, False, False), "tgt": _sequence(rng, L, False, False)}
    arrays["causal"] = np.triu(np.full((L, L), -np.inf), 1)

    def call(model: Any, x: Inputs) -> Any:
        return model(x["src"], x["tgt"], tgt_mask=x["causal"])

    compare(ours, theirs, arrays, call)


def test_in_eval_mode_pytorchs_fast_paths_agree_on_every_real_token() -> None:
    """Without gradients in eval mode PyTorch takes its fused paths (nested tensors for the
    padding, which give 0 at padded positions): the real tokens must agree."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(D, 2, FF, batch_first=True, dtype=torch.float64), 2
        ).eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 2, FF, batch_first=True), 2)
    load_from_torch(ours, theirs, seed=14)
    ours.eval()
    x = _rng(15).standard_normal((N, S, D))
    padded = np.zeros((N, S), dtype=bool)
    padded[0, 3:] = True
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "nested tensors are a prototype"
        expected = theirs(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(padded))
    assert not expected.numpy()[padded].any()  # the fused path did run
    with ag.no_grad():
        actual = ours(x, src_key_padding_mask=padded)
    real = ~padded
    _close(actual.data[real], expected.numpy()[real], "real tokens")


def test_generate_square_subsequent_mask_is_pytorchs() -> None:
    for size in (0, 1, 5):
        expected = torch.nn.Transformer.generate_square_subsequent_mask(size, dtype=torch.float64)
        np.testing.assert_array_equal(
            nn.Transformer.generate_square_subsequent_mask(size).data, expected.numpy()
        )


# --------------------------------------------------------------------------------------------
# State dicts, both ways
# --------------------------------------------------------------------------------------------


def _pair(kind: str) -> tuple[nn.Module, Any]:
    f64 = {"dtype": torch.float64}
    if kind == "mha":
        return nn.MultiheadAttention(E, HEADS), torch.nn.MultiheadAttention(E, HEADS, **f64)
    if kind == "mha_kdim_vdim_bias_kv":
        options = {"kdim": 5, "vdim": 3, "add_bias_kv": True}
        return (
            nn.MultiheadAttention(E, HEADS, **options),
            torch.nn.MultiheadAttention(E, HEADS, **options, **f64),
        )
    if kind == "encoder_layer":
        return nn.TransformerEncoderLayer(D, 2, FF), torch.nn.TransformerEncoderLayer(
            D, 2, FF, **f64
        )
    if kind == "decoder_layer":
        return nn.TransformerDecoderLayer(D, 2, FF), torch.nn.TransformerDecoderLayer(
            D, 2, FF, **f64
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(D, 2, 2, 1, FF, **f64)
    return nn.Transformer(D, 2, 2, 1, FF), theirs


@pytest.mark.parametrize(
    "kind", ["mha", "mha_kdim_vdim_bias_kv", "encoder_layer", "decoder_layer", "transformer"]
)
def test_state_dicts_load_both_ways_with_identical_keys_in_the_same_order(kind: str) -> None:
    ours, theirs = _pair(kind)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        assert value.shape == tuple(theirs.state_dict()[key].shape), key
    # ours -> torch: PyTorch computes with our (freshly initialized) weights
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours.state_dict()[key], err_msg=key)
    # torch -> ours
    load_from_torch(ours, theirs, seed=12)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy(), err_msg=key)


def test_a_model_initialized_by_us_computes_the_same_in_pytorch() -> None:
    """ours -> torch, then one forward pass each: the weights mean the same on both sides."""
    ours = nn.TransformerEncoderLayer(D, 2, FF, dropout=0.0, generator=3)
    theirs = torch.nn.TransformerEncoderLayer(D, 2, FF, dropout=0.0, dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = _rng(13).standard_normal((L, N, D))
    _close(ours(x), theirs(torch.from_numpy(x)), "encoder layer output")
