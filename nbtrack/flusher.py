"""The background thread that writes buffered run data and heartbeats to the store.

Logging calls only append to in-memory buffers; this thread drains them every
``FLUSH_INTERVAL`` seconds, so a logged point reaches the disk within about a second.

When the store cannot be reached (a transient error: refused, unreachable, locked, read-only
for now, disk full) one warning is printed, the user's code keeps running, and the data is
kept: in memory at first, then, once the outage lasts ``NBTRACK_JOURNAL_AFTER`` seconds or a
run holds ``NBTRACK_JOURNAL_POINTS`` points, in this process's local journal
(:mod:`nbtrack.journal`), and at exit always. The journal is written to the store before
anything newer as soon as it answers; a process that exits first leaves it for the next process
that opens the store, and its last line on stderr says what waits where.

A row the store refuses for good (a permanent error: its run was purged meanwhile, a value the
database rejects) is reported once with its run and key and set aside in the journal's
dead-letter file; the rest of the run is written (:mod:`nbtrack.store.salvage`).
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401  - imported at exit it fails ("can't register atexit")
import functools
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .journal import Journal
    from .run import Run
    from .store.batch import Batch
    from .store.salvage import Rejected
    from .store.sql import SqlStore

FLUSH_INTERVAL = float(os.environ.get("NBTRACK_FLUSH_INTERVAL", "0.5"))
HEARTBEAT_INTERVAL = float(os.environ.get("NBTRACK_HEARTBEAT_INTERVAL", "10"))


def _spill_after() -> float:
    """Seconds of outage after which buffered data goes to the journal instead of memory."""
    return float(os.environ.get("NBTRACK_JOURNAL_AFTER", "10"))


def _spill_points() -> int:
    """Buffered points of one run after which they go to the journal even in a short outage."""
    return int(os.environ.get("NBTRACK_JOURNAL_POINTS", "100000"))


class StoreProblemReporter:
    """Says once that the store is unreachable, and once that it is back."""

    def __init__(self) -> None:
        self.failing = False
        self.read_only = False
        self.since = 0.0  # time.monotonic() of the first failure of this outage
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        from .errors import StoreReadOnlyError

        with self._lock:
            if self.failing:
                return
            self.failing, self.since = True, time.monotonic()
            self.read_only = isinstance(error, StoreReadOnlyError)  # the store answers but refuses this role
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"nbtrack: cannot write to the run store ({message}). Your code keeps running; "
              "tracked data is kept (in memory, then in a local journal) and written when the store is back.",
              file=sys.stderr)

    def recovered(self) -> None:
        with self._lock:
            if not self.failing:
                return
            self.failing = False
        print("nbtrack: the run store is reachable again; buffered data was written.", file=sys.stderr)


class Flusher:
    """Owns the set of runs with data to write, the thread that writes it, and this process's journals."""

    def __init__(self) -> None:
        self._runs: list["Run"] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._journals: dict[str, "Journal"] = {}
        self._labels: dict[str, str] = {}  # run_id -> "experiment/name", for the exit message
        self._reported: set[tuple] = set()
        self.reporter = StoreProblemReporter()
        self.exit_hooks: list = []  # called at exit after the final flush (background sync's last pass)
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

    def _let_go_if_done(self, run: "Run") -> None:
        """Forget a run with nothing left to write; checked under the lock that ``add`` takes, so
        background work handed to the run meanwhile (``Run.in_background`` adds it back) is kept."""
        with self._lock:
            if run in self._runs and run.is_done():
                self._runs.remove(run)

    def wake(self) -> None:
        """Ask the thread to flush now rather than at its next tick."""
        self._wake.set()

    def runs(self) -> list["Run"]:
        with self._lock:
            return list(self._runs)

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's thread and journals are not ours
            self._pid, self._thread, self._journals = os.getpid(), None, {}
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

    # --- writing ------------------------------------------------------------------------

    def write(self, store: "SqlStore", batch: "Batch") -> None:
        """Write a run's batch: this process's journal for the store first (it is older), then the
        batch; rows refused for good are reported and set aside. Transient errors propagate."""
        journal = self._journals.get(store.uri)
        if journal is not None and journal.records:
            self._replay_own(journal, store)
        self._write_salvaging(store, batch)

    def _replay_own(self, journal: "Journal", store: "SqlStore") -> None:
        with journal.lock:
            journal.replay(functools.partial(self._write_salvaging, store))

    def _write_salvaging(self, store: "SqlStore", batch: "Batch") -> None:
        from .store.salvage import write_salvaging

        rejected = write_salvaging(store, batch)
        if rejected:
            self._report_rejected(store, rejected)

    def replay_journals(self, store: "SqlStore") -> None:
        """Write what other, finished processes left in journals for ``store`` (on opening it)."""
        from . import journal
        from .guard import guarded

        mine = {j.path for j in self._journals.values() if j.path}
        with guarded("replaying the journals left for the store"):
            points = journal.replay_pending(store.uri, functools.partial(self._write_salvaging, store), mine)
            if points:
                print(f"nbtrack: wrote {points:,} metric points (and the rest of their runs) that an earlier "
                      f"process had left in the journal of {store.display_uri}.", file=sys.stderr)

    def _report_rejected(self, store: "SqlStore", rejected: list["Rejected"]) -> None:
        """Say once per run, part and key what the store refused and where the rows were set aside."""
        from .journal import write_dead_letters

        where = write_dead_letters(store.uri, [
            {"run_id": r.run_id, "part": r.part, "key": r.key, "reason": r.reason, "row": r.row,
             "time": time.time()} for r in rejected])
        groups: dict[tuple, list["Rejected"]] = {}
        for item in rejected:
            groups.setdefault((item.run_id, item.part, item.key), []).append(item)
        for (run_id, part, key), items in groups.items():
            if (run_id, part, key) in self._reported:
                continue
            self._reported.add((run_id, part, key))
            kept = f"set aside in {where}" if where else "dropped (no writable journal directory)"
            what = key if part in ("creates", "notes", "ends") else f"{part} {key!r}"
            print(f"nbtrack: the store refused {what} of run {run_id} for good ({items[0].reason}); "
                  f"{len(items)} row{'s' if len(items) != 1 else ''} {kept}. The rest of the run is written.",
                  file=sys.stderr)

    def journal(self, uri: str) -> "Journal":
        """This process's journal for the store at ``uri``."""
        from .journal import Journal
        from .store.sql import normalize_uri

        key = normalize_uri(uri)
        with self._lock:
            found = self._journals.get(key)
            if found is None:
                found = self._journals[key] = Journal(key)
            return found

    def _spill(self, run: "Run") -> None:
        """Move a run's buffered data to the journal (kept in memory if the journal cannot be written)."""
        self._labels[run.run_id] = f"{run.experiment}/{run.name}"
        try:
            run.spill(self.journal(run.store_uri))
        except OSError as error:
            if ("journal", run.store_uri) not in self._reported:
                self._reported.add(("journal", run.store_uri))
                print(f"nbtrack: cannot write the local journal either ({error}); the data stays in memory.",
                      file=sys.stderr)

    def _should_spill(self, run: "Run") -> bool:
        return (time.monotonic() - self.reporter.since >= _spill_after()
                or run.pending_points() >= _spill_points())

    def spill_all(self) -> None:
        """Move every run's buffered data to the journal now (what a long outage and exit do)."""
        for run in self.runs():
            self._spill(run)
            self._let_go_if_done(run)

    def flush_all(self, heartbeat: bool = False, raise_errors: bool = False, final: bool = False) -> None:
        """Write every run's buffered data now; ``final`` (at exit) journals whatever cannot be written."""
        from .errors import StoreUnavailableError

        unreachable: set[str] = set()
        for run in self.runs():
            if run.store_uri not in unreachable:  # one (possibly slow) failed connection per store and pass
                try:
                    self._flush(run, heartbeat, retries=2 if final else 0)
                    self.reporter.recovered()
                except Exception as error:  # the store is down or refused a write: keep the data
                    if raise_errors:
                        raise
                    if isinstance(error, StoreUnavailableError) or self.reporter.failing:
                        unreachable.add(run.store_uri)
                    self.reporter.failed(error)
            if run.store_uri in unreachable and (final or self._should_spill(run)):
                self._spill(run)
            self._let_go_if_done(run)
        self._replay_own_journals(unreachable)
        if final:
            self._say_what_waits()

    def _flush(self, run: "Run", heartbeat: bool, retries: int) -> None:
        """``run.flush``; at exit a fast failure (a connection cut) is retried a couple of times."""
        for attempt in range(retries + 1):
            started = time.monotonic()
            try:
                run.flush(heartbeat=heartbeat)
                return
            except Exception:
                if attempt == retries or time.monotonic() - started > 1.0:
                    raise
                time.sleep(0.2)

    def _replay_own_journals(self, unreachable: set[str]) -> None:
        """Journals of this process whose store answered in this pass (and had nothing new to write)."""
        from . import config
        from .store.sql import normalize_uri

        down = {normalize_uri(uri) for uri in unreachable}
        for uri, journal in list(self._journals.items()):
            if not journal.records or uri in down:
                continue
            try:
                self._replay_own(journal, config.store_for(uri))
                self.reporter.recovered()
            except Exception as error:
                self.reporter.failed(error)

    def _say_what_waits(self) -> None:
        """At exit: one line per store whose data waits in the journal (the process's last words)."""
        from .store.sql import redact_uri

        for uri, journal in list(self._journals.items()):
            if not journal.records:
                journal.close()
                continue
            parts = []
            for run_id, waiting in list(journal.waiting.items())[:5]:
                label = self._labels.get(run_id)
                status = f" and its {waiting['status']} status" if waiting["status"] else ""
                parts.append(f"run {run_id}{f' ({label})' if label else ''}: {waiting['points']:,} metric points"
                             f"{status}")
            more = len(journal.waiting) - len(parts)
            listed = "; ".join(parts) + (f"; {more} more runs" if more > 0 else "")
            why = "refuses this role's writes" if self.reporter.read_only else "cannot be reached"
            print(f"nbtrack: the run store {redact_uri(uri)} {why}; waiting in the journal "
                  f"{journal.path}: {listed}. The next nbtrack process that opens this store writes them.",
                  file=sys.stderr)

    def at_exit(self) -> None:
        from .run import end_active_runs_at_exit

        end_active_runs_at_exit()
        self.flush_all(final=True)
        from .guard import guarded

        for hook in list(self.exit_hooks):
            with guarded("the exit step of " + getattr(hook, "__module__", "a hook")):
                hook()


FLUSHER = Flusher()


def _after_fork_in_child() -> None:  # a lock held by another thread at fork time would never be released
    FLUSHER._lock = threading.Lock()
    FLUSHER._wake = threading.Event()
    FLUSHER.reporter._lock = threading.Lock()
    FLUSHER._journals = {}


os.register_at_fork(after_in_child=_after_fork_in_child)
