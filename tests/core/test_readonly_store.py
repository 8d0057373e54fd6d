"""A store that is read-only when a process first opens it, and writable a few seconds later."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
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


PRIVILEGED_LATER = """
    import time, nbtrack
    run = nbtrack.track("granted later")
    print(run.run_id, flush=True)
    for i in range(600):
        nbtrack.log_metric("m", float(i))
        time.sleep(0.005)
    run.end()
"""


@pytest.mark.postgres
def test_a_postgres_role_allowed_to_write_only_later_loses_nothing(postgres_uri):
    """The PostgreSQL counterpart: a role that may read but not yet write (permission denied is
    transient: kept and retried, never dropped), granted write access while the run goes on."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    nbtrack.set_store(postgres_uri)
    nbtrack.get_store()  # the schema, made by its owner
    admin = create_engine(postgres_uri)
    with admin.begin() as connection:
        connection.execute(text("DROP ROLE IF EXISTS late_writer"))
        connection.execute(text("CREATE ROLE late_writer LOGIN"))
        connection.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO late_writer"))
    as_writer = make_url(postgres_uri).set(username="late_writer").render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": as_writer}
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PRIVILEGED_LATER)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = writer.stdout.readline().strip()
    time.sleep(2)
    with admin.begin() as connection:
        connection.execute(text("GRANT INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO late_writer"))
        connection.execute(text("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO late_writer"))
    _, err = writer.communicate(timeout=120)
    try:
        assert writer.returncode == 0, err
        assert "permission denied" in err
        record = nbtrack.get_run(run_id)
        assert record.status == "FINISHED" and len(record.metric_history("m")) == 600
    finally:
        config._stores.clear()
        with admin.begin() as connection:
            connection.execute(text("REASSIGN OWNED BY late_writer TO CURRENT_USER"))
            connection.execute(text("DROP OWNED BY late_writer"))
            connection.execute(text("DROP ROLE late_writer"))
        admin.dispose()
