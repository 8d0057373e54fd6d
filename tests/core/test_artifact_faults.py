"""Artifacts on a full or read-only disk: nothing raised into the user's code, no temporary files left."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from other_user import REPO, other_user, set_writable, shared_directory

import nbtrack
from nbtrack import config

FULL_DISK = """
    import hashlib, os, resource, signal, nbtrack
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    big = os.urandom(3_000_000)
    with nbtrack.track("full disk") as run:
        nbtrack.log_metric("m", 1.0)
        nbtrack.flush()
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, resource.RLIM_INFINITY))  # no file past 1 MB
        shown = nbtrack.log_artifact(big, name="big.bin")
        nbtrack.log_artifact(b"small", name="small.bin")
        nbtrack.log_metric("m", 2.0)
        nbtrack.flush()
        if FREED:
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print(run.run_id, shown, hashlib.sha256(big).hexdigest())
"""


def _temporary_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.tmp")] if root.exists() else []


@pytest.mark.parametrize("freed", [True, False], ids=["space-freed-later", "stays-full"])
def test_a_full_disk_does_not_raise_into_user_code(isolated, freed):
    """Issue 13: log_artifact raised OSError [Errno 28] into user code and left <sha>.<uuid>.tmp files."""
    result = subprocess.run([sys.executable, "-c", f"FREED = {freed}\n" + textwrap.dedent(FULL_DISK)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    run_id, shown, digest = result.stdout.split()
    assert shown == "big.bin"
    assert result.stderr.count("could not save the artifact 'big.bin'") == 1 and "File too large" in result.stderr
    record = nbtrack.get_run(run_id)
    assert record.status == "FINISHED" and list(record.metric_history("m")["value"]) == [1.0, 2.0]
    assert record.artifact("small.bin").read_bytes() == b"small"
    names = [a.name for a in record.artifacts]
    if freed:
        assert record.artifact("big.bin").sha256 == digest and record.document("artifact_errors") == []
    else:
        assert "big.bin" not in names
        (error,) = record.document("artifact_errors")
        assert error["name"] == "big.bin" and error["status"] == "not stored" and "File too large" in error["error"]
    assert _temporary_files(isolated / "store" / "artifacts") == []


READ_ONLY_WRITER = """
    import nbtrack
    with nbtrack.track("read-only artifacts") as run:
        nbtrack.log_artifact(b"new content", name="new.bin")
        nbtrack.log_artifact(b"earlier", name="same-as-before.bin")  # its blob exists: stored
        nbtrack.log_metric("m", 1.0)
    print(run.run_id)
"""


def test_a_read_only_artifact_directory_does_not_raise_into_user_code():
    """Issue 13: PermissionError reached user code from log_artifact."""
    with shared_directory() as shared, other_user() as as_other:
        store_dir = shared / "store"
        uri = f"sqlite:///{store_dir / 'nbtrack.db'}"
        nbtrack.set_store(uri)
        with nbtrack.track("earlier"):
            nbtrack.log_artifact(b"earlier", name="earlier.bin")
        artifacts = store_dir / "artifacts"
        set_writable([store_dir, *store_dir.glob("nbtrack.db*")], True)
        set_writable([artifacts, *artifacts.rglob("*")], False)
        cache = shared / "cache"
        cache.mkdir()
        os.chmod(cache, 0o777)
        result = subprocess.run([*as_other, sys.executable, "-c", textwrap.dedent(READ_ONLY_WRITER)], cwd=shared,
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": uri,
                                     "XDG_CACHE_HOME": str(cache), "HOME": str(shared)})
        assert result.returncode == 0, result.stderr
        assert "could not save the artifact 'new.bin'" in result.stderr and "Permission denied" in result.stderr
        config._stores.clear()
        record = nbtrack.get_run(result.stdout.strip())
        assert record.status == "FINISHED" and record.artifact("same-as-before.bin").read_bytes() == b"earlier"
        (error,) = record.document("artifact_errors")
        assert error["name"] == "new.bin" and error["status"] == "not stored"
        assert _temporary_files(artifacts) == []


def test_gc_removes_temporary_files_of_unfinished_writes(isolated):
    """A writer killed mid-write leaves <sha>.<uuid>.tmp; gc looked only at 64-character names."""
    with nbtrack.track("gc"):
        nbtrack.log_artifact(b"kept", name="kept.bin")
    store = nbtrack.get_store()
    folder = Path(store.blobs.root) / "ab"
    folder.mkdir(parents=True, exist_ok=True)
    stale, fresh = folder / ("ab" + "0" * 62 + ".1234.tmp"), folder / ("ab" + "1" * 62 + ".5678.tmp")
    stale.write_bytes(b"half a blob")
    fresh.write_bytes(b"being written")
    os.utime(stale, (1_000_000, 1_000_000))
    assert store.collect_garbage(grace_seconds=3600, dry_run=True)["temporary_files_removed"] == 1
    assert stale.exists()
    result = store.collect_garbage(grace_seconds=3600)
    assert result["temporary_files_removed"] == 1 and not stale.exists() and fresh.exists()
    assert result["blobs_removed"] == 0
