"""Work a run finishes in the background (environment capture, imported packages, late documents):
``end(wait=False)`` does not wait for it, it still lands, and at exit it lands or says it did not."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbtrack
from nbtrack import secrets
from nbtrack.run import Run

REPO = Path(__file__).resolve().parents[2]


def test_end_without_wait_returns_at_once_and_late_writes_still_land():
    run = nbtrack.track("late")
    release = threading.Event()

    def slow() -> None:
        release.wait(10)
        run.set_document("late", {"landed": True})
        run.set_tag("late", "yes")  # allowed after the end: it is the run's background work

    run.in_background("slow step", slow)
    started = time.perf_counter()
    run.end(wait=False)
    assert time.perf_counter() - started < 1.0 and run.status == "FINISHED"
    assert not run.is_done(), "the flusher keeps a run whose background work is pending"
    release.set()
    nbtrack.flush()  # waits for the background work, then writes
    record = nbtrack.get_run(run.run_id)
    assert record.status == "FINISHED" and record.document("late") == {"landed": True}
    assert record.tags["late"] == "yes"
    assert record.environment.get("python"), "the environment capture landed too"
    assert record.document("imported_packages")



def test_background_work_handed_over_after_the_run_was_written_still_lands():
    """%%track ends its run, then queues notebook.py's rendering: the flusher may have written the
    ended run and let it go in between (a loaded machine preempts the kernel's main thread)."""
    from nbtrack.flusher import FLUSHER

    run = Run("handed-late", capture_environment=False)
    run.end(wait=False)
    FLUSHER.flush_all()  # the flusher's tick between the end and the hand-over
    assert run.is_done() and run not in FLUSHER.runs()
    run.in_background("late artifact", lambda: (run.log_artifact(b"late text", name="late.txt"),
                                                run.set_document("late", {"landed": True})))
    nbtrack.flush()
    record = nbtrack.get_run(run.run_id)
    assert record.artifact("late.txt").read_bytes() == b"late text"
    assert record.document("late") == {"landed": True} and record.status == "FINISHED"


def test_documents_redacted_by_the_caller_are_not_scanned_again(monkeypatch):
    calls = []
    original = secrets.redact_document
    monkeypatch.setattr(secrets, "redact_document", lambda *a, **k: calls.append(a) or original(*a, **k))
    with Run("once", capture_environment=False) as run:
        run.set_document("trusted", {"text": "already clean"}, redacted=[])
        assert calls == []
        run.set_document("untrusted", {"text": "token ghp_" + "a" * 36})
        assert len(calls) == 1
    try:
        with Run("fails", capture_environment=False) as failing:
            raise ValueError("bad key ghp_" + "b" * 36)
    except ValueError:
        pass
    assert len(calls) == 1, "Run.fail redacts the message and traceback once"
    record = nbtrack.get_run(failing.run_id)
    token = "ghp_" + "b" * 36
    assert token not in record.error["message"] and token not in record.error["traceback"]
    assert "<redacted>" in record.error["message"]
    assert {row["where"] for row in record.document("redactions")} >= {"error.message", "error.traceback"}
    assert "ghp_" not in str(nbtrack.get_run(run.run_id).document("untrusted"))


EXIT_SCRIPT = """
import sys, time
import nbtrack
from nbtrack import environment
if sys.argv[1] == "slow":
    environment.capture_environment = lambda: time.sleep(60)  # never finishes in time
run = nbtrack.track("exit")
run.in_background("late document", lambda: (time.sleep(1), run.set_document("late", {"landed": True})))
run.end(wait=False)
print(run.run_id)
"""


def _exit_run(mode: str, tmp_path: Path) -> tuple[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JPY_"))}
    env.update(PYTHONPATH=str(REPO), NBTRACK_STORE=os.environ["NBTRACK_STORE"], NBTRACK_ENVIRONMENT_TTL="0")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, mode], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip(), time.perf_counter() - started


def test_at_exit_background_work_lands_or_the_run_says_the_capture_was_incomplete(tmp_path):
    run_id, _ = _exit_run("fast", tmp_path)
    record = nbtrack.get_run(run_id)
    assert record.document("late") == {"landed": True}, "the exit waited for the late document"
    assert record.environment.get("python") and not record.environment.get("incomplete")

    run_id, elapsed = _exit_run("slow", tmp_path)
    record = nbtrack.get_run(run_id)
    assert record.status == "FINISHED" and record.document("late") == {"landed": True}
    assert record.environment["incomplete"] is True and "had not finished" in record.environment["reason"]
    assert elapsed < 60, "the exit gives the capture a few seconds, not for ever"
