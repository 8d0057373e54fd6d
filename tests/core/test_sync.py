"""nbtrack sync: local runs to a team store and back, incremental, edits by time, resumable, concurrent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from cli_helpers import run_cli
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sync_helpers import differences, forget_stores, log_runs, read_store

import nbtrack
from nbtrack.sync import sync_from, sync_to

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def local(tmp_path):
    return f"sqlite:///{tmp_path / 'laptop' / 'nbtrack.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def team(request, tmp_path):
    """(team store URI, its artifact URL): a SQLite file elsewhere, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'team' / 'nbtrack.db'}", None
    return request.getfixturevalue("postgres_uri"), str(tmp_path / "team-artifacts")


def _points(uri: str) -> list[tuple]:
    engine = create_engine(uri.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return connection.execute(text('SELECT run_id, "key", step, "timestamp" FROM metrics')).all()
    except ProgrammingError:  # no schema yet
        return []
    finally:
        engine.dispose()


def test_sync_to_copies_every_run_whole_then_only_what_changed(local, team):
    uri, artifacts = team
    ids = log_runs(local)
    first = sync_to(uri, artifacts=artifacts, local=local)
    assert first.complete and first.created == len(ids) == first.runs
    assert first.points == sum(len(history) for run in read_store(local).values()
                               for history in run["histories"].values())
    before = read_store(local)
    contents = {content for run in before.values() for content in run["artifacts"].values()}
    assert first.blobs == len(contents) >= 4  # three results, the one blob every run shares, ...
    assert read_store(uri) == before
    assert before[ids[0]]["user"] and before[ids[0]]["host"]

    again = sync_to(uri, artifacts=artifacts, local=local)
    assert (again.runs, again.points, again.blobs, again.documents) == (0, 0, 0, 0)

    # more points, a tag and a rename on one finished run: only those are sent
    forget_stores()
    nbtrack.set_store(local)
    nbtrack.tag_run(ids[0], {"stage": "prod"})
    nbtrack.rename_run(ids[0], "the best")
    with nbtrack.track("team") as extra:
        for step in range(10):
            nbtrack.log_metric("loss", step, step=step)
    third = sync_to(uri, artifacts=artifacts, local=local)
    assert (third.runs, third.created, third.points, third.blobs) == (2, 1, 10, 0)
    after = read_store(uri)
    assert after == read_store(local)
    assert after[ids[0]]["name"] == "the best" and after[ids[0]]["tags"]["stage"] == "prod"
    assert len(_points(uri)) == len(set(_points(uri)))  # nothing stored twice
    assert extra.run_id in after


def test_the_later_edit_wins_whichever_store_it_was_made_in(local, team, tmp_path):
    """Two laptops sync with one team store; each edits the same runs. Names, tags and the deleted flag
    end the same everywhere: the edit made last wins; notes from both are kept."""
    uri, artifacts = team
    other = f"sqlite:///{tmp_path / 'other' / 'nbtrack.db'}"
    ids = log_runs(local, runs=2, points=5)
    sync_to(uri, artifacts=artifacts, local=local)
    sync_from(uri, local=other)
    assert read_store(other) == read_store(local)

    forget_stores()
    nbtrack.set_store(local)
    nbtrack.rename_run(ids[0], "first edit")
    nbtrack.tag_run(ids[0], {"stage": "review"})
    nbtrack.note_run(ids[0], "from the laptop")
    time.sleep(0.05)
    nbtrack.set_store(other)
    nbtrack.rename_run(ids[0], "later edit")
    nbtrack.delete_run(ids[2])
    nbtrack.note_run(ids[0], "from the other machine")
    time.sleep(0.05)
    nbtrack.set_store(local)
    nbtrack.tag_run(ids[0], {"stage": "final"})

    for _ in range(2):  # both ways, in an order that lets an older edit arrive last
        sync_to(uri, artifacts=artifacts, local=other)
        sync_to(uri, artifacts=artifacts, local=local)
        sync_from(uri, local=other)
        sync_from(uri, local=local)
    stores = [read_store(s) for s in (local, other, uri)]
    assert not differences(stores[0], stores[2]) and not differences(stores[1], stores[2])
    run = stores[2][ids[0]]
    assert run["name"] == "later edit" and run["tags"]["stage"] == "final" and stores[2][ids[2]]["deleted"]
    assert "from the laptop" in run["notes"] and "from the other machine" in run["notes"]
    assert run["notes"].count("note of run 0") == 1


def test_sync_from_brings_down_the_runs_a_filter_names(local, team, tmp_path, monkeypatch):
    uri, artifacts = team
    monkeypatch.setenv("NBTRACK_USER", "ana")
    ana = log_runs(local, experiment="churn", runs=2, points=3)
    monkeypatch.setenv("NBTRACK_USER", "bob")
    bob = log_runs(local, experiment="churn", runs=1, points=3)
    log_runs(local, experiment="other", runs=1, points=3)
    sync_to(uri, artifacts=artifacts, local=local)

    offline = f"sqlite:///{tmp_path / 'offline' / 'nbtrack.db'}"
    listed = run_cli("--store", offline, "sync", "--from", uri, "-e", "churn", "--filter", "attributes.user = 'ana'")
    assert listed.returncode == 0, listed.stderr
    assert "brought down from" in listed.stdout and f"{len(ana)} runs ({len(ana)} new)" in listed.stdout
    down = read_store(offline)
    assert set(down) == set(ana) and not set(bob) & set(down)
    assert {run["user"] for run in down.values()} == {"ana"}
    team_runs = read_store(uri)
    assert all(down[run_id] == team_runs[run_id] for run_id in ana)  # artifacts' content included
    forget_stores()
    nbtrack.set_store(uri)
    assert set(nbtrack.runs("churn", filter="attributes.user = 'bob'")["run_id"]) == set(bob)


WRITE_RUNS = """
import nbtrack, sys
nbtrack.set_store(sys.argv[1])
for number in range(int(sys.argv[2])):
    with nbtrack.track("many", params={"number": number}) as run:
        nbtrack.log_metrics({"a": 1.0, "b": 2.0}, step=0)
        for step in range(1, int(sys.argv[3])):
            nbtrack.log_metric("a", step * 0.5, step=step)
"""


@pytest.mark.postgres
def test_a_sync_killed_midway_is_completed_by_the_next_with_nothing_twice(local, postgres_uri, tmp_path):
    subprocess.run([sys.executable, "-c", WRITE_RUNS, local, "40", "2000"], check=True,
                   env={**os.environ, "PYTHONPATH": REPO}, timeout=300)
    env = {**os.environ, "PYTHONPATH": REPO, "NBTRACK_SYNC_CHUNK_POINTS": "4000"}
    syncing = subprocess.Popen([sys.executable, "-m", "nbtrack.cli", "--store", local, "sync", "--to", postgres_uri],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and syncing.poll() is None:
        if len(_points(postgres_uri)) > 12_000:
            break
        time.sleep(0.05)
    assert syncing.poll() is None, "the sync ended before it could be killed: " + syncing.stderr.read().decode()
    os.kill(syncing.pid, signal.SIGKILL)
    syncing.wait()
    partial = len(_points(postgres_uri))
    assert 0 < partial < 40 * 2001

    resumed = run_cli("--store", local, "sync", "--to", postgres_uri)
    assert resumed.returncode == 0, resumed.stderr
    points = _points(postgres_uri)
    assert len(points) == len(set(points)) == 40 * 2001
    assert read_store(postgres_uri) == read_store(local)
    assert "0 runs" in run_cli("--store", local, "sync", "--to", postgres_uri).stdout


@pytest.mark.postgres
def test_many_machines_sync_to_one_store_at_once(postgres_uri, tmp_path):
    """Three laptops, each syncing twice at the same moment (six syncs at once, two per local store)."""
    stores = [f"sqlite:///{tmp_path / f'laptop{n}' / 'nbtrack.db'}" for n in range(3)]
    env = {**os.environ, "PYTHONPATH": REPO}
    writers = [subprocess.Popen([sys.executable, "-c", WRITE_RUNS, store, "10", "300"], env=env) for store in stores]
    assert all(writer.wait(timeout=300) == 0 for writer in writers)
    syncs = [subprocess.Popen([sys.executable, "-m", "nbtrack.cli", "--store", store, "sync", "--to", postgres_uri],
                              env={**env, "NBTRACK_SYNC_CHUNK_POINTS": "1000"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for store in stores for _ in range(2)]
    for sync in syncs:
        _, err = sync.communicate(timeout=300)
        assert sync.returncode == 0, err
    points = _points(postgres_uri)
    assert len(points) == len(set(points)) == 3 * 10 * 301
    team = read_store(postgres_uri)
    for store in stores:
        mine = read_store(store)
        assert all(team[run_id] == run for run_id, run in mine.items())


@pytest.mark.postgres
def test_sync_refuses_to_scatter_a_team_stores_artifacts(local, tmp_path, postgres_uri):
    log_runs(local, runs=1, points=2)
    result = run_cli("--store", local, "sync", "--to", postgres_uri)
    assert result.returncode == 1 and "records no artifact location" in result.stderr
    assert "--artifacts" in result.stderr and "Traceback" not in result.stderr
    assert sync_to(postgres_uri, artifacts=str(tmp_path / "team-artifacts"), local=local).complete
    other = run_cli("--store", local, "sync", "--to", postgres_uri, "--artifacts", str(tmp_path / "elsewhere"))
    assert other.returncode == 1 and "keeps its artifacts at" in other.stderr
