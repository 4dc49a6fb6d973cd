"""Checkpoints: `save` a state dict, or a nested dict of them, as `.npz`; `load` it back.

Never pickle: loading uses `allow_pickle=False`, so a checkpoint cannot run code.

- A flat state dict (string keys, array or Tensor values; what `Module.state_dict()` returns)
  is stored as a plain `.npz`, one `<key>.npy` entry per array, so `np.load` reads it too and
  its keys and shapes are those of the equivalent `torch.nn` model:
  `torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in nn.load(p).items()})`.
- Anything else (`{"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}`)
  keeps its structure in a JSON manifest, the entry `__nn_checkpoint__` (UTF-8 bytes as a
  uint8 array), and its arrays as entries named by their path (`model/0.weight`). Dicts
  (string or int keys), lists, tuples, None, bools, ints, floats (inf and nan too), strings,
  arrays and numpy scalars come back with their types; Tensors come back as arrays.

Writes are atomic: a temporary file next to the target (the link's target, for a symlink) is
filled, flushed and renamed over it with `os.replace`, so a crash leaves any old file intact.
A new file gets the permissions the umask gives (as `open` would); an existing one keeps its own.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from autograd_core import Tensor
from nn.module import Module

MANIFEST = "__nn_checkpoint__"
_FORMAT = {"format": "nn checkpoint", "version": 1}


class CheckpointError(ValueError):
    """A file that is not a readable nn checkpoint (truncated, corrupted, or pickled)."""


# -- encoding -----------------------------------------------------------------------------------


def _numeric(where: str, value: np.ndarray | Tensor) -> np.ndarray:
    array = value.data if isinstance(value, Tensor) else value
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"nn.save: {where} has dtype {array.dtype}; only numeric arrays are saved "
            "(no pickled objects)"
        )
    return array


class _Encoder:
    """Turns a nested value into a JSON tree plus the arrays it names.

    Tree nodes: JSON null, booleans, numbers and strings stand for themselves; containers and
    arrays are one-key objects: {"dict": [[key, node], ...]}, {"list": [...]},
    {"tuple": [...]}, {"array": entry}, {"scalar": entry} (a numpy scalar)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def entry(self, path: tuple[Any, ...], array: np.ndarray) -> str:
        name = "/".join(map(str, path)) or "_"
        base, n = name, 1
        while name in self.arrays or name == MANIFEST:  # e.g. keys "a/b" and "a" -> "b"
            n += 1
            name = f"{base}#{n}"
        self.arrays[name] = array
        return name

    def encode(self, value: Any, path: tuple[Any, ...]) -> Any:
        where = "/".join(map(str, path)) or "the checkpoint"
        if isinstance(value, Module):
            value = value.state_dict()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (np.ndarray, Tensor)):
            return {"array": self.entry(path, _numeric(where, value))}
        if isinstance(value, np.generic):
            return {"scalar": self.entry(path, _numeric(where, np.asarray(value)))}
        if isinstance(value, Mapping):
            items = []
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(
                        f"nn.save: {where} has the key {key!r}; keys must be strings or ints"
                    )
                items.append([key, self.encode(item, (*path, key))])
            return {"dict": items}
        if isinstance(value, (list, tuple)):
            tag = "list" if isinstance(value, list) else "tuple"
            return {tag: [self.encode(item, (*path, i)) for i, item in enumerate(value)]}
        raise TypeError(
            f"nn.save: {where} is a {type(value).__name__}; a checkpoint holds dicts, lists, "
            "tuples, numbers, strings, None and numeric arrays (never pickled objects)"
        )


def _entries(obj: Module | Mapping[Any, Any]) -> dict[str, np.ndarray]:
    """The arrays to write, with the manifest entry when the structure needs one."""
    state = obj.state_dict() if isinstance(obj, Module) else obj
    if not isinstance(state, Mapping):
        raise TypeError(
            f"nn.save: expected a Module, a state dict or a dict of them, got {type(obj).__name__}"
        )
    flat = all(isinstance(k, str) and k != MANIFEST for k in state) and all(
        isinstance(v, (np.ndarray, Tensor)) for v in state.values()
    )
    if flat:
        return {key: _numeric(repr(key), value) for key, value in state.items()}
    encoder = _Encoder()
    tree = encoder.encode(state, ())
    text = json.dumps({**_FORMAT, "root": tree})  # inf and nan as JSON's Infinity, NaN
    return {MANIFEST: np.frombuffer(text.encode(), dtype=np.uint8), **encoder.arrays}


# -- writing ------------------------------------------------------------------------------------


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new temporary file in the target's directory, opened for writing. Created with mode
    0o666 so the kernel applies the umask; an existing target's permissions are copied."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return fd, tmp
    raise FileExistsError(f"nn.save: could not create a temporary file beside {target}")


def save(obj: Module | Mapping[Any, Any], path: str | os.PathLike[str]) -> None:
    """Write a module's state dict, a state dict, or a nested dict of state dicts and plain
    values (a training checkpoint) to `path` as .npz, atomically. The file is written exactly
    at `path` (no extension is added); through a symlink, the link's target is replaced."""
    entries = _entries(obj)
    target = Path(os.path.realpath(path))
    fd, tmp = _create_beside(target)
    try:
        with os.fdopen(fd, "wb") as file:
            # written by hand rather than by np.savez, whose keyword arguments clash with
            # keys such as "file"
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in entries.items():
                    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- reading ------------------------------------------------------------------------------------


def _decode(node: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((tag, body),) = node.items()
        if tag == "dict" and isinstance(body, list):
            result = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise CheckpointError(f"malformed dict item {pair!r}")
                key, item = pair
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise CheckpointError(f"malformed dict key {key!r}")
                result[key] = _decode(item, arrays)
            return result
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [_decode(item, arrays) for item in body]
            return items if tag == "list" else tuple(items)
        if tag in ("array", "scalar") and isinstance(body, str):
            if body not in arrays:
                raise CheckpointError(f"the manifest names the missing entry {body!r}")
            array = arrays[body]
            if tag == "scalar" and array.ndim != 0:
                raise CheckpointError(f"the scalar entry {body!r} has shape {array.shape}")
            return array if tag == "array" else array[()]
    raise CheckpointError(f"malformed manifest node {str(node)[:80]}")


def _structured(arrays: dict[str, np.ndarray]) -> Any:
    manifest = arrays.pop(MANIFEST)
    if manifest.dtype != np.uint8 or manifest.ndim != 1:
        raise CheckpointError(f"the manifest is {manifest.dtype} {manifest.shape}, not bytes")
    try:
        header = json.loads(manifest.tobytes().decode())
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"the manifest is not JSON ({error})") from None
    if not isinstance(header, dict) or "root" not in header:
        raise CheckpointError("the manifest has no root")
    if header.get("version") != _FORMAT["version"]:
        raise CheckpointError(f"unknown checkpoint version {header.get('version')!r}")
    return _decode(header["root"], arrays)


def load(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint written by `save` (pickle refused): a dict of arrays for a state dict,
    the saved structure for a nested checkpoint.

    Raises `CheckpointError` (a ValueError) for a truncated, corrupted or pickled file and
    FileNotFoundError for a missing one.
    """
    try:
        with open(path, "rb") as file:  # ours to close, even when numpy fails midway
            data = np.load(file, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise CheckpointError(f"nn.load: {path} holds a single array, not a checkpoint")
            with data:
                arrays = {key: data[key] for key in data.files}
        return _structured(arrays) if MANIFEST in arrays else arrays
    except FileNotFoundError:
        raise
    except CheckpointError as error:
        if str(error).startswith("nn.load:"):
            raise
        raise CheckpointError(f"nn.load: {path} is a damaged checkpoint: {error}") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        KeyError,
        RecursionError,
    ) as error:
        raise CheckpointError(
            f"nn.load: {path} is not a readable checkpoint (truncated, corrupted, or holding "
            f"pickled objects, which are refused): {type(error).__name__}: {error}"
        ) from None
