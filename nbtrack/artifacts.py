"""log_artifact: turn what the user hands over into content-addressed blobs and artifact rows.

Files and directories are stored as they are; every other object goes through its kind in
``nbtrack.artifact_kinds.KINDS``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifact_kinds import artifact_kind, kind_for_object
from .store.blobs import safe_artifact_name

FILE = artifact_kind("file")

if TYPE_CHECKING:  # pragma: no cover
    from .run import Run


def _row(run: "Run", name: str, digest: str, size: int, kind: str, media_type: str) -> dict:
    return {"run_id": run.run_id, "name": name, "sha256": digest, "size": size, "kind": kind,
            "media_type": media_type, "created_time": time.time()}


def prepare_artifacts(run: "Run", obj: Any, name: str | None) -> tuple[list[dict], str]:
    """Store ``obj``'s content as blobs; return the artifact rows and the name shown to the user."""
    from . import config

    blobs = config.store_for(run.store_uri).blobs
    if name is not None:
        name = safe_artifact_name(name)

    if isinstance(obj, Path) or (isinstance(obj, str) and name is None and os.path.exists(obj)) or (
            isinstance(obj, str) and name is not None and os.path.exists(obj) and "\n" not in obj):
        return _prepare_path(run, blobs, Path(obj), name)
    kind = kind_for_object(obj, name)
    if name is None:
        if kind.default_name is None:
            shown = f"{obj[:60]!r} is not an existing file or directory; " if isinstance(obj, str) else ""
            raise ValueError(shown + kind.name_hint)
        name = kind.default_name(obj)
    digest, size = blobs.put_bytes(kind.dump(obj, name))
    return [_row(run, name, digest, size, kind.kind, kind.media_type_for(name))], name


def _prepare_path(run: "Run", blobs, path: Path, name: str | None) -> tuple[list[dict], str]:
    if not path.exists():
        raise FileNotFoundError(f"no file or directory at {str(path)!r}")
    if path.is_file():
        name = name or safe_artifact_name(path.name)
        digest, size = blobs.put_file(path)
        return [_row(run, name, digest, size, "file", FILE.media_type_for(name))], name
    base = name or safe_artifact_name(path.resolve().name)
    rows = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        member = safe_artifact_name(f"{base}/{file.relative_to(path).as_posix()}")
        digest, size = blobs.put_file(file)
        rows.append(_row(run, member, digest, size, "file", FILE.media_type_for(member)))
    return rows, base
