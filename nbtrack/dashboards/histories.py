"""Metric histories for plotting, at most about ``max_points`` points per run whatever
their length: exact where that many fit, min/max per step bucket otherwise.

How a run's points in the shown step range are read:

1. count them, stopping at ``RAW_LIMIT`` (``LIMIT`` in a subquery: a long run is not counted
   to the end);
2. up to ``RAW_LIMIT`` points: fetch them all, and when there are more than ``max_points``
   keep the min and max of each bucket in one vectorised pass (:mod:`.downsample`);
3. more: the step range is cut into about ``max_points // 2`` buckets and, for each, the
   point holding the smallest and the one holding the largest value come back with their own
   step and time. Where a bucket spans at least a block of steps (64; 4,096 on the coarser
   level), they come from the store's ``metric_blocks`` (:mod:`nbtrack.store.blocks`): buckets
   are made of whole blocks, so reading one row per block, plus the points of the two blocks a
   zoomed range cuts, gives the same extremes as reading every point (a million points: ~16,000
   rows). Narrower buckets are computed from the points: SQLite runs one correlated subquery
   per bucket on the ``(run_id, key, step)`` index (a ``GROUP BY`` over an expression would
   sort every point in a temporary B-tree first); PostgreSQL one ``GROUP BY``.

Zooming re-reads the visible step range the same way, so once it holds no more than
``max_points`` points every logged point is shown. The result says which runs are exact.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Sequence

from .downsample import bucket_width, minmax_downsample

MAX_POINTS = 2000
RAW_LIMIT = 20_000
_FINITE = {"lowest": -sys.float_info.max, "highest": sys.float_info.max}  # infinities are not drawn

_BUCKETS_SQLITE = """
WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b WHERE i + 1 < :buckets)
SELECT
  (SELECT CASE WHEN min(value) IS NOT NULL THEN printf('%d %!.17g %!.17g', step, min(value), "timestamp") END
    FROM metrics
    WHERE run_id = :run_id AND "key" = :key AND step >= :low + i * :width AND step < :low + (i + 1) * :width
      AND value BETWEEN :lowest AND :highest),
  (SELECT CASE WHEN max(value) IS NOT NULL THEN printf('%d %!.17g %!.17g', step, max(value), "timestamp") END
    FROM metrics
    WHERE run_id = :run_id AND "key" = :key AND step >= :low + i * :width AND step < :low + (i + 1) * :width
      AND value BETWEEN :lowest AND :highest)
FROM b
"""

_BUCKETS_POSTGRES = """
SELECT (array_agg(step ORDER BY value ASC, step))[1], min(value),
       (array_agg("timestamp" ORDER BY value ASC, step))[1],
       (array_agg(step ORDER BY value DESC, step))[1], max(value),
       (array_agg("timestamp" ORDER BY value DESC, step))[1]
FROM metrics
WHERE run_id = :run_id AND "key" = :key AND step >= :low AND step <= :high
  AND value BETWEEN :lowest AND :highest
GROUP BY (step - :low) / :width
"""


@dataclass
class Histories:
    """What :func:`read_histories` returns.

    ``frame`` is shaped like ``nbtrack.metric_histories()`` (``run_id, step, value,
    timestamp``); ``exact[run_id]`` says whether every logged point of that run in the
    range is in it; ``points[run_id]`` how many were logged in the range (capped at
    ``RAW_LIMIT + 1`` for long runs: "more than RAW_LIMIT").
    """

    frame: Any
    key: str
    step_range: tuple[int, int] | None = None
    exact: dict[str, bool] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)

    @property
    def all_exact(self) -> bool:
        return all(self.exact.values())


def _store() -> Any:
    import nbtrack
    from nbtrack.flusher import FLUSHER

    if FLUSHER.runs():
        nbtrack.flush()  # show what this process has logged
    return nbtrack.get_store()


def _range_clause(step_range: tuple[int, int] | None) -> str:
    return " AND step >= :low AND step <= :high" if step_range else ""


def read_histories(run_ids: Sequence[str], key: str, max_points: int = MAX_POINTS,
                   step_range: tuple[int, int] | None = None, store: Any = None) -> Histories:
    """Points of metric ``key`` for full run ids ``run_ids``, at most about ``max_points``
    per run, within ``step_range`` (inclusive; None: every step)."""
    import pandas as pd
    from sqlalchemy import text

    store = store or _store()
    buckets = max(1, max_points // 2)
    bounds = {"low": int(step_range[0]), "high": int(step_range[1])} if step_range else {}
    result = Histories(frame=None, key=key, step_range=step_range)
    count = text(f'SELECT count(*) FROM (SELECT 1 FROM metrics WHERE run_id = :run_id AND "key" = :key'
                 f"{_range_clause(step_range)} LIMIT :limit) AS capped")
    parts = []
    with store.read() as connection:
        small, large = [], []
        for run_id in dict.fromkeys(str(r) for r in run_ids):
            n = connection.execute(count, {"run_id": run_id, "key": key, "limit": RAW_LIMIT + 1, **bounds}).scalar()
            result.points[run_id] = int(n or 0)
            (large if n > RAW_LIMIT else small).append(run_id)
        if small:
            parts.append(_fetch_all(connection, small, key, step_range))
        for run_id in large:
            parts.append(_fetch_buckets(connection, store.dialect, run_id, key, buckets, step_range))
    frame = pd.concat([p for p in parts if p is not None], ignore_index=True) if parts else _empty_frame()
    for run_id in result.points:
        result.exact[run_id] = result.points[run_id] <= max_points
    result.frame = minmax_downsample(frame, buckets) if len(frame) > max_points else frame
    return result


def _empty_frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"run_id": pd.Series([], dtype=object), "step": pd.Series([], dtype="int64"),
                         "value": pd.Series([], dtype="float64"),
                         "timestamp": pd.to_datetime(pd.Series([], dtype="float64"), unit="s", utc=True)})


def _frame(rows: list[tuple]) -> Any:
    import numpy as np
    import pandas as pd

    if not rows:
        return _empty_frame()
    return pd.DataFrame({
        "run_id": [r[0] for r in rows],
        "step": np.array([r[1] for r in rows], dtype="int64"),
        "value": np.array([np.nan if r[2] is None else r[2] for r in rows], dtype="float64"),
        "timestamp": pd.to_datetime(np.array([r[3] for r in rows], dtype="float64"), unit="s", utc=True),
    })


def _fetch_all(connection: Any, run_ids: list[str], key: str, step_range: tuple[int, int] | None) -> Any:
    from sqlalchemy import select

    from nbtrack.store import schema as s

    table = s.metric_history
    query = select(table.c.run_id, table.c.step, table.c.value, table.c.is_nan, table.c.timestamp).where(
        table.c.run_id.in_(run_ids), table.c.key == key)
    if step_range:
        query = query.where(table.c.step >= int(step_range[0]), table.c.step <= int(step_range[1]))
    rows = connection.execute(query.order_by(table.c.run_id, table.c.step, table.c.timestamp)).all()
    return _frame([(r[0], r[1], None if r[3] else r[2], r[4]) for r in rows])


def _fetch_buckets(connection: Any, dialect: str, run_id: str, key: str, buckets: int,
                   step_range: tuple[int, int] | None) -> Any:
    from sqlalchemy import text

    from nbtrack.store import blocks

    low, high = step_range if step_range else _step_bounds(connection, run_id, key)
    width = bucket_width(low, high, buckets)
    level = blocks.level_for(width)
    if level is not None:  # without a range, low and high are the run's own first and last steps
        return _from_blocks(connection, run_id, key, int(low), int(high), width, level, cut=step_range is not None)
    params = {"run_id": run_id, "key": key, "low": int(low), "high": int(high), "width": width,
              "buckets": -(-(int(high) - int(low) + 1) // width), **_FINITE}
    points: dict[tuple, tuple] = {}  # by step and value: a step may hold several values
    if dialect == "sqlite":
        for low_text, high_text in connection.execute(text(_BUCKETS_SQLITE), params):
            for packed in (low_text, high_text):
                if packed:  # NULL: an empty bucket, or one of NaNs only
                    step, value, moment = packed.split(" ")
                    points[(int(step), float(value))] = (run_id, int(step), float(value), float(moment))
    else:
        for step_low, value_low, time_low, step_high, value_high, time_high in connection.execute(
                text(_BUCKETS_POSTGRES), params):
            points[(int(step_low), float(value_low))] = (run_id, int(step_low), float(value_low), float(time_low))
            points[(int(step_high), float(value_high))] = (run_id, int(step_high), float(value_high), float(time_high))
    return _frame(sorted(points.values(), key=lambda point: (point[1], point[3])))


def _from_blocks(connection: Any, run_id: str, key: str, low: int, high: int, width: int, level: int,
                 cut: bool) -> Any:
    """Min/max per bucket from the blocks of ``level``: buckets of whole blocks (``width``
    rounded up to a multiple of the block), the points of the edge blocks a range ``cut``."""
    import numpy as np
    from sqlalchemy import text

    from nbtrack.store import blocks

    shift = blocks.SHIFTS[level]
    size = blocks.block_steps(level)
    first, last = low >> shift, high >> shift
    edges = []  # (from step, to step) of the blocks the range cuts: read from the points
    if cut and low != first << shift:
        edges.append((low, min(high, ((first + 1) << shift) - 1)))
        first += 1
    if cut and high != ((last + 1) << shift) - 1 and last >= first:
        edges.append((last << shift, high))
        last -= 1
    steps, values, times = [], [], []
    if first <= last:
        rows = connection.execute(text(
            'SELECT min_step, min_value, min_timestamp, max_step, max_value, max_timestamp FROM metric_blocks '
            'WHERE run_id = :run_id AND "key" = :key AND level = :level AND block >= :first AND block <= :last'),
            {"run_id": run_id, "key": key, "level": level, "first": first, "last": last}).all()
        extremes = _array(rows, 6)
        steps += [extremes[:, 0], extremes[:, 3]]
        values += [extremes[:, 1], extremes[:, 4]]
        times += [extremes[:, 2], extremes[:, 5]]
    for start, stop in edges:
        rows = connection.execute(text(
            'SELECT step, value, "timestamp" FROM metrics WHERE run_id = :run_id AND "key" = :key '
            "AND step >= :start AND step <= :stop AND value IS NOT NULL"),
            {"run_id": run_id, "key": key, "start": start, "stop": stop}).all()
        points = _array(rows, 3)
        points = points[np.isfinite(points[:, 1])]
        steps.append(points[:, 0])
        values.append(points[:, 1])
        times.append(points[:, 2])
    step = np.concatenate(steps).astype(np.int64) if steps else np.array([], np.int64)
    value = np.concatenate(values) if values else np.array([])
    moment = np.concatenate(times) if times else np.array([])
    bucket = (step - ((low >> shift) << shift)) // (-(-width // size) * size)
    keep = np.union1d(_first_per_bucket(bucket, (moment, step, value)),
                      _first_per_bucket(bucket, (moment, step, -value)))
    keep = keep[np.lexsort((moment[keep], step[keep]))]
    return _frame(list(zip([run_id] * len(keep), step[keep].tolist(), value[keep].tolist(), moment[keep].tolist())))


def _array(rows: list, columns: int) -> Any:
    """Rows of numbers as a float array (np.array on SQLAlchemy rows probes each one: ~10 us a row)."""
    import itertools

    import numpy as np

    return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64,
                       count=len(rows) * columns).reshape(-1, columns)


def _first_per_bucket(bucket: Any, order: tuple) -> Any:
    """Index of each bucket's first element by ``order`` (np.lexsort keys, the last one primary)."""
    import numpy as np

    ranked = np.lexsort((*order, bucket))
    if not len(ranked):
        return ranked
    starts = np.r_[True, bucket[ranked][1:] != bucket[ranked][:-1]]
    return ranked[starts]


def _step_bounds(connection: Any, run_id: str, key: str) -> tuple[int, int]:
    """First and last step (two index seeks: min and max in one query would scan)."""
    from sqlalchemy import text

    first = connection.execute(text('SELECT step FROM metrics WHERE run_id = :r AND "key" = :k '
                                    "ORDER BY step LIMIT 1"), {"r": run_id, "k": key}).scalar()
    last = connection.execute(text('SELECT step FROM metrics WHERE run_id = :r AND "key" = :k '
                                   "ORDER BY step DESC LIMIT 1"), {"r": run_id, "k": key}).scalar()
    return int(first), int(last)


__all__ = ["Histories", "read_histories", "MAX_POINTS", "RAW_LIMIT"]
