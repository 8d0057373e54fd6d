"""The local journal: nothing is lost when the store is down at exit or for long, and it is replayed once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import nbtrack
from nbtrack import journal
from nbtrack.flusher import FLUSHER
from nbtrack.store.batch import Batch
from nbtrack.store.sql import normalize_uri

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
    import sys, nbtrack
    run = nbtrack.track("outage", params={"lr": 0.01})
    for i in range(1000):
        nbtrack.log_metric("loss", 1.0 / (i + 1))
    nbtrack.log_note("before the outage")
    nbtrack.flush()
    print(run.run_id, flush=True)
    sys.stdin.readline()  # the test stops the store now
    for i in range(1000, 3000):
        nbtrack.log_metric("loss", 1.0 / (i + 1))
    nbtrack.set_tag("phase", "after")
    nbtrack.log_note("during the outage")
"""


def _python(code: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env}, timeout=180, **kwargs)


def _count(uri: str, run_id: str) -> tuple:
    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            points = connection.execute(text("select count(*), count(distinct step) from metrics where run_id = :r"),
                                        {"r": run_id}).one()
            run = connection.execute(text("select status, notes from runs where run_id = :r"), {"r": run_id}).one()
            return (*points, *run)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_stopped_as_a_script_exits_loses_nothing(stoppable_postgres, isolated):
    """Issue 13: 2,000 of 3,000 points and the FINISHED status were dropped with exit code 0, after a
    message promising they would be written; the run was later marked KILLED although it finished."""
    uri = stoppable_postgres.uri
    env = {"NBTRACK_STORE": uri, "NBTRACK_CONNECT_TIMEOUT": "2"}
    script = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SCRIPT)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO), **env})
    run_id = script.stdout.readline().strip()
    stoppable_postgres.stop()
    _, err = script.communicate("go\n", timeout=180)
    assert script.returncode == 0, err
    last = err.strip().splitlines()[-1]
    assert f"run {run_id} (outage/" in last and "2,000 metric points and its FINISHED status" in last, err
    waiting = Path(last.split("waiting in the journal ")[1].split(": run ")[0])
    assert waiting.is_file() and str(waiting).startswith(str(isolated / "cache"))

    stoppable_postgres.start()
    # Another machine (no access to this journal) reads first: the run's heartbeat is long stale.
    elsewhere = _python("import nbtrack; nbtrack.runs()", {**env, "XDG_CACHE_HOME": str(isolated / "other"),
                                                           "NBTRACK_HEARTBEAT_TIMEOUT": "1"})
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert _count(uri, run_id)[2] == "KILLED"
    # The next process on this machine replays the journal, once.
    reader = _python(f"import nbtrack; print(nbtrack.get_run({run_id!r}).status)", env)
    assert reader.stdout.strip() == "FINISHED", reader.stderr
    assert "wrote 2,000 metric points" in reader.stderr
    assert not waiting.exists()
    again = _python(f"import nbtrack; print(nbtrack.get_run({run_id!r}).status)", env)
    assert "wrote" not in again.stderr
    points, distinct, status, notes = _count(uri, run_id)
    assert (points, distinct, status) == (3000, 3000, "FINISHED")
    assert notes == "before the outage\nduring the outage\n"


def test_a_sqlite_store_unreachable_at_exit_is_written_by_the_next_process(isolated):
    blocker = isolated / "project"
    blocker.write_text("a file where the store's directory should be")
    store = blocker / ".nbtrack" / "nbtrack.db"
    env = {"NBTRACK_STORE": f"sqlite:///{store}"}
    first = _python("""
        import nbtrack
        with nbtrack.track("offline") as run:
            for i in range(500):
                nbtrack.log_metric("m", i)
        print(run.run_id)
    """, env)
    assert first.returncode == 0, first.stderr
    run_id = first.stdout.strip()
    assert "500 metric points and its FINISHED status" in first.stderr.strip().splitlines()[-1]
    blocker.unlink()  # the store's place is usable again
    second = _python(f"import nbtrack; r = nbtrack.get_run({run_id!r}); print(r.status, len(r.metric_history('m')))",
                     env)
    assert second.stdout.strip() == "FINISHED 500", second.stderr


def test_a_long_outage_moves_buffered_points_to_the_journal(isolated, monkeypatch):
    """The buffer no longer grows without bound while the store is down."""
    monkeypatch.setenv("NBTRACK_JOURNAL_AFTER", "0")
    nbtrack.set_store("postgresql+psycopg://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("NBTRACK_CONNECT_TIMEOUT", "1")
    run = nbtrack.track("long outage")
    try:
        for i in range(20_000):
            nbtrack.log_metric("m", i)
        FLUSHER.flush_all()
        assert run.pending_points() == 0
        own = FLUSHER.journal(run.store_uri)
        assert own.waiting[run.run_id]["points"] == 20_000 and os.path.getsize(own.path) > 100_000
        for i in range(5):
            nbtrack.log_metric("m", i)
        FLUSHER.flush_all()
        assert run.pending_points() == 0 and own.waiting[run.run_id]["points"] == 20_005
    finally:  # forget the run and its journal: nothing to write at this test's exit
        run._discard()
        FLUSHER.reporter.failing = False
        own = FLUSHER._journals.pop(normalize_uri(run.store_uri), None)
        if own is not None:
            own.records = 0
            own.close()


def test_a_journal_is_replayed_once_and_never_while_its_process_lives(isolated):
    store_uri = f"sqlite:///{isolated / 'j.db'}"
    nbtrack.set_store(store_uri)
    with nbtrack.track("replayed") as run:
        pass
    batch = Batch(metrics=[(run.run_id, "m", i, float(i), 1.0 + i) for i in range(100)],
                  notes=[(run.run_id, "note-1", "from the journal\n")])
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from nbtrack.journal import Journal
        from nbtrack.store.batch import Batch
        journal = Journal({store_uri!r})
        print(journal.append(Batch.from_record({batch.to_record()!r})), flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    path = Path(writer.stdout.readline().strip())
    store = nbtrack.get_store()
    write = store.write_batch
    try:
        assert journal.replay_pending(store_uri, write) == 0 and path.exists()  # its writer still runs
    finally:
        writer.communicate("\n", timeout=60)
    copy = path.with_name("copy-of-a-replayed-journal.jsonl")
    shutil.copy(path, copy)  # as if a crash came between the commit and the removal
    assert journal.replay_pending(store_uri, write) == 200 and not path.exists() and not copy.exists()
    record = nbtrack.get_run(run.run_id)
    assert len(record.metric_history("m")) == 100 and record.notes == "from the journal\n"


def test_a_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "j.jsonl"
    good = Batch(metrics=[("r" * 32, "m", 0, 1.0, 2.0)]).to_record()
    path.write_text(json.dumps({"nbtrack_journal": 1}) + "\n" + json.dumps({"batch": good}) + "\n" + '{"batch": {"met')
    batches = list(journal.read_batches(str(path)))
    assert len(batches) == 1 and batches[0].metrics == [("r" * 32, "m", 0, 1.0, 2.0)]


def test_a_batch_survives_the_journal_format(isolated):
    nan = float("nan")
    batch = Batch(creates=[("a" * 32, "e", "n", 1.0, None)], params=[("a" * 32, "p", "i", "1", 1.0)],
                  metrics=[("a" * 32, "m", 2**40, nan, 1.5), ("a" * 32, "m", 1, float("inf"), 1.6)],
                  latest={("a" * 32, "m"): (2**40, nan, 1.5)}, tags=[("a" * 32, "t", "v")],
                  artifacts=[{"run_id": "a" * 32, "name": "x", "sha256": "0" * 64, "size": 1, "kind": "text",
                              "media_type": "text/plain", "created_time": 1.0}],
                  documents=[("a" * 32, "doc", {"b": [1, 2.5, None]})], notes=[("a" * 32, "id", "note\n")],
                  heartbeats=[("a" * 32, 5.0)], ends=[("a" * 32, "FINISHED", 9.0)])
    back = Batch.from_record(json.loads(json.dumps(batch.to_record())))
    assert back.heartbeats == []  # a replayed heartbeat would claim a dead run is alive
    back.heartbeats = batch.heartbeats
    assert repr(back) == repr(batch)


LIVE_THROUGH = """
    import sys, time, nbtrack
    with nbtrack.track("live through") as run:
        print(run.run_id, flush=True)
        for number, phase in enumerate(("before", "during", "after")):
            if number:
                print(phase, flush=True)
                sys.stdin.readline()
            for i in range(300):
                nbtrack.log_metric("m", float(i), step=number * 1000 + i)
                time.sleep(0.005)
            nbtrack.log_note(phase)
"""


@pytest.mark.postgres
def test_a_process_that_lives_through_an_outage_replays_its_journal_itself(stoppable_postgres, isolated):
    env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": stoppable_postgres.uri,
           "NBTRACK_CONNECT_TIMEOUT": "2", "NBTRACK_JOURNAL_AFTER": "0.5"}
    script = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LIVE_THROUGH)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    run_id = script.stdout.readline().strip()
    assert script.stdout.readline().strip() == "during"
    stoppable_postgres.stop()
    script.stdin.write("\n")
    script.stdin.flush()
    assert script.stdout.readline().strip() == "after"  # ~1.5 s of logging into the journal
    stoppable_postgres.start()
    _, err = script.communicate("\n", timeout=120)
    assert script.returncode == 0, err
    assert "waiting in the journal" not in err and "reachable again" in err, err
    assert not [p for p in (isolated / "cache").rglob("*.jsonl") if p.stat().st_size], "journal left behind"
    points, distinct, status, notes = _count(stoppable_postgres.uri, run_id)
    assert (points, distinct, status, notes) == (900, 900, "FINISHED", "before\nduring\nafter\n")


def test_a_run_whose_data_is_being_written_is_not_let_go(tmp_path):
    """The flusher's thread lets a finished run go once nothing of it is buffered. While a flush
    has the run's data out of the buffer (here waiting on a store that another connection holds
    locked), the run is not done: let go, a failed write would put the data back into a run that
    nothing flushes or journals any more, and exit would drop it silently (seen with a reader
    role, whose ``end()`` flush raced the flusher's pass)."""
    import sqlite3
    import threading
    import time

    from nbtrack.run import Run

    path = tmp_path / "locked.db"
    nbtrack.set_store(f"sqlite:///{path}")
    run = Run("racing", capture_environment=False)
    run.log_metric("loss", 1.0, step=0)
    run.flush()  # the run exists
    blocker = sqlite3.connect(path, timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # from here every write of the store waits (busy_timeout)
    for step in range(1, 50):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.end(wait=False)
    writer = threading.Thread(target=run.flush)  # this flush, or the flusher's own, takes the data
    writer.start()
    deadline = time.monotonic() + 10
    while run.pending_points() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.pending_points() == 0, "a flush took the run's points"
    FLUSHER._let_go_if_done(run)  # what the flusher's thread does after its pass
    assert run in FLUSHER.runs(), "a run whose write is under way was let go"
    blocker.execute("ROLLBACK")
    blocker.close()
    writer.join(60)
    assert len(nbtrack.get_run(run.run_id).metric_history("loss")) == 50
    FLUSHER._let_go_if_done(run)
    assert run not in FLUSHER.runs(), "once written, the run is let go"
