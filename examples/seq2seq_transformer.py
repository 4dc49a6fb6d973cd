"""Train a small encoder-decoder Transformer to reverse sequences, then decode it greedily, with
and without a key/value cache.

The task (nn.datasets.make_reverse_task at random lengths): read a sequence of 3 to 10 symbols
(shown as the letters a..j) and write it backwards, then EOS. Shorter sequences are padded, so
the encoder and the cross-attention get key padding masks; training uses teacher forcing (the
decoder reads the target shifted right behind a BOS token, under a causal mask). Then it
decodes held-out sequences, which training never saw, one token at a time from its own
outputs, two ways: (a) re-running the decoder on the whole prefix at every step, and (b)
keeping each decoder layer's keys and values in a cache, so each step computes only the new
position. It prints the exact-match accuracy, a few examples, that (a) and (b) emit the same
tokens, and the speed-up of (b), and writes the training loss curve as a PNG.

Run: .venv/bin/python examples/seq2seq_transformer.py [--steps 400] [--seed 0] [--out out]
     (--quick: a few steps, for the tests)
"""

from __future__ import annotations

import os

# One BLAS thread (set before numpy is imported): the matrices here are small, a second thread
# gains nothing, and on a busy machine it made training several times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import autograd_core as ag
import nn
from autograd_core import Tensor
from nn.datasets import BOS, EOS, PAD
from nn.functional import cross_entropy, scaled_dot_product_attention

SYMBOLS = "abcdefghij"  # ids 3..12 (0, 1 and 2 are PAD, BOS and EOS)
VOCAB_SIZE = 3 + len(SYMBOLS)
MIN_LEN, MAX_LEN = 3, 10
OUT_LEN = MAX_LEN + 1  # the reversed sequence, then EOS
DTYPE = np.float32


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps (batches)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam's peak learning rate")
    parser.add_argument("--test-size", type=int, default=1000, help="held-out sequences")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and initialization")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNG")
    parser.add_argument("--quick", action="store_true", help="a few steps only (for tests)")
    return parser.parse_args()


# -- data --------------------------------------------------------------------------------------


def reversal_pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` sequences of random lengths MIN_LEN..MAX_LEN and their reversals followed by EOS,
    padded with PAD: src (n, MAX_LEN), tgt (n, OUT_LEN)."""
    src = np.full((n, MAX_LEN), PAD)
    tgt = np.full((n, OUT_LEN), PAD)
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, size=n)
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        forward, backward = nn.datasets.make_reverse_task(len(rows), int(length), VOCAB_SIZE, rng)
        src[rows, :length], tgt[rows, :length], tgt[rows, length] = forward, backward, EOS
    return src, tgt


def drop_held_out(
    src: np.ndarray, tgt: np.ndarray, held_out: set[bytes]
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose source is not a held-out one, so the test measures generalization."""
    keep = np.array([row.tobytes() not in held_out for row in src])
    return src[keep], tgt[keep]


def shift_right(tgt: np.ndarray) -> np.ndarray:
    """Teacher forcing's decoder input: BOS, then the target without its last token, so
    position t reads the true tokens before t and is trained to predict token t."""
    return np.concatenate([np.full((len(tgt), 1), BOS), tgt[:, :-1]], axis=1)


def spell(ids: np.ndarray) -> str:
    """Symbols as letters, up to the first EOS (or PAD)."""
    letters = []
    for token in ids:
        if token in (EOS, PAD):
            break
        letters.append(SYMBOLS[token - 3] if token >= 3 else "?")
    return "".join(letters)


# -- model -------------------------------------------------------------------------------------


class Reverser(nn.Module):
    """Token embedding + sinusoidal positions -> nn.Transformer (encoder and decoder) -> a
    linear map of each decoder output to scores over the vocabulary.

    The embeddings are not multiplied by sqrt(d_model), as in the paper: nn.Embedding starts
    at N(0, 1), already as large as the positional encoding, and scaled up it drowned the
    positions, which reversing needs (the model learned several times slower). Pre-norm
    (norm_first) layers also trained faster here than post-norm ones.
    """

    def __init__(
        self,
        d_model: int = 32,
        nhead: int = 2,
        layers: int = 2,
        norm_first: bool = True,
        dtype: type = DTYPE,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB_SIZE, d_model, padding_idx=PAD, dtype=dtype)
        self.position = nn.PositionalEncoding(d_model, OUT_LEN, batch_first=True, dtype=dtype)
        self.transformer = nn.Transformer(
            d_model, nhead, layers, layers, dim_feedforward=2 * d_model, dropout=0.0,
            batch_first=True, norm_first=norm_first, dtype=dtype,
        )  # fmt: skip
        self.to_vocab = nn.Linear(d_model, VOCAB_SIZE, dtype=dtype)
        self.dtype = dtype

    def forward(self, src: np.ndarray, tgt_in: np.ndarray) -> Tensor:
        """Teacher forcing: the scores (N, T, VOCAB_SIZE) for every target position at once.
        The causal mask hides later positions (which also hides the target's padding from
        every real position); the padding masks hide the source's padding."""
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1], dtype=self.dtype)
        out = self.transformer(
            self.position(self.embed(src)),
            self.position(self.embed(tgt_in)),
            tgt_mask=causal,
            src_key_padding_mask=src == PAD,
            memory_key_padding_mask=src == PAD,
        )
        return self.to_vocab(out)

    def encode(self, src: np.ndarray) -> Tensor:
        """The encoder's output (the decoder's `memory`), (N, S, d_model)."""
        source = self.position(self.embed(src))
        return self.transformer.encoder(source, src_key_padding_mask=src == PAD)

    def decode(self, tgt_in: np.ndarray, memory: Tensor, src: np.ndarray) -> Tensor:
        """The scores (N, T, VOCAB_SIZE) for a target prefix, given the encoder's memory."""
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1], dtype=self.dtype)
        out = self.transformer.decoder(
            self.position(self.embed(tgt_in)),
            memory,
            tgt_mask=causal,
            memory_key_padding_mask=src == PAD,
        )
        return self.to_vocab(out)


# -- training ----------------------------------------------------------------------------------


def train(
    model: Reverser, args: argparse.Namespace, rng: np.random.Generator, held_out: set[bytes]
) -> list[float]:
    """Adam with a one-cycle schedule (warm-up, then cosine decay) and gradient clipping, on
    fresh random batches; returns the loss of every step."""
    optimizer = nn.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = nn.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.steps, pct_start=0.15
    )
    losses = []
    for step in range(1, args.steps + 1):
        src, tgt = drop_held_out(*reversal_pairs(args.batch_size, rng), held_out)
        logits = model(src, shift_right(tgt))
        loss = cross_entropy(logits.reshape(-1, VOCAB_SIZE), tgt.reshape(-1), ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if step % max(1, args.steps // 8) == 0 or step == args.steps:
            print(f"step {step:4d}: loss {np.mean(losses[-20:]):.4f} (mean of the last 20)")
    return losses


# -- greedy decoding, (a): the whole prefix at every step ----------------------------------------


def greedy_decode(model: Reverser, src: np.ndarray, steps: int = OUT_LEN) -> np.ndarray:
    """Autoregressive greedy decoding: feed BOS, take the most likely next token, append it,
    and run the decoder again on the whole prefix. Step t recomputes all t positions of every
    layer. Returns the tokens (N, steps)."""
    with ag.no_grad():
        memory = model.encode(src)
        prefix = np.full((len(src), 1), BOS)
        for _ in range(steps):
            scores = model.decode(prefix, memory, src).data[:, -1]
            prefix = np.concatenate([prefix, scores.argmax(axis=-1)[:, None]], axis=1)
    return prefix[:, 1:]


# -- greedy decoding, (b): with a key/value cache ------------------------------------------------

QUERY, KEY, VALUE = 0, 1, 2  # the three blocks of MultiheadAttention.in_proj_weight


def project(attn: nn.MultiheadAttention, x: Tensor, part: int) -> Tensor:
    """x W^part + b^part with the layer's own packed weights, split into heads:
    (N, L, E) -> (N, heads, L, E / heads)."""
    rows = slice(part * attn.embed_dim, (part + 1) * attn.embed_dim)
    bias = None if attn.in_proj_bias is None else attn.in_proj_bias[rows]
    y = ag.linear(x, attn.in_proj_weight[rows], bias)
    return y.reshape(y.shape[0], y.shape[1], attn.num_heads, attn.head_dim).permute(0, 2, 1, 3)


def attend(
    attn: nn.MultiheadAttention,
    x: Tensor,
    keys: Tensor,
    values: Tensor,
    key_padding_mask: np.ndarray | None = None,
) -> Tensor:
    """Multi-head attention of the new position x (N, 1, E) over given keys and values
    (N, heads, S, E / heads): the queries are projected, the heads attend, W^O merges them."""
    allowed = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]
    heads = scaled_dot_product_attention(project(attn, x, QUERY), keys, values, allowed)
    merged = heads.permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], attn.embed_dim)
    return attn.out_proj(merged)


@dataclass
class LayerCache:
    """What one decoder layer keeps between steps: its self-attention keys and values of the
    positions decoded so far (one more each step), and its cross-attention keys and values of
    the encoder's memory (computed once: the memory does not change while decoding).
    Growing the cache by concatenation copies it each step; a production cache preallocates
    room for the longest output instead."""

    memory_keys: Tensor
    memory_values: Tensor
    keys: Tensor | None = None
    values: Tensor | None = None

    def append(self, keys: Tensor, values: Tensor) -> tuple[Tensor, Tensor]:
        """Add the new position's keys and values (N, heads, 1, E / heads); return all the
        cached ones (N, heads, positions so far, E / heads)."""
        if self.keys is not None and self.values is not None:
            keys = ag.cat([self.keys, keys], dim=2)
            values = ag.cat([self.values, values], dim=2)
        self.keys, self.values = keys, values
        return keys, values


def start_cache(layer: nn.TransformerDecoderLayer, memory: Tensor) -> LayerCache:
    """A layer's cache before the first step: the memory's cross-attention keys and values."""
    cross = layer.multihead_attn
    return LayerCache(project(cross, memory, KEY), project(cross, memory, VALUE))


def decoder_layer_step(
    layer: nn.TransformerDecoderLayer, x: Tensor, cache: LayerCache, memory_padding: np.ndarray
) -> Tensor:
    """One new position x (N, 1, E) through a decoder layer, as its forward would compute it
    for the last position of the whole prefix. No causal mask is needed: every cached
    position is in the new one's past."""

    def residual(x: Tensor, norm: nn.Module, sublayer: Callable[[Tensor], Tensor]) -> Tensor:
        return x + sublayer(norm(x)) if layer.norm_first else norm(x + sublayer(x))

    def self_attention(h: Tensor) -> Tensor:
        attn = layer.self_attn
        keys, values = cache.append(project(attn, h, KEY), project(attn, h, VALUE))
        return attend(attn, h, keys, values)

    def cross_attention(h: Tensor) -> Tensor:
        keys, values = cache.memory_keys, cache.memory_values
        return attend(layer.multihead_attn, h, keys, values, memory_padding)

    def feed_forward(h: Tensor) -> Tensor:
        return layer.linear2(layer.activation(layer.linear1(h)))

    x = residual(x, layer.norm1, self_attention)
    x = residual(x, layer.norm2, cross_attention)
    return residual(x, layer.norm3, feed_forward)


def decode_step(
    model: Reverser, caches: list[LayerCache], tokens: np.ndarray, position: int, src: np.ndarray
) -> np.ndarray:
    """The scores (N, VOCAB_SIZE) for the position after `tokens` (N,), the tokens at
    `position`, updating the caches."""
    x = model.embed(tokens[:, None]) + model.position.pe[position]
    for layer, cache in zip(model.transformer.decoder.layers, caches, strict=True):
        x = decoder_layer_step(layer, x, cache, src == PAD)
    decoder_norm = model.transformer.decoder.norm
    if decoder_norm is not None:
        x = decoder_norm(x)
    return model.to_vocab(x).data[:, -1]


def cached_greedy_decode(model: Reverser, src: np.ndarray, steps: int = OUT_LEN) -> np.ndarray:
    """Greedy decoding as `greedy_decode`, but each step runs only the new position through
    the decoder, attending to the cached keys and values. Returns the tokens (N, steps)."""
    with ag.no_grad():
        memory = model.encode(src)
        caches = [start_cache(layer, memory) for layer in model.transformer.decoder.layers]
        tokens = np.full(len(src), BOS)
        out = []
        for position in range(steps):
            tokens = decode_step(model, caches, tokens, position, src).argmax(axis=-1)
            out.append(tokens)
    return np.stack(out, axis=1)


# -- evaluation --------------------------------------------------------------------------------


def exact_match(predicted: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """Per sequence: every token up to and including EOS is right (what follows is ignored)."""
    return ((predicted == tgt) | (tgt == PAD)).all(axis=1)


Decoder = Callable[[Reverser, np.ndarray], np.ndarray]


def timed(decode: Decoder, model: Reverser, src: np.ndarray) -> tuple[np.ndarray, float]:
    """The decoded tokens and the seconds the decoding took."""
    start = time.perf_counter()
    tokens = decode(model, src)
    return tokens, time.perf_counter() - start


def write_curve(losses: list[float], path: Path) -> None:
    """The training loss per step, on a log scale."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    ax.semilogy(np.arange(1, len(losses) + 1), losses)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (teacher forcing)")
    ax.set_title("Transformer learning to reverse sequences")
    figure.savefig(path, dpi=100)
    print(f"curve: {path}")


def main() -> None:
    args = parse_args()
    if args.quick:
        args.steps, args.test_size = 10, 50
    start = time.perf_counter()
    test_src, test_tgt = reversal_pairs(args.test_size, np.random.default_rng(args.seed + 1))
    held_out = {row.tobytes() for row in test_src}
    nn.manual_seed(args.seed)
    model = Reverser()
    size = sum(p.numel() for p in model.parameters())
    print(f"an encoder-decoder Transformer of {size:,} parameters learns to reverse sequences")
    losses = train(model, args, np.random.default_rng(args.seed), held_out)
    model.eval()

    full, full_seconds = timed(greedy_decode, model, test_src)
    cached, cached_seconds = timed(cached_greedy_decode, model, test_src)
    correct = exact_match(cached, test_tgt)
    print(f"exact match on {len(test_src)} held-out sequences: {correct.mean():.2%}")
    for source, target, guess in list(zip(test_src, test_tgt, cached, strict=True))[:5]:
        mark = "ok" if exact_match(guess[None], target[None])[0] else f"wrong, not {spell(target)}"
        print(f"  {spell(source):>10} -> {spell(guess):<10} {mark}")
    agree = "agree" if np.array_equal(full, cached) else "DISAGREE"
    print(f"full-prefix and cached decoding {agree} on all {full.size} tokens")
    print(
        f"greedy decoding: full prefix {full_seconds:.3f} s, key/value cache "
        f"{cached_seconds:.3f} s: {full_seconds / cached_seconds:.1f}x faster"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_curve(losses, args.out / "seq2seq_loss.png")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
