"""The background thread that writes buffered run data and heartbeats to the store.

Logging calls only append to in-memory buffers; this thread drains them every
``FLUSH_INTERVAL`` seconds, so a logged point reaches the disk within about a second.
When the store cannot be reached the data stays buffered, one warning is printed, and
the writes are retried on later ticks: the user's code keeps running.
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401  - imported at exit it fails ("can't register atexit")
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .run import Run

FLUSH_INTERVAL = float(os.environ.get("NBTRACK_FLUSH_INTERVAL", "0.5"))
HEARTBEAT_INTERVAL = float(os.environ.get("NBTRACK_HEARTBEAT_INTERVAL", "10"))


class StoreProblemReporter:
    """Says once that the store is unreachable, and once that it is back."""

    def __init__(self) -> None:
        self.failing = False
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self._lock:
            if self.failing:
                return
            self.failing = True
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"nbtrack: cannot write to the run store ({message}). Your code keeps running; "
              "tracked data is kept in memory and written when the store is back.", file=sys.stderr)

    def recovered(self) -> None:
        with self._lock:
            if not self.failing:
                return
            self.failing = False
        print("nbtrack: the run store is reachable again; buffered data was written.", file=sys.stderr)


class Flusher:
    """Owns the set of runs with data to write and the thread that writes it."""

    def __init__(self) -> None:
        self._runs: list["Run"] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.reporter = StoreProblemReporter()
        # threading's exit hooks run before the interpreter starts shutting down (imports and
        # new threads still work there); plain atexit is the fallback.
        register = getattr(threading, "_register_atexit", None)
        try:
            register(self.at_exit) if register else atexit.register(self.at_exit)
        except Exception:
            atexit.register(self.at_exit)

    def add(self, run: "Run") -> None:
        with self._lock:
            if run not in self._runs:
                self._runs.append(run)
        self._ensure_thread()

    def discard(self, run: "Run") -> None:
        with self._lock:
            if run in self._runs:
                self._runs.remove(run)

    def wake(self) -> None:
        """Ask the thread to flush now rather than at its next tick."""
        self._wake.set()

    def runs(self) -> list["Run"]:
        with self._lock:
            return list(self._runs)

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's thread does not exist here
            self._pid, self._thread = os.getpid(), None
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="nbtrack-flusher", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        last_heartbeat = time.time()
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            now = time.time()
            heartbeat = now - last_heartbeat >= HEARTBEAT_INTERVAL
            if heartbeat:
                last_heartbeat = now
            self.flush_all(heartbeat=heartbeat)

    def flush_all(self, heartbeat: bool = False, raise_errors: bool = False) -> None:
        """Write every run's buffered data now."""
        from .errors import StoreUnavailableError

        unreachable: set[str] = set()
        for run in self.runs():
            if run.store_uri in unreachable:  # one (possibly slow) failed connection per store and pass
                continue
            try:
                run.flush(heartbeat=heartbeat)
                self.reporter.recovered()
            except Exception as error:  # the store is down or refused a write: keep the data
                if raise_errors:
                    raise
                if isinstance(error, StoreUnavailableError):
                    unreachable.add(run.store_uri)
                self.reporter.failed(error)
            if run.is_done():
                self.discard(run)

    def at_exit(self) -> None:
        from .run import end_active_runs_at_exit

        end_active_runs_at_exit()
        self.flush_all()


FLUSHER = Flusher()


def _after_fork_in_child() -> None:  # a lock held by another thread at fork time would never be released
    FLUSHER._lock = threading.Lock()
    FLUSHER.reporter._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
