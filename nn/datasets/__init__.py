"""Small data sets that need no network: the bundled 8x8 handwritten digits, one bundled colour
photo (to show image augmentations on) and 2-D toy problems (XOR, two moons, concentric
circles, spirals) for classification demos.

Every generator is `(n_samples, noise=..., seed=...) -> (X, y)` with X float64 (n, 2) and
y int64 (n,); the same seed gives the same data.

For sequence models (nn.datasets.text, nn.datasets.sequences): the bundled text of
*The Time Machine* (`load_time_machine`), a character-level tokenizer (`CharTokenizer`),
next-character windows (`lm_windows`), and seeded synthetic tasks
`make_copy_task`/`make_reverse_task`/`make_sort_task`/`make_addition_task` ->
(src, tgt) int64 arrays, with ids `PAD`, `BOS`, `EOS` = 0, 1, 2 reserved.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from nn.datasets.sequences import (
    ADDITION_VOCAB,
    BOS,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    make_addition_task,
    make_copy_task,
    make_reverse_task,
    make_sort_task,
)
from nn.datasets.text import CharTokenizer, lm_windows, load_time_machine

__all__ = [
    "ADDITION_VOCAB",
    "BOS",
    "EOS",
    "PAD",
    "SPECIAL_TOKENS",
    "CharTokenizer",
    "lm_windows",
    "load_digits",
    "load_sample_photo",
    "load_time_machine",
    "make_addition_task",
    "make_circles",
    "make_copy_task",
    "make_moons",
    "make_reverse_task",
    "make_sort_task",
    "make_spirals",
    "make_xor",
]


def load_digits(normalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical handwritten digits (Alpaydin & Kaynak, 1998; CC BY 4.0): X float64
    (1797, 64) of 8x8 images with values 0..16 (divided by 16 into [0, 1] with
    `normalize=True`), y int64 (1797,) of classes 0..9. Shipped in the package; see
    nn/datasets/DIGITS_LICENSE.txt for the citation."""
    path = resources.files(__package__).joinpath("digits.npz")
    with path.open("rb") as f, np.load(f, allow_pickle=False) as data:
        images, target = data["images"], data["target"]
    X = images.astype(np.float64)
    return (X / 16.0 if normalize else X), target.astype(np.int64)


def load_sample_photo() -> np.ndarray:
    """A colour photo, "Chelsea the cat" by Stefan van der Walt (CC0, from scikit-image's
    sample data), downscaled to 100x100: float64 (3, H, W), RGB channels first, values in
    [0, 1]. `photo[None]` is a batch of one for `nn.transforms`. Shipped in the package; see
    nn/datasets/CHELSEA_LICENSE.txt for the source and the licence."""
    path = resources.files(__package__).joinpath("chelsea.npz")
    with path.open("rb") as f, np.load(f, allow_pickle=False) as data:
        image = data["image"]
    return image.astype(np.float64) / 255.0


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check(name: str, n_samples: int, noise: float) -> None:
    if n_samples < 1:
        raise ValueError(f"{name}: n_samples must be at least 1, got {n_samples}")
    if noise < 0:
        raise ValueError(f"{name}: noise must be non-negative, got {noise}")


def make_xor(
    n_samples: int = 4, noise: float = 0.0, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: the corners (0,0), (0,1), (1,0), (1,1) with labels 0, 1, 1, 0, in that
    order and repeated to n_samples, plus Gaussian noise of std `noise`. Not linearly
    separable: the classic reason for a hidden layer. make_xor() is the truth table."""
    _check("make_xor", n_samples, noise)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    index = np.arange(n_samples) % 4
    X = corners[index] + noise * _rng(seed).standard_normal((n_samples, 2))
    return X, np.array([0, 1, 1, 0], dtype=np.int64)[index]


def make_moons(
    n_samples: int = 100, noise: float = 0.0, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn): class 0 on (cos t, sin t), class 1 on
    (1 - cos t, 1/2 - sin t), t in [0, pi], shuffled, plus Gaussian noise."""
    _check("make_moons", n_samples, noise)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    return _two_classes(
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        noise,
        seed,
    )


def _two_classes(
    class_0: np.ndarray, class_1: np.ndarray, noise: float, seed: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Points of two classes as (X, y), shuffled, plus Gaussian noise of std `noise`."""
    X = np.concatenate([class_0, class_1])
    y = np.concatenate([np.zeros(len(class_0), np.int64), np.ones(len(class_1), np.int64)])
    rng = _rng(seed)
    order = rng.permutation(len(y))
    return X[order] + noise * rng.standard_normal(X.shape), y[order]


def make_circles(
    n_samples: int = 100,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1), shuffled, plus
    Gaussian noise (as scikit-learn)."""
    _check("make_circles", n_samples, noise)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    return _two_classes(
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
        noise,
        seed,
    )


def make_spirals(
    n_samples: int = 100,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    n_classes: int = 2,
    turns: float = 1.5,
) -> tuple[np.ndarray, np.ndarray]:
    """`n_classes` interleaved spiral arms from the origin, each making `turns` turns; arm c
    is the first arm rotated by 2 pi c / n_classes. Shuffled, plus Gaussian noise."""
    _check("make_spirals", n_samples, noise)
    if n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be at least 2, got {n_classes}")
    y = np.arange(n_samples, dtype=np.int64) % n_classes
    rng = _rng(seed)
    r = rng.uniform(0.05, 1.0, n_samples)
    angle = 2 * np.pi * (turns * r + y / n_classes)
    X = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    X = X + noise * rng.standard_normal((n_samples, 2))
    return X, y
