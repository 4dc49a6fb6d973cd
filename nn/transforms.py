"""Image augmentation: random changes to a batch of training images that keep its labels true.

Every transform takes a batch of images `(N, C, H, W)`, a numpy array (the main case:
`DataLoader(..., transform=...)` hands it the batch's inputs as an array) or a `Tensor`, and
returns the same kind: a Tensor goes through differentiable ops, so a gradient can flow back.
One image is `image[None]`.

- `RandomHorizontalFlip(p)`: each image mirrored left-right with probability p.
- `RandomCrop(size, padding)`: zeros around each image, then a random window of `size` from it.
- `PCAColorAugmentation(alpha_std)`: AlexNet's colour jitter along the principal components of
  the training pixels' RGB colours (`fit(images)` first).
- `Normalize(mean, std)`: per channel, (x - mean) / std; deterministic, a plain function of
  the batch, and `inverse` undoes it.
- `Compose([...])`: one after the other.

Randomness is seeded: each random transform draws from its own generator, `generator=` (an int
seed or a `np.random.Generator`; None, the default, is the program's default generator, which
`nn.manual_seed` reseeds). Its `state_dict()` is that generator's state, so a checkpointed
`DataLoader` resumes its augmentations exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from nn.init import as_generator

__all__ = [
    "Compose",
    "Normalize",
    "PCAColorAugmentation",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomTransform",
]

Images = TypeVar("Images", np.ndarray, Tensor)


def _check_batch(name: str, images: Any) -> tuple[int, int, int, int]:
    """The shape (N, C, H, W) of a batch of images, or a clear error naming the transform."""
    if not isinstance(images, (np.ndarray, Tensor)):
        raise TypeError(
            f"{name}: expected a batch of images (N, C, H, W) as a numpy array or Tensor, "
            f"got {type(images).__name__}"
        )
    if images.ndim != 4:
        hint = "; for one image (C, H, W) pass image[None]" if images.ndim == 3 else ""
        raise ValueError(
            f"{name}: expected a batch of images (N, C, H, W), got shape "
            f"{tuple(images.shape)}{hint}"
        )
    if images.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric images (N, C, H, W), got dtype {images.dtype}")
    n, c, h, w = images.shape
    return n, c, h, w


def _check_floating(name: str, images: Any) -> None:
    if images.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected floating images (N, C, H, W), got dtype {images.dtype} "
            "(scale integer images first, e.g. images / 255)"
        )


def _pair(name: str, arg: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each at least `minimum`."""
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in pair
    ):
        raise ValueError(
            f"{name}: {arg} must be an int >= {minimum} or a pair of them (height, width), "
            f"got {value!r}"
        )
    return int(pair[0]), int(pair[1])


def _windows(images: Images, rows: np.ndarray, cols: np.ndarray) -> Images:
    """out[n, c, i, j] = images[n, c, rows[n, i], cols[n, j]]: one window (or reordering) of
    rows and columns per image, as one advanced index that reads the same on an array and
    (differentiably) on a Tensor."""
    n, c = images.shape[:2]
    index = (
        np.arange(n)[:, None, None, None],
        np.arange(c)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    )
    return images[index]


def _zero_pad(images: Images, pad_h: int, pad_w: int) -> Images:
    """`pad_h` rows of zeros above and below each image, `pad_w` columns left and right."""
    if not pad_h and not pad_w:
        return images
    n, c, h, w = images.shape
    if isinstance(images, Tensor):
        padded = ag.zeros(n, c, h + 2 * pad_h, w + 2 * pad_w, dtype=images.dtype)
        padded[:, :, pad_h : pad_h + h, pad_w : pad_w + w] = images  # recorded: grads flow back
        return padded
    return np.pad(images, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))


class RandomTransform:
    """Base of the random transforms: owns the generator it draws from and saves its state.

    Subclass it (and draw only from `self.generator`) to write a random transform whose
    randomness a `DataLoader` checkpoint restores."""

    def __init__(self, generator: int | np.random.Generator | None = None) -> None:
        self.generator = as_generator(generator)

    def state_dict(self) -> dict[str, Any]:
        """{"generator": the generator's state}: where its random draws stand."""
        return {"generator": copy.deepcopy(self.generator.bit_generator.state)}

    def _checked(self, state_dict: Any) -> dict[str, Any]:
        """The generator state in `state_dict`, once it is known to fit (nothing is written)."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"generator"}:
            keys = list(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(f"{name}.load_state_dict: expected the key 'generator', got {keys}")
        scratch = type(self.generator.bit_generator)()
        try:
            state = copy.deepcopy(dict(state_dict["generator"]))
            scratch.state = state
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(
                f"{name}.load_state_dict: the saved generator state does not fit this "
                f"transform's {type(scratch).__name__} ({error})"
            ) from None
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue drawing where the transform that saved `state_dict` stood."""
        self.generator.bit_generator.state = self._checked(state_dict)


class RandomHorizontalFlip(RandomTransform):
    """Mirror each image left-right (reverse its columns) with probability `p`, independently
    per image. Flipping twice the same images gives them back."""

    def __init__(self, p: float = 0.5, generator: int | np.random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        super().__init__(generator)
        self.p = float(p)

    def __call__(self, images: Images) -> Images:
        n, _, h, w = _check_batch("RandomHorizontalFlip", images)
        flip = self.generator.random(n) < self.p
        columns = np.arange(w)
        cols = np.where(flip[:, None], columns[::-1], columns)
        return _windows(images, np.broadcast_to(np.arange(h), (n, h)), cols)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop(RandomTransform):
    """Pad each image with `padding` zeros on every side, then cut out a window of `size`
    (an int for a square, or (height, width)) at a position drawn uniformly per image. With
    `padding` the window can shift the picture by up to `padding` pixels each way."""

    def __init__(
        self,
        size: int | tuple[int, int],
        padding: int | tuple[int, int] = 0,
        generator: int | np.random.Generator | None = None,
    ) -> None:
        self.size = _pair("RandomCrop", "size", size, minimum=1)
        self.padding = _pair("RandomCrop", "padding", padding, minimum=0)
        super().__init__(generator)

    def __call__(self, images: Images) -> Images:
        n, _, h, w = _check_batch("RandomCrop", images)
        (height, width), (pad_h, pad_w) = self.size, self.padding
        padded_h, padded_w = h + 2 * pad_h, w + 2 * pad_w
        if height > padded_h or width > padded_w:
            raise ValueError(
                f"RandomCrop: a {height}x{width} window does not fit images (N, C, H, W) = "
                f"{tuple(images.shape)} padded by {self.padding} to {padded_h}x{padded_w}"
            )
        top = self.generator.integers(0, padded_h - height + 1, size=n)
        left = self.generator.integers(0, padded_w - width + 1, size=n)
        rows = top[:, None] + np.arange(height)
        cols = left[:, None] + np.arange(width)
        return _windows(_zero_pad(images, pad_h, pad_w), rows, cols)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class PCAColorAugmentation(RandomTransform):
    """AlexNet's colour augmentation (Krizhevsky, Sutskever & Hinton, 2012, section 4.1).

    `fit(train_images)` finds the principal components of the colours of all training pixels:
    the eigenvectors p_i and eigenvalues lambda_i of their C x C (RGB: 3 x 3) covariance
    matrix. Each call then draws alpha_i ~ N(0, alpha_std) per image and adds to every pixel
    of that image the same colour offset

        sum_i alpha_i * lambda_i * p_i

    which changes the intensity and colour of the lighting along the directions in which
    natural colours vary most, while the object (and its label) stays the same. The offset is
    the paper's: in units of pixel value squared, so it grows with the square of the pixel
    scale (for images in [0, 1], alpha_std of 0.1 moves colours by about 0.1 * lambda_1)."""

    def __init__(
        self, alpha_std: float = 0.1, generator: int | np.random.Generator | None = None
    ) -> None:
        if not alpha_std >= 0:
            raise ValueError(f"PCAColorAugmentation: alpha_std must be >= 0, got {alpha_std!r}")
        super().__init__(generator)
        self.alpha_std = float(alpha_std)
        self.eigenvalues: np.ndarray | None = None  # (C,), largest first
        self.eigenvectors: np.ndarray | None = None  # (C, C), column i is p_i

    def fit(self, images: np.ndarray | Tensor) -> PCAColorAugmentation:
        """Principal components of the pixel colours of `images` (N, C, H, W), every pixel of
        every image one sample of C values. Returns the transform, fitted."""
        n, c, h, w = _check_batch("PCAColorAugmentation.fit", images)
        values = images.data if isinstance(images, Tensor) else images
        pixels = np.moveaxis(values, 1, -1).reshape(-1, c).astype(np.float64)
        if len(pixels) < 2:
            raise ValueError(
                f"PCAColorAugmentation.fit: needs at least 2 pixels, got images (N, C, H, W) = "
                f"{(n, c, h, w)}"
            )
        if not np.isfinite(pixels).all():
            raise ValueError("PCAColorAugmentation.fit: the images contain NaN or inf")
        covariance = np.atleast_2d(np.cov(pixels, rowvar=False))
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending
        self.eigenvalues = np.maximum(eigenvalues[::-1], 0.0)  # rounding can give -1e-18
        self.eigenvectors = eigenvectors[:, ::-1]
        return self

    def offsets(self, n: int) -> np.ndarray:
        """Draw the colour offsets of `n` images, (n, C): row k is sum_i alpha_ki lambda_i p_i."""
        if self.eigenvalues is None or self.eigenvectors is None:
            raise RuntimeError(
                "PCAColorAugmentation: not fitted; call fit(train_images) with the training "
                "images (N, C, H, W) first"
            )
        alpha = self.generator.normal(0.0, self.alpha_std, size=(n, len(self.eigenvalues)))
        return (alpha * self.eigenvalues) @ self.eigenvectors.T

    def __call__(self, images: Images) -> Images:
        n, c, _, _ = _check_batch("PCAColorAugmentation", images)
        _check_floating("PCAColorAugmentation", images)
        if self.eigenvalues is not None and c != len(self.eigenvalues):
            raise ValueError(
                f"PCAColorAugmentation: fitted on images with {len(self.eigenvalues)} channels, "
                f"got images (N, C, H, W) = {tuple(images.shape)}"
            )
        offsets = self.offsets(n).astype(images.dtype)
        return images + offsets[:, :, None, None]

    def __repr__(self) -> str:
        fitted = "fitted" if self.eigenvalues is not None else "not fitted"
        return f"PCAColorAugmentation(alpha_std={self.alpha_std}) ({fitted})"


class Normalize:
    """Per channel c: (x - mean[c]) / std[c]. Deterministic: the same batch gives the same
    result. `mean` and `std` are sequences of C values (or one value for every channel)."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(
                f"Normalize: mean and std must be numbers or 1-D sequences (one per channel), "
                f"got shapes {self.mean.shape} and {self.std.shape}"
            )
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(
                f"Normalize: mean has {len(self.mean)} values and std {len(self.std)}; "
                "give one per channel (or one for all)"
            )
        if not (self.std > 0).all() or not np.isfinite(self.mean).all():
            raise ValueError(
                f"Normalize: std must be positive and mean finite, got mean {self.mean.tolist()}"
                f" and std {self.std.tolist()}"
            )

    def _per_channel(self, name: str, images: Any) -> tuple[np.ndarray, np.ndarray]:
        """mean and std shaped (C, 1, 1) in the images' dtype."""
        _, c, _, _ = _check_batch(name, images)
        _check_floating(name, images)
        channels = max(len(self.mean), len(self.std))
        if channels not in (1, c):
            raise ValueError(
                f"{name}: mean and std have {channels} values, but the images (N, C, H, W) = "
                f"{tuple(images.shape)} have {c} channels"
            )
        dtype = images.dtype
        return self.mean.astype(dtype).reshape(-1, 1, 1), self.std.astype(dtype).reshape(-1, 1, 1)

    def __call__(self, images: Images) -> Images:
        mean, std = self._per_channel("Normalize", images)
        return (images - mean) / std

    def inverse(self, images: Images) -> Images:
        """Undo the normalization: x * std + mean (e.g. to show normalized images)."""
        mean, std = self._per_channel("Normalize.inverse", images)
        return images * std + mean

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Compose:
    """Apply `transforms` one after the other: `Compose([RandomCrop(28, 2), Normalize(m, s)])`.
    Its state dict holds the state of each random transform in it, so a checkpoint restores
    them all."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms: list[Any] = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(
                    f"Compose: transform {i} must be callable on a batch (N, C, H, W), got "
                    f"{type(t).__name__}"
                )

    def __call__(self, images: Any) -> Any:
        for t in self.transforms:
            images = t(images)
        return images

    def state_dict(self) -> dict[str, Any]:
        """{"transforms": [each transform's state dict, or None for one without state]}."""
        return {
            "transforms": [
                t.state_dict() if hasattr(t, "state_dict") else None for t in self.transforms
            ]
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore every transform's state; nothing is written unless all of them fit."""
        saved = state_dict.get("transforms") if isinstance(state_dict, Mapping) else None
        if not isinstance(saved, (list, tuple)) or set(state_dict) != {"transforms"}:
            raise ValueError("Compose.load_state_dict: expected {'transforms': [...]}")
        if len(saved) != len(self.transforms):
            raise ValueError(
                f"Compose.load_state_dict: the saved state has {len(saved)} transforms, "
                f"this Compose has {len(self.transforms)}"
            )
        for i, (t, state) in enumerate(zip(self.transforms, saved, strict=True)):
            if hasattr(t, "state_dict") != (state is not None):
                raise ValueError(
                    f"Compose.load_state_dict: transform {i} ({type(t).__name__}) "
                    f"{'has' if state is None else 'has no'} state, the saved one "
                    f"{'had none' if state is None else 'had'}"
                )
        current = self.state_dict()
        try:
            for t, state in zip(self.transforms, saved, strict=True):
                if state is not None:
                    t.load_state_dict(state)
        except Exception:
            for t, state in zip(self.transforms, current["transforms"], strict=True):
                if state is not None:
                    t.load_state_dict(state)
            raise

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"
