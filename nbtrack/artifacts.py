"""log_artifact: turn what the user hands over into content-addressed blobs and artifact rows.

Files and directories are stored as they are; every other object goes through its kind in
``nbtrack.artifact_kinds.KINDS``. When the artifact store cannot take a blob (disk full,
read-only, permission denied) nothing is raised into the user's code: the artifact is held in
memory (up to ``NBTRACK_ARTIFACT_RETRY_BYTES``, 64 MB) and written at a later flush, and the
run's ``artifact_errors`` document lists what is not stored.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifact_kinds import artifact_kind, kind_for_object
from .errors import ArtifactWriteError
from .store.blobs import BlobStore, safe_artifact_name

FILE = artifact_kind("file")

if TYPE_CHECKING:  # pragma: no cover
    from .run import Run


def _row(run: "Run", name: str, digest: str, size: int, kind: str, media_type: str) -> dict:
    return {"run_id": run.run_id, "name": name, "sha256": digest, "size": size, "kind": kind,
            "media_type": media_type, "created_time": time.time()}


def prepare_artifacts(run: "Run", obj: Any, name: str | None) -> tuple[list[dict], str, list["Unsaved"]]:
    """Store ``obj``'s content as blobs; return the artifact rows, the name shown to the user, and
    the artifacts the artifact store could not take now (disk full, read-only; see ``Unsaved``)."""
    from . import config

    saver = _Saver(run, config.store_for(run.store_uri).blobs)
    if name is not None:
        name = safe_artifact_name(name)

    if isinstance(obj, Path) or (isinstance(obj, str) and name is None and os.path.exists(obj)) or (
            isinstance(obj, str) and name is not None and os.path.exists(obj) and "\n" not in obj):
        display = _prepare_path(saver, Path(obj), name)
        return saver.rows, display, saver.unsaved
    kind = kind_for_object(obj, name)
    if name is None:
        if kind.default_name is None:
            shown = f"{obj[:60]!r} is not an existing file or directory; " if isinstance(obj, str) else ""
            raise ValueError(shown + kind.name_hint)
        name = kind.default_name(obj)
    saver.save_bytes(name, kind.dump(obj, name), kind.kind, kind.media_type_for(name))
    return saver.rows, name, saver.unsaved


def _prepare_path(saver: "_Saver", path: Path, name: str | None) -> str:
    if not path.exists():
        raise FileNotFoundError(f"no file or directory at {str(path)!r}")
    if path.is_file():
        name = name or safe_artifact_name(path.name)
        saver.save_file(name, path)
        return name
    base = name or safe_artifact_name(path.resolve().name)
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        saver.save_file(safe_artifact_name(f"{base}/{file.relative_to(path).as_posix()}"), file)
    return base


# --- artifacts the artifact store could not take (yet) ---------------------------------------

def _retry_budget() -> int:
    """Bytes of unsaved artifact content a process keeps in memory to retry (beyond: recorded as not stored)."""
    return int(os.environ.get("NBTRACK_ARTIFACT_RETRY_BYTES", str(64 << 20)))


_held_bytes = 0
_warned = False


@dataclass
class Unsaved:
    """An artifact whose blob could not be written: its row (held back), its content if kept, the error."""

    row: dict
    data: bytes | None
    error: str


class _Saver:
    """Writes blobs for one log_artifact call; failures become ``Unsaved`` instead of exceptions."""

    def __init__(self, run: "Run", blobs: BlobStore) -> None:
        self.run, self.blobs = run, blobs
        self.rows: list[dict] = []
        self.unsaved: list[Unsaved] = []

    def save_bytes(self, name: str, data: bytes, kind: str, media_type: str) -> None:
        try:
            digest, size = self.blobs.put_bytes(data)
        except ArtifactWriteError as error:
            self._hold(_row(self.run, name, hashlib.sha256(data).hexdigest(), len(data), kind, media_type), data, error)
            return
        self.rows.append(_row(self.run, name, digest, size, kind, media_type))

    def save_file(self, name: str, path: Path) -> None:
        try:
            digest, size = self.blobs.put_file(path)
        except ArtifactWriteError as error:
            size = path.stat().st_size
            data = path.read_bytes() if size <= _retry_budget() else None  # the file may change later
            digest = hashlib.sha256(data).hexdigest() if data is not None else ""
            self._hold(_row(self.run, name, digest, size, "file", FILE.media_type_for(name)), data, error)
            return
        self.rows.append(_row(self.run, name, digest, size, "file", FILE.media_type_for(name)))

    def _hold(self, row: dict, data: bytes | None, error: ArtifactWriteError) -> None:
        global _held_bytes, _warned
        if data is not None and _held_bytes + len(data) > _retry_budget():
            data = None
        if data is not None:
            _held_bytes += len(data)
        self.unsaved.append(Unsaved(row, data, str(error)))
        if not _warned:
            _warned = True
            print(f"nbtrack: could not save the artifact {row['name']!r} ({error}). Your code keeps running; "
                  "nbtrack keeps the artifact in memory and retries, and the run's 'artifact_errors' document "
                  "lists any artifact it could not store.", file=sys.stderr)


def retry_unsaved(unsaved: list[Unsaved], blobs: BlobStore | None, give_up: bool) -> tuple[list[dict], list[Unsaved]]:
    """Write held artifacts again: (rows of those now stored, those still unsaved). With ``give_up``
    (the run has ended) the content of the rest is dropped: they are recorded as not stored."""
    global _held_bytes
    stored, still = [], []
    for item in unsaved:
        if item.data is not None and blobs is not None:
            try:
                blobs.put_bytes(item.data)
                stored.append(item.row)
                _held_bytes -= len(item.data)
                continue
            except ArtifactWriteError as error:
                item.error = str(error)
        if give_up and item.data is not None:
            _held_bytes -= len(item.data)
            item.data = None
        still.append(item)
    return stored, still


def errors_document(unsaved: list[Unsaved]) -> list[dict]:
    """The run's ``artifact_errors`` document: the artifacts not stored (yet), and why."""
    return [{"name": item.row["name"], "size": item.row["size"], "error": item.error,
             "status": "kept in memory, retrying" if item.data is not None else "not stored"} for item in unsaved]
