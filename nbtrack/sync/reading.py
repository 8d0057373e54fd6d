"""Reading what a sync sends: which runs changed, and everything about a chunk of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import func, select

from ..store import schema as s
from ..store.sql import SqlStore

_IN = 500  # ids per IN list


@dataclass
class RunRow:
    run_id: str
    experiment: str
    name: str
    status: str
    start_time: float
    end_time: float | None
    heartbeat_time: float | None
    parent_run_id: str | None
    deleted: bool
    user: str | None
    host: str | None
    updated_time: float | None
    name_time: float | None
    deleted_time: float | None


@dataclass
class Chunk:
    """Everything about some runs of one store (what a sync compares and sends)."""

    runs: dict[str, RunRow] = field(default_factory=dict)
    params: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    latest: dict[tuple, tuple] = field(default_factory=dict)
    artifacts: list[dict] = field(default_factory=list)
    datasets: list[dict] = field(default_factory=list)
    documents: list[tuple] = field(default_factory=list)  # run_id, key, sha256
    notes: list[tuple] = field(default_factory=list)  # run_id, note_id, text, created_time
    series: dict[tuple, tuple[int, int]] = field(default_factory=dict)  # (run_id, key) -> (points, max step)


def database_now(store: SqlStore) -> float:
    with store.read() as connection:
        return float(connection.execute(select(store.now())).scalar())


def matching_run_ids(store: SqlStore, experiments: Sequence[str] | None, filter: str | None) -> select:
    """A subquery of the runs an ``-e``/``--filter`` selection names (deleted runs included: a delete syncs too)."""
    from ..store.compile import compile_filter
    from ..store.filters import parse_filter

    query = select(s.runs.c.run_id).select_from(
        s.runs.join(s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id))
    if filter:
        query = query.where(compile_filter(parse_filter(filter), filter))
    if experiments:
        query = query.where(s.experiments.c.name.in_(list(experiments)))
    return query


def changed_runs(store: SqlStore, since: float, experiments: Sequence[str] | None = None,
                 filter: str | None = None, skip: Callable[[str, float | None], bool] = lambda *_: False,
                 ) -> list[tuple[str, float | None, int]]:
    """(run_id, updated_time, points) of the runs changed at or after ``since`` that ``skip`` does not
    name (already sent), oldest change first."""
    query = select(s.runs.c.run_id, s.runs.c.updated_time).where(
        (s.runs.c.updated_time >= since) | s.runs.c.updated_time.is_(None))
    if experiments or filter:
        query = query.where(s.runs.c.run_id.in_(matching_run_ids(store, experiments, filter)))
    m = s.metric_history.c
    with store.read() as connection:
        changed = [(run_id, updated) for run_id, updated in connection.execute(query) if not skip(run_id, updated)]
        points: dict[str, int] = {}
        ids = [run_id for run_id, _ in changed]
        for start in range(0, len(ids), _IN):  # points per run: how many runs make a chunk
            points.update(connection.execute(select(m.run_id, func.count()).where(
                m.run_id.in_(ids[start:start + _IN])).group_by(m.run_id)).all())
    return sorted(((run_id, updated, points.get(run_id, 0)) for run_id, updated in changed),
                  key=lambda r: (r[1] is not None, r[1] or 0.0, r[0]))


def read_chunk(store: SqlStore, run_ids: Iterable[str], *, details: bool = True) -> Chunk:
    """The runs' rows and, with ``details``, their params, tags, latest metrics, artifacts, datasets,
    documents, notes; always the point count and highest step of each of their metrics."""
    ids = sorted(set(run_ids))
    chunk = Chunk()
    with store.read() as connection:
        for start in range(0, len(ids), _IN):
            part = ids[start:start + _IN]
            _read_part(connection, part, chunk, details)
    return chunk


def _read_part(connection, ids: list[str], chunk: Chunk, details: bool) -> None:
    r = s.runs.c
    for row in connection.execute(select(
            r.run_id, s.experiments.c.name, r.name, r.status, r.start_time, r.end_time, r.heartbeat_time,
            r.parent_run_id, r.deleted, r.user_name, r.host_name, r.updated_time, r.name_time, r.deleted_time,
    ).select_from(s.runs.join(s.experiments, r.experiment_id == s.experiments.c.experiment_id))
            .where(r.run_id.in_(ids))):
        chunk.runs[row[0]] = RunRow(*row[:8], bool(row[8]), *row[9:])
    m = s.metric_history.c
    for run_id, key, count, top in connection.execute(
            select(m.run_id, m.key, func.count(), func.max(m.step)).where(m.run_id.in_(ids)).group_by(m.run_id, m.key)):
        chunk.series[(run_id, key)] = (int(count), int(top))
    if not details:
        return
    p, t, lm = s.params.c, s.tags.c, s.latest_metrics.c
    chunk.params += [tuple(row) for row in connection.execute(
        select(p.run_id, p.key, p.kind, p.value, p.value_num).where(p.run_id.in_(ids)))]
    chunk.tags += [tuple(row) for row in connection.execute(
        select(t.run_id, t.key, t.value, t.updated_time).where(t.run_id.in_(ids)))]
    for run_id, key, step, value, is_nan, moment in connection.execute(
            select(lm.run_id, lm.key, lm.step, lm.value, lm.is_nan, lm.timestamp).where(lm.run_id.in_(ids))):
        chunk.latest[(run_id, key)] = (step, _value(value, is_nan), moment)
    chunk.artifacts += [dict(row._mapping) for row in connection.execute(
        select(s.artifacts).where(s.artifacts.c.run_id.in_(ids)))]
    chunk.datasets += [dict(row._mapping) for row in connection.execute(
        select(s.datasets).where(s.datasets.c.run_id.in_(ids)))]
    d = s.run_documents.c
    chunk.documents += [tuple(row) for row in connection.execute(
        select(d.run_id, d.key, d.sha256).where(d.run_id.in_(ids)))]
    n = s.run_notes.c
    chunk.notes += [tuple(row) for row in connection.execute(
        select(n.run_id, n.note_id, n.text, n.created_time).where(n.run_id.in_(ids), n.text.is_not(None))
        .order_by(n.run_id, n.created_time, n.note_id))]


def read_points(store: SqlStore, wanted: list[tuple[str, str, int | None]]) -> list[tuple]:
    """Metric points (run_id, key, step, value, timestamp) of each (run_id, key) from step ``min_step``
    on (None: all of them), in step order."""
    mark = "?" if store.dialect == "sqlite" else "%s"
    head = f'SELECT step, value, is_nan, "timestamp" FROM metrics WHERE run_id = {mark} AND "key" = {mark}'
    points: list[tuple] = []
    with store.read() as connection:
        for run_id, key, min_step in wanted:
            if min_step is None:
                result = connection.exec_driver_sql(head + ' ORDER BY step, "timestamp"', (run_id, key))
            else:
                result = connection.exec_driver_sql(head + f' AND step >= {mark} ORDER BY step, "timestamp"',
                                                    (run_id, key, min_step))
            # the driver's own tuples: SQLAlchemy's per-row processing costs more than the read here
            points += [(run_id, key, step, _value(value, is_nan), moment)
                       for step, value, is_nan, moment in result.cursor.fetchall()]
    return points


def document_bodies(store: SqlStore, digests: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(digests))
    found: dict[str, str] = {}
    with store.read() as connection:
        for start in range(0, len(wanted), _IN):
            found.update(connection.execute(select(s.documents.c.sha256, s.documents.c.body).where(
                s.documents.c.sha256.in_(wanted[start:start + _IN]))).all())
    return found


def present_documents(store: SqlStore, digests: Iterable[str]) -> set[str]:
    wanted = sorted(set(digests))
    found: set[str] = set()
    with store.read() as connection:
        for start in range(0, len(wanted), _IN):
            found.update(connection.execute(select(s.documents.c.sha256).where(
                s.documents.c.sha256.in_(wanted[start:start + _IN]))).scalars())
    return found


def _value(value: Any, is_nan: Any) -> float:
    return float("nan") if is_nan or value is None else value
