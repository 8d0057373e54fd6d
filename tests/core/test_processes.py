"""Behaviour across real processes: concurrent writers, dead processes, a lost store, scripts, git."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nbtrack

REPO = Path(__file__).resolve().parents[2]


def python(code: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 120,
           check: bool = True) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=environment, cwd=cwd, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def test_concurrent_processes_lose_nothing(isolated):
    writer = """
        import sys, nbtrack
        worker = int(sys.argv[1])
        for r in range(5):
            with nbtrack.track("parallel", params={"worker": worker, "r": r}, system_metrics=False):
                for step in range(200):
                    nbtrack.log_metric("loss", 1.0 / (step + 1))
                    if step % 50 == 0:
                        nbtrack.flush()
    """
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(writer), str(i)], env=environment,
                                  stderr=subprocess.PIPE, text=True) for i in range(6)]
    errors = [p.communicate(timeout=180)[1] for p in processes]
    assert all(p.returncode == 0 for p in processes), errors
    assert not any("locked" in e for e in errors), errors
    frame = nbtrack.runs("parallel")
    assert len(frame) == 30 and set(frame["status"]) == {"FINISHED"}
    import sqlite3

    with sqlite3.connect(isolated / "store" / "nbtrack.db") as connection:
        assert connection.execute("select count(*) from metrics").fetchone()[0] == 30 * 200


def test_a_killed_process_leaves_a_killed_run_with_its_data(isolated):
    code = """
        import os, signal, nbtrack
        run = nbtrack.track("crash")
        nbtrack.log_metric("acc", 0.75)
        nbtrack.flush()
        print(run.run_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """
    result = python(code, check=False)
    assert result.returncode == -signal.SIGKILL
    run_id = result.stdout.strip()
    assert nbtrack.get_run(run_id).status == "RUNNING"  # heartbeat still fresh
    os.environ["NBTRACK_HEARTBEAT_TIMEOUT"] = "0.5"
    try:
        import time

        time.sleep(1.0)
        nbtrack.get_store().mark_stale_runs(force=True)
        record = nbtrack.get_run(run_id)
    finally:
        del os.environ["NBTRACK_HEARTBEAT_TIMEOUT"]
    assert record.status == "KILLED"
    assert record.metrics == {"acc": 0.75}
    assert record.end_time is not None


def test_an_unreachable_store_warns_once_and_the_code_keeps_running(tmp_path):
    code = """
        import nbtrack
        with nbtrack.track("offline") as run:
            for i in range(5):
                nbtrack.log_metric("m", i)
                nbtrack.flush()
        nbtrack.flush()
        print("user code finished", run.status)
    """
    # Nothing listens on this port: every write fails fast.
    result = python(code, env={"NBTRACK_STORE": "postgresql+psycopg://nobody@127.0.0.1:9/none",
                               "NBTRACK_CONNECT_TIMEOUT": "1"}, timeout=120)
    assert "user code finished FINISHED" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("nbtrack:")]
    assert len(warnings) == 2, result.stderr  # the problem, once; at exit, what waits where
    assert "cannot write to the run store" in warnings[0] and "keeps running" in warnings[0]
    assert "5 metric points and its FINISHED status" in warnings[1] and "waiting in the journal" in warnings[1]


def test_data_logged_while_the_store_was_down_is_written_when_it_is_back(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    good = tmp_path / "good.db"
    code = f"""
        import nbtrack
        nbtrack.set_store({str(blocker / 'store.db')!r})
        run = nbtrack.track("recover")
        nbtrack.log_metric("m", 1.0)
        nbtrack.flush()
        run.store_uri = "sqlite:///{good}"   # the store comes back (here: at a new place)
        nbtrack.log_metric("m", 2.0)
        run.end()
        nbtrack.set_store({str(good)!r})
        record = nbtrack.get_run(run.run_id)
        print(record.status, list(record.metric_history("m")["value"]))
    """
    result = python(code)
    assert result.stdout.strip() == "FINISHED [1.0, 2.0]"
    assert result.stderr.count("cannot write to the run store") == 1
    assert "reachable again" in result.stderr


def test_script_runs_end_at_exit(isolated):
    finished = python("""
        import nbtrack
        run = nbtrack.track("script")
        nbtrack.log_metric("acc", 1.0)
        print(run.run_id)
    """)
    failed = python("""
        import nbtrack
        run = nbtrack.track("script")
        print(run.run_id, flush=True)
        raise RuntimeError("boom")
    """, check=False)
    assert failed.returncode == 1 and "RuntimeError: boom" in failed.stderr
    assert nbtrack.get_run(finished.stdout.strip()).status == "FINISHED"
    record = nbtrack.get_run(failed.stdout.strip())
    assert record.status == "FAILED" and record.error["message"] == "boom"


def test_git_commit_branch_remote_without_credentials_and_dirty_diff(isolated):
    repo = isolated / "repo"
    repo.mkdir()

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})

    git("init", "-b", "main")
    (repo / "train.py").write_text("print('v1')\n")
    git("add", "train.py")
    git("commit", "-m", "first")
    git("remote", "add", "origin", "https://alice:s3cr3t-token@git.example.invalid/team/repo.git")
    (repo / "train.py").write_text("print('v2')\n")
    script = repo / "run_me.py"
    script.write_text("import nbtrack\nwith nbtrack.track('git') as run:\n    print(run.run_id)\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=isolated,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    git_facts = nbtrack.get_run(result.stdout.strip()).environment["git"]
    assert git_facts["branch"] == "main" and len(git_facts["commit"]) == 40
    assert git_facts["remote"] == "https://git.example.invalid/team/repo.git"
    assert git_facts["dirty"] is True
    assert "-print('v1')" in git_facts["diff"] and "+print('v2')" in git_facts["diff"]
    assert "run_me.py" in git_facts["untracked"]
    assert "s3cr3t" not in repr(nbtrack.get_run(result.stdout.strip()).environment)


def test_newer_schema_is_refused_with_advice(isolated):
    nbtrack.get_store()
    import sqlite3

    with sqlite3.connect(isolated / "store" / "nbtrack.db") as connection:
        connection.execute("update nbtrack_meta set value = '99' where key = 'schema_version'")
    result = python("import nbtrack; nbtrack.runs()", check=False,
                    env={"NBTRACK_STORE": f"sqlite:///{isolated / 'store' / 'nbtrack.db'}"})
    assert result.returncode != 0
    assert "schema v99" in result.stderr and "pip install -U nbtrack" in result.stderr


@pytest.mark.parametrize("argv, expected", [
    (["ls"], ["first", "second", "acc"]),
    (["ls", "-e", "cli", "--filter", "metrics.acc > 0.5"], ["second"]),
    (["ls", "--sort", "metrics.acc"], ["first"]),
    (["experiments"], ["cli", "2"]),
    (["export", "--format", "json"], ['"params.lr"']),
    (["export", "--format", "csv"], ["metrics.acc"]),
    (["gc", "--dry-run"], ["would remove 0 deleted runs"]),
])
def test_cli_commands(isolated, argv, expected):
    with nbtrack.track("cli", name="first", params={"lr": 0.1}):
        nbtrack.log_metric("acc", 0.4)
    with nbtrack.track("cli", name="second", params={"lr": 0.2}):
        nbtrack.log_metric("acc", 0.6)
    result = subprocess.run([sys.executable, "-m", "nbtrack.cli", *argv], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    for text in expected:
        assert text in result.stdout
    if argv == ["ls", "-e", "cli", "--filter", "metrics.acc > 0.5"]:
        assert "first" not in result.stdout


def test_cli_show_diff_and_errors(isolated):
    with nbtrack.track("cli", name="first", params={"lr": 0.1, "model": "rf"}) as a:
        nbtrack.log_metric("acc", 0.4)
        nbtrack.log_artifact("x", name="x.txt")
    with nbtrack.track("cli", name="second", params={"lr": 0.2, "model": "rf"}) as b:
        nbtrack.log_metric("acc", 0.6)

    def cli(*argv):
        return subprocess.run([sys.executable, "-m", "nbtrack.cli", *argv], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})

    shown = cli("show", a.run_id[:8])
    assert shown.returncode == 0 and "x.txt" in shown.stdout and "lr" in shown.stdout and "FINISHED" in shown.stdout
    diff = cli("diff", a.run_id, b.run_id)
    assert "lr" in diff.stdout and "0.1  ->  0.2" in diff.stdout and "model" not in diff.stdout
    missing = cli("show", "ffffffffff")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("nbtrack show: error: no run with id or prefix 'ffffffffff'")
    bad = cli("ls", "--filter", "metrics.acc >")
    assert bad.returncode == 1 and "position" in bad.stderr and "Traceback" not in bad.stderr


def test_nbtrack_store_may_be_a_plain_path(tmp_path):
    path = tmp_path / "plain.db"
    result = python("import nbtrack\nwith nbtrack.track('p'):\n    pass\nprint(len(nbtrack.runs('p')))",
                    env={"NBTRACK_STORE": str(path)})
    assert result.stdout.strip() == "1" and path.exists()
