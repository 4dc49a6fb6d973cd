"""The baseline: a feed-forward ReLU network with softmax cross-entropy, forward and backward
written by hand in numpy, doing exactly the matmuls an autodiff engine has to do."""

from __future__ import annotations

from typing import Any

import numpy as np


class NumpyMLP:
    """Weights (out, in) as PyTorch; plain SGD."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.weights = [w.copy() for w in weights]
        self.biases = [b.copy() for b in biases]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits and the activations the backward pass needs."""
        activations = [x]
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w.T
            h += b
            if i < last:
                h = np.maximum(h, 0.0)
                activations.append(h)
        return h, activations

    def step(self, x: np.ndarray, labels: np.ndarray, lr: float) -> float:
        """One SGD step on mean cross-entropy; returns the loss."""
        logits, activations = self.forward(x)
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
        delta = exp / total  # d loss / d logits = (softmax - one_hot) / n
        delta[rows, labels] -= 1.0
        delta /= len(labels)
        for i in range(len(self.weights) - 1, -1, -1):
            a = activations[i]
            grad_w = delta.T @ a
            grad_b = delta.sum(axis=0)
            if i > 0:  # the input needs no gradient
                delta = delta @ self.weights[i]
                delta *= a > 0
            self.weights[i] -= lr * grad_w
            self.biases[i] -= lr * grad_b
        return loss

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[0].argmax(axis=1)


def matmul_floor(weights: list[np.ndarray], x: np.ndarray, delta: np.ndarray) -> None:
    """Only the matmuls of one step (forward, weight gradients, hidden deltas): the floor."""
    activations = [x]
    h = x
    for w in weights:
        h = h @ w.T
        activations.append(h)
    d = delta
    for i in range(len(weights) - 1, -1, -1):
        d.T @ activations[i]
        if i > 0:
            d = d @ weights[i]


def our_mlp(weights: list[np.ndarray], biases: list[np.ndarray]) -> Any:
    """nn.MLP with ReLU, its Linear layers set to the given weights."""
    import nn

    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    model = nn.MLP(sizes, activation="relu")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for layer, w, b in zip(linears, weights, biases, strict=True):
        layer.weight.data = w.copy()
        layer.bias.data = b.copy()
    return model


def torch_mlp(torch: Any, weights: list[np.ndarray], biases: list[np.ndarray]) -> Any:
    """torch.nn.Sequential of Linear and ReLU layers set to the given weights."""
    layers: list[Any] = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(torch.from_numpy(weights[0]).dtype)
