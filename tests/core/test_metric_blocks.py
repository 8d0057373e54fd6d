"""Long metric histories for plots: the store's metric blocks and ``read_histories`` on SQLite
and PostgreSQL, checked against every logged point."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import text

import nbtrack
from nbtrack.dashboards.downsample import bucket_width
from nbtrack.dashboards.histories import RAW_LIMIT, read_histories
from nbtrack.store import blocks
from nbtrack.store.batch import Batch
from nbtrack.store.sql import SqlStore


def _points(run_id: str, seed: int = 3, count: int = 70_000) -> list[tuple]:
    """``count`` points from step -3,000: a random walk, NaN and infinite gaps, spikes, plateaus
    (ties), and some steps holding two values."""
    rng = np.random.default_rng(seed)
    steps = np.arange(-3_000, count - 3_000)
    values = np.cumsum(rng.normal(size=len(steps)))
    values[5_000:5_400] = 7.0  # a plateau: ties go to the smaller step
    values[rng.integers(0, len(steps), 50)] = np.nan
    values[100:300] = np.nan  # a gap of NaN only
    values[rng.integers(0, len(steps), 5)] = np.inf
    values[min(41_234, count - 1)] = 500.0  # a spike
    points = [(run_id, "loss", int(s), float(v), 1_700_000_000.0 + i * 0.25)
              for i, (s, v) in enumerate(zip(steps, values))]
    points += [(run_id, "loss", int(s), float(-v if v == v else 1.0), 1_800_000_000.0 + s)
               for s, v in zip(steps[::997], values[::997])]  # a second value at some steps
    return points


def _expected(points: list[tuple], low: int, high: int, buckets: int) -> set[tuple]:
    """Min and max point of each bucket, from every point, by the documented rule."""
    width = bucket_width(low, high, buckets)
    level = blocks.level_for(width)
    if level is None:
        origin, size = low, width
    else:
        step = blocks.block_steps(level)
        origin, size = (low // step) * step, -(-width // step) * step
    chosen: dict[int, list] = {}
    for _, _, s, v, t in points:
        if not (low <= s <= high) or not math.isfinite(v):
            continue
        bucket = (s - origin) // size
        low_point, high_point = chosen.setdefault(bucket, [(v, s, t), (-v, s, t)])
        chosen[bucket] = [min(low_point, (v, s, t)), min(high_point, (-v, s, t))]
    return {(s, v) for (v, s, _), (w, s2, _) in chosen.values() for s, v in ((s, v), (s2, -w))}


def _shown(view, run_id: str) -> set[tuple]:
    frame = view.frame[view.frame.run_id == run_id]
    return set(zip(frame.step.tolist(), frame.value.tolist()))


def _write(store: SqlStore, run_id: str, points: list[tuple], parts: int = 1) -> None:
    store.write_batch(Batch(creates=[(run_id, "long", run_id, 1.0, None)]))
    size = -(-len(points) // parts)
    for start in range(0, len(points), size):
        store.write_batch(Batch(metrics=points[start:start + size]))


def test_long_histories_read_from_blocks_keep_each_buckets_extremes(store_uri):
    """Whole range, zoomed ranges that cut blocks, and a narrow zoom computed from the points
    (the PostgreSQL GROUP BY and SQLite's subqueries), each against every logged point."""
    store = nbtrack.get_store()
    run_id = "a" * 32
    points = _points(run_id)
    _write(store, run_id, points, parts=3)
    logged = {(s, v) for _, _, s, v, _ in points if math.isfinite(v)}
    whole = read_histories([run_id], "loss", max_points=2000, store=store)
    assert whole.exact == {run_id: False} and whole.points[run_id] == RAW_LIMIT + 1
    assert _shown(whole, run_id) == _expected(points, -3_000, 66_999, 1000)
    assert (38_234, 500.0) in _shown(whole, run_id)  # the spike, with its own step
    assert _shown(whole, run_id) <= logged and len(whole.frame) <= 2 * 1001
    for low, high in ((-2_999, 61_234), (100, 65_555), (-3_000, 66_999)):  # block edges cut, or not
        zoom = read_histories([run_id], "loss", max_points=2000, step_range=(low, high), store=store)
        assert _shown(zoom, run_id) == _expected(points, low, high, 1000), (low, high)
    narrow = read_histories([run_id], "loss", max_points=2000, step_range=(10_000, 39_999), store=store)
    assert blocks.level_for(bucket_width(10_000, 39_999, 1000)) is None  # this one reads the points
    assert _shown(narrow, run_id) == _expected(points, 10_000, 39_999, 1000)


def test_blocks_do_not_depend_on_how_or_how_often_points_were_written(store_uri):
    """Two runs get the same points, one in order and written twice (a retried batch, a journal
    replayed), the other backwards in seven batches: their blocks are the same rows."""
    store = nbtrack.get_store()
    forward, backward = "f" * 32, "b" * 32
    points = _points("x", seed=5, count=20_000)
    _write(store, forward, [(forward, *p[1:]) for p in points])
    _write(store, forward, [(forward, *p[1:]) for p in points])
    _write(store, backward, [(backward, *p[1:]) for p in reversed(points)], parts=7)
    rows = _blocks(store)
    assert rows[forward] == rows[backward] and len(rows[forward]) > 300
    expected = sorted(tuple(r.values())[1:] for r in blocks.summarize(points))
    assert rows[forward] == expected


def test_the_migration_computes_the_blocks_that_writes_keep(store_uri):
    """A store of schema v7 (no blocks) upgraded to v8 holds the blocks its points' writes would
    have made, ties included (a plateau takes its first step)."""
    store = nbtrack.get_store()
    run_id = "c" * 32
    _write(store, run_id, _points(run_id, seed=7, count=20_000), parts=2)
    written = _blocks(store)
    with store.write() as connection:
        connection.execute(text("DROP TABLE metric_blocks"))
        connection.execute(text("UPDATE nbtrack_meta SET value = '7' WHERE key = 'schema_version'"))
    store.close()
    reopened = SqlStore(store_uri, check_schema=False)
    assert reopened.schema_version() == 7
    assert reopened.upgrade_schema() == (7, 8)
    assert _blocks(reopened) == written
    reopened.close()


def _blocks(store: SqlStore) -> dict[str, list[tuple]]:
    with store.read() as connection:
        rows = connection.execute(text(
            'SELECT run_id, "key", level, block, min_step, min_value, min_timestamp, max_step, max_value, '
            "max_timestamp FROM metric_blocks ORDER BY run_id, level, block")).all()
    found: dict[str, list[tuple]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(tuple(row[1:]))
    return found


@pytest.mark.postgres
def test_a_synced_run_has_the_blocks_its_points_make(tmp_path, postgres_uri):
    """Sync sends many points to PostgreSQL by COPY, not through write_batch: the team store's
    blocks, and so its plot of the run, are those of the laptop's store."""
    from sync_helpers import forget_stores

    from nbtrack.sync import sync_to

    local = f"sqlite:///{tmp_path / 'laptop.db'}"
    nbtrack.set_store(local)
    run_id = "d" * 32
    _write(nbtrack.get_store(), run_id, _points(run_id, seed=11, count=30_000), parts=2)
    report = sync_to(postgres_uri, artifacts=str(tmp_path / "team-artifacts"), local=local)
    assert report.complete and report.points > 2000
    forget_stores()
    laptop, team = SqlStore(local), SqlStore(postgres_uri)
    assert _blocks(team) == _blocks(laptop) and len(_blocks(team)[run_id]) > 400
    shown = [read_histories([run_id], "loss", store=store).frame for store in (laptop, team)]
    assert shown[0][["step", "value"]].equals(shown[1][["step", "value"]]) and len(shown[0]) > 1000
    laptop.close()
    team.close()
