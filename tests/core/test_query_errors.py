"""Reads that fail: a query past the timeout, a damaged store file, a store without its schema row.
Each is one documented nbtrack error (and one line from the CLI), never a raw driver exception."""

from __future__ import annotations

import time
import uuid

import pytest
from cli_helpers import run_cli

import nbtrack
from nbtrack.errors import QueryTimeoutError, StoreUnavailableError, StoreVersionError
from nbtrack.store.batch import Batch

# 250 (param AND metric) pairs: nothing merges into fewer probes, each run is probed 250+ times
SLOW_FILTER = " or ".join(f"(params.k{i % 7} = 'v{i}' and metrics.m{i} > 0)" for i in range(250))


def many_runs(count: int = 3000) -> None:
    ids = [uuid.uuid4().hex for _ in range(count)]
    now = time.time()
    nbtrack.get_store().write_batch(Batch(
        creates=[(r, "slow", f"r{i}", now + i, None) for i, r in enumerate(ids)],
        params=[(r, f"k{j}", "s", f"x{i}", None) for i, r in enumerate(ids) for j in range(7)]))


def test_a_query_past_the_timeout_is_stopped_with_a_clear_error(store_uri, monkeypatch):
    many_runs()
    monkeypatch.setenv("NBTRACK_QUERY_TIMEOUT", "0.001")
    for read in (lambda: nbtrack.runs("slow", filter=SLOW_FILTER), lambda: nbtrack.count_runs(filter=SLOW_FILTER),
                 lambda: nbtrack.summarize_runs("slow", filter=SLOW_FILTER)):
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match="longer than 0.001 s.*NBTRACK_QUERY_TIMEOUT"):
            read()
        assert time.perf_counter() - started < 20
    monkeypatch.setenv("NBTRACK_QUERY_TIMEOUT", "0")  # no limit; the store still answers
    assert nbtrack.count_runs("slow", filter="params.k0 = 'x5'") == 1
    monkeypatch.delenv("NBTRACK_QUERY_TIMEOUT")
    assert len(nbtrack.runs("slow", filter="params.k3 = 'x7' or params.k4 = 'x8'")) == 2


def test_the_cli_reports_a_timeout_in_one_line(isolated, monkeypatch):
    store = f"sqlite:///{isolated / 'cli.db'}"
    nbtrack.set_store(store)
    many_runs()
    nbtrack.get_store().close()
    monkeypatch.setenv("NBTRACK_QUERY_TIMEOUT", "0.001")
    listed = run_cli("--store", store, "ls", "--filter", SLOW_FILTER)
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert listed.stderr.strip().count("\n") == 0 and "took longer than 0.001 s" in listed.stderr


def test_a_damaged_store_file_is_a_store_error_not_a_driver_error(isolated):
    """runs() read through a raw cursor: sqlite3.DatabaseError escaped while get_run wrapped it."""
    path = isolated / "damaged.db"
    nbtrack.set_store(f"sqlite:///{path}")
    many_runs(2000)
    nbtrack.get_store().engine.dispose()
    import sqlite3

    with sqlite3.connect(path) as connection:  # everything into the main file, then damage it
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for offset in range(len(data) // 2, len(data) - 4096, 4096 * 3):  # damage data pages, not the schema
        data[offset:offset + 2048] = b"\xa5" * 2048
    path.write_bytes(bytes(data))
    with pytest.raises(StoreUnavailableError, match="cannot read .*damaged.db: .*malformed"):
        nbtrack.runs("slow")
    listed = run_cli("--store", str(path), "ls")
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert listed.stderr.strip().count("\n") == 0 and "malformed" in listed.stderr


def test_a_store_without_its_schema_version_row_is_a_version_error(store_uri):
    """sqlalchemy.exc.NoResultFound escaped when the nbtrack_meta row was missing."""
    with nbtrack.track("meta"):
        pass
    store = nbtrack.get_store()
    with store.write() as connection:
        connection.exec_driver_sql("DELETE FROM nbtrack_meta")
    uri = store.uri
    store.close()
    from nbtrack.store.sql import SqlStore

    with pytest.raises(StoreVersionError, match="without a valid schema_version row"):
        SqlStore(uri)
    listed = run_cli("--store", uri, "ls")
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert listed.stderr.strip().count("\n") == 0 and "schema_version row" in listed.stderr
