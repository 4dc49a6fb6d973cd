"""Checkpoints: `save` a module's (or any) state dict as `.npz` with dotted keys, `load` it
back as a dict of arrays. Never pickle: loading uses `allow_pickle=False`, so a checkpoint
cannot run code. Writes are atomic: a temporary file in the same directory is filled, flushed
and then renamed over the target with `os.replace`, so a crash leaves any old file intact.

The keys and shapes of an MLP's checkpoint are those of the equivalent `torch.nn.Sequential`:
`torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in nn.load(p).items()})`.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from autograd_core import Tensor
from nn.module import Module


class CheckpointError(ValueError):
    """A file that is not a readable nn checkpoint (truncated, corrupted, or pickled)."""


def _arrays(obj: Module | Mapping[str, Any]) -> dict[str, np.ndarray]:
    state = obj.state_dict() if isinstance(obj, Module) else obj
    if not isinstance(state, Mapping):
        raise TypeError(f"nn.save: expected a Module or a state dict, got {type(obj).__name__}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"nn.save: keys must be strings, got {key!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"nn.save: {key!r} has dtype {array.dtype}; only numeric arrays are saved "
                "(no pickled objects)"
            )
        arrays[key] = array
    return arrays


def save(obj: Module | Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a module's state dict (or a mapping of names to arrays) to `path` as .npz,
    atomically. The file is written exactly at `path` (no extension is added)."""
    arrays = _arrays(obj)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a checkpoint written by `save` into a dict of arrays (pickle refused).

    Raises `CheckpointError` (a ValueError) for a truncated, corrupted or pickled file and
    FileNotFoundError for a missing one.
    """
    try:
        with open(path, "rb") as file:  # ours to close, even when numpy fails midway
            data = np.load(file, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise CheckpointError(f"nn.load: {path} holds a single array, not a checkpoint")
            with data:
                return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as error:
        raise CheckpointError(
            f"nn.load: {path} is not a readable checkpoint (truncated, corrupted, or holding "
            f"pickled objects, which are refused): {type(error).__name__}: {error}"
        ) from None
