"""The summary of every matching run (totals, columns, best values), computed in a thread.

Summarizing every matching run costs far more than loading one page (100,000 runs: seconds
against tens of milliseconds), so ``DashboardState.reload`` starts it first, loads the page
meanwhile, and waits for it only ``SUMMARY_WAIT`` seconds: past that the rows go to the
browser at once and the totals, default columns and best values follow when it is done.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .queries import Query, StoreQueries

SUMMARY_WAIT: float | None = 0.05  # seconds a reload waits for the summary (None: until it is done)


@dataclass
class SummaryAnswer:
    """What a summary brings: the ``RunsSummary``, the total to page over, the unknown filter keys."""

    summary: Any = None
    total: int = 0
    unknown: list[dict] = field(default_factory=list)
    error: Exception | None = None


def unknown_keys(queries: StoreQueries, query: Query) -> list[dict]:
    """The filter's keys that no run has, as the state keeps them."""
    return [dict(field=u.field, position=u.position, suggestion=u.suggestion, message=u.message)
            for u in queries.unknown_keys(query)]


class SummaryJob:
    """One summary to compute; :meth:`wait` for it or hand it a callback with :meth:`then`."""

    def __init__(self, queries: StoreQueries, query: Query, grouped: bool) -> None:
        self.queries, self.query, self.grouped = queries, query, grouped
        self.answer: SummaryAnswer | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._callback: Callable[[SummaryAnswer], None] | None = None

    def run(self) -> None:
        answer = SummaryAnswer()
        try:
            queries, query = self.queries, self.query
            answer.summary = queries.summarize(query)
            answer.total = queries.count(query, top_level=self.grouped) if self.grouped or query.include_deleted \
                else answer.summary.count
            answer.unknown = unknown_keys(queries, query)
        except Exception as error:  # handed over with the answer: the state says what failed
            answer.error = error
        with self._lock:
            self.answer = answer
            self._done.set()
            callback = self._callback
        if callback is not None:
            callback(answer)

    def wait(self, timeout: float | None) -> bool:
        """True when the answer is in (within ``timeout`` seconds; None waits until it is)."""
        return self._done.wait(timeout)

    def then(self, callback: Callable[[SummaryAnswer], None]) -> None:
        """Call ``callback(answer)`` when done: at once if it already is, else from the thread."""
        with self._lock:
            if not self._done.is_set():
                self._callback = callback
                return
        callback(self.answer)  # type: ignore[arg-type]


class SummaryRunner:
    """Runs one dashboard's summaries one at a time in a daemon thread, newest first.

    A job submitted while another runs waits in a single slot; a newer one takes the slot
    (the one it replaces is never run: its query is no longer asked for). So typing filters
    quickly costs at most the summary in progress plus the last one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: SummaryJob | None = None
        self._thread: threading.Thread | None = None

    def submit(self, job: SummaryJob) -> SummaryJob:
        with self._lock:
            self._waiting = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="nbtrack-dashboard-summary", daemon=True)
                self._thread.start()
        return job

    def _work(self) -> None:
        # Not niced: a low-priority thread holding the GIL starves the kernel's main thread
        # on a busy machine (tried: a filter stalled for minutes at load 20).
        while True:
            with self._lock:
                job, self._waiting = self._waiting, None
                if job is None:
                    self._thread = None
                    return
            job.run()
