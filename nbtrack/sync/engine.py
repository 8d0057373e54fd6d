"""One sync pass: the runs of one store that changed since the cursor, copied into another.

A pass reads the changed runs (oldest change first) in chunks of about ``CHUNK_POINTS`` metric points.
For each chunk it compares the two stores (each metric's point count and highest step) and writes, in
this order: the runs, params, tags, new metric points and latest values; the documents and the edits
(name, deleted flag: the later edit wins); the artifact blobs, then the artifact rows that reference
them, the datasets, notes and end statuses. It then checks that every metric of the chunk has at least
as many points in the target as in the source (else it sends the whole metric again), and moves the
cursor past the chunk. Every write is idempotent, so a pass killed anywhere is completed by the next.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..store.batch import Batch
from ..store.sql import SqlStore
from . import cursor as cursors
from .reading import Chunk, changed_runs, database_now, document_bodies, present_documents, read_chunk, read_points
from .writing import BlobCopier, apply_edits, order_notes, write_documents, write_points


def chunk_points() -> int:
    return int(os.environ.get("NBTRACK_SYNC_CHUNK_POINTS", "50000"))


@dataclass
class SyncReport:
    """What one pass did."""

    source: str
    target: str
    runs: int = 0  # runs looked at and brought up to date
    created: int = 0  # of which new in the target
    points: int = 0  # metric points sent
    blobs: int = 0  # artifact blobs copied
    blob_bytes: int = 0
    documents: int = 0  # document bodies copied
    edits: int = 0  # names and deleted flags that won over the target's
    skipped_artifacts: list[tuple[str, str]] = field(default_factory=list)  # (run_id, name): no blob in the source
    complete: bool = True  # False when stopped before every changed run was sent
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"{self.runs:,} runs ({self.created:,} new), {self.points:,} metric points, "
                f"{self.blobs:,} artifact blobs ({_size(self.blob_bytes)}), {self.documents:,} documents, "
                f"{self.edits:,} edits in {self.seconds:.1f} s")
        if self.skipped_artifacts:
            text += (f"; {len(self.skipped_artifacts)} artifacts not sent: their content is not in the "
                     f"source's artifact store (first: run {self.skipped_artifacts[0][0][:8]}, "
                     f"{self.skipped_artifacts[0][1]!r})")
        return text if self.complete else text + " (stopped before the end: the next sync goes on)"


def run_pass(source: SqlStore, target: SqlStore, local: SqlStore, cursor_key: str, *,
             experiments: Sequence[str] | None = None, filter: str | None = None,
             should_stop: Callable[[], bool] = lambda: False,
             progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
    """Copy what changed in ``source`` since the cursor ``cursor_key`` (kept in ``local``) into ``target``."""
    started = time.monotonic()
    report = SyncReport(source.display_uri, target.display_uri)
    source.mark_stale_runs(force=True)  # a run whose process died goes over as KILLED
    cursor = cursors.load(local, cursor_key)
    candidates = changed_runs(source, cursor.since(), experiments, filter, skip=cursor.already_sent)
    copier = BlobCopier(source.blobs, target.blobs)
    for group in _groups(candidates):
        if should_stop():
            report.complete = False
            break
        _send(source, target, [run_id for run_id, _, _ in group], copier, report)
        cursor.advance([(run_id, updated) for run_id, updated, _ in group])
        cursors.save(local, cursor)
        if progress is not None:
            progress(report)
    report.blobs, report.blob_bytes = copier.copied, copier.bytes
    report.seconds = time.monotonic() - started
    return report


def _groups(candidates: list[tuple[str, float | None, int]]):
    """Runs in order of their last change, grouped to about ``chunk_points()`` points (at most 500 runs)."""
    group: list[tuple] = []
    points = 0
    limit = chunk_points()
    for candidate in candidates:
        group.append(candidate)
        points += candidate[2]
        if points >= limit or len(group) >= 500:
            yield group
            group, points = [], 0
    if group:
        yield group


def _send(source: SqlStore, target: SqlStore, run_ids: list[str], copier: BlobCopier, report: SyncReport) -> None:
    """Bring the target's copy of these runs up to date, writing only what differs (an unchanged run is
    not written at all, so two stores syncing both ways do not echo each other's writes)."""
    mine = read_chunk(source, run_ids)
    theirs = read_chunk(target, run_ids)
    new = [run_id for run_id in run_ids if run_id in mine.runs and run_id not in theirs.runs]
    target.write_batch(Batch(
        creates=[(r.run_id, r.experiment, r.name, r.start_time, r.parent_run_id, r.user, r.host)
                 for r in (mine.runs[run_id] for run_id in new)],
        params=_differing(mine.params, theirs.params, 2),
        tags=[row for row in _differing(mine.tags, theirs.tags, 2)]))
    report.points += _send_points(source, target, mine, theirs, full=False)
    links = _differing(mine.documents, theirs.documents, 2)
    bodies = _missing_documents(source, target, links)
    write_documents(target, bodies, links)
    report.documents += len(bodies)
    report.edits += apply_edits(target, mine.runs.values(), theirs.runs)
    artifacts = []
    for row in _differing_rows(mine.artifacts, theirs.artifacts, ("run_id", "name")):
        if copier.copy(row["sha256"]):  # a run references a blob only once it is complete in the target
            artifacts.append(row)
        else:
            report.skipped_artifacts.append((row["run_id"], row["name"]))
    noted = {(run_id, note_id) for run_id, note_id, _, _ in theirs.notes}
    notes = [note for note in mine.notes if note[:2] not in noted]
    target.write_batch(Batch(
        latest={k: v for k, v in mine.latest.items() if not _same_point(theirs.latest.get(k), v)},
        artifacts=artifacts, datasets=_differing_rows(mine.datasets, theirs.datasets, ("run_id", "name")),
        notes=notes, heartbeats=_heartbeats(source, mine, theirs), ends=_ends(mine, theirs)))
    if notes:
        order_notes(target, {note[0] for note in notes})
    _verify_points(source, target, mine, run_ids, report)
    report.runs += len(mine.runs)
    report.created += len(new)


def _differing(mine: list[tuple], theirs: list[tuple], key_length: int) -> list[tuple]:
    """The rows of ``mine`` that the target lacks or holds otherwise (rows keyed by their first columns)."""
    held = {row[:key_length]: row for row in theirs}
    return [row for row in mine if not _same_row(held.get(row[:key_length]), row)]


def _differing_rows(mine: list[dict], theirs: list[dict], keys: tuple[str, ...]) -> list[dict]:
    held = {tuple(row[k] for k in keys): row for row in theirs}
    return [row for row in mine if held.get(tuple(row[k] for k in keys)) != row]


def _same_row(a: tuple | None, b: tuple) -> bool:
    return a is not None and len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))


def _same_point(a: tuple | None, b: tuple) -> bool:
    return a is not None and _same_row(a, b)


def _same_value(a, b) -> bool:
    return a == b or (a != a and b != b)  # NaN equals NaN here


def _heartbeats(source: SqlStore, mine: Chunk, theirs: Chunk) -> list[tuple]:
    """A run still alive in the source (a recent heartbeat) is kept alive in the target."""
    timeout = float(os.environ.get("NBTRACK_HEARTBEAT_TIMEOUT", "60"))
    fresh = database_now(source) - timeout
    beats = []
    for run in mine.runs.values():
        there = theirs.runs.get(run.run_id)
        if run.status != "RUNNING" or (run.heartbeat_time or 0) < fresh:
            continue
        if there is None or there.status != "RUNNING" or (there.heartbeat_time or 0) < run.heartbeat_time - timeout / 4:
            beats.append((run.run_id, time.time()))
    return beats


def _ends(mine: Chunk, theirs: Chunk) -> list[tuple]:
    ends = []
    for run in mine.runs.values():
        there = theirs.runs.get(run.run_id)
        if run.status != "RUNNING" and (there is None or (there.status, there.end_time) != (run.status, run.end_time)):
            ends.append((run.run_id, run.status, run.end_time))
    return ends


def _send_points(source: SqlStore, target: SqlStore, mine: Chunk, theirs: Chunk, full: bool) -> int:
    """Send the points the target lacks: a metric it has up to step N gets the source's points from
    step N on (insert-ignore skips those already there); one it lacks entirely gets all of them."""
    wanted = []
    for series, (count, top) in mine.series.items():
        there = theirs.series.get(series)
        if there is None or full:
            wanted.append((*series, None))
        elif count > there[0] or top > there[1]:
            wanted.append((*series, there[1]))
    sent = 0
    batch_points: list[tuple] = []
    for start in range(0, len(wanted), 200):
        batch_points += read_points(source, wanted[start:start + 200])
        while len(batch_points) >= chunk_points():
            write_points(target, batch_points[:chunk_points()])
            sent += chunk_points()
            batch_points = batch_points[chunk_points():]
    if batch_points:
        write_points(target, batch_points)
        sent += len(batch_points)
    return sent


def _verify_points(source: SqlStore, target: SqlStore, mine: Chunk, run_ids: list[str], report: SyncReport) -> None:
    """Every metric of the chunk must have at least the source's points in the target; a metric
    that does not (points below the target's highest step were missing) is sent whole."""
    after = read_chunk(target, run_ids, details=False)
    short = {series: counts for series, counts in mine.series.items()
             if after.series.get(series, (0, 0))[0] < counts[0]}
    if not short:
        return
    report.points += _send_points(source, target, Chunk(series=short), after, full=True)
    final = read_chunk(target, run_ids, details=False)
    missing = [series for series, (count, _) in short.items() if final.series.get(series, (0, 0))[0] < count]
    if missing:
        run_id, key = missing[0]
        raise RuntimeError(f"{len(missing)} metrics still lack points in {target.display_uri} after a full "
                           f"resend (first: run {run_id}, {key!r}); nothing further was marked as sent")


def _missing_documents(source: SqlStore, target: SqlStore, links: list[tuple]) -> dict[str, str]:
    digests = {digest for _, _, digest in links}
    missing = digests - present_documents(target, digests)
    return document_bodies(source, missing) if missing else {}


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"

