"""Clients racing on one registry, as separate processes on real SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from registry_helpers import logistic
from sqlalchemy import create_engine, text

import nbtrack

REPO = Path(__file__).resolve().parents[2]

WORKER = r"""
import json, os, sys, time
import nbtrack
from nbtrack.errors import ModelNotFoundError

mode, worker, count, ready, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
argument = json.loads(sys.argv[6])
nbtrack.models()  # connect before the start line
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
out = {"got": [], "seen": [], "refused": 0, "inconsistent": 0}
for i in range(count):
    if mode == "register":
        out["got"].append(nbtrack.register_model(argument, "model.skops", "race").version)
    elif mode == "alias":
        try:
            nbtrack.set_model_alias("race", "champion", argument[(worker + i) % len(argument)])
        except ModelNotFoundError:  # the version was deleted by another client: a clean refusal
            out["refused"] += 1
        try:
            out["seen"].append(nbtrack.get_model_version("models:/race@champion").version)
        except ModelNotFoundError:
            out["seen"].append(None)  # the alias went with its deleted version
        model = nbtrack.get_model("race")  # one snapshot: every alias names a version it lists
        out["inconsistent"] += not set(model.aliases.values()) <= {v.version for v in model.versions}
    elif mode == "churn":  # a version that holds the alias for a moment, then is deleted with it
        version = nbtrack.register_model(argument, "model.skops", "race", alias="champion").version
        nbtrack.delete_model("race", version)
print(json.dumps(out))
"""


def _race(store_uri: str, tmp_path: Path, jobs: list[tuple[str, int, object]]) -> list[dict]:
    """Start one process per job (mode, count, argument), release them at once, return their reports."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": store_uri}
    go = tmp_path / "go"
    processes = []
    for worker, (mode, count, argument) in enumerate(jobs):
        ready = tmp_path / f"ready-{worker}"
        processes.append((ready, subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, str(worker), str(count), str(ready), str(go), json.dumps(argument)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)))
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready, _ in processes):
        assert time.monotonic() < deadline, "the racing processes did not start"
        assert all(p.poll() is None for _, p in processes), [p.stderr.read() for _, p in processes]
        time.sleep(0.01)
    go.touch()
    reports = []
    for _, process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    return reports


def _source_run() -> str:
    with nbtrack.track("race") as run:
        nbtrack.log_artifact(logistic(0), "model.skops")
    return run.run_id


def test_processes_registering_at_once_never_share_a_version_number(store_uri, tmp_path):
    run_id = _source_run()
    reports = _race(store_uri, tmp_path, [("register", 15, run_id)] * 3)
    numbers = [n for report in reports for n in report["got"]]
    assert sorted(numbers) == list(range(1, 46))  # 45 distinct numbers, no gap
    stored = [v.version for v in nbtrack.get_model("race").versions]
    assert stored == list(range(1, 46)) and nbtrack.get_model("race").last_version == 45


def test_clients_moving_one_alias_while_versions_are_deleted_leave_it_consistent(store_uri, tmp_path):
    run_id = _source_run()
    for _ in range(6):
        nbtrack.register_model(run_id, "model.skops", "race")
    versions = [1, 2, 3, 4, 5, 6]
    reports = _race(store_uri, tmp_path, [("alias", 40, versions), ("alias", 40, versions[::-1]),
                                          ("churn", 20, run_id)])
    seen = [v for report in reports[:2] for v in report["seen"]]
    assert len(seen) == 80 and set(seen) - {None} <= set(range(1, 27))
    assert sum(report["inconsistent"] for report in reports) == 0  # no read saw an alias without its version
    engine = create_engine(nbtrack.get_store().uri)
    with engine.connect() as connection:  # exactly one row per alias, never pointing at a deleted version
        rows = connection.execute(text("SELECT alias, version FROM model_aliases WHERE name = 'race'")).all()
        dangling = connection.execute(text(
            "SELECT count(*) FROM model_aliases a LEFT JOIN model_versions v ON a.name = v.name AND "
            "a.version = v.version WHERE v.version IS NULL")).scalar()
    engine.dispose()
    assert dangling == 0 and len(rows) <= 1
    model = nbtrack.get_model("race")
    assert [v.version for v in model.versions] == versions and model.last_version == 26
    assert set(model.aliases.values()) <= set(versions)
    nbtrack.set_model_alias("race", "champion", 3)  # and it still moves afterwards
    assert nbtrack.get_model_version("models:/race@champion").version == 3
