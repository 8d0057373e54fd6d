"""A store opened read-only (NBTRACK_READ_ONLY=1, what ``nbtrack ui`` gives its kernels): reads
work, every write is refused by nbtrack and, underneath, by the database connection itself."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, update

import nbtrack
from nbtrack import config
from nbtrack.errors import StoreUnavailableError
from nbtrack.store import schema as s
from nbtrack.store.sql import SqlStore


def _make_runs(uri: str) -> list[str]:
    nbtrack.set_store(uri)
    ids = []
    for i in range(3):
        with nbtrack.track("ro", name=f"run-{i}", params={"lr": 0.1 * (i + 1)}) as run:
            nbtrack.log_metric("acc", 0.5 + i / 10)
            ids.append(run.run_id)
    return ids


def _reopen_read_only(monkeypatch, uri: str) -> SqlStore:
    for store in list(config._stores.values()):
        store.close()
    config._stores.clear()
    monkeypatch.setenv("NBTRACK_READ_ONLY", "1")
    nbtrack.set_store(uri)
    store = config.get_store()
    assert store.read_only
    return store


def _as_written(uri: str, run_id: str) -> tuple:
    """The run's name, deleted flag, status, tags and documents as a fresh writable connection sees them."""
    store = SqlStore(uri, read_only=False)
    try:
        with store.read() as connection:
            row = connection.execute(s.runs.select().where(s.runs.c.run_id == run_id)).mappings().one()
            tags = connection.execute(select(s.tags.c.key, s.tags.c.value).where(s.tags.c.run_id == run_id)).all()
            documents = connection.execute(select(func.count()).select_from(s.run_documents)
                                           .where(s.run_documents.c.run_id == run_id)).scalar()
        return row["name"], row["deleted"], row["status"], sorted(tags), documents
    finally:
        store.close()


def test_reads_work_and_every_edit_is_refused(store_uri, monkeypatch):
    ids = _make_runs(store_uri)
    before = _as_written(store_uri, ids[0])
    store = _reopen_read_only(monkeypatch, store_uri)

    frame = nbtrack.runs("ro", order_by="metrics.acc DESC")
    assert list(frame["name"]) == ["run-2", "run-1", "run-0"]
    assert nbtrack.get_run(ids[0]).params == {"lr": pytest.approx(0.1)}
    assert nbtrack.summarize_runs("ro").count == 3

    for edit, args in ((nbtrack.rename_run, (ids[0], "renamed")), (nbtrack.tag_run, (ids[0], {"k": "v"})),
                       (nbtrack.note_run, (ids[0], "a note")), (nbtrack.delete_run, (ids[0],))):
        with pytest.raises(StoreUnavailableError, match="read-only"):
            edit(*args)
    assert _as_written(store_uri, ids[0]) == before

    # underneath nbtrack's own refusal, the connection itself cannot write
    with pytest.raises(Exception, match="(?i)read-?only"):
        with store.engine.connect() as connection:
            with connection.begin():
                connection.execute(update(s.runs).where(s.runs.c.run_id == ids[0]).values(name="raw"))
    assert _as_written(store_uri, ids[0]) == before


def test_a_read_only_reader_leaves_stale_runs_to_the_writers(store_uri, monkeypatch):
    ids = _make_runs(store_uri)
    writer = SqlStore(store_uri, read_only=False)
    try:
        with writer.write() as connection:  # a run whose process died long ago, not yet marked
            connection.execute(update(s.runs).where(s.runs.c.run_id == ids[1]).values(
                status="RUNNING", end_time=None, heartbeat_time=time.time() - 3600))
    finally:
        writer.close()
    _reopen_read_only(monkeypatch, store_uri)
    assert nbtrack.get_run(ids[1]).status == "RUNNING"  # shown as stored; nothing was written
    assert _as_written(store_uri, ids[1])[2] == "RUNNING"


def test_a_missing_sqlite_file_is_not_created(tmp_path, monkeypatch):
    monkeypatch.setenv("NBTRACK_READ_ONLY", "1")
    path = tmp_path / "nowhere" / "nbtrack.db"
    with pytest.raises(StoreUnavailableError):
        SqlStore(f"sqlite:///{path}")
    assert not path.parent.exists()
