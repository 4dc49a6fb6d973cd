"""Train a multilayer perceptron on the bundled 8x8 handwritten digits, in a few seconds.

Loads the digits (shipped in the package, no network), trains `nn.MLP` with Adam while a
progress bar shows the live loss, prints the test accuracy, and writes the loss/accuracy
curves and the model's computation graph as PNGs.

Run: .venv/bin/python demo.py [--epochs 20] [--hidden 64] [--activation relu] [--out out]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import autograd_core as ag
import nn


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument(
        "--hidden", type=int, nargs="*", default=[64], help="hidden layer widths, e.g. 128 64"
    )
    parser.add_argument(
        "--activation", default="relu", choices=sorted(nn.ACTIVATIONS), help="hidden activation"
    )
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="seed for split, init and shuffling")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNGs")
    return parser.parse_args()


def write_graph(model: nn.Module, x: ag.Tensor, path: Path) -> None:
    """Draw the computation graph of model(x) as a PNG: one labelled cluster per module."""
    graph = ag.draw_graph(model(x), model=model, title="MLP forward pass on one digit")
    graph.render(path)
    print(f"graph: {path}")


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    X, y = nn.datasets.load_digits()  # 1797 images of 8x8 pixels, values 0..16
    X = X / 16.0
    order = np.random.default_rng(args.seed).permutation(len(X))
    test, train = order[:360], order[360:]
    nn.manual_seed(args.seed)  # parameter initialization is reproducible
    train_loader = nn.data.DataLoader(
        nn.data.TensorDataset(X[train], y[train]),
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
    )
    test_loader = nn.data.DataLoader(nn.data.TensorDataset(X[test], y[test]), batch_size=360)

    model = nn.MLP([64, *args.hidden, 10], activation=args.activation)
    print(model)
    optimizer = nn.optim.Adam(model.parameters(), lr=args.lr)
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        epochs=args.epochs,
        val_loader=test_loader,
        metrics=["accuracy"],
    )
    scores = nn.evaluate(model, test_loader, nn.CrossEntropyLoss())
    print(
        f"{len(train)} training / {len(test)} test images, {args.epochs} epochs: "
        f"train loss {history['loss'][-1]:.4f}, test loss {scores['loss']:.4f}, "
        f"test accuracy {scores['accuracy']:.2%}"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    curves = args.out / "digits_curves.png"
    history.plot(curves, title=f"MLP {[64, *args.hidden, 10]} on digits ({args.activation})")
    print(f"curves: {curves}")
    write_graph(model, ag.Tensor(X[test[:1]]), args.out / "digits_graph.png")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
