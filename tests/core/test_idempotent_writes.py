"""Every write can be repeated: a connection cut right after COMMIT loses and duplicates nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pgproxy import CommitCuttingProxy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import nbtrack
from nbtrack.store.batch import Batch

REPO = Path(__file__).resolve().parents[2]

WRITER = """
    import sys, time, nbtrack
    with nbtrack.track("cut", params={"lr": 0.1, "layers": [64, 32]}, tags={"phase": "start"}) as run:
        print(run.run_id, flush=True)
        for i in range(POINTS):
            nbtrack.log_metric("loss", 1.0 / (i + 1))
            if i % 2 == 0:
                nbtrack.log_metric("nan_or_not", float("nan") if i % 4 == 0 else 1.0, step=i)
            if i % 250 == 0:
                nbtrack.log_note(f"checkpoint {i}")
                nbtrack.set_tag("phase", f"at {i}")
                nbtrack.log_artifact(f"report {i}", name=f"reports/{i}.txt")
            if i % 2 == 0:
                time.sleep(0.0025)  # about 4 s: some 200 flushes of 15 points
"""


def _rows(uri: str, sql: str, **params):
    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).fetchall()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_connections_cut_at_commit_lose_and_duplicate_nothing(postgres_uri, isolated):
    """Issue 11: with the reply to COMMIT lost, a blind retry lost a run's creation (and then all its
    points) or stored points twice. A proxy cuts the connection after ~30% of COMMITs at random."""
    nbtrack.get_store()  # noqa: B018 - creates the isolated SQLite store only; the run goes to PostgreSQL
    nbtrack.set_store(postgres_uri)
    nbtrack.get_store()  # the schema exists before the proxy starts cutting
    url = make_url(postgres_uri)
    proxy = CommitCuttingProxy((url.host, url.port), probability=0.3, seed=11)
    points = 3000
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": proxy.uri(postgres_uri),
               "NBTRACK_FLUSH_INTERVAL": "0.02", "NBTRACK_CONNECT_TIMEOUT": "5"}
        result = subprocess.run([sys.executable, "-c", f"POINTS = {points}\n" + textwrap.dedent(WRITER)],
                                capture_output=True, text=True, env=env, timeout=240)
        assert result.returncode == 0, result.stderr
        run_id = result.stdout.split()[0]
        proxy.cutting = False
        # a journal left by an exit whose last COMMIT was cut is replayed by the next process
        subprocess.run([sys.executable, "-m", "nbtrack.cli", "ls"], env=env, capture_output=True, timeout=120)
    finally:
        proxy.close()
    assert proxy.cuts >= 10, (proxy.cuts, proxy.commits)

    losses = _rows(postgres_uri, "select count(*), count(distinct step), min(step), max(step) from metrics "
                                 "where run_id = :r and key = 'loss'", r=run_id)[0]
    assert tuple(losses) == (points, points, 0, points - 1)
    nans = _rows(postgres_uri, "select count(*), sum(case when is_nan then 1 else 0 end) from metrics "
                               "where run_id = :r and key = 'nan_or_not'", r=run_id)[0]
    assert tuple(nans) == (points // 2, points // 4)
    status, notes = _rows(postgres_uri, "select status, notes from runs where run_id = :r", r=run_id)[0]
    assert status == "FINISHED"
    assert notes == "".join(f"checkpoint {i}\n" for i in range(0, points, 250)), notes
    record = nbtrack.get_run(run_id)
    assert record.params == {"lr": 0.1, "layers": [64, 32]}
    assert record.tags["phase"] == f"at {(points - 1) // 250 * 250}"
    assert sorted(a.name for a in record.artifacts) == sorted(f"reports/{i}.txt" for i in range(0, points, 250))
    assert record.metrics["loss"] == 1.0 / points
    print(f"{proxy.cuts} cuts in {proxy.commits} commits; stderr: {result.stderr.strip()[:300]}")


def test_every_part_of_a_batch_can_be_written_twice(store_uri):
    """The same batch written twice (a retry after a lost COMMIT reply) changes nothing the second time."""
    with nbtrack.track("twice") as run:
        pass
    run_id = run.run_id
    store = nbtrack.get_store()
    batch = Batch(
        creates=[(run_id, "twice", "again", 1.0, None)],
        params=[(run_id, "p", "i", "1", 1.0)],
        metrics=[(run_id, "m", 0, 0.5, 10.0), (run_id, "m", 0, 0.75, 11.0), (run_id, "m", 1, float("nan"), 12.0)],
        latest={(run_id, "m"): (1, float("nan"), 12.0)},
        tags=[(run_id, "t", "a"), (run_id, "t", "b")],
        artifacts=[{"run_id": run_id, "name": "a.txt", "sha256": "0" * 64, "size": 1, "kind": "text",
                    "media_type": "text/plain", "created_time": 1.0}],
        datasets=[{"run_id": run_id, "name": "d", "fingerprint": "f", "info": "{}", "created_time": 1.0}],
        documents=[(run_id, "doc", {"a": 1}), (run_id, "doc", {"a": 2})],
        notes=[(run_id, "n1", "first\n"), (run_id, "n2", "second\n")],
        ends=[(run_id, "FINISHED", 2.0)],
    )
    store.write_batch(batch)
    store.write_batch(batch)
    older = Batch(latest={(run_id, "m"): (0, 0.75, 11.0)})  # an older point replayed late
    store.write_batch(older)
    record = nbtrack.get_run(run_id)
    history = record.metric_history("m")
    assert len(history) == 3 and list(history["step"]) == [0, 0, 1]
    assert record.notes == "first\nsecond\n" and record.tags["t"] == "b"
    assert record.document("doc") == {"a": 2} and record.params == {"p": 1}
    assert [a.name for a in record.artifacts if a.name == "a.txt"] == ["a.txt"]
    assert [d["name"] for d in record.datasets] == ["d"]
    assert record.metrics["m"] != record.metrics["m"]  # the latest point (step 1) is NaN, not step 0's 0.75
    assert record.status == "FINISHED" and record.name != "again"


def test_a_note_logged_twice_is_kept_twice(store_uri):
    """Notes carry an id: the same text noted twice is two notes; the same note retried is one."""
    with nbtrack.track("notes") as run:
        nbtrack.log_note("same")
        nbtrack.flush()
        nbtrack.log_note("same")
    nbtrack.get_store().append_note(run.run_id, "edited later\n")
    assert nbtrack.get_run(run.run_id).notes == "same\nsame\nedited later\n"
