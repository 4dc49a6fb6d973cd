"""Datasets and mini-batches.

`DataLoader` yields tuples with one entry per array of the dataset: floating data as
`Tensor`s and integer (or bool) data as numpy integer arrays, which is what
`CrossEntropyLoss` and `NLLLoss` take as class labels (a Tensor is always floating). So
`for x, y in loader: loss = loss_fn(model(x), y)` works as in PyTorch.

Shuffling is deterministic for a `seed`: the loader owns a generator seeded once, and each
pass draws the next permutation from it, so a run replays exactly, epoch by epoch. Its
`state_dict()` (the generator's state, the passes begun and the batches given in an unfinished
pass) goes into a checkpoint, so a resumed run shuffles exactly as a straight run would.

`transform=` (e.g. an `nn.transforms.Compose` of random crops and flips) is applied to each
batch's inputs, the first array of a `TensorDataset`, as a numpy array before it becomes a
Tensor. A transform with a `state_dict()` (every random one in `nn.transforms`) has its
random state saved in the loader's, so a resumed run also augments exactly as a straight one.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autograd_core import Tensor
from nn.init import as_generator


def _array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _batch_value(array: np.ndarray) -> Any:
    """Floating arrays become Tensors (float32 stays float32); integers stay numpy."""
    return Tensor(array) if array.dtype.kind == "f" else array


class TensorDataset:
    """Samples are rows of the given arrays (or Tensors), which share their first dimension."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(_array(a) for a in arrays)
        lengths = [len(a) if a.ndim else -1 for a in self.arrays]
        if len(set(lengths)) != 1 or lengths[0] < 0:
            raise ValueError(
                f"TensorDataset: arrays must share their first dimension, got shapes "
                f"{[a.shape for a in self.arrays]}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(_batch_value(np.asarray(a[index])) for a in self.arrays)

    def batch(self, indices: np.ndarray) -> tuple[Any, ...]:
        """Rows `indices` of every array at once (the loader's fast path)."""
        return tuple(_batch_value(a[indices]) for a in self.arrays)


class Subset:
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def batch(self, indices: np.ndarray) -> Any:
        if hasattr(self.dataset, "batch"):
            return self.dataset.batch(self.indices[indices])
        return _collate([self.dataset[int(i)] for i in self.indices[indices]])


def random_split(
    dataset: Any, lengths: Sequence[int | float], seed: int | np.random.Generator | None = None
) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing
    to 1; rounding remainders go to the first subsets, as PyTorch)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(x) for x in lengths]
    if sum(counts) != n or any(c < 0 for c in counts):
        raise ValueError(
            f"random_split: lengths {list(lengths)} do not add up to the dataset size {n}"
        )
    order = as_generator(seed).permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[a:b]) for a, b in itertools.pairwise(bounds)]


def _collate(samples: list[Any]) -> Any:
    """Stack a list of samples (tuples of arrays/Tensors/numbers, or single values)."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(
            _batch_value(np.stack([_array(s[i]) for s in samples])) for i in range(len(first))
        )
    return _batch_value(np.stack([_array(s) for s in samples]))


class DataLoader:
    """Mini-batches of a dataset (a `TensorDataset` or any sequence of samples).

    `shuffle` draws a new order on every pass from a generator seeded by `seed` (an int, a
    Generator, or None for nn's default generator); `drop_last` drops a final short batch.
    `transform` is called on each batch's inputs (its first entry, as a numpy array; a
    batch of images for `nn.transforms`) before they are wrapped as a Tensor.
    `state_dict()`/`load_state_dict()` save and restore where the shuffling (and the
    transform's random draws) stand, so a resumed run sees the batches a straight run would
    (also from the middle of a pass).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if transform is not None and not callable(transform):
            raise TypeError(
                f"DataLoader: transform must be callable on a batch of inputs, got "
                f"{type(transform).__name__}"
            )
        self.dataset = dataset
        self.transform: Any = transform
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = np.random.default_rng(seed) if isinstance(seed, (int, np.integer)) else seed
        self._epoch = 0  # passes begun
        self._pass_state: Mapping[str, Any] | None = None  # generator state before this pass
        self._yielded = 0  # batches given in the current pass
        self._skip = 0  # batches the next pass leaves out (set when resuming mid-pass)
        self._transform_state: Any = None  # loaded mid-pass: set once that pass has its order

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        generator = as_generator(self._rng) if self.shuffle else None
        self._pass_state = None if generator is None else generator.bit_generator.state
        order = np.arange(n) if generator is None else generator.permutation(n)
        self._epoch += 1
        self._yielded, skip, self._skip = 0, self._skip, 0
        if self._transform_state is not None:  # after the order: they may share a generator
            self.transform.load_state_dict(self._transform_state)
            self._transform_state = None
        this_pass = self._epoch
        try:
            for start in range(skip * self.batch_size, n, self.batch_size):
                indices = order[start : start + self.batch_size]
                if self.drop_last and len(indices) < self.batch_size:
                    return
                self._yielded = start // self.batch_size + 1  # counted before the caller trains
                if hasattr(self.dataset, "batch"):
                    batch = self.dataset.batch(indices)
                else:
                    batch = _collate([self.dataset[int(i)] for i in indices])
                yield batch if self.transform is None else self._transformed(batch)
        except GeneratorExit:  # the caller left this pass early (`break`): it counts as done
            if self._epoch == this_pass:
                self._yielded = 0
            raise

    def _transformed(self, batch: Any) -> Any:
        """The batch with `transform` applied to its inputs (its first entry)."""
        if isinstance(batch, tuple):
            return (_batch_value(_array(self.transform(_array(batch[0])))), *batch[1:])
        return _batch_value(_array(self.transform(_array(batch))))

    def _transform_state_dict(self) -> Any:
        """The transform's state (its random draws), or None if it has no `state_dict`."""
        if self._transform_state is not None:  # loaded mid-pass, not resumed yet
            return copy.deepcopy(self._transform_state)
        if hasattr(self.transform, "state_dict"):
            return copy.deepcopy(self.transform.state_dict())
        return None

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: {"epoch": passes begun and finished, "batches_yielded":
        batches already given of an unfinished pass, "generator": the shuffling generator's
        state (None without shuffle), "transform": the transform's state dict (None without
        a transform that has one)}. Without a seed that generator is nn's default one."""
        generator = as_generator(self._rng).bit_generator.state if self.shuffle else None
        epoch, given = self._epoch, self._skip  # _skip: loaded mid-pass, not resumed yet
        if not given and 0 < self._yielded < len(self):  # unfinished: replayed from its start
            epoch, given, generator = self._epoch - 1, self._yielded, self._pass_state
        return {
            "epoch": epoch,
            "batches_yielded": given,
            "generator": copy.deepcopy(generator),
            "transform": self._transform_state_dict(),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue from a `state_dict()`: the next pass shuffles (and, after an unfinished
        pass, starts) where the saved loader's would have, and the transform draws as the
        saved one would. Everything is checked before anything is written. (A state without
        "transform", from before loaders had transforms, loads into a loader without a
        random transform.)"""
        names = ("epoch", "batches_yielded", "generator")
        keys = set(state_dict) if isinstance(state_dict, Mapping) else set()
        if not isinstance(state_dict, Mapping) or not set(names) <= keys <= {*names, "transform"}:
            got = list(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(
                f"DataLoader.load_state_dict: expected the keys {(*names, 'transform')}, got {got}"
            )
        epoch, skip, saved = (state_dict[name] for name in names)
        saved_transform = state_dict.get("transform")
        for name, count in (("epoch", epoch), ("batches_yielded", skip)):
            if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
                raise ValueError(f"DataLoader.load_state_dict: {name} must be an int >= 0")
        if skip >= max(len(self), 1):
            raise ValueError(
                f"DataLoader.load_state_dict: {skip} batches given, but a pass has {len(self)}"
            )
        if self.shuffle != (saved is not None):
            raise ValueError(
                "DataLoader.load_state_dict: the saved loader "
                f"{'shuffled' if saved is not None else 'did not shuffle'}, this one "
                f"{'does' if self.shuffle else 'does not'}"
            )
        has_state = hasattr(self.transform, "state_dict")
        if has_state != (saved_transform is not None):
            raise ValueError(
                "DataLoader.load_state_dict: the saved loader's transform had "
                f"{'no' if has_state else 'a'} random state, this one's "
                f"({type(self.transform).__name__}) {'has one' if has_state else 'has none'}"
            )
        if has_state:  # written first: it checks itself, and is undone if the generator fails
            current = copy.deepcopy(self.transform.state_dict())
            try:
                self.transform.load_state_dict(saved_transform)
            except (TypeError, ValueError, KeyError, AttributeError) as error:
                raise ValueError(
                    f"DataLoader.load_state_dict: the saved transform state does not fit this "
                    f"loader's {type(self.transform).__name__} ({error})"
                ) from None
        if saved is not None:
            generator = as_generator(self._rng)
            try:
                generator.bit_generator.state = copy.deepcopy(dict(saved))
            except (TypeError, ValueError, KeyError) as error:
                if has_state:
                    self.transform.load_state_dict(current)
                raise ValueError(
                    f"DataLoader.load_state_dict: the saved generator state does not fit this "
                    f"loader's {type(generator.bit_generator).__name__} ({error})"
                ) from None
        self._epoch, self._skip, self._yielded = int(epoch), int(skip), 0
        # Mid-pass, the transform's state is set again once the resumed pass has drawn its
        # order: if both use one generator (nn's default one), the order is drawn from the
        # saved pass start and the transform continues from where it stood.
        self._transform_state = copy.deepcopy(saved_transform) if skip and has_state else None
