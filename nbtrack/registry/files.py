"""Files and directories handed back as paths: blobs copied out under their own names.

A directory (a logged model directory, a stored dataset directory) is a *manifest*: a JSON
blob ``{"relative/path": [sha256, size], ...}`` whose files are ordinary content-addressed
blobs, so a file shared by two versions is stored once. Copies land in ``dest`` when given,
else in a cache (``NBTRACK_CACHE``, else ``$XDG_CACHE_HOME/nbtrack``, else ``~/.cache/nbtrack``)
keyed by content, reused when already there. Member names pass ``safe_artifact_name``: no
manifest can write outside its directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ..store.blobs import safe_artifact_name

if TYPE_CHECKING:  # pragma: no cover
    from ..store.blobs import BlobStore


def cache_root() -> Path:
    """Where copies handed back as paths are kept."""
    configured = os.environ.get("NBTRACK_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nbtrack"


def manifest_bytes(entries: dict[str, tuple[str, int]]) -> bytes:
    """The canonical manifest of ``{relative path: (sha256, size)}`` (same files, same bytes)."""
    checked = {safe_artifact_name(name): [sha, int(size)] for name, (sha, size) in entries.items()}
    return json.dumps(dict(sorted(checked.items())), separators=(",", ":")).encode("utf-8")


def read_manifest(blobs: "BlobStore", sha256: str, missing_ok: bool = False) -> dict[str, list]:
    """``{relative path: [sha256, size]}`` of a stored manifest ({} for a missing one when ``missing_ok``)."""
    try:
        data = blobs.read_bytes(sha256)
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise
    manifest = json.loads(data)
    if not isinstance(manifest, dict):
        raise ValueError(f"blob {sha256[:12]} is not a directory manifest")
    return manifest


def store_directory(blobs: "BlobStore", path: Path) -> tuple[str, int, int]:
    """Store every file under ``path`` and its manifest: (manifest sha256, total size, file count)."""
    entries = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        entries[file.relative_to(path).as_posix()] = blobs.put_file(file)
    digest, _ = blobs.put_bytes(manifest_bytes(entries))
    return digest, sum(size for _, size in entries.values()), len(entries)


def _target(dest: str | os.PathLike | None, key: str, name: str) -> Path:
    base = Path(dest) if dest is not None else cache_root() / key[:2] / key
    return base / safe_artifact_name(name).rsplit("/", 1)[-1]


def _copy_blob(blobs: "BlobStore", sha256: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with blobs.open(sha256) as source, open(temporary, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def materialize_file(blobs: "BlobStore", sha256: str, size: int, filename: str,
                     dest: str | os.PathLike | None = None) -> Path:
    """The blob as a file named ``filename`` (in ``dest``, else in the cache); reused when present."""
    target = _target(dest, sha256, filename)
    if not (dest is None and target.is_file() and target.stat().st_size == size):
        _copy_blob(blobs, sha256, target)
    return target


def materialize_tree(blobs: "BlobStore", manifest_sha256: str, dirname: str,
                     dest: str | os.PathLike | None = None) -> Path:
    """The manifest's files as a directory named ``dirname`` (in ``dest``, else in the cache)."""
    target = _target(dest, manifest_sha256, dirname)
    if dest is None and target.is_dir():  # a cached copy appears only whole (renamed into place)
        return target
    manifest = read_manifest(blobs, manifest_sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, (sha, _size) in manifest.items():
            _copy_blob(blobs, sha, building / safe_artifact_name(name))
        if dest is not None and target.exists():  # the caller's directory: replace an older copy
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        try:
            os.replace(building, target)
        except OSError:
            if not (dest is None and target.is_dir()):  # in the cache another process just finished it
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target
