"""Metric blocks: the smallest and the largest value of a metric in each fixed block of steps.

A plot of a long history keeps, per step bucket, the point with the smallest and the one with
the largest value (:mod:`nbtrack.dashboards.histories`). Computing that from the points reads
every point; reading it from blocks reads a few thousand rows, whatever the length: a bucket
made of whole blocks has the extremes of its blocks' extremes.

Blocks are ``step >> shift`` for each shift in :data:`SHIFTS` (level 0: 64 steps, level 1:
4,096 steps). Each row keeps both extreme points with their own step and time. Ties go to the
smaller step, then the earlier time, on every path (a write, the migration, a merge), so the
result does not depend on the order points were written in. Only finite values count (NaN is
stored as NULL; infinities are not drawn).

Every write of points merges the batch's blocks into the stored ones
(``SqlStore.write_batch``); merging a point again changes nothing, so a repeated batch and a
journal replay stay idempotent.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Iterable

from sqlalchemy import and_, case, or_, text
from sqlalchemy.engine import Connection

from . import schema as s

SHIFTS = (6, 12)  # level 0: 64 steps a block, level 1: 4,096
_MAX = sys.float_info.max


def block_steps(level: int) -> int:
    """How many steps one block of ``level`` spans."""
    return 1 << SHIFTS[level]


def level_for(width: int) -> int | None:
    """The coarsest level whose blocks fit in a bucket ``width`` steps wide (None: none fits)."""
    fitting = [level for level in range(len(SHIFTS)) if block_steps(level) <= width]
    return fitting[-1] if fitting else None


def summarize(points: Iterable[tuple]) -> list[dict[str, Any]]:
    """Block rows (every level) of ``points`` given as (run_id, key, step, value, timestamp)."""
    base: dict[tuple, list] = {}
    shift = SHIFTS[0]
    for run_id, key, step, value, moment in points:
        if not math.isfinite(value):
            continue
        found = base.get((run_id, key, step >> shift))
        if found is None:
            base[(run_id, key, step >> shift)] = [step, value, moment, step, value, moment]
        else:
            _merge(found, step, value, moment, step, value, moment)
    rows = [_row(run_id, key, 0, block, extremes) for (run_id, key, block), extremes in base.items()]
    for level in range(1, len(SHIFTS)):
        coarser: dict[tuple, list] = {}
        drop = SHIFTS[level] - SHIFTS[0]
        for (run_id, key, block), extremes in base.items():
            found = coarser.get((run_id, key, block >> drop))
            if found is None:
                coarser[(run_id, key, block >> drop)] = list(extremes)
            else:
                _merge(found, *extremes)
        rows.extend(_row(run_id, key, level, block, extremes) for (run_id, key, block), extremes in coarser.items())
    return rows


def _merge(into: list, min_step: int, min_value: float, min_time: float,
           max_step: int, max_value: float, max_time: float) -> None:
    if (min_value, min_step, min_time) < (into[1], into[0], into[2]):
        into[0:3] = min_step, min_value, min_time
    if (-max_value, max_step, max_time) < (-into[4], into[3], into[5]):
        into[3:6] = max_step, max_value, max_time


def _row(run_id: str, key: str, level: int, block: int, extremes: list) -> dict[str, Any]:
    return dict(run_id=run_id, key=key, level=level, block=block,
                min_step=extremes[0], min_value=extremes[1], min_timestamp=extremes[2],
                max_step=extremes[3], max_value=extremes[4], max_timestamp=extremes[5])


def merge_statement(insert: Any) -> Any:
    """``insert(metric_blocks)`` made an upsert that keeps the extreme of the stored and the new row."""
    table = s.metric_blocks
    new = insert.excluded
    c = table.c
    lower = or_(new.min_value < c.min_value, and_(new.min_value == c.min_value, or_(
        new.min_step < c.min_step, and_(new.min_step == c.min_step, new.min_timestamp < c.min_timestamp))))
    higher = or_(new.max_value > c.max_value, and_(new.max_value == c.max_value, or_(
        new.max_step < c.max_step, and_(new.max_step == c.max_step, new.max_timestamp < c.max_timestamp))))
    return insert.on_conflict_do_update(
        index_elements=["run_id", "key", "level", "block"],
        set_={**{f"min_{part}": case((lower, new[f"min_{part}"]), else_=c[f"min_{part}"])
                 for part in ("step", "value", "timestamp")},
              **{f"max_{part}": case((higher, new[f"max_{part}"]), else_=c[f"max_{part}"])
                 for part in ("step", "value", "timestamp")}})


def backfill(connection: Connection) -> None:
    """Compute every block from the stored points (the migration to schema v8): level 0 from the
    points, each coarser level from the level below; one sorting pass per level and extreme."""
    finite = {"lowest": -_MAX, "highest": _MAX}
    points = ("(SELECT * FROM metrics WHERE value BETWEEN :lowest AND :highest)",
              ("step", "value", '"timestamp"'), ("step", "value", '"timestamp"'))
    _insert_extremes(connection, 0, f"step >> {SHIFTS[0]}", *points, finite)
    for level in range(1, len(SHIFTS)):
        below = f"(SELECT * FROM metric_blocks WHERE level = {level - 1})"
        _insert_extremes(connection, level, f"block >> {SHIFTS[level] - SHIFTS[level - 1]}", below,
                         ("min_step", "min_value", "min_timestamp"),
                         ("max_step", "max_value", "max_timestamp"), {})


def _insert_extremes(connection: Connection, level: int, block: str, source: str,
                     low: tuple[str, str, str], high: tuple[str, str, str], parameters: dict) -> None:
    """Blocks of ``level`` from ``source`` rows: per block the first row by (value, step, time) of
    the ``low`` columns and the first by (-value, step, time) of the ``high`` ones. SQLite: two
    ranking windows joined (it indexes the join itself)."""
    columns = ('run_id, "key", level, block, min_step, min_value, min_timestamp, '
               "max_step, max_value, max_timestamp")
    if connection.dialect.name == "postgresql":  # one GROUP BY (a join of two windows was planned as a
        (ls, lv, lt), (hs, hv, ht) = low, high    # nested loop on a store whose statistics were stale)
        connection.execute(text(f"""
            INSERT INTO metric_blocks ({columns})
            SELECT run_id, "key", {level}, {block},
              (array_agg({ls} ORDER BY {lv}, {ls}, {lt}))[1], min({lv}), (array_agg({lt} ORDER BY {lv}, {ls}, {lt}))[1],
              (array_agg({hs} ORDER BY {hv} DESC, {hs}, {ht}))[1], max({hv}),
              (array_agg({ht} ORDER BY {hv} DESC, {hs}, {ht}))[1]
            FROM {source} AS points GROUP BY run_id, "key", {block}"""), parameters)
        return

    def first(columns: tuple[str, str, str], direction: str) -> str:
        step, value, moment = columns
        return f"""(SELECT run_id, "key", b, s, v, t FROM (
            SELECT run_id, "key", {block} AS b, {step} AS s, {value} AS v, {moment} AS t,
                   row_number() OVER (PARTITION BY run_id, "key", {block}
                                      ORDER BY {value} {direction}, {step}, {moment}) AS n
            FROM {source} AS points) AS ranked WHERE n = 1)"""

    connection.execute(text(f"""
        INSERT INTO metric_blocks ({columns})
        SELECT lo.run_id, lo."key", {level}, lo.b, lo.s, lo.v, lo.t, hi.s, hi.v, hi.t
        FROM {first(low, "ASC")} AS lo
        JOIN {first(high, "DESC")} AS hi ON hi.run_id = lo.run_id AND hi."key" = lo."key" AND hi.b = lo.b"""),
        parameters)
