"""Dataset fingerprints: the same data gives the same fingerprint, different data another.

The module is also callable: ``nbtrack.datasets(name=None, include_deleted=False)`` lists the
dataset versions in the store (:func:`nbtrack.dataset_store.datasets`). A plain function of that
name in the package would be replaced by this module the first time anything imports it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import types
from pathlib import Path
from typing import Any

from .guard import guarded

CHUNK = 1 << 20


def _dataframe_fingerprint(frame: Any) -> dict:
    import pandas as pd

    hasher = hashlib.sha256()
    hasher.update(repr([str(c) for c in frame.columns]).encode())
    hasher.update(repr([str(t) for t in frame.dtypes]).encode())
    hashed = pd.util.hash_pandas_object(frame, index=True)
    hasher.update(hashed.to_numpy().tobytes())
    return {
        "kind": "dataframe",
        "fingerprint": hasher.hexdigest(),
        "shape": [int(frame.shape[0]), int(frame.shape[1])],
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
    }


def _array_fingerprint(array: Any) -> dict:
    import numpy as np

    contiguous = np.ascontiguousarray(array)
    hasher = hashlib.sha256()
    hasher.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
    hasher.update(contiguous.tobytes() if contiguous.dtype != object else repr(contiguous.tolist()).encode())
    return {"kind": "array", "fingerprint": hasher.hexdigest(), "shape": list(contiguous.shape),
            "dtype": str(contiguous.dtype)}


def _file_fingerprint(path: Path) -> dict:
    hasher = hashlib.sha256()
    size = 0
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            hasher.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                hasher.update(chunk)
                size += len(chunk)
    info = {"kind": "file" if path.is_file() else "directory", "fingerprint": hasher.hexdigest(),
            "path": str(path.resolve()), "size": size, "files": len(files)}
    if path.is_file() and path.suffix.lower() in (".csv", ".parquet") and size < 200 * CHUNK:
        with guarded(f"describing the table in {path}"):  # the fingerprint stands without it
            import pandas as pd

            frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
            described = _dataframe_fingerprint(frame)
            info.update(shape=described["shape"], columns=described["columns"], dtypes=described["dtypes"])
    return info


def fingerprint(data: Any) -> dict:
    """Content hash, shape, columns and dtypes of a DataFrame, Series, array, file or directory."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"no dataset file or directory at {str(path)!r}")
        return _file_fingerprint(path)
    module = type(data).__module__
    if module.startswith("pandas"):
        if type(data).__name__ == "Series":
            data = data.to_frame()
        if type(data).__name__ == "DataFrame":
            return _dataframe_fingerprint(data)
    if module.startswith("numpy") or hasattr(data, "__array__"):
        return _array_fingerprint(data)
    raise TypeError(f"cannot fingerprint a {type(data).__name__}: pass a pandas DataFrame or Series, "
                    "a numpy array, or a path to a file or directory")


class _CallableModule(types.ModuleType):
    def __call__(self, name: str | None = None, include_deleted: bool = False) -> Any:
        """Dataset versions, one row per (name, fingerprint), with the runs that used each
        (see :func:`nbtrack.dataset_store.datasets`)."""
        from .dataset_store import datasets

        return datasets(name, include_deleted)


sys.modules[__name__].__class__ = _CallableModule
