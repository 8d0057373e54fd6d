"""Background mirroring (NBTRACK_SYNC_TO): written locally first, sent on by a thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest
from cli_helpers import run_cli
from sync_helpers import read_store

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent("""
    import sys, time, nbtrack
    for number in range(3):
        with nbtrack.track("mirrored", params={"number": number}) as run:
            for step in range(200):
                nbtrack.log_metric("loss", 1 / (step + 1), step=step)
            nbtrack.log_artifact(b"weights %d" % number, name="model.bin")
        time.sleep(0.6)  # the thread sends what was flushed meanwhile
    print("done", flush=True)
""")


def _run(local: str, target: str, tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=180, env={
        **os.environ, "PYTHONPATH": REPO, "NBTRACK_STORE": local, "NBTRACK_SYNC_TO": target,
        "NBTRACK_SYNC_ARTIFACTS": str(tmp_path / "team-artifacts"), "NBTRACK_SYNC_INTERVAL": "0.5", **env})


@pytest.mark.postgres
def test_runs_are_mirrored_to_the_team_store_while_the_script_runs(postgres_uri, tmp_path):
    local = f"sqlite:///{tmp_path / 'local' / 'nbtrack.db'}"
    result = _run(local, postgres_uri, tmp_path)
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    assert "nbtrack:" not in result.stderr  # nothing to report
    team, mine = read_store(postgres_uri), read_store(local)
    assert len(mine) == 3 and team == mine
    assert "0 runs" in run_cli("--store", local, "sync", "--to", postgres_uri).stdout


class _BlackHole:
    """A TCP port that accepts connections and never answers (a team server that hangs)."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return f"postgresql://nbtrack@127.0.0.1:{self.sock.getsockname()[1]}/team"

    def __exit__(self, *exc) -> None:
        self.sock.close()


@pytest.mark.postgres
def test_a_hanging_team_server_slows_nothing_and_is_reported_once(postgres_uri, tmp_path):
    local = f"sqlite:///{tmp_path / 'local' / 'nbtrack.db'}"
    with _BlackHole() as hanging:
        result = _run(local, hanging, tmp_path, NBTRACK_CONNECT_TIMEOUT="2", NBTRACK_SYNC_EXIT_TIMEOUT="3")
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("nbtrack:")]
    assert len(lines) == 2, result.stderr
    assert "cannot sync to the team store postgresql://nbtrack@127.0.0.1" in lines[0]
    assert "not every run is in the team store" in lines[1] and "nbtrack sync --to" in lines[1]
    mine = read_store(local)
    assert len(mine) == 3 and all(run["status"] == "FINISHED" and len(run["histories"]["loss"]) == 200
                                  for run in mine.values())

    later = run_cli("--store", local, "sync", "--to", postgres_uri, "--artifacts", str(tmp_path / "team-artifacts"))
    assert later.returncode == 0 and "3 runs (3 new), 600 metric points" in later.stdout, later.stderr
    assert read_store(postgres_uri) == mine


def test_set_sync_mirrors_this_process_until_turned_off(tmp_path, monkeypatch):
    import time

    import nbtrack
    from nbtrack.sync import background

    monkeypatch.setenv("NBTRACK_SYNC_INTERVAL", "0.2")
    team = f"sqlite:///{tmp_path / 'team' / 'nbtrack.db'}"
    nbtrack.set_sync(team)
    try:
        with nbtrack.track("mirrored") as run:
            nbtrack.log_metric("m", 1.0)
        deadline = time.time() + 30
        while time.time() < deadline and run.run_id not in read_store(team):
            time.sleep(0.2)
        assert read_store(team)[run.run_id]["status"] == "FINISHED"
    finally:
        nbtrack.set_sync(None)
    assert background.target() is None
    deadline = time.time() + 30
    while time.time() < deadline and any(s.alive() for s in background._syncers.values()):
        time.sleep(0.1)  # a pass under way finishes; no new one starts
    assert not any(s.alive() for s in background._syncers.values())
