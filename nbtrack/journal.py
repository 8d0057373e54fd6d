"""The local journal: where buffered run data goes while the store cannot be reached.

Each process appends to its own file (JSON lines, one batch a line, fsynced), locked with
``flock`` while the process lives. The same process replays it as soon as the store answers
again; a file whose process is gone is replayed by the next process that opens the store.
Writes are idempotent (see ``SqlStore.write_batch``), so a replay interrupted after some
commits is simply replayed again; a file is removed once all of it was committed.

Where: ``journal/`` beside a SQLite store when that directory is writable, else
``$XDG_CACHE_HOME/nbtrack/journal/<hash of the store URI>/`` (``~/.cache`` without XDG).
Rows the store refused for good go to ``dead-letter.jsonl`` in the same directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from typing import Callable, Iterator

from .store.batch import Batch

FORMAT = 1
REPLAY_CHUNK_POINTS = 20_000  # consecutive journal records are written in transactions of about this size

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: a file is replayed only when its process is gone
    fcntl = None  # type: ignore[assignment]


def store_key(uri: str) -> str:
    """The store's identity for journal directories: its URI without the password, hashed."""
    from .store.sql import normalize_uri

    uri = normalize_uri(uri)
    try:
        from sqlalchemy.engine import make_url

        uri = make_url(uri).set(password=None).render_as_string(hide_password=False)
    except Exception:
        pass
    return hashlib.sha256(uri.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def directories(uri: str) -> list[str]:
    """Where journals of the store at ``uri`` may be: beside a SQLite file, and the user's cache."""
    found = []
    if uri.startswith("sqlite") and "///" in uri:
        path = uri.split("///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            found.append(os.path.join(os.path.dirname(os.path.abspath(path)), "journal"))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    found.append(os.path.join(cache, "nbtrack", "journal", store_key(uri)))
    return found


class Journal:
    """This process's journal for one store (created on the first append)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.path: str | None = None
        self.lock = threading.RLock()
        self._file = None
        self.waiting: dict[str, dict] = {}  # run_id -> {"points": n, "status": str | None}
        self.records = 0

    def append(self, batch: Batch) -> str:
        """Write ``batch`` to the journal file (durably); returns the file's path. Raises OSError."""
        line = json.dumps({"batch": batch.to_record()}, separators=(",", ":"), allow_nan=True) + "\n"
        with self.lock:
            if self._file is None:
                self._open()
            try:
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError:
                self._file.seek(0, os.SEEK_END)
                raise
            self.records += 1
            for run_id, points in batch.count_points().items():
                self.waiting.setdefault(run_id, {"points": 0, "status": None})["points"] += points
            for run_id, status, _ in batch.ends:
                self.waiting.setdefault(run_id, {"points": 0, "status": None})["status"] = status
            for run_id in batch.run_ids():
                self.waiting.setdefault(run_id, {"points": 0, "status": None})
            return self.path  # type: ignore[return-value]

    def _open(self) -> None:
        errors = []
        for directory in directories(self.uri):
            path = os.path.join(directory, f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl")
            try:
                os.makedirs(directory, exist_ok=True)
                handle = open(path, "a", encoding="utf-8")
            except OSError as error:
                errors.append(f"{directory}: {error.strerror or error}")
                continue
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours for the life of the process
            header = {"nbtrack_journal": FORMAT, "pid": os.getpid(), "host": socket.gethostname(),
                      "created": time.time()}
            handle.write(json.dumps(header) + "\n")
            handle.flush()
            self._file, self.path = handle, path
            _write_store_note(directory, self.uri)
            return
        raise OSError(f"no writable journal directory ({'; '.join(errors)})")

    def replay(self, write: Callable[[Batch], None]) -> int:
        """Write this process's journal to the store with ``write``; empty it when all was written.

        Returns the number of metric points replayed. A transient error propagates and the
        journal keeps everything (what was committed is written again later, harmlessly).
        """
        with self.lock:
            if not self.records or self.path is None:
                return 0
            points = replay_file(self.path, write)
            self._file.truncate(0)  # append mode: the next record goes to the start
            self.records = 0
            self.waiting.clear()
            return points

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                if not self.records and self.path:
                    _remove(self.path)
                self._file = None


def read_batches(path: str) -> Iterator[Batch]:
    """The batches of a journal file, in order (a torn last line, from a crash mid-write, is skipped)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                return  # torn write
            entry = json.loads(line)
            if "batch" in entry:
                yield Batch.from_record(entry["batch"])
            elif entry.get("nbtrack_journal", FORMAT) > FORMAT:
                raise ValueError(f"{path} was written by a newer nbtrack (journal format {entry['nbtrack_journal']})")


def replay_file(path: str, write: Callable[[Batch], None]) -> int:
    """Write a journal file's batches with ``write``, merged into transactions of ~REPLAY_CHUNK_POINTS."""
    points = 0
    chunk: Batch | None = None
    for batch in read_batches(path):
        points += len(batch.metrics)
        if chunk is None:
            chunk = batch
        else:
            chunk.extend(batch)
        if len(chunk.metrics) >= REPLAY_CHUNK_POINTS:
            write(chunk)
            chunk = None
    if chunk is not None:
        write(chunk)
    return points


def replay_pending(uri: str, write: Callable[[Batch], None], skip: set[str] = frozenset()) -> int:
    """Replay the journals other processes left for the store at ``uri`` (those still running keep
    theirs); returns the points replayed. Stops at the first transient error, keeping that file."""
    points = 0
    for directory in directories(uri):
        try:
            names = sorted(name for name in os.listdir(directory) if name.endswith(".jsonl")
                           and name != "dead-letter.jsonl")
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if path in skip:
                continue
            with _claimed(path) as claimed:
                if claimed:
                    points += replay_file(path, write)
                    _remove(path)
    return points


class _claimed:
    """Context: the journal file at ``path`` locked for this process, or False when its writer lives."""

    def __init__(self, path: str) -> None:
        self.path, self.handle = path, None

    def __enter__(self) -> bool:
        try:
            self.handle = open(self.path, "r+", encoding="utf-8")
        except OSError:
            return False
        if fcntl is not None:
            try:
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            try:  # removed (replayed) by another process between our open and our lock?
                return os.stat(self.path).st_ino == os.fstat(self.handle.fileno()).st_ino
            except OSError:
                return False
        return not _pid_alive(self.path)

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()


def _pid_alive(path: str) -> bool:  # pragma: no cover - only without fcntl
    try:
        pid = int(os.path.basename(path).split("-")[-2])
        os.kill(pid, 0)
        return True
    except (ValueError, IndexError, OSError):
        return False


def write_dead_letters(uri: str, rows: list[dict]) -> str | None:
    """Set refused rows aside in ``dead-letter.jsonl`` beside the journal; returns its path (None if unwritable)."""
    for directory in directories(uri):
        path = os.path.join(directory, "dead-letter.jsonl")
        try:
            os.makedirs(directory, exist_ok=True)
            with open(path, "a", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row, default=str, allow_nan=True) + "\n")
            _write_store_note(directory, uri)
            return path
        except OSError:
            continue
    return None


def _write_store_note(directory: str, uri: str) -> None:
    """A README naming the store, so a person finding the directory knows what it is."""
    note = os.path.join(directory, "STORE.txt")
    if os.path.exists(note):
        return
    from .store.sql import redact_uri

    try:
        with open(note, "w", encoding="utf-8") as handle:
            handle.write(f"nbtrack journal of the store {redact_uri(uri)}\n"
                         "Written when nbtrack next opens that store; do not edit.\n")
    except OSError:
        pass


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
