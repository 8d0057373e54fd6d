"""Heartbeats and the stale-run check use the database's clock, not each client's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbtrack

REPO = Path(__file__).resolve().parents[2]

LATE_CLIENT = """
    import sys, time
    _real_time = time.time
    time.time = lambda: _real_time() - 120  # this client's clock runs two minutes behind
    import nbtrack
    with nbtrack.track("late clock") as run:
        print(run.run_id, flush=True)
        for i in range(40):
            nbtrack.log_metric("m", i)
            time.sleep(0.1)
        sys.stdin.readline()  # the test reads the store while the run is alive
"""


def test_a_live_run_of_a_client_whose_clock_is_behind_is_not_marked_killed(store_uri):
    """Issue 11: a client whose clock ran 60 s behind had its live runs marked KILLED by readers."""
    nbtrack.get_store()
    env = {**os.environ, "PYTHONPATH": str(REPO), "NBTRACK_STORE": store_uri, "NBTRACK_HEARTBEAT_INTERVAL": "0.5"}
    client = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LATE_CLIENT)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        run_id = client.stdout.readline().strip()
        time.sleep(5)  # the run has been alive for a few heartbeats
        os.environ["NBTRACK_HEARTBEAT_TIMEOUT"] = "60"
        assert nbtrack.get_store().mark_stale_runs(force=True) == 0
        assert nbtrack.get_run(run_id).status == "RUNNING"
    finally:
        os.environ.pop("NBTRACK_HEARTBEAT_TIMEOUT", None)
        _, err = client.communicate("\n", timeout=120)
    assert client.returncode == 0, err
    record = nbtrack.get_run(run_id)
    assert record.status == "FINISHED" and len(record.metric_history("m")) == 40


def test_a_run_marked_killed_while_its_process_was_unreachable_comes_back_alive(store_uri):
    """A heartbeat from a process whose run a reader marked KILLED (its store was down for longer
    than the heartbeat timeout) shows the run RUNNING again; its end then counts."""
    run = nbtrack.track("outage")
    nbtrack.log_metric("m", 1.0)
    run.flush()
    store = nbtrack.get_store()
    os.environ["NBTRACK_HEARTBEAT_TIMEOUT"] = "0"
    try:
        time.sleep(0.05)
        assert store.mark_stale_runs(force=True) == 1 and nbtrack.get_run(run.run_id).status == "KILLED"
    finally:
        os.environ.pop("NBTRACK_HEARTBEAT_TIMEOUT", None)
    run.flush(heartbeat=True)
    record = nbtrack.get_run(run.run_id)
    assert record.status == "RUNNING" and record.end_time is None
    run.end()
    assert nbtrack.get_run(run.run_id).status == "FINISHED"
