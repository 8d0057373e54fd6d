"""Reading runs back as pandas DataFrames; filtering, ordering and paging run in SQL.

A run's params, latest metrics and tags come from its summary row (nbtrack/store/summary.py):
one row per run, parsed with one call of the JSON parser for the whole page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import func, select

from . import schema as s
from .compile import order_expressions
from .filters import parse_order_by
from .order import TIE_BREAK, metric_ordered_page, served_by_index
from .reads import user_query
from .selection import RunSelection
from .summary import decode_bodies

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .sql import SqlStore

RUN_COLUMNS = ["run_id", "experiment", "name", "status", "start_time", "end_time", "duration", "parent_run_id"]
_FROM = s.runs.join(s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id).outerjoin(
    s.run_summary, s.run_summary.c.run_id == s.runs.c.run_id)
_ROW = [s.runs.c.run_id, s.experiments.c.name, s.runs.c.name, s.runs.c.status, s.runs.c.start_time,
        s.runs.c.end_time, s.runs.c.parent_run_id, s.runs.c.deleted, s.run_summary.c.body]


def selection(experiment: str | Iterable[str] | None = None, filter: str | None = None,
              include_deleted: bool = False, **structured: Any) -> RunSelection:
    """The runs a read covers (see :class:`RunSelection`)."""
    return RunSelection.build(experiment, filter, include_deleted, **structured)


def search_runs(store: "SqlStore", experiment=None, filter: str | None = None,
                order_by: str | Sequence[str] | None = None, max_results: int | None = None,
                offset: int = 0, include_deleted: bool = False, **structured: Any) -> "pd.DataFrame":
    """One row per matching run, shaped like ``mlflow.search_runs`` (plus ``deleted`` when
    ``include_deleted``)."""
    if max_results is not None and int(max_results) < 0:
        raise ValueError(f"max_results must be 0 or more, got {max_results!r}")
    if int(offset) < 0:
        raise ValueError(f"offset must be 0 or more, got {offset!r}")
    chosen = selection(experiment, filter, include_deleted, **structured)
    keys = parse_order_by(order_by)
    store.mark_stale_runs()
    conditions = chosen.conditions(store.dialect)
    with user_query(store) as connection:
        if served_by_index(keys, max_results):
            rows = metric_ordered_page(lambda statement: fetch_tuples(connection, statement), _ROW, _FROM,
                                       conditions, keys, int(max_results), int(offset))
        else:
            query = select(*_ROW).select_from(_FROM).where(*conditions).order_by(
                *order_expressions(keys), *TIE_BREAK)
            if max_results is not None:
                query = query.limit(int(max_results))
            if offset:
                query = query.offset(int(offset))
            rows = fetch_tuples(connection, query)
    return runs_frame(rows, include_deleted)


def runs_frame(rows: list[tuple], include_deleted: bool = False) -> "pd.DataFrame":
    """The DataFrame of runs() from rows shaped like ``_ROW``."""
    import numpy as np
    import pandas as pd

    count = len(rows)
    ids, experiments, names, statuses, starts, ends, parents, deleted, bodies = (
        zip(*rows) if rows else ((),) * 9)
    start = np.array(starts, dtype="float64")
    end = np.array(ends, dtype="float64")  # None -> NaN
    data: dict[str, object] = {
        "run_id": list(ids),
        "experiment": list(experiments),
        "name": list(names),
        "status": list(statuses),
        "start_time": pd.to_datetime(start, unit="s", utc=True),
        "end_time": pd.to_datetime(end, unit="s", utc=True),
        "duration": end - start,
        "parent_run_id": list(parents),
    }
    if include_deleted:
        data["deleted"] = np.array([bool(d) for d in deleted], dtype=bool)
    docs = decode_bodies(bodies)
    for prefix, part in (("params", "p"), ("metrics", "m"), ("tags", "t")):
        mappings = [doc[part] for doc in docs]
        for key in sorted(set().union(*mappings)):
            try:  # most keys are in every run: a C-level map
                column = list(map(itemgetter(key), mappings))
            except KeyError:
                column = [m.get(key) for m in mappings]
            data[f"{prefix}.{key}"] = np.array(column, dtype="float64") if part == "m" else column  # None -> NaN
    return pd.DataFrame(data, index=pd.RangeIndex(count))


def fetch_tuples(connection, statement) -> list[tuple]:
    """Run a select through the driver's own cursor: plain tuples, none of SQLAlchemy's
    per-row work (a third of the time for the hundreds of thousands of rows behind runs())."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    if compiled.positional:
        values = compiled.params  # a property that builds a new dict on every access
        parameters = tuple(values[name] for name in compiled.positiontup)
    else:
        parameters = compiled.params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), parameters)
        return cursor.fetchall()
    finally:
        cursor.close()


def count_runs(store: "SqlStore", experiment=None, filter: str | None = None,
               include_deleted: bool = False, **structured: Any) -> int:
    """How many runs match."""
    chosen = selection(experiment, filter, include_deleted, **structured)
    store.mark_stale_runs()
    query = select(func.count()).select_from(_FROM).where(*chosen.conditions(store.dialect))
    with user_query(store) as connection:
        return int(fetch_tuples(connection, query)[0][0])


@dataclass
class RunsSummary:
    """What the matching runs hold, computed over all of them."""

    count: int = 0
    params: dict[str, int] = field(default_factory=dict)  # key -> number of distinct values
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (min, max)
    tags: dict[str, int] = field(default_factory=dict)  # key -> number of distinct values
    statuses: dict[str, int] = field(default_factory=dict)


def summarize_runs(store: "SqlStore", experiment=None, filter: str | None = None,
                   include_deleted: bool = False, **structured: Any) -> RunsSummary:
    """Counts, distinct param/tag values and metric ranges over every matching run."""
    from .summarize import summarize_bodies

    chosen = selection(experiment, filter, include_deleted, **structured)
    store.mark_stale_runs()
    query = select(s.runs.c.status, s.run_summary.c.body).select_from(_FROM).where(
        *chosen.conditions(store.dialect))
    with user_query(store) as connection:
        rows = fetch_tuples(connection, query)
    return summarize_bodies(rows)


def metric_histories(store: "SqlStore", run_ids: Sequence[str], key: str) -> "pd.DataFrame":
    """Every logged point of metric ``key`` for the given runs: run_id, step, value, timestamp."""
    import numpy as np
    import pandas as pd

    table = s.metric_history
    with store.read() as connection:
        rows = connection.execute(select(table.c.run_id, table.c.step, table.c.value, table.c.is_nan,
                                         table.c.timestamp)
                                  .where(table.c.run_id.in_(list(run_ids)), table.c.key == key)
                                  .order_by(table.c.run_id, table.c.step, table.c.timestamp)).all()
    return pd.DataFrame({
        "run_id": [r[0] for r in rows],
        "step": np.array([r[1] for r in rows], dtype="int64"),
        "value": np.array([np.nan if (r[3] or r[2] is None) else r[2] for r in rows], dtype="float64"),
        "timestamp": pd.to_datetime(np.array([r[4] for r in rows], dtype="float64"), unit="s", utc=True),
    })


def list_experiments(store: "SqlStore") -> "pd.DataFrame":
    """Experiments with their number of (not deleted) runs and the time of the latest one."""
    import pandas as pd

    live = s.runs.c.deleted.is_(False)
    query = (select(s.experiments.c.name, func.count(s.runs.c.run_id), func.max(s.runs.c.start_time))
             .select_from(s.experiments.outerjoin(s.runs, (s.runs.c.experiment_id == s.experiments.c.experiment_id) & live))
             .group_by(s.experiments.c.name).order_by(s.experiments.c.name))
    with store.read() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame({
        "experiment": [r[0] for r in rows],
        "runs": [int(r[1]) for r in rows],
        "last_run": pd.to_datetime([r[2] for r in rows], unit="s", utc=True),
    })
