"""Stored dataset versions: a copy of small data beside its fingerprint, read back by ``load_dataset``.

``log_dataset(data, name, store=True)`` keeps, content-addressed in the artifact store:

- a DataFrame or Series as parquet (pyarrow, the ``parquet`` extra), else as CSV with a note;
- a numpy array as ``.npy`` (object arrays are not copied: they would need pickle);
- a file as itself (its blob *is* its fingerprint: a file logged by a thousand runs is stored once);
- a directory as one blob per file plus a manifest (:mod:`nbtrack.registry.files`).

Data over the copy limit (``max_copy_bytes``, else ``NBTRACK_DATASET_COPY_LIMIT``, else 100 MB)
stays a reference: fingerprint, shape, path, and a note saying it was not copied. A version
already stored under the same fingerprint is reused without serializing the data again.
What a dataset row's info holds: the fingerprint fields (``nbtrack.datasets``) plus
``stored`` (``{sha256, format, size, ...}`` or null) and ``copy_note`` when something was
not as asked.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DatasetNotFoundError, DatasetNotStoredError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .store.sql import SqlStore

DEFAULT_COPY_LIMIT = 100 * 1024 * 1024
CSV_NOTE = "stored as CSV: pyarrow is missing (pip install 'nbtrack[parquet]' stores parquet, keeping dtypes exactly)"


def parse_size(text: str | int) -> int:
    """Bytes from ``123``, ``"100MB"``, ``"1.5 GB"`` (binary units: 1 KB = 1024 bytes)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*", str(text).lower())
    if not match:
        raise ValueError(f"a size is a number of bytes or e.g. '100MB', '1.5GB', got {text!r}")
    number, unit = match.groups()
    return int(float(number) * 1024 ** ("", "k", "m", "g", "t").index(unit))


def copy_limit(max_copy_bytes: int | str | None = None) -> int:
    """The size over which a dataset is fingerprinted but not copied."""
    if max_copy_bytes is not None:
        return parse_size(max_copy_bytes)
    configured = os.environ.get("NBTRACK_DATASET_COPY_LIMIT")
    return parse_size(configured) if configured else DEFAULT_COPY_LIMIT


def human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


# -- writing ----------------------------------------------------------------------------------------

def _size_of(data: Any, info: dict) -> int:
    if info["kind"] in ("file", "directory"):
        return int(info.get("size", 0))
    if info["kind"] == "dataframe":
        usage = data.memory_usage(index=True, deep=True)  # a Series gives an int, a DataFrame a Series
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    return int(getattr(data, "nbytes", 0))


def _frame_to_store(data: Any) -> tuple[Any, dict]:
    """The DataFrame to write and what rebuilds the original (a Series, non-text column names)."""
    extra: dict = {}
    frame = data
    if type(data).__name__ == "Series":
        extra["series_name"] = data.name
        frame = data.to_frame(name="__series__")
    if not all(isinstance(c, str) for c in frame.columns):
        extra["column_names"] = list(frame.columns)
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    return frame, extra


def _default_index(frame: Any) -> bool:
    import pandas as pd

    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _dataframe_copy(blobs: Any, data: Any) -> tuple[dict, str | None]:
    frame, extra = _frame_to_store(data)
    json.dumps(extra)  # names that JSON cannot hold go to CSV below
    note = None
    try:
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        payload, fmt = buffer.getvalue(), "parquet"
    except ImportError:
        note = CSV_NOTE
    except Exception as error:  # e.g. mixed types in one object column
        note = f"stored as CSV: parquet could not hold it ({type(error).__name__}: {str(error)[:200]})"
    if note is not None:
        with_index = not _default_index(frame)
        payload, fmt = frame.to_csv(index=with_index).encode("utf-8"), "csv"
        extra["csv_index"] = with_index
    digest, size = blobs.put_bytes(payload)
    python_type = "Series" if "series_name" in extra else "DataFrame"
    return {"sha256": digest, "format": fmt, "size": size, "python_type": python_type, **extra}, note


def _array_copy(blobs: Any, data: Any) -> tuple[dict | None, str | None]:
    import numpy as np

    array = np.asarray(data)
    if array.dtype.hasobject:
        return None, "not copied: an object array would need pickle to store; convert it (e.g. to str) first"
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    digest, size = blobs.put_bytes(buffer.getvalue())
    return {"sha256": digest, "format": "npy", "size": size, "python_type": "ndarray"}, None


def _path_copy(blobs: Any, info: dict) -> dict:
    from .registry.files import store_directory

    path = Path(info["path"])
    if info["kind"] == "file":
        digest = info["fingerprint"]  # a file's fingerprint is the SHA-256 of its content: its blob
        if not blobs.exists(digest):
            digest, _ = blobs.put_file(path)
        return {"sha256": digest, "format": "file", "size": int(info["size"]), "filename": path.name}
    digest, size, _count = store_directory(blobs, path)
    return {"sha256": digest, "format": "directory", "size": size, "filename": path.name}


def _existing_copy(store: "SqlStore", fingerprint: str) -> dict | None:
    """A stored copy of the same fingerprint (any run, any name) whose blob is still there."""
    from sqlalchemy import select

    from .flusher import FLUSHER
    from .store import schema as s

    if FLUSHER.reporter.failing:  # a store that is down must not cost a connect timeout here
        return None
    with store.read() as connection:
        infos = list(connection.execute(select(s.datasets.c.info).where(
            s.datasets.c.fingerprint == fingerprint).limit(20)).scalars())
    for info in infos:
        stored = json.loads(info).get("stored")
        if stored and stored.get("sha256") and store.blobs.exists(stored["sha256"]):
            return stored
    return None


def stored_copy(store_uri: str, data: Any, info: dict, store: bool, max_copy_bytes: int | str | None) -> dict:
    """What to add to a dataset's info: ``stored`` (the copy, or None) and a ``copy_note`` when needed.

    Never raises for a failure to copy (the fingerprint is recorded either way): the note says why.
    """
    if not store:
        return {"stored": None}
    limit = copy_limit(max_copy_bytes)
    size = _size_of(data, info)
    if size > limit:
        where = " and its path are" if info.get("path") else " is"
        return {"stored": None, "copy_note": (
            f"not copied: {human_size(size)} is over the copy limit of {human_size(limit)}; its fingerprint{where} "
            "recorded (log_dataset(..., max_copy_bytes=...) or NBTRACK_DATASET_COPY_LIMIT raises the limit)")}
    from . import config

    try:
        target = config.store_for(store_uri)
        try:
            reused = _existing_copy(target, info["fingerprint"])
        except Exception:  # looking for a copy to reuse is an optimisation
            reused = None
        if reused is not None:
            return {"stored": reused}
        if info["kind"] == "dataframe":
            copy, note = _dataframe_copy(target.blobs, data)
        elif info["kind"] == "array":
            copy, note = _array_copy(target.blobs, data)
        else:
            copy, note = _path_copy(target.blobs, info), None
    except Exception as error:  # a full disk, an unreachable store: keep the fingerprint, say why
        from .flusher import FLUSHER

        note = f"not copied: {type(error).__name__}: {error}"
        if not FLUSHER.reporter.failing:  # a store that is down has said so once already
            print(f"nbtrack: dataset {info.get('name', '')!r}: {note}", file=sys.stderr)
        return {"stored": None, "copy_note": note}
    return {"stored": copy, **({"copy_note": note} if note else {})}


# -- reading ----------------------------------------------------------------------------------------

def _restore_dtypes(frame: "pd.DataFrame", dtypes: dict) -> "pd.DataFrame":
    import pandas as pd

    for column in frame.columns:
        wanted = dtypes.get(str(column))
        if not wanted or str(frame[column].dtype) == wanted:
            continue
        try:
            frame[column] = (pd.to_datetime(frame[column]) if wanted.startswith("datetime64")
                             else frame[column].astype(wanted))
        except (TypeError, ValueError):
            pass  # kept as read; the fingerprint check below says the copy is not exact
    return frame


def _read_frame(data: bytes, stored: dict, info: dict) -> Any:
    import pandas as pd

    if stored["format"] == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except ImportError as error:
            from .errors import MissingDependencyError

            raise MissingDependencyError("pyarrow", "parquet", "reading a dataset stored as parquet",
                                         str(error)) from None
    else:
        frame = pd.read_csv(io.BytesIO(data), index_col=0 if stored.get("csv_index") else None)
        frame = _restore_dtypes(frame, {("__series__" if "series_name" in stored else k): v
                                        for k, v in (info.get("dtypes") or {}).items()})
    if "column_names" in stored:
        frame.columns = stored["column_names"]
    if stored.get("python_type") == "Series":
        series = frame.iloc[:, 0]
        series.name = stored.get("series_name")
        return series
    return frame


def _check_fingerprint(value: Any, info: dict, name: str) -> None:
    from .datasets import fingerprint

    if fingerprint(value)["fingerprint"] != info["fingerprint"]:
        warnings.warn(f"the stored copy of dataset {name!r} does not reproduce its fingerprint exactly "
                      f"({info.get('copy_note') or 'its dtypes or index differ'})", stacklevel=3)


def _dataset_row(store: "SqlStore", run_id: str, name: str) -> tuple[str, dict]:
    from sqlalchemy import select

    from .store import schema as s

    with store.read() as connection:
        full = store.resolve_run_id(run_id, connection)
        row = connection.execute(select(s.datasets.c.fingerprint, s.datasets.c.info).where(
            s.datasets.c.run_id == full, s.datasets.c.name == name)).first()
        if row is None:
            names = list(connection.execute(select(s.datasets.c.name).where(
                s.datasets.c.run_id == full).order_by(s.datasets.c.name)).scalars())
            raise DatasetNotFoundError(full, name, names)
    return full, dict(json.loads(row.info), fingerprint=row.fingerprint, name=name)


def _from_reference(run_id: str, name: str, info: dict, verify: bool) -> Path:
    """The original file or directory, when it is still there and (``verify``) still the same data."""
    from .datasets import fingerprint

    reason = info.get("copy_note") or ("it was logged with store=False" if "stored" in info
                                       else "it was logged before nbtrack stored dataset copies")
    path = info.get("path")
    if not path or not os.path.exists(path):
        where = f"; its original {path} is gone" if path else ""
        raise DatasetNotStoredError(run_id, name, reason + where)
    if verify and fingerprint(path)["fingerprint"] != info["fingerprint"]:
        raise DatasetNotStoredError(run_id, name, f"{reason}; {path} has changed since (its fingerprint differs)")
    return Path(path)


def load_dataset(run: Any, name: str, dest: str | os.PathLike | None = None, verify: bool = True) -> Any:
    """The data a run logged as ``name``: a DataFrame (or Series, array) for in-memory data, a path
    for a file or directory (copied out of the store into ``dest``, else nbtrack's cache).

    Data that was not copied (over the limit, ``store=False``) comes back as its original path
    when that still holds the same data (``verify`` re-hashes it), else ``DatasetNotStoredError``
    says why. Inside an active run the dataset is also recorded as used by that run.
    """
    from .registry.files import materialize_file, materialize_tree
    from .registry.resolve import store_and_run_id

    store, run_id = store_and_run_id(run)
    full, info = _dataset_row(store, run_id, name)
    stored = info.get("stored")
    if not stored:
        value: Any = _from_reference(full, name, info, verify)
    elif stored["format"] == "file":
        value = materialize_file(store.blobs, stored["sha256"], stored["size"], stored.get("filename") or name, dest)
    elif stored["format"] == "directory":
        value = materialize_tree(store.blobs, stored["sha256"], stored.get("filename") or name, dest)
    else:
        data = store.blobs.read_bytes(stored["sha256"])
        if stored["format"] == "npy":
            import numpy as np

            value = np.load(io.BytesIO(data), allow_pickle=False)
        else:
            value = _read_frame(data, stored, info)
        if verify:
            _check_fingerprint(value, info, name)
    _record_use(full, name, info)
    return value


def _record_use(source_run: str, name: str, info: dict) -> None:
    from .guard import guarded
    from .run import active_run

    run = active_run()
    if run is None or run.run_id == source_run:
        return
    with guarded("recording the dataset the run loaded"):
        used = {k: v for k, v in info.items() if k != "name"}
        used["loaded_from"] = info.get("loaded_from") or source_run
        run.record_dataset(name, used)


# -- listing ----------------------------------------------------------------------------------------

def list_datasets(store: "SqlStore", name: str | None = None, include_deleted: bool = False) -> list[dict]:
    """One dict per dataset version (name, fingerprint), oldest first, with the runs that used it."""
    from sqlalchemy import case, func, select

    from .store import schema as s

    d = s.datasets
    where = [] if include_deleted else [s.runs.c.deleted.is_(False)]
    if name is not None:
        where.append(d.c.name == name)
    joined = d.join(s.runs, s.runs.c.run_id == d.c.run_id)
    stored_info = func.max(case((d.c.info.like('%"stored": {%'), d.c.info)))  # any run's stored copy
    with store.read() as connection:
        groups = connection.execute(select(d.c.name, d.c.fingerprint, func.min(d.c.created_time), func.max(d.c.info),
                                           stored_info).select_from(joined).where(*where)
                                    .group_by(d.c.name, d.c.fingerprint)).all()
        users: dict[tuple, list[str]] = {}
        for dataset, fingerprint, run_id in connection.execute(
                select(d.c.name, d.c.fingerprint, d.c.run_id).select_from(joined).where(*where)
                .order_by(d.c.created_time)):
            users.setdefault((dataset, fingerprint), []).append(run_id)
    out = []
    for dataset, fingerprint, first_seen, any_info, stored_text in groups:
        info = json.loads(stored_text or any_info)
        stored = info.get("stored") or {}
        runs = users.get((dataset, fingerprint), [])
        shape = info.get("shape")
        out.append({"name": dataset, "fingerprint": fingerprint, "kind": info.get("kind"),
                    "rows": shape[0] if shape else None, "columns": shape[1] if shape and len(shape) > 1 else None,
                    "stored": bool(stored), "format": stored.get("format"),
                    "size": stored.get("size", info.get("size")), "first_seen": first_seen,
                    "first_run": runs[0] if runs else None, "runs": runs, "note": info.get("copy_note")})
    out.sort(key=lambda r: (r["name"], r["first_seen"]))
    return out


def datasets_frame(store: "SqlStore", name: str | None = None, include_deleted: bool = False) -> "pd.DataFrame":
    import pandas as pd

    frame = pd.DataFrame(list_datasets(store, name, include_deleted), columns=[
        "name", "fingerprint", "kind", "rows", "columns", "stored", "format", "size", "first_seen", "first_run",
        "runs", "note"])
    frame["first_seen"] = pd.to_datetime(frame["first_seen"], unit="s", utc=True)
    for column in ("rows", "columns", "size"):
        frame[column] = frame[column].astype("Int64")
    return frame


def datasets(name: str | None = None, include_deleted: bool = False) -> "pd.DataFrame":
    """Dataset versions, one row per (name, fingerprint): kind, rows, columns, stored, format, size,
    first_seen (UTC), first_run, runs (the ids of every run that logged it, oldest first), note."""
    from .registry.resolve import current_store

    return datasets_frame(current_store(), name, include_deleted)
