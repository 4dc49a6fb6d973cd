"""Train a multilayer perceptron (or a small CNN) on the bundled 8x8 handwritten digits.

Loads the digits (shipped in the package, no network), trains `nn.MLP` with Adam while a
progress bar shows the live loss, prints the test accuracy, and writes the loss/accuracy
curves and the model's computation graph as PNGs. With `--model cnn` it trains a LeNet-style
network on the digits as 1x8x8 images instead, and also draws its first layer's feature maps.

Run: .venv/bin/python demo.py [--model mlp|cnn] [--epochs N] [--hidden 64] [--out out]
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
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp", help="the network")
    parser.add_argument(
        "--epochs", type=int, default=None, help="passes over the training set (mlp 20, cnn 8)"
    )
    parser.add_argument(
        "--hidden", type=int, nargs="*", default=[64], help="hidden layer widths, e.g. 128 64"
    )
    parser.add_argument(
        "--activation", default="relu", choices=sorted(nn.ACTIVATIONS), help="hidden activation"
    )
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate (1e-3, 3e-3)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="seed for split, init and shuffling")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNGs")
    return parser.parse_args()


def lenet_style() -> nn.Sequential:
    """Two 3x3 convolutions with batch norm, ReLU and 2x2 max pooling (8x8 -> 4x4 -> 2x2),
    then two fully connected layers: LeNet's pattern at the digits' size."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def write_graph(model: nn.Module, x: ag.Tensor, path: Path, title: str, collapse: bool) -> None:
    """Draw the computation graph of model(x) as a PNG: one labelled cluster (or, collapsed,
    one box) per module."""
    graph = ag.draw_graph(model(x), model=model, title=title, collapse_modules=collapse)
    graph.render(path)
    print(f"graph: {path}")


def write_feature_maps(model: nn.Sequential, image: np.ndarray, path: Path) -> None:
    """The digit and what each of the first layer's filters makes of it (after ReLU)."""
    from matplotlib.figure import Figure

    with ag.no_grad():
        maps = model[2](model[1](model[0](ag.Tensor(image[None])))).data[0]
    figure = Figure(figsize=(9, 5), layout="constrained")
    axes = figure.subplots(3, 6)
    panels = [(image[0], "input digit")]
    panels += [(fmap, f"filter {k}") for k, fmap in enumerate(maps)]
    for ax, (picture, name) in zip(axes.flat, panels, strict=False):
        ax.imshow(picture, cmap="gray" if name == "input digit" else "magma")
        ax.set_title(name, fontsize=8)
    for ax in axes.flat:
        ax.set_axis_off()
    figure.suptitle("First convolution layer: bright where a filter's pattern appears")
    figure.savefig(path, dpi=100)
    print(f"feature maps: {path}")


def main() -> None:
    args = parse_args()
    cnn = args.model == "cnn"
    epochs = args.epochs or (8 if cnn else 20)
    start = time.perf_counter()
    X, y = nn.datasets.load_digits()  # 1797 images of 8x8 pixels, values 0..16
    X = X / 16.0
    if cnn:
        X = X.reshape(-1, 1, 8, 8)  # (N, channels, height, width)
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

    sizes = [64, *args.hidden, 10]
    model = lenet_style() if cnn else nn.MLP(sizes, activation=args.activation)
    print(model)
    optimizer = nn.optim.Adam(model.parameters(), lr=args.lr or (3e-3 if cnn else 1e-3))
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs) if cnn else None
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        epochs=epochs,
        val_loader=test_loader,
        metrics=["accuracy"],
        scheduler=scheduler,
    )
    scores = nn.evaluate(model, test_loader, nn.CrossEntropyLoss())
    print(
        f"{len(train)} training / {len(test)} test images, {epochs} epochs: "
        f"train loss {history['loss'][-1]:.4f}, test loss {scores['loss']:.4f}, "
        f"test accuracy {scores['accuracy']:.2%}"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    name = "digits_cnn" if cnn else "digits"
    curves = args.out / f"{name}_curves.png"
    title = "LeNet-style CNN on digits" if cnn else f"MLP {sizes} on digits ({args.activation})"
    history.plot(curves, title=title)
    print(f"curves: {curves}")
    model.eval()
    graph_title = f"{'CNN' if cnn else 'MLP'} forward pass on one digit"
    write_graph(model, ag.Tensor(X[test[:1]]), args.out / f"{name}_graph.png", graph_title, cnn)
    if cnn:
        write_feature_maps(model, X[test[0]], args.out / "digits_cnn_feature_maps.png")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
