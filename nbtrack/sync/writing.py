"""Writing what a sync sends into the other store: documents, edits (the later one wins) and blobs.

Logged data (runs, params, points, latest values, tags, artifacts, notes, ends) goes through
``SqlStore.write_batch``, whose every part is idempotent; this module adds what a batch cannot say.
"""

from __future__ import annotations

import os
import tempfile
from typing import Iterable

from sqlalchemy import update

from ..store import schema as s
from ..store.batch import Batch
from ..store.blobs import BlobStore
from ..store.sql import SqlStore
from .reading import RunRow


def _insert(store: SqlStore, table):
    if store.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def write_documents(store: SqlStore, bodies: dict[str, str], links: list[tuple]) -> None:
    """Document bodies the store lacks (as they are: their address is their SHA-256) and the runs' links."""
    if not bodies and not links:
        return
    with store.write() as connection:
        if bodies:
            statement = _insert(store, s.documents).on_conflict_do_nothing(index_elements=["sha256"])
            connection.execute(statement, [dict(sha256=d, body=b) for d, b in bodies.items()])
        if links:
            statement = _insert(store, s.run_documents)
            statement = statement.on_conflict_do_update(index_elements=["run_id", "key"],
                                                        set_={"sha256": statement.excluded.sha256})
            connection.execute(statement, [dict(run_id=r, key=k, sha256=d) for r, k, d in links])


def write_points(store: SqlStore, points: list[tuple]) -> None:
    """Metric points (run_id, key, step, value, timestamp), those already stored skipped. Many points into
    PostgreSQL go by COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING (about 1.5x the
    multi-row INSERTs of write_batch); their metric blocks are merged and the runs stamped as changed in the
    same transaction."""
    if store.dialect != "postgresql" or len(points) < 2000:
        store.write_batch(Batch(metrics=points))
        return
    with store.write() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("CREATE TEMP TABLE nbtrack_incoming (run_id text, key text, step bigint, value float8, "
                       "is_nan boolean, timestamp float8) ON COMMIT DROP")
        with cursor.copy("COPY nbtrack_incoming FROM STDIN") as copy:
            for run_id, key, step, value, moment in points:
                copy.write_row((run_id, key, step, None if value != value else value, value != value, moment))
        cursor.execute('INSERT INTO metrics (run_id, "key", step, value, is_nan, "timestamp") SELECT run_id, '
                       "key, step, value, is_nan, timestamp FROM nbtrack_incoming ON CONFLICT DO NOTHING")
        store.merge_metric_blocks(connection, points)
        run_ids = sorted({point[0] for point in points})
        for start in range(0, len(run_ids), 500):
            connection.execute(update(s.runs).where(s.runs.c.run_id.in_(run_ids[start:start + 500])).values(
                updated_time=store.now()))


def order_notes(store: SqlStore, run_ids: Iterable[str]) -> None:
    """Notes arrive from several stores in any order; a run's notes text is its notes in the order they
    were written (every store then shows the same text). Notes of before v4 are one note (``legacy``)."""
    from sqlalchemy import select

    n = s.run_notes.c
    with store.write() as connection:
        for run_id in sorted(set(run_ids)):
            locked = select(s.runs.c.notes).where(s.runs.c.run_id == run_id)
            current = connection.execute(locked.with_for_update() if store.dialect == "postgresql" else locked).scalar()
            texts = connection.execute(select(n.text).where(n.run_id == run_id, n.text.is_not(None)).order_by(
                n.created_time, n.note_id)).scalars().all()
            if texts and "".join(texts) != current:
                connection.execute(update(s.runs).where(s.runs.c.run_id == run_id).values(notes="".join(texts)))


def apply_edits(store: SqlStore, sent: Iterable[RunRow], found: dict[str, RunRow]) -> int:
    """Names and deleted flags edited later than the other store's (each edit carries its time; the later
    one wins, ties go to the greater value so every store agrees). Returns the edits applied."""
    statements = []
    r = s.runs.c
    for run in sent:
        there = found.get(run.run_id)
        if there is None:  # just created from this run: its name set at the start, not deleted
            there = RunRow(**{**run.__dict__, "deleted": False, "deleted_time": None, "name_time": run.start_time})
        # the time moves with the value even when the value is the same: a later edit must compare with it
        if _later(run.name_time, run.name, there.name_time, there.name):
            statements.append(update(s.runs).where(
                r.run_id == run.run_id, r.name_time.is_(None) | (r.name_time <= run.name_time)).values(
                name=run.name, name_time=run.name_time, updated_time=store.now()))
        if _later(run.deleted_time, run.deleted, there.deleted_time, there.deleted):
            statements.append(update(s.runs).where(
                r.run_id == run.run_id, r.deleted_time.is_(None) | (r.deleted_time <= run.deleted_time)).values(
                deleted=run.deleted, deleted_time=run.deleted_time, updated_time=store.now()))
    if statements:
        with store.write() as connection:
            for statement in statements:
                connection.execute(statement)
    return len(statements)


def _later(time_a: float | None, value_a, time_b: float | None, value_b) -> bool:
    """Whether the edit (time_a, value_a) wins over (time_b, value_b) (no time: before every edit)."""
    a = float("-inf") if time_a is None else time_a
    b = float("-inf") if time_b is None else time_b
    return a > b or (a == b and str(value_a) > str(value_b))


class BlobCopier:
    """Copies content-addressed blobs from one artifact store to another, each once per process."""

    def __init__(self, source: BlobStore, target: BlobStore) -> None:
        self.source, self.target = source, target
        self.same = source.root_url == target.root_url
        self.present: set[str] = set()
        self.copied = self.bytes = 0

    def copy(self, sha256: str) -> bool:
        """Make the blob present in the target; False when the source does not have it either."""
        if self.same or sha256 in self.present:
            return True
        if self.target.exists(sha256):
            self.present.add(sha256)
            return True
        if not self.source.exists(sha256):
            return False
        local = self.source.local_path(sha256)
        if local is not None:
            digest, size = self.target.put_file(local)
        else:  # a remote blob comes down through a temporary file (streamed, never whole in memory)
            handle, path = tempfile.mkstemp(prefix="nbtrack-blob-")
            os.close(handle)
            try:
                self.source.fs.get_file(self.source.path(sha256), path)
                digest, size = self.target.put_file(path)
            finally:
                os.remove(path)
        if digest != sha256:  # the source's blob does not hold what its address says: do not spread it
            return False
        self.present.add(sha256)
        self.copied += 1
        self.bytes += size
        return True
