"""Reading runs back as pandas DataFrames; filtering, ordering and paging run in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

from sqlalchemy import func, select

from ..values import decode_param
from . import schema as s
from .compile import compile_filter, order_expressions
from .filters import parse_filter, parse_order_by

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .sql import SqlStore

RUN_COLUMNS = ["run_id", "experiment", "name", "status", "start_time", "end_time", "duration", "parent_run_id"]
# Above this many ids, per-key rows are selected with a subquery instead of a literal IN list.
LITERAL_ID_LIMIT = 500


def _experiment_names(experiment: str | Iterable[str] | None) -> list[str] | None:
    if experiment is None:
        return None
    if isinstance(experiment, str):
        return [experiment]
    return [str(name) for name in experiment]


def _where(experiment, filter: str | None, include_deleted: bool, dialect: str = "sqlite") -> list:
    conditions = [compile_filter(parse_filter(filter), filter or "", dialect)]
    names = _experiment_names(experiment)
    if names is not None:
        conditions.append(s.experiments.c.name.in_(names))
    if not include_deleted:
        conditions.append(s.runs.c.deleted.is_(False))
    return conditions


def _base(columns, conditions):
    return select(*columns).select_from(
        s.runs.join(s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id)
    ).where(*conditions)


def search_runs(store: "SqlStore", experiment=None, filter: str | None = None,
                order_by: str | Sequence[str] | None = None, max_results: int | None = None,
                offset: int = 0, include_deleted: bool = False) -> "pd.DataFrame":
    """One row per matching run, shaped like ``mlflow.search_runs``."""
    import numpy as np
    import pandas as pd

    if max_results is not None and int(max_results) < 0:
        raise ValueError(f"max_results must be 0 or more, got {max_results!r}")
    if int(offset) < 0:
        raise ValueError(f"offset must be 0 or more, got {offset!r}")
    store.mark_stale_runs()
    conditions = _where(experiment, filter, include_deleted, store.dialect)
    order = order_expressions(parse_order_by(order_by)) + [s.runs.c.start_time.desc(), s.runs.c.run_id]
    columns = [s.runs.c.run_id, s.experiments.c.name, s.runs.c.name, s.runs.c.status,
               s.runs.c.start_time, s.runs.c.end_time, s.runs.c.parent_run_id]
    query = _base(columns, conditions).order_by(*order)
    if max_results is not None:
        query = query.limit(int(max_results))
    if offset:
        query = query.offset(int(offset))
    with store.read() as connection:
        rows = fetch_tuples(connection, query)
        ids = [row[0] for row in rows]
        if not ids:
            param_rows = metric_rows = tag_rows = []
        else:
            if len(ids) <= LITERAL_ID_LIMIT:
                def restrict(statement, table):
                    return statement.where(table.c.run_id.in_(ids))
            elif max_results is None and not offset:
                def restrict(statement, table):  # every matching run: a join walks them in index order
                    return statement.select_from(table.join(s.runs, s.runs.c.run_id == table.c.run_id).join(
                        s.experiments, s.runs.c.experiment_id == s.experiments.c.experiment_id)).where(*conditions)
            else:
                page = _base([s.runs.c.run_id], conditions).order_by(*order).offset(int(offset))
                if max_results is not None:  # no LIMIT -1: PostgreSQL refuses negative limits
                    page = page.limit(int(max_results))

                def restrict(statement, table):
                    return statement.where(table.c.run_id.in_(page))
            param_rows = fetch_tuples(connection, restrict(select(
                s.params.c.run_id, s.params.c.key, s.params.c.kind, s.params.c.value), s.params))
            metric_rows = fetch_tuples(connection, restrict(select(
                s.latest_metrics.c.run_id, s.latest_metrics.c.key, s.latest_metrics.c.value,
                s.latest_metrics.c.is_nan), s.latest_metrics))
            tag_rows = fetch_tuples(connection, restrict(select(
                s.tags.c.run_id, s.tags.c.key, s.tags.c.value), s.tags))

    count = len(ids)
    position = {run_id: i for i, run_id in enumerate(ids)}
    start = np.array([row[4] for row in rows], dtype="float64")
    end = np.array([np.nan if row[5] is None else row[5] for row in rows], dtype="float64")
    data: dict[str, object] = {
        "run_id": ids,
        "experiment": [row[1] for row in rows],
        "name": [row[2] for row in rows],
        "status": [row[3] for row in rows],
        "start_time": pd.to_datetime(start, unit="s", utc=True),
        "end_time": pd.to_datetime(end, unit="s", utc=True),
        "duration": end - start,
        "parent_run_id": [row[6] for row in rows],
    }

    params: dict[str, list] = {}
    for run_id, key, kind, value in param_rows:
        column = params.get(key)
        if column is None:
            column = params[key] = [None] * count
        column[position[run_id]] = value if kind == "s" else decode_param(kind, value)
    for key in sorted(params):
        data[f"params.{key}"] = params[key]

    metrics: dict[str, np.ndarray] = {}
    for run_id, key, value, is_nan in metric_rows:
        column = metrics.get(key)
        if column is None:
            column = metrics[key] = np.full(count, np.nan)
        if value is not None and not is_nan:
            column[position[run_id]] = value
    for key in sorted(metrics):
        data[f"metrics.{key}"] = metrics[key]

    tags: dict[str, list] = {}
    for run_id, key, value in tag_rows:
        column = tags.get(key)
        if column is None:
            column = tags[key] = [None] * count
        column[position[run_id]] = value
    for key in sorted(tags):
        data[f"tags.{key}"] = tags[key]
    return pd.DataFrame(data)


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
               include_deleted: bool = False) -> int:
    """How many runs match."""
    store.mark_stale_runs()
    query = _base([func.count()], _where(experiment, filter, include_deleted, store.dialect))
    with store.read() as connection:
        return int(connection.execute(query).scalar_one())


@dataclass
class RunsSummary:
    """What the matching runs hold, computed in the database over all of them."""

    count: int = 0
    params: dict[str, int] = field(default_factory=dict)  # key -> number of distinct values
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (min, max)
    tags: dict[str, int] = field(default_factory=dict)  # key -> number of distinct values
    statuses: dict[str, int] = field(default_factory=dict)


def summarize_runs(store: "SqlStore", experiment=None, filter: str | None = None,
                   include_deleted: bool = False) -> RunsSummary:
    """Counts, distinct param/tag values and metric ranges over every matching run."""
    store.mark_stale_runs()
    conditions = _where(experiment, filter, include_deleted, store.dialect)
    ids = _base([s.runs.c.run_id], conditions)
    with store.read() as connection:
        statuses = dict(connection.execute(
            _base([s.runs.c.status, func.count()], conditions).group_by(s.runs.c.status)).all())
        params = dict(connection.execute(
            select(s.params.c.key, func.count(s.params.c.value.distinct()))
            .where(s.params.c.run_id.in_(ids)).group_by(s.params.c.key)).all())
        metrics = {key: (low, high) for key, low, high in connection.execute(
            select(s.latest_metrics.c.key, func.min(s.latest_metrics.c.value), func.max(s.latest_metrics.c.value))
            .where(s.latest_metrics.c.run_id.in_(ids)).group_by(s.latest_metrics.c.key)).all()}
        tags = dict(connection.execute(
            select(s.tags.c.key, func.count(s.tags.c.value.distinct()))
            .where(s.tags.c.run_id.in_(ids)).group_by(s.tags.c.key)).all())
    return RunsSummary(sum(statuses.values()), params, metrics, tags, statuses)


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
