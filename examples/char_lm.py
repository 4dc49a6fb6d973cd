"""Train a character-level LSTM language model on H. G. Wells' *The Time Machine*.

The bundled novel (nn.datasets.load_time_machine) is lower-cased with every run of
non-letters made one space (27 characters), and cut into ids by nn.datasets.CharTokenizer;
the first 90% is for training, the last 10% for validation. The model reads characters
(an embedding, then nn.LSTM, then a linear map to scores over the next character) and is
trained on windows of the text cut at a random offset each epoch (truncated backpropagation
through time: the graph, and the gradient, stop at the window's start), with Adam and
gradient clipping. It prints a sample continuing "the time traveller" before and after
training, the validation loss and perplexity after each epoch next to the unigram baseline
(the character frequencies alone), and writes the validation loss curve as a PNG.

Run: .venv/bin/python examples/char_lm.py [--epochs 4] [--hidden 128] [--seed 0] [--out out]
     (--quick: a few steps, for the tests)
"""

from __future__ import annotations

import os

# One BLAS thread (set before numpy is imported): the matrices here are small, a second thread
# gains nothing, and on a busy machine it made training several times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import re
import time
from pathlib import Path

import numpy as np

import autograd_core as ag
import nn
from autograd_core import Tensor
from nn.datasets import CharTokenizer, lm_windows
from nn.functional import cross_entropy

PROMPT = "the time traveller"
DTYPE = np.float32
State = tuple[Tensor, Tensor]  # the LSTM's (h, c)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="passes over the training text")
    parser.add_argument("--hidden", type=int, default=128, help="the LSTM's hidden size")
    parser.add_argument("--embedding", type=int, default=32, help="embedding size")
    parser.add_argument("--seq-len", type=int, default=32, help="characters per window (BPTT)")
    parser.add_argument("--batch-size", type=int, default=32, help="windows per step")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    parser.add_argument("--temperature", type=float, default=0.5, help="for the samples")
    parser.add_argument("--seed", type=int, default=0, help="seed for init, batches, samples")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNG")
    parser.add_argument("--quick", action="store_true", help="a few steps only (for tests)")
    return parser.parse_args()


def load_text() -> str:
    """The novel in lower case, every run of non-letters (punctuation, line breaks) one
    space: 26 letters and the space."""
    return re.sub("[^a-z]+", " ", nn.datasets.load_time_machine().lower())


class CharLSTM(nn.Module):
    """Characters -> embedding -> LSTM -> scores for the next character at every position."""

    def __init__(self, vocab_size: int, embedding: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding, dtype=DTYPE)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True, dtype=DTYPE)
        self.to_vocab = nn.Linear(hidden, vocab_size, dtype=DTYPE)

    def forward(self, ids: np.ndarray, state: State | None = None) -> tuple[Tensor, State]:
        """ids (N, T) -> scores (N, T, vocab_size) and the final state, from which the next
        call can continue the sequences."""
        output, state = self.lstm(self.embed(ids), state)
        return self.to_vocab(output), state


def unigram_loss(train: np.ndarray, val: np.ndarray, vocab_size: int) -> float:
    """The baseline: cross-entropy of the validation text under the training text's character
    frequencies (a model that ignores the context)."""
    frequency = np.bincount(train, minlength=vocab_size) / len(train)
    return float(-np.mean(np.log(frequency[val])))


def evaluate(model: CharLSTM, inputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy (nats per character) of the next-character predictions."""
    with ag.no_grad():
        scores, _ = model(inputs)
        return cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1)).item()


def sample(
    model: CharLSTM,
    tokenizer: CharTokenizer,
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> str:
    """PROMPT continued by `length` characters, each drawn from softmax(scores / temperature)
    (lower temperature: likelier characters, less variety), carrying the LSTM's state so each
    step reads one character."""
    text = PROMPT
    with ag.no_grad():
        scores, state = model(tokenizer.encode(PROMPT)[None])
        for _ in range(length):
            logits = scores.data[0, -1].astype(np.float64) / temperature
            probabilities = np.exp(logits - logits.max())
            token = int(rng.choice(len(tokenizer), p=probabilities / probabilities.sum()))
            text += tokenizer.vocab[token]
            scores, state = model(np.array([[token]]), state)
    return text


def train_epoch(
    model: CharLSTM,
    optimizer: nn.optim.Optimizer,
    ids: np.ndarray,
    args: argparse.Namespace,
    rng: np.random.Generator,
    max_steps: int | None = None,
) -> list[float]:
    """One pass over the training ids in shuffled windows of seq_len characters, cut at a
    random offset (so window boundaries move between epochs); returns each step's loss."""
    offset = int(rng.integers(args.seq_len))
    inputs, targets = lm_windows(ids[offset:], args.seq_len)
    order = rng.permutation(len(inputs))
    batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]
    losses = []
    for batch in batches[:max_steps]:
        scores, _ = model(inputs[batch])
        loss = cross_entropy(scores.reshape(-1, scores.shape[-1]), targets[batch].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)  # tames exploding steps
        optimizer.step()
        losses.append(loss.item())
    return losses


def write_curve(
    train_losses: list[list[float]], val_losses: list[float], baseline: float, path: Path
) -> None:
    """The validation loss after each epoch (epoch 0: untrained) and the training loss of
    every step, with the unigram baseline for scale."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    steps = [epoch + np.arange(1, len(ls) + 1) / len(ls) for epoch, ls in enumerate(train_losses)]
    ax.plot(np.concatenate(steps), np.concatenate(train_losses), alpha=0.4, label="training steps")
    epochs = np.arange(len(val_losses))
    ax.plot(epochs, val_losses, "o-", color="tab:orange", label="validation")
    ax.axhline(baseline, color="gray", linestyle="--", label="unigram baseline")
    ax.set_xticks(epochs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Character-level LSTM on The Time Machine")
    ax.legend()
    figure.savefig(path, dpi=100)
    print(f"curve: {path}")


def main() -> None:
    args = parse_args()
    if args.quick:
        args.epochs = 2
    start = time.perf_counter()
    text = load_text()
    tokenizer = CharTokenizer(text)
    ids = tokenizer.encode(text)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    val_inputs, val_targets = lm_windows(val_ids, args.seq_len)
    if args.quick:
        val_inputs, val_targets = val_inputs[:64], val_targets[:64]
    baseline = unigram_loss(train_ids, val_ids, len(tokenizer))
    print(
        f"{len(text):,} characters, {len(tokenizer)} distinct; unigram baseline "
        f"{baseline:.3f} nats (perplexity {math.exp(baseline):.1f})"
    )

    nn.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = CharLSTM(len(tokenizer), args.embedding, args.hidden)
    optimizer = nn.optim.Adam(model.parameters(), lr=args.lr)
    print(f"before training: {sample(model, tokenizer, 80, args.temperature, rng)!r}")
    train_losses, val_losses = [], [evaluate(model, val_inputs, val_targets)]
    print(f"epoch 0: validation loss {val_losses[0]:.3f} (untrained)")
    for epoch in range(1, args.epochs + 1):
        losses = train_epoch(model, optimizer, train_ids, args, rng, 5 if args.quick else None)
        train_losses.append(losses)
        val_losses.append(evaluate(model, val_inputs, val_targets))
        print(
            f"epoch {epoch}: train loss {np.mean(losses):.3f}, validation loss "
            f"{val_losses[-1]:.3f} (perplexity {math.exp(val_losses[-1]):.2f}; unigram "
            f"{baseline:.3f})"
        )
    print(f"after training: {sample(model, tokenizer, 160, args.temperature, rng)!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    write_curve(train_losses, val_losses, baseline, args.out / "char_lm_loss.png")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
