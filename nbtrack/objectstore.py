"""Artifact blobs on object storage (S3 and any other fsspec URL): open, write whole or not at all, redact.

- ``filesystem(url)``: the fsspec file system and root for an artifact URL. S3 (``s3://bucket/prefix``,
  ``pip install 'nbtrack[s3]'``) reads credentials the usual way (environment, ``~/.aws``, an instance
  profile; ``AWS_ENDPOINT_URL`` for an S3-compatible server) and never stores them: the credentials in
  use are registered with :mod:`nbtrack.secrets` as known secrets, so no run records them, and the URL
  is only ever shown or recorded through ``redact_url``.
- ``write_remote(...)``: a blob is uploaded (multipart, in ``NBTRACK_ARTIFACT_PART_MB`` parts, default
  8 MB, so memory stays flat whatever the size) to a temporary key ``<address>.<uuid>.tmp``, checked
  (size and SHA-256 of what was sent), and only then copied to its content address. An interrupted
  upload leaves at most a temporary key (``nbtrack gc`` removes it after the grace period) and never a
  blob at an address; a run references a blob only after this returned. Transient failures (a server
  restarting, a dropped connection) are retried from the start, ``NBTRACK_ARTIFACT_RETRIES`` times.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import time
import uuid
from typing import IO, Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ArtifactWriteError, MissingDependencyError

# fsspec protocols whose package nbtrack knows, and the extra that brings it
_PACKAGES = {"s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs"),
             "az": ("adlfs", "azure"), "abfs": ("adlfs", "azure")}
_SECRET_QUERY = ("pass", "secret", "token", "key", "signature", "credential")


def part_size() -> int:
    """Bytes per uploaded part and per read-ahead block on object storage (S3's minimum part is 5 MB)."""
    return max(5, int(os.environ.get("NBTRACK_ARTIFACT_PART_MB", "8"))) << 20


def _retries() -> int:
    return max(0, int(os.environ.get("NBTRACK_ARTIFACT_RETRIES", "3")))


def protocol_of(url: str) -> str:
    """``s3`` for ``s3://bucket/x``; ``file`` for a local path."""
    return url.split("://", 1)[0].lower() if "://" in url else "file"


def redact_url(url: str) -> str:
    """The URL without credentials: no ``user:password@``, secret-looking query values as ``***``."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, "***" if any(word in k.lower() for word in _SECRET_QUERY) else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*/:"), parts.fragment))


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec file system, root path) for an artifact root URL or directory."""
    from fsspec.core import url_to_fs

    protocol = protocol_of(url)
    options: dict[str, Any] = {}
    if protocol in ("s3", "s3a"):
        # a file system of its own: fsspec's instance cache would hand over another store's credentials
        options.update(default_block_size=part_size(), skip_instance_cache=True)
    try:
        fs, root = url_to_fs(url, **options)
    except ImportError as error:
        package, extra = _PACKAGES.get(protocol, (error.name or protocol, protocol))
        raise MissingDependencyError(package, extra, f"artifacts at {redact_url(url)}") from None
    _register_credentials(fs)
    return fs, root


def _register_credentials(fs: Any) -> None:
    """Make the credentials this file system signs with known secrets: redacted wherever they appear."""
    from . import secrets

    for value in _credential_values(fs):
        secrets.add_known_secret(value)


def _credential_values(fs: Any) -> list[str]:
    if "s3" not in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        return []
    found = [getattr(fs, name, None) for name in ("key", "secret", "token")]
    try:
        fs.connect()  # resolves the credentials (environment, ~/.aws, instance profile) as botocore does
        credentials = fs.s3._request_signer._credentials
        if credentials is not None:  # plain and refreshable credentials keep them under either name
            found += [getattr(credentials, f"_{name}", None) or vars(credentials).get(name)
                      for name in ("access_key", "secret_key", "token")]
    except Exception:  # no credentials yet (a public bucket) or another s3fs layout: nothing to register
        pass
    return [value for value in found if isinstance(value, str) and value]


class _Hashing:
    """A writable wrapper that hashes and counts what goes through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.size = out, 0
        self.hasher = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.size += len(data)
        return self.out.write(data)


def write_remote(fs: Any, target: str, write: Callable[[Any], None], root_url: str) -> None:
    """Upload a blob to ``target`` (its content address, ``.../<sha256>``) whole or not at all.

    ``write(out)`` writes the content (it may be called again for a retry). Raises ArtifactWriteError
    when the object store cannot take it; nothing is then left at ``target``.
    """
    expected = posixpath.basename(target)
    shown = redact_url(root_url)
    attempts = _retries() + 1
    for attempt in range(attempts):
        temporary = f"{target}.{uuid.uuid4().hex}.tmp"
        try:
            _upload(fs, temporary, write, expected)
            fs.mv(temporary, target)  # a server-side copy: the address holds a complete blob or nothing
            return
        except ArtifactWriteError:
            _remove_quietly(fs, temporary)
            raise
        except Exception as error:  # noqa: BLE001 - botocore/aiohttp/fsspec errors have no common base
            _remove_quietly(fs, temporary)
            if isinstance(error, PermissionError) or attempt == attempts - 1:
                raise ArtifactWriteError(shown, _as_os_error(error)) from error
            time.sleep(min(0.5 * 2 ** attempt, 4.0))
            _forget_listing(fs, target)


def _upload(fs: Any, temporary: str, write: Callable[[Any], None], expected: str) -> None:
    out = fs.open(temporary, "wb", block_size=part_size())
    sink = _Hashing(out)
    try:
        write(sink)
        out.close()  # completes the multipart upload
    except BaseException:
        _discard(out)
        raise
    if sink.hasher.hexdigest() != expected:
        raise ArtifactWriteError(posixpath.dirname(temporary), OSError(
            "the content changed while it was being stored (a file written to meanwhile?); log it again"))
    stored = fs.info(temporary).get("size")
    if stored is not None and int(stored) != sink.size:
        raise OSError(f"the object store holds {stored} of {sink.size} bytes after the upload")


def _as_os_error(error: BaseException) -> OSError:
    """An OSError with an errno and one short line (botocore's messages carry whole request URLs)."""
    if isinstance(error, OSError) and error.errno is not None:
        return error
    text = (str(error).strip().splitlines() or [""])[0]
    text = f"{type(error).__name__}: {text[:200] + '…' if len(text) > 200 else text}"
    return OSError(errno.EIO, text)


def _discard(out: Any) -> None:
    """Abandon an unfinished upload (an S3 multipart upload is aborted: no object appears)."""
    try:
        if hasattr(out, "discard"):
            out.discard()
        else:
            out.close()
    except Exception:  # the server may be the reason we are here
        pass
    out.closed = True  # else closing it later (its __del__) would complete the upload with what was sent


def _remove_quietly(fs: Any, path: str) -> None:
    try:
        fs.rm_file(path)
    except Exception:
        pass


def _forget_listing(fs: Any, path: str) -> None:
    try:
        fs.invalidate_cache(posixpath.dirname(path))
    except Exception:
        pass
