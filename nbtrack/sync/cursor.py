"""Where a sync left off with one peer store, kept in the local store (``nbtrack_meta``).

A cursor is the database-clock time (``runs.updated_time``) up to which every run of the source was
sent, plus the runs sent within the last ``lag`` seconds before it with the time they had then. The
next sync looks at runs changed since ``cursor - lag`` (a transaction that started before the cursor
may have committed after it was read) and skips those whose time is the one already sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import select

from ..store import schema as s
from ..store.sql import SqlStore

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: syncs of one pair may overlap (harmless: idempotent)
    fcntl = None  # type: ignore[assignment]


def lag() -> float:
    """Seconds of changes looked at again: longer than any write transaction (``NBTRACK_SYNC_LAG``)."""
    return float(os.environ.get("NBTRACK_SYNC_LAG", "30"))


def peer_key(direction: str, peer_uri: str, selection: tuple = ()) -> str:
    """The ``nbtrack_meta`` key of the cursor for one peer (its URI without password) and selection."""
    from ..journal import store_key

    digest = hashlib.sha256(json.dumps([store_key(peer_uri), list(selection)]).encode()).hexdigest()[:24]
    return f"sync:{direction}:{digest}"


@dataclass
class Cursor:
    """What was sent: every run changed before ``time``, and ``recent`` (run id -> time sent) near it."""

    key: str
    time: float = float("-inf")
    recent: dict[str, float] = field(default_factory=dict)

    def since(self) -> float:
        """Look at runs changed at or after this time."""
        return self.time - lag()

    def already_sent(self, run_id: str, updated_time: float | None) -> bool:
        return updated_time is not None and self.recent.get(run_id) == updated_time

    def advance(self, sent: list[tuple[str, float | None]]) -> None:
        """Record runs sent (in the order of their times): the cursor moves to the last one's time."""
        for run_id, updated_time in sent:
            if updated_time is None:
                continue
            self.recent[run_id] = updated_time
            self.time = max(self.time, updated_time)
        floor = self.since()
        self.recent = {run_id: t for run_id, t in self.recent.items() if t >= floor}


def load(store: SqlStore, key: str) -> Cursor:
    with store.read() as connection:
        value = connection.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar()
    if not value:
        return Cursor(key)
    data = json.loads(value)
    return Cursor(key, float(data["time"]), {k: float(v) for k, v in data.get("recent", {}).items()})


def save(store: SqlStore, cursor: Cursor) -> None:
    """Store the cursor; never moves it back (two syncs of one pair may run at once)."""
    with store.write() as connection:
        found = connection.execute(select(s.meta.c.value).where(s.meta.c.key == cursor.key)).scalar()
        if found:
            stored = json.loads(found)
            if float(stored["time"]) > cursor.time:
                return
        connection.execute(s.meta.delete().where(s.meta.c.key == cursor.key))
        connection.execute(s.meta.insert().values(key=cursor.key, value=json.dumps(
            {"time": cursor.time, "recent": cursor.recent})))


@contextmanager
def exclusive(key: str, local_uri: str, wait: float | None) -> Iterator[bool]:
    """One sync per pair of stores on this machine at a time (an flock'd file beside the local store).

    Waits ``wait`` seconds at most (None: as long as it takes); yields False when another process still
    holds it then (that one sends the same runs).
    """
    handle = None
    for directory in _lock_directories(local_uri):
        try:
            os.makedirs(directory, exist_ok=True)
            handle = open(os.path.join(directory, key.replace(":", "-") + ".lock"), "a")
            break
        except OSError:
            continue
    if handle is None or fcntl is None:  # nowhere to lock: syncs are idempotent, so go on without
        if handle is not None:
            handle.close()
        yield True
        return
    try:
        if wait is None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        elif not _try_lock(handle, time.monotonic() + wait):
            yield False
            return
        yield True
    finally:
        handle.close()


def _lock_directories(uri: str) -> list[str]:
    """``sync/`` beside a SQLite store, else (or when unwritable) the user's cache."""
    from ..journal import directories

    return [os.path.join(os.path.dirname(path), "sync") for path in directories(uri)]


def _try_lock(handle, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
