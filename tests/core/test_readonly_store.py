"""A store that is read-only when a process first opens it, and writable a few seconds later."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from other_user import REPO, other_user, set_writable, shared_directory

import nbtrack
from nbtrack import config

WRITER = """
    import os, sys, time, nbtrack
    started = time.time()
    run = nbtrack.track("readonly")
    print(run.run_id, flush=True)
    points = artifacts = 0
    while time.time() - started < SECONDS:
        nbtrack.log_metric("m", points * 0.5, step=points)
        points += 1
        if points % 100 == 1:  # a 4 KB artifact every ~0.5 s
            nbtrack.log_artifact(os.urandom(4096), name=f"blob-{artifacts}.bin")
            artifacts += 1
        time.sleep(0.005)
    run.end()
    print(points, artifacts, flush=True)
"""


def _store_paths(store_dir):
    paths = [store_dir, *store_dir.glob("nbtrack.db*")]
    artifacts = store_dir / "artifacts"
    if artifacts.exists():
        paths += [artifacts, *artifacts.rglob("*")]
    return paths


def test_a_store_read_only_at_first_gets_every_point_once_writable():
    """Issue 13: SQLite keeps the read-only handle of the database and its -shm for the life of the
    connection: 0 points and no run row were stored, even long after write access came back; the
    artifacts logged meanwhile raised PermissionError into the user's code."""
    with shared_directory() as shared, other_user() as as_other:
        store_dir = shared / "store"
        uri = f"sqlite:///{store_dir / 'nbtrack.db'}"
        nbtrack.set_store(uri)
        with nbtrack.track("earlier"):  # an earlier run made the store (and its -wal/-shm files)
            nbtrack.log_metric("m", 1.0)
            nbtrack.log_artifact(b"earlier", name="earlier.bin")
        cache = shared / "cache"
        cache.mkdir(mode=0o777)
        os.chmod(cache, 0o777)
        set_writable(_store_paths(store_dir), False)
        env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": uri, "XDG_CACHE_HOME": str(cache),
               "HOME": str(shared), "NBTRACK_JOURNAL_AFTER": "1"}
        writer = subprocess.Popen(
            [*as_other, sys.executable, "-c", "SECONDS = 6\n" + textwrap.dedent(WRITER)], cwd=shared, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run_id = writer.stdout.readline().strip()
        time.sleep(3)  # read-only for the first half of the run
        set_writable(_store_paths(store_dir), True)
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        points, artifacts = map(int, out.split())
        config._stores.clear()
        record = nbtrack.get_run(run_id)
        history = record.metric_history("m")
        assert record.status == "FINISHED", err
        assert len(history) == points and list(history["step"]) == list(range(points)), err
        assert "cannot write to the run store" in err and "readonly" in err
        assert sorted(a.name for a in record.artifacts if a.name.startswith("blob-")) == sorted(
            f"blob-{i}.bin" for i in range(artifacts))
        assert all(len(a.read_bytes()) == 4096 for a in record.artifacts if a.name.startswith("blob-"))
        assert record.document("artifact_errors") == [] and not list(store_dir.rglob("*.tmp"))
        assert not [p for p in cache.rglob("*.jsonl") if p.stat().st_size], "the journal was not emptied"
