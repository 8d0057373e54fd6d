"""Content-addressed blob storage for artifacts, on any fsspec file system.

A blob lives at ``<root>/<first two hex digits>/<sha256>``: identical content logged by
any number of runs is stored once.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import time
import uuid
from typing import IO, Iterator

from ..errors import ArtifactNameError, ArtifactWriteError

CHUNK = 1 << 20
MAX_NAME_LENGTH = 1000


def safe_artifact_name(name: object) -> str:
    """Return the normalized relative POSIX name, or raise ArtifactNameError.

    Names are relative to their run: absolute paths, drive letters, ``..`` components,
    NUL bytes and empty names are refused, so no name can reach outside its run.
    """
    if not isinstance(name, str):
        raise ArtifactNameError(name, "it must be a string")
    if "\x00" in name:
        raise ArtifactNameError(name, "it contains a NUL byte")
    if not name.strip():
        raise ArtifactNameError(name, "it is empty")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ArtifactNameError(name, "it contains a lone surrogate (os.fsdecode of a non-UTF-8 file name); "
                                      "pass name= with valid text") from None
    if len(name) > MAX_NAME_LENGTH:
        raise ArtifactNameError(name, f"it is longer than {MAX_NAME_LENGTH} characters")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise ArtifactNameError(name, "absolute paths are not allowed")
    parts = [part for part in unified.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise ArtifactNameError(name, "'..' would leave the run's namespace")
    if not parts:
        raise ArtifactNameError(name, "it names no file")
    return "/".join(parts)


class BlobStore:
    """Stores and reads blobs by SHA-256 under one fsspec root URL or local directory."""

    def __init__(self, root: str) -> None:
        from ..objectstore import filesystem

        self.root_url = root
        self.fs, self.root = filesystem(root)  # object storage: credentials registered as secrets
        self.is_local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    def path(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        return posixpath.join(self.root, sha256[:2], sha256)

    def exists(self, sha256: str) -> bool:
        return self.fs.exists(self.path(sha256))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store ``data``; return (sha256, size)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not self._refresh(target):
            self._write_atomically(target, lambda f: f.write(data))
        return digest, len(data)

    def _refresh(self, target: str) -> bool:
        """Whether the blob exists; a local one is touched, so gc's grace period covers its new use."""
        if self.is_local:
            try:
                os.utime(target)
                return True
            except FileNotFoundError:
                return False
            except OSError:  # e.g. another user's blob in a shared store: it is there, leave it be
                return os.path.exists(target)
        return self.fs.exists(target)

    def put_file(self, local_path: str | os.PathLike) -> tuple[str, int]:
        """Store a local file's content; return (sha256, size)."""
        hasher = hashlib.sha256()
        size = 0
        with open(local_path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                hasher.update(chunk)
                size += len(chunk)
        digest = hasher.hexdigest()
        target = self.path(digest)
        if not self._refresh(target):
            def copy(out: IO[bytes]) -> None:
                with open(local_path, "rb") as f:
                    for chunk in iter(lambda: f.read(CHUNK), b""):
                        out.write(chunk)
            self._write_atomically(target, copy)
        return digest, size

    def _write_atomically(self, target: str, write) -> None:
        """Write a blob whole or not at all; ArtifactWriteError when the artifact store cannot
        take it (disk full, read-only, permission denied), leaving no temporary file behind."""
        temporary = f"{target}.{uuid.uuid4().hex}.tmp"
        try:
            if self.is_local:
                self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
                try:
                    with open(temporary, "wb") as f:
                        write(f)
                    os.replace(temporary, target)
                except BaseException:
                    _remove_quietly(temporary)
                    raise
            else:  # a temporary key, checked, then copied to the address (nbtrack.objectstore)
                from ..objectstore import write_remote

                write_remote(self.fs, target, write, self.root_url)
        except ArtifactWriteError:
            raise
        except OSError as error:
            raise ArtifactWriteError(self.root_url, error) from error

    def read_bytes(self, sha256: str) -> bytes:
        return self.fs.cat_file(self.path(sha256))

    def open(self, sha256: str) -> IO[bytes]:
        return self.fs.open(self.path(sha256), "rb")

    def local_path(self, sha256: str) -> str | None:
        """The blob's path on this machine's disk, or None for remote file systems."""
        return self.path(sha256) if self.is_local else None

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        """Yield (sha256, modification time) of every stored blob."""
        for name, mtime in self._entries():
            if len(name) == 64:
                yield name, mtime

    def iter_temporary(self) -> Iterator[tuple[str, float]]:
        """Yield (path, modification time) of temporary files (``<sha>.<uuid>.tmp``) of unfinished
        writes: a process killed while writing a blob leaves one behind."""
        for name, mtime in self._entries():
            if name.endswith(".tmp") and len(name) > 64:
                yield posixpath.join(self.root, name[:2], name), mtime

    def _entries(self) -> Iterator[tuple[str, float]]:
        if not self.fs.exists(self.root):
            return
        for prefix in self.fs.ls(self.root, detail=False):
            name = posixpath.basename(prefix.rstrip("/"))
            if len(name) != 2:
                continue
            for entry in self.fs.ls(prefix, detail=True):
                mtime = entry.get("mtime") or entry.get("created") or entry.get("LastModified") or time.time()
                yield posixpath.basename(entry["name"].rstrip("/")), float(getattr(mtime, "timestamp", lambda: mtime)())

    def delete(self, sha256: str) -> None:
        self.fs.rm_file(self.path(sha256))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
